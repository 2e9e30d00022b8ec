#!/usr/bin/env bash
# File names are bytes (issue 10, section 5): paths and names that are not valid UTF-8 never
# crash acmed (JSON serialisation and std::filesystem calls in the core do not throw).
# - A config dir under a Latin-1 name, and so every path in its renewal confs: issue, list (text
#   and valid JSON), renew.
# - A Latin-1 lineage name: --cert-name refuses it (certificate names are printable ASCII) in one
#   line plus a hint, exit 1, nothing written; a lineage of that name already on disk (made by
#   hand or by another client) is reported as unusable by `certificates` (text and valid JSON)
#   and `renew`, while the other lineages are still listed and renewed.
. "$(dirname "$0")/lib.sh"
# grep and sed run with LC_ALL=C: in a UTF-8 locale their '.' does not match a non-UTF-8 byte.

start_pebble
pebble_root "$TEST_DIR/root.pem"
LATIN1=$'caf\xe9'   # "café" in ISO 8859-1: not valid UTF-8
ACMED_CONFIG_DIR="$TEST_DIR/etc-$LATIN1"
C=$ACMED_CONFIG_DIR
standalone() {
  acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 "$@"
}
no_crash() {  # no_crash RC WHAT: an exit code from a signal (an uncaught exception aborts) fails
  [ "$1" -lt 128 ] || fail "$2: acmed died from a signal (exit $1)"
}
# The store's contents (the lock file holds the last holder's PID, so it is left out).
store_digest() { for d in accounts archive live renewal; do tree_digest "$C/$d"; done; }
valid_json() { python3 -c 'import json, sys; json.load(sys.stdin)' <"$1" || fail "$1 is not JSON"; }

log "a config dir whose path is not UTF-8: issue, list as JSON, renew"
standalone -d a.test >"$TEST_DIR/issue.out" 2>&1 || { cat "$TEST_DIR/issue.out"; fail "certonly"; }
verify_chain "$C/live/a.test/fullchain.pem" "$TEST_DIR/root.pem"
LC_ALL=C grep -q "^archive_dir = .*$LATIN1" "$C/renewal/a.test.conf" || fail "the renewal conf lacks the path"
acmed certificates --json >"$TEST_DIR/list.json" || fail "certificates --json"
valid_json "$TEST_DIR/list.json"
LC_ALL=C grep -q '"a.test"' "$TEST_DIR/list.json" || fail "a.test not listed"
acmed certificates >/dev/null || fail "certificates"
rc=0; acmed_pebble renew --force-renewal --http-01-port "$HTTP01_PORT" >"$TEST_DIR/renew.out" 2>&1 || rc=$?
cat "$TEST_DIR/renew.out" >&2
no_crash "$rc" "renew"
[ "$rc" -eq 0 ] || fail "renew under a non-UTF-8 config dir exited $rc"
[ "$(readlink "$C/live/a.test/cert.pem")" = ../../archive/a.test/cert2.pem ] || fail "not renewed"

log "--cert-name that is not UTF-8 is refused in one line, nothing written"
before=$(store_digest)
rc=0; standalone -d b.test --cert-name "$LATIN1" >"$TEST_DIR/name.out" 2>&1 || rc=$?
cat "$TEST_DIR/name.out" >&2
no_crash "$rc" "certonly --cert-name $LATIN1"
[ "$rc" -eq 1 ] || fail "a Latin-1 --cert-name exited $rc, not 1"
head -n1 "$TEST_DIR/name.out" | LC_ALL=C grep -q "is not a usable certificate name" \
  || fail "the refusal does not say what is wrong"
[ "$(LC_ALL=C grep -vc '^hint:' "$TEST_DIR/name.out")" -eq 1 ] || fail "the refusal is not one line"
[ "$(store_digest)" = "$before" ] || fail "a refused name changed the config dir"

log "a lineage named in Latin-1 on disk: listed as unusable, the others still work"
cp -a "$C/archive/a.test" "$C/archive/$LATIN1"
mkdir "$C/live/$LATIN1"
for f in cert chain fullchain privkey; do
  ln -s "../../archive/$LATIN1/${f}2.pem" "$C/live/$LATIN1/$f.pem"
done
LC_ALL=C sed -e "s|/live/a\.test/|/live/$LATIN1/|" -e "s|/archive/a\.test\$|/archive/$LATIN1|" \
  "$C/renewal/a.test.conf" >"$C/renewal/$LATIN1.conf"
[ "$(LC_ALL=C grep -c "/$LATIN1/\|/$LATIN1\$" "$C/renewal/$LATIN1.conf")" -eq 5 ] \
  || fail "planting the lineage"
a_before=$(tree_digest "$C/archive/a.test")

rc=0; acmed certificates --json >"$TEST_DIR/list2.json" 2>"$TEST_DIR/list2.err" || rc=$?
cat "$TEST_DIR/list2.err" >&2
no_crash "$rc" "certificates --json"
[ "$rc" -eq 0 ] || fail "certificates --json exited $rc"
python3 - "$TEST_DIR/list2.json" <<'PY' || fail "certificates --json does not list both lineages right"
import json, sys
items = {c["name"]: c for c in json.load(open(sys.argv[1], encoding="utf-8"))}
assert items["a.test"].get("valid") is True, items["a.test"]
bad = [c for n, c in items.items() if n.startswith("caf")]
assert len(bad) == 1 and "not a usable certificate name" in bad[0]["error"], items
PY
rc=0; acmed certificates >"$TEST_DIR/list2.txt" 2>&1 || rc=$?
no_crash "$rc" "certificates"
[ "$rc" -eq 0 ] || fail "certificates exited $rc"
LC_ALL=C grep -q "Certificate Name: a.test" "$TEST_DIR/list2.txt" || fail "a.test not listed"
LC_ALL=C grep -q "Error: .*not a usable certificate name" "$TEST_DIR/list2.txt" || fail "the bad lineage not reported"

rc=0; acmed_pebble renew --http-01-port "$HTTP01_PORT" >"$TEST_DIR/renew2.out" 2>&1 || rc=$?
cat "$TEST_DIR/renew2.out" >&2
no_crash "$rc" "renew"
[ "$rc" -eq 1 ] || fail "renew with an unusable lineage exited $rc, not 1"
LC_ALL=C grep -q "cannot load the lineage: .*not a usable certificate name" "$TEST_DIR/renew2.out" \
  || fail "renew does not say which lineage it could not load"
LC_ALL=C grep -q "checked 2, renewed 0, not due 1, failed 1" "$TEST_DIR/renew2.out" || fail "renew summary"
[ "$(tree_digest "$C/archive/a.test")" = "$a_before" ] || fail "renew changed a.test"
log "PASS"
