#!/usr/bin/env bash
# --duplicate against Pebble: a second certonly for the same names keeps the lineage without it,
# and makes a second lineage (NAME-0001) with it, both loading; --duplicate with a --cert-name
# that exists is one line, non-zero, and changes nothing.
. "$(dirname "$0")/lib.sh"

start_pebble
C=$ACMED_CONFIG_DIR
get() {
  acmed_pebble certonly --standalone --http-01-address 127.0.0.1 --http-01-port "$HTTP01_PORT" "$@"
}
get -d a.test >"$TEST_DIR/1.out" 2>&1 || { cat "$TEST_DIR/1.out"; fail "first issuance"; }

log "without --duplicate the existing lineage is kept"
get -d a.test >"$TEST_DIR/2.out" 2>&1 || { cat "$TEST_DIR/2.out"; fail "second certonly"; }
[ ! -e "$C/renewal/a.test-0001.conf" ] || fail "a second lineage without --duplicate"
[ ! -e "$C/archive/a.test/cert2.pem" ] || fail "a not-due lineage was renewed"

log "--duplicate makes a.test-0001 beside a.test"
get -d a.test --duplicate >"$TEST_DIR/3.out" 2>&1 || { cat "$TEST_DIR/3.out"; fail "--duplicate"; }
[ -e "$C/renewal/a.test-0001.conf" ] || fail "no a.test-0001 lineage"
[ ! -e "$C/archive/a.test/cert2.pem" ] || fail "--duplicate renewed a.test"
n=$(acmed certificates --json | grep -c '"name": "a.test')
[ "$n" = 2 ] || fail "certificates lists $n a.test lineages, not 2"
if acmed certificates --json | seen '"error"'; then fail "a lineage does not load"; fi

log "--duplicate --cert-name of an existing lineage: refused, nothing changed"
before=$(echo "$(tree_digest "$C/live") $(tree_digest "$C/archive") $(tree_digest "$C/renewal")")
expect_fail get -d a.test --duplicate --cert-name a.test
grep -q "duplicate.*a.test exists" <<<"$LAST_ERR" || fail "refusal does not say why"
[ "$(grep -vc '^hint:' <<<"$LAST_ERR")" = 1 ] || fail "not one line"
[ "$(echo "$(tree_digest "$C/live") $(tree_digest "$C/archive") $(tree_digest "$C/renewal")")" = "$before" ] \
  || fail "the refused --duplicate changed the store"

log "--duplicate --cert-name NEW makes that lineage"
get -d a.test --duplicate --cert-name a-copy >"$TEST_DIR/4.out" 2>&1 \
  || { cat "$TEST_DIR/4.out"; fail "--duplicate --cert-name a-copy"; }
[ -e "$C/renewal/a-copy.conf" ] || fail "no a-copy lineage"
echo PASS
