#!/usr/bin/env bash
# tls-alpn-01 (RFC 8737) against Pebble's tlsPort: --tls-alpn-01 issues through the built-in TLS
# listener, which answers only ALPN acme-tls/1 with the acmeIdentifier certificate of the asked
# name and is gone afterwards; --standalone --preferred-challenges chooses between http-01 and
# tls-alpn-01 when the CA offers both; renew keeps the choice; a taken port is a clear error.
. "$(dirname "$0")/lib.sh"

start_pebble
pebble_root "$TEST_DIR/root.pem"
C=$ACMED_CONFIG_DIR
alpn() {
  acmed_pebble certonly --tls-alpn-01 --tls-alpn-01-port "$TLSALPN01_PORT" --tls-alpn-01-address 127.0.0.1 "$@"
}

log "--tls-alpn-01 issues a certificate validated on Pebble's tlsPort"
alpn -v -d alpn.test -d www.alpn.test >"$TEST_DIR/alpn.out" 2>&1 || { cat "$TEST_DIR/alpn.out"; fail "tls-alpn-01 issuance"; }
verify_chain "$C/live/alpn.test/fullchain.pem" "$TEST_DIR/root.pem"
grep -q "answering tls-alpn-01 for alpn.test" "$TEST_DIR/alpn.out" || fail "tls-alpn-01 was not the challenge used"
grep -q "answering http-01" "$TEST_DIR/alpn.out" && fail "http-01 was used"
ss -Hltn "sport = :$TLSALPN01_PORT" | seen . && fail "the tls-alpn-01 listener still runs"
conf="$C/renewal/alpn.test.conf"
grep -qx "authenticator = tls-alpn-01" "$conf" || fail "authenticator not stored: $(grep authenticator "$conf")"
grep -qx "tls_alpn_01_port = $TLSALPN01_PORT" "$conf" || fail "tls_alpn_01_port not stored"

log "renew keeps tls-alpn-01"
with_new_account acmed renew --force-renewal --cert-name alpn.test --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" -n -v \
  >"$TEST_DIR/renew.out" 2>&1 || { cat "$TEST_DIR/renew.out"; fail "renew"; }
# Pebble may reuse one of the two authorizations; the other is answered again.
grep -q "answering tls-alpn-01 for " "$TEST_DIR/renew.out" || fail "renew did not use tls-alpn-01"
grep -q "answering http-01" "$TEST_DIR/renew.out" && fail "renew used http-01"
[ "$(readlink "$C/live/alpn.test/cert.pem")" = "../../archive/alpn.test/cert2.pem" ] || fail "not renewed"

log "--preferred-challenges picks among what the CA offers"
acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 \
  --tls-alpn-01-port "$TLSALPN01_PORT" --tls-alpn-01-address 127.0.0.1 \
  --preferred-challenges tls-alpn-01,http-01 -v -d pref1.test >"$TEST_DIR/pref1.out" 2>&1 \
  || { cat "$TEST_DIR/pref1.out"; fail "preferred tls-alpn-01"; }
grep -q "answering tls-alpn-01 for pref1.test" "$TEST_DIR/pref1.out" || fail "tls-alpn-01 not preferred"
acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 \
  --tls-alpn-01-port "$TLSALPN01_PORT" --tls-alpn-01-address 127.0.0.1 \
  --preferred-challenges http,tls-alpn -v -d pref2.test >"$TEST_DIR/pref2.out" 2>&1 \
  || { cat "$TEST_DIR/pref2.out"; fail "preferred http-01"; }
grep -q "answering http-01 for pref2.test" "$TEST_DIR/pref2.out" || fail "http-01 not preferred"

log "bad input: port taken, a type the authenticator cannot answer, an unknown type"
start_bg holder python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $TLSALPN01_PORT)); s.listen(); time.sleep(120)"
holder=$BG_PID
for _ in $(seq 1 50); do ss -Hltn "sport = :$TLSALPN01_PORT" | seen . && break; sleep 0.1; done
expect_fail alpn -d taken.test
echo "$LAST_ERR" | seen "127.0.0.1:$TLSALPN01_PORT: the port is already in use" || fail "port taken: $LAST_ERR"
[ ! -e "$C/renewal/taken.test.conf" ] || fail "a lineage was written after the port error"
stop_pid "$holder"
expect_fail acmed_pebble certonly --standalone --preferred-challenges dns -d nodns.test
[ "$LAST_RC" = 2 ] || fail "dns-01 with standalone: exit $LAST_RC"
echo "$LAST_ERR" | seen "standalone authenticator answers http-01, tls-alpn-01, none of the preferred" \
  || fail "dns-01 with standalone: $LAST_ERR"
expect_fail acmed_pebble certonly --standalone --preferred-challenges smtp -d x.test
[ "$LAST_RC" = 2 ] || fail "unknown type: exit $LAST_RC"
echo "PASS"
