#!/usr/bin/env bash
# `acmed update_symlinks` on lineages issued by Pebble: broken live links (one missing, one
# absolute and at an older version, one at a version whose files are gone) are repaired to
# relative links at one complete version, so `certificates` loads the lineage again; an unknown
# --cert-name is one line, non-zero, and changes nothing.
. "$(dirname "$0")/lib.sh"

start_pebble
pebble_root "$TEST_DIR/root.pem"
C=$ACMED_CONFIG_DIR
issue() {
  acmed_pebble certonly --standalone --http-01-address 127.0.0.1 --http-01-port "$HTTP01_PORT" \
    "$@" >"$TEST_DIR/issue.out" 2>&1 || { cat "$TEST_DIR/issue.out"; fail "issuing: $*"; }
}
issue -d a.test
issue -d a.test --force-renewal
issue -d b.test
[ -e "$C/archive/a.test/cert2.pem" ] || fail "no second version of a.test"

log "break a.test's links and b.test's"
L="$C/live/a.test"
rm "$L/cert.pem"
ln -sfn "$C/archive/a.test/privkey1.pem" "$L/privkey.pem"
ln -sfn ../../archive/b.test/chain7.pem "$C/live/b.test/chain.pem"
acmed certificates --cert-name a.test --json | seen '"error"' || fail "a.test still loads"
good_b=$(readlink "$C/live/b.test/cert.pem")

log "unknown --cert-name: one line, non-zero, nothing changed"
before=$(ls -l "$C/live/a.test" "$C/live/b.test" | sha256sum)
expect_fail acmed update_symlinks --cert-name nope.test
grep -q "nope.test" <<<"$LAST_ERR" || fail "the error does not name nope.test"
[ "$(grep -vc '^hint:' <<<"$LAST_ERR")" = 1 ] || fail "not one line"
[ "$(ls -l "$C/live/a.test" "$C/live/b.test" | sha256sum)" = "$before" ] || fail "links changed"

log "update_symlinks repairs both"
acmed update_symlinks >"$TEST_DIR/out" 2>&1 || { cat "$TEST_DIR/out"; fail "update_symlinks"; }
grep -q "a.test: live links -> version 2" "$TEST_DIR/out" || { cat "$TEST_DIR/out"; fail "a.test"; }
grep -q "b.test: live links -> version 1" "$TEST_DIR/out" || { cat "$TEST_DIR/out"; fail "b.test"; }
for kind in cert chain fullchain privkey; do
  [ "$(readlink "$L/$kind.pem")" = "../../archive/a.test/${kind}2.pem" ] \
    || fail "a.test $kind.pem -> $(readlink "$L/$kind.pem")"
done
[ "$(readlink "$C/live/b.test/cert.pem")" = "$good_b" ] || fail "b.test's good link moved"
[ "$(readlink "$C/live/b.test/chain.pem")" = "../../archive/b.test/chain1.pem" ] || fail "b.test chain"
if acmed certificates --json | seen '"error"'; then fail "a lineage still broken"; fi
verify_chain "$L/fullchain.pem" "$TEST_DIR/root.pem"
cmp -s <(openssl x509 -in "$L/cert.pem" -noout -pubkey) \
  <(openssl pkey -in "$L/privkey.pem" -pubout) || fail "cert.pem and privkey.pem do not match"
echo PASS
