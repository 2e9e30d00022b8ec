#!/usr/bin/env bash
# The ACME client library (unit_acme's test suite "pebble", tests/unit/acme/pebble_test.cpp)
# against a real Pebble started here: dns-01 with a wildcard through pebble-challtestsrv,
# revocation, a warm order's request count, contacts, key rollover, deactivation and chain
# selection with an alternate root. Run twice: plain, and with a share of nonces rejected.
. "$(dirname "$0")/lib.sh"

: "${ACMED_UNIT_ACME:?ACMED_UNIT_ACME must point at the unit_acme binary (ctest sets it)}"

run_suite() {
  ACMED_TEST_PEBBLE_URL="$PEBBLE_URL" ACMED_TEST_PEBBLE_CA="$PEBBLE_CA_BUNDLE" \
    ACMED_TEST_CHALLTESTSRV="$CHALL_MGMT" ACMED_TEST_PEBBLE_MGMT="$PEBBLE_MGMT" \
    "$ACMED_UNIT_ACME" --test-suite=pebble --no-version 2>&1 | tee "$TEST_DIR/suite-$1.log"
  grep -q "test cases: *4 | *4 passed" "$TEST_DIR/suite-$1.log" \
    || fail "the pebble suite ($1) did not run and pass all 4 test cases"
}

log "the client library against Pebble with an alternate root"
PEBBLE_ALTERNATE_ROOTS=1 start_pebble
run_suite plain
stop_pid "$PEBBLE_PID"

log "the same with 30% of the nonces rejected (badNonce retries)"
# 30%, not 50%: see test_core_nonce_reject.sh (11 rejections of one request in a row end it).
PEBBLE_ALTERNATE_ROOTS=1 PEBBLE_WFE_NONCEREJECT=30 start_pebble
run_suite nonce-reject
log "PASS"
