#!/usr/bin/env bash
# --dry-run always answers its challenges, as certbot's does, even at a CA that hands out every
# valid authorization again (Pebble with PEBBLE_AUTHZREUSE=100): a dry run after a real issuance
# deactivates the reused authorization, orders again and validates (Pebble's log counts the
# validations; with nothing serving the challenge the dry run fails), and leaves its own
# authorizations deactivated, so the next dry run validates too. A real issuance deactivates
# nothing: the next real one reuses its authorization.
. "$(dirname "$0")/lib.sh"

PEBBLE_AUTHZREUSE=100 start_pebble
C=$ACMED_CONFIG_DIR
standalone() {
  acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 "$@"
}
# validations: challenges Pebble has validated so far (its log line per valid authorization).
validations() { grep -c 'set VALID by completed challenge' "$TEST_DIR/pebble.log" || true; }
# run_ok NAME CMD...: CMD must succeed; its output is kept in $TEST_DIR/NAME.out.
run_ok() {
  local name=$1; shift
  "$@" >"$TEST_DIR/$name.out" 2>&1 || { cat "$TEST_DIR/$name.out"; fail "$name: $*"; }
  if grep -q 'could not deactivate' "$TEST_DIR/$name.out"; then
    cat "$TEST_DIR/$name.out"
    fail "$name: a deactivation failed"
  fi
}
reordered='reused valid authorizations from an earlier order for d.test'

log "a real certonly validates d.test once"
run_ok real1 standalone -d d.test
[ "$(validations)" = 1 ] || fail "the first issuance made $(validations) validations, expected 1"

log "a real issuance leaves its authorization valid: the next one reuses it, validating nothing"
run_ok real2 standalone -d d.test --force-renewal
[ "$(validations)" = 1 ] || fail "a real issuance deactivated its authorization (validations: $(validations))"
lineage=$(tree_digest "$C/archive/d.test")

log "--dry-run after a real issuance deactivates the reused authorization and validates"
run_ok dry1 standalone -d d.test --dry-run
[ "$(validations)" = 2 ] || { cat "$TEST_DIR/dry1.out"; fail "the dry run did not validate (validations: $(validations))"; }
grep -q "$reordered" "$TEST_DIR/dry1.out" || { cat "$TEST_DIR/dry1.out"; fail "the dry run did not say it re-ordered"; }
[ "$(tree_digest "$C/archive/d.test")" = "$lineage" ] || fail "the dry run changed the lineage"

log "a second dry run in a row validates again, with nothing to re-order (the first deactivated its own)"
run_ok dry2 standalone -d d.test --dry-run
[ "$(validations)" = 3 ] || fail "the second dry run did not validate (validations: $(validations))"
! grep -q "$reordered" "$TEST_DIR/dry2.out" || { cat "$TEST_DIR/dry2.out"; fail "the first dry run left a valid authorization"; }

log "and a third, as renew --dry-run (certbot's usual check)"
run_ok dry3 acmed_pebble renew --dry-run --cert-name d.test
[ "$(validations)" = 4 ] || { cat "$TEST_DIR/dry3.out"; fail "renew --dry-run did not validate (validations: $(validations))"; }
! grep -q "$reordered" "$TEST_DIR/dry3.out" || fail "the second dry run left a valid authorization"
[ "$(tree_digest "$C/archive/d.test")" = "$lineage" ] || fail "a dry run changed the lineage"

log "after a real issuance, a dry run with nothing serving the challenge fails: it really validates"
run_ok real3 standalone -d d.test --force-renewal
[ "$(validations)" = 5 ] || fail "the real issuance after dry runs did not validate (validations: $(validations))"
lineage=$(tree_digest "$C/archive/d.test")
elsewhere=$(free_port)
expect_fail acmed_pebble certonly --standalone --http-01-port "$elsewhere" \
  --http-01-address 127.0.0.1 -d d.test --dry-run
echo "$LAST_ERR" | seen 'd.test' || fail "the failed dry run does not name d.test"
[ "$(validations)" = 5 ] || fail "a challenge nobody served was validated"
[ "$(tree_digest "$C/archive/d.test")" = "$lineage" ] || fail "the failed dry run changed the lineage"
