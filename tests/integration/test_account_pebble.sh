#!/usr/bin/env bash
# Account commands against Pebble, each read back from Pebble (show_account asks the CA):
# update_account -m and --register-unsafely-without-email; `account rollover` (the new key works
# afterwards, a copy of the old one is refused, the account URL and id stay) including both
# states an interrupted rollover can leave; unregister refused while a lineage uses the account
# (one line, nothing changed), then --force: deactivated at Pebble, removed locally; --account ID.
. "$(dirname "$0")/lib.sh"

start_pebble
C=$ACMED_CONFIG_DIR
pb() { acmed "$@" --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" --non-interactive; }
# show CONFIG_DIR: show_account against Pebble with the accounts of CONFIG_DIR.
show() {
  "$ACMED_BIN" --config-dir "$1" --work-dir "$TEST_DIR/work" --logs-dir "$TEST_DIR/logs" \
    show_account --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" "${@:2}"
}
account_dir() { dirname "$(find "$C/accounts" -name private_key.json | head -1)"; }

pb register -m first@example.com --agree-tos >/dev/null 2>&1 || fail "register"
show "$C" | seen "Email contact: mailto:first@example.com" || fail "contact not registered"
url=$(show "$C" | sed -n 's/.*Account URL: //p')
show "$C" --json >"$TEST_DIR/show.json" || fail "show_account --json"
python3 - "$TEST_DIR/show.json" "$url" <<'PY' || fail "show_account --json: $(cat "$TEST_DIR/show.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["version"] == 1 and j["url"] == sys.argv[2] and j["status"] == "valid", j
assert j["contact"] == ["mailto:first@example.com"] and j["id"] and j["server"], j
PY

log "update_account -m: Pebble has the new address"
pb update_account -m second@example.com
show "$C" >"$TEST_DIR/show1" || fail "show_account after update"
grep -q "Email contact: mailto:second@example.com" "$TEST_DIR/show1" || fail "update not at Pebble: $(cat "$TEST_DIR/show1")"
log "update_account --register-unsafely-without-email clears the contacts"
pb update_account --register-unsafely-without-email
show "$C" | seen "Email contact: none" || fail "contacts not cleared at Pebble"
expect_fail pb update_account
grep -q "needs the new contact" <<<"$LAST_ERR" || fail "update_account without -m: $LAST_ERR"
expect_fail pb update_account -m "not an address"
show "$C" | seen "Email contact: none" || fail "a bad address changed the account"

log "account rollover: the new key is the account's, the old one is refused"
dir=$(account_dir)
mkdir -p "$TEST_DIR/old/accounts"; cp -a "$C/accounts/." "$TEST_DIR/old/accounts/"
old_key=$(sha256sum <"$dir/private_key.json")
pb account rollover
[ "$(sha256sum <"$dir/private_key.json")" != "$old_key" ] || fail "the stored key did not change"
[ ! -e "$dir/rollover_key.json" ] || fail "the staged key was left behind"
show "$C" | seen "Account URL: $url" || fail "the new key does not find the same account"
expect_fail show "$TEST_DIR/old"
grep -q "no account" <<<"$LAST_ERR" || seen -i "does not exist" <<<"$LAST_ERR" || fail "old key not refused: $LAST_ERR"
acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 \
  -d used.test >/dev/null 2>&1 || fail "issuing with the rolled-over key"
[ "$(find "$C/accounts" -name private_key.json | wc -l)" = 1 ] || fail "certonly registered another account"

log "--account ID uses that stored account (certonly, show_account); unknown ids are refused"
"$ACMED_BIN" --config-dir "$TEST_DIR/etc2" --work-dir "$TEST_DIR/work2" --logs-dir "$TEST_DIR/logs2" \
  register -m two@example.com --agree-tos --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \
  >/dev/null 2>&1 || fail "registering the second account"
second=$(dirname "$(find "$TEST_DIR/etc2/accounts" -name private_key.json)")
sub=${second#"$TEST_DIR/etc2/accounts/"}
id2=${second##*/}
mkdir -p "$C/accounts/${sub%/*}" && cp -a "$second" "$C/accounts/$sub"
acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 \
  -d acct2.test --account "$id2" >"$TEST_DIR/out" 2>&1 || { cat "$TEST_DIR/out"; fail "certonly --account"; }
grep -qx "account = $id2" "$C/renewal/acct2.test.conf" || fail "the lineage does not name --account's id"
pb show_account --account "$id2" | seen "Email contact: mailto:two@example.com" || fail "show_account --account"
store_digest() { for d in accounts live archive renewal; do tree_digest "$C/$d"; done; }
before=$(store_digest)
expect_fail acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 \
  -d acct3.test --account nosuchaccount
grep -q "nosuchaccount" <<<"$LAST_ERR" && [ "$(grep -v '^hint:' <<<"$LAST_ERR" | grep -vc '^Requesting')" = 1 ] \
  || fail "unknown --account: $LAST_ERR"
expect_fail pb show_account --account ../etc
expect_fail pb renew --account "$id2"
[ "$LAST_RC" = 2 ] || fail "renew --account exited $LAST_RC"
[ "$(store_digest)" = "$before" ] || fail "a refused --account changed the store"
pb delete --cert-name acct2.test >/dev/null 2>&1 || fail "deleting acct2.test"
rm -rf "${C:?}/accounts/$sub"

log "interrupted rollover, CA had taken the key: the next run commits it"
mkdir -p "$TEST_DIR/k2"; cp "$dir/private_key.json" "$TEST_DIR/k2/"
pb account rollover  # K2 -> K3, then rewind the disk to 'K3 staged, K2 stored'
cp "$dir/private_key.json" "$dir/rollover_key.json"; cp "$TEST_DIR/k2/private_key.json" "$dir/private_key.json"
k3=$(sha256sum <"$dir/rollover_key.json")
pb account rollover 2>"$TEST_DIR/resume.err" || { cat "$TEST_DIR/resume.err"; fail "resume"; }
grep -q "interrupted rollover" "$TEST_DIR/resume.err" || fail "resume not reported: $(cat "$TEST_DIR/resume.err")"
[ "$(sha256sum <"$dir/private_key.json")" = "$k3" ] || fail "the accepted staged key was not committed"
show "$C" | seen "Account URL: $url" || fail "account unusable after the resumed rollover"
log "interrupted rollover, CA never saw the key: discarded, a fresh rollover made"
# a valid private JWK that Pebble has never seen, staged as if a run had died before sending it
python3 - "$dir/rollover_key.json" <<'PY'
import base64, json, sys
from cryptography.hazmat.primitives.asymmetric import ec
k = ec.generate_private_key(ec.SECP256R1())
n = k.private_numbers()
b = lambda i: base64.urlsafe_b64encode(i.to_bytes(32, "big")).rstrip(b"=").decode()
json.dump({"kty": "EC", "crv": "P-256", "x": b(n.public_numbers.x), "y": b(n.public_numbers.y),
           "d": b(n.private_value)}, open(sys.argv[1], "w"))
PY
chmod 600 "$dir/rollover_key.json"
k4=$(sha256sum <"$dir/rollover_key.json"); k3=$(sha256sum <"$dir/private_key.json")
pb account rollover
new=$(sha256sum <"$dir/private_key.json")
[ "$new" != "$k3" ] && [ "$new" != "$k4" ] || fail "no fresh key after discarding the unsent one"
[ ! -e "$dir/rollover_key.json" ] || fail "the unsent staged key was left behind"
show "$C" | seen "Account URL: $url" || fail "account unusable after discarding the staged key"

log "unregister with a lineage using the account: refused, one line, nothing changed"
cp -a "$C/accounts/." "$TEST_DIR/old/accounts/"  # the current key, to read the account back later
before=$(tree_digest "$C/accounts")
expect_fail pb unregister
[ "$(wc -l <<<"$LAST_ERR")" -le 2 ] && grep -q "used.test" <<<"$LAST_ERR" || fail "unregister refusal: $LAST_ERR"
[ "$(tree_digest "$C/accounts")" = "$before" ] || fail "a refused unregister changed the accounts"
show "$C" | seen "Status: valid" || fail "a refused unregister changed the account at Pebble"

log "unregister --force: deactivated at Pebble, removed here"
pb unregister --force 2>"$TEST_DIR/unreg.err" || { cat "$TEST_DIR/unreg.err"; fail "unregister --force"; }
grep -q "used.test" "$TEST_DIR/unreg.err" || fail "no warning naming the lineage"
[ -z "$(find "$C/accounts" -name private_key.json)" ] || fail "the account is still stored"
expect_fail show "$TEST_DIR/old"
grep -q "deactivated" <<<"$LAST_ERR" || fail "Pebble does not report the account deactivated: $LAST_ERR"
grep -q "hint: a deactivated account cannot be used again" <<<"$LAST_ERR" || fail "hint for a deactivated account: $LAST_ERR"
expect_fail pb unregister
grep -q "no account stored" <<<"$LAST_ERR" || fail "unregister without an account: $LAST_ERR"
log "PASS"
