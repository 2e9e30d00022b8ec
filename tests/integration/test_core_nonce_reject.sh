#!/usr/bin/env bash
# Pebble rejecting 30% of all nonces (PEBBLE_WFE_NONCEREJECT=30): acmed retries badNonce with the
# fresh nonce and never surfaces it, so several issuances in a row all succeed. Not 50%: acmed
# gives up after 11 rejections of one request in a row (a CA doing that is broken), which at 50%
# happens once in ~2000 requests, so the suite failed now and then; at 30% once in ~550,000.
. "$(dirname "$0")/lib.sh"

PEBBLE_WFE_NONCEREJECT=30 start_pebble
pebble_root "$TEST_DIR/root.pem"
C=$ACMED_CONFIG_DIR

for n in n1 n2 n3; do
  log "issuance $n.test under 30% nonce rejection"
  acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 \
    -d "$n.test" -d "www.$n.test" >"$TEST_DIR/$n.out" 2>&1 || { cat "$TEST_DIR/$n.out"; fail "issuance of $n.test"; }
  grep -qi "badNonce" "$TEST_DIR/$n.out" && { cat "$TEST_DIR/$n.out"; fail "badNonce surfaced to the user"; }
  verify_chain "$C/live/$n.test/fullchain.pem" "$TEST_DIR/root.pem"
done
log "register/show_account also survive nonce rejection"
acmed_pebble show_account >/dev/null 2>&1 || fail "show_account under nonce rejection"
echo "PASS"
