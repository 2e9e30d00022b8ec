#!/usr/bin/env bash
# dns-01 through --dns-rfc2136 against a real BIND 9 and Pebble validating through that BIND:
# wildcard + apex in one certificate, a CNAME-delegated name, cleanup proven by AXFR of the zones
# (the unrelated TXT value on the same name survives), renewal through `acmed renew`, and every
# bad input of issue 13 (TSIG key, algorithm, REFUSED, credentials file, no zone, CNAME loop,
# propagation timeout, wildcards) with a one-line error, a non-zero exit and no lineage written.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bind_lib.sh"

start_bind
PEBBLE_DNS_SERVER="$BIND_IP:53" start_pebble
pebble_root "$TEST_DIR/root.pem"
C=$ACMED_CONFIG_DIR

rfc2136() { acmed_pebble certonly --dns-rfc2136 "$@"; }
before_example=$(zone_dump example.test)
before_delegated=$(zone_dump delegated.test)
[ -n "$before_example" ] || fail "AXFR of example.test returned nothing"
zones_unchanged() {
  [ "$(zone_dump example.test)" = "$before_example" ] || { zone_dump example.test; fail "example.test changed ($1)"; }
  [ "$(zone_dump delegated.test)" = "$before_delegated" ] || fail "delegated.test changed ($1)"
}
no_lineage() { [ ! -e "$C/renewal/$1.conf" ] && [ ! -e "$C/live/$1" ] || fail "a lineage $1 was written ($2)"; }
# The error itself is one line (progress lines and the hint aside).
one_line() {
  [ "$(printf '%s\n' "$LAST_ERR" | grep -v -e '^Requesting' -e '^Publishing' -e '^Waiting' -e '^hint:' \
    | grep -c .)" -le 1 ] || fail "error is not one line: $LAST_ERR"
}

log "wildcard + apex through --dns-rfc2136 (zone looked up at dns_rfc2136_server)"
rfc2136 --dns-rfc2136-credentials "$BIND_CREDS" -d '*.example.test' -d example.test \
  >"$TEST_DIR/wild.out" 2>&1 || { cat "$TEST_DIR/wild.out"; fail "wildcard issuance"; }
grep -q "Publishing TXT _acme-challenge.example.test" "$TEST_DIR/wild.out" || fail "no publish log"
[ -L "$C/live/example.test/cert.pem" ] || fail "lineage of a wildcard-first order is not example.test"
verify_chain "$C/live/example.test/fullchain.pem" "$TEST_DIR/root.pem"
san=$(openssl x509 -in "$C/live/example.test/cert.pem" -noout -ext subjectAltName)
echo "$san" | seen 'DNS:\*.example.test' || fail "no wildcard in SAN: $san"
echo "$san" | seen 'DNS:example.test' || fail "no apex in SAN: $san"
zones_unchanged "after the wildcard issuance"
[ "$(txt_of _acme-challenge.example.test)" = "unrelated-value" ] || fail "the unrelated TXT value was touched"
conf="$C/renewal/example.test.conf"
grep -qx "authenticator = dns-rfc2136" "$conf" || fail "renewal conf lacks authenticator"
grep -qx "dns_rfc2136_credentials = $BIND_CREDS" "$conf" || fail "renewal conf lacks the credentials path"

log "a CNAME-delegated _acme-challenge is updated at its target, with --dns-resolver"
rfc2136 --dns-rfc2136-credentials "$BIND_CREDS" --dns-resolver "$BIND_IP:53" \
  --dns-propagation-seconds 20 -d cname.example.test >"$TEST_DIR/cname.out" 2>&1 \
  || { cat "$TEST_DIR/cname.out"; fail "CNAME-delegated issuance"; }
grep -q "Publishing TXT cname.delegated.test (zone delegated.test)" "$TEST_DIR/cname.out" \
  || { cat "$TEST_DIR/cname.out"; fail "the CNAME target was not used"; }
verify_chain "$C/live/cname.example.test/fullchain.pem" "$TEST_DIR/root.pem"
zones_unchanged "after the CNAME issuance"
grep -qx "dns_resolver = $BIND_IP:53," "$C/renewal/cname.example.test.conf" \
  || seen -x "dns_resolver = $BIND_IP:53" "$C/renewal/cname.example.test.conf" || fail "dns_resolver not stored"
grep -qx "dns_propagation_seconds = 20" "$C/renewal/cname.example.test.conf" || fail "propagation seconds not stored"

log "acmed renew renews the dns-rfc2136 lineages"
acmed renew --force-renewal --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" -n \
  >"$TEST_DIR/renew.out" 2>&1 || { cat "$TEST_DIR/renew.out"; fail "renew"; }
for l in example.test cname.example.test; do
  [ "$(readlink "$C/live/$l/cert.pem")" = "../../archive/$l/cert2.pem" ] || fail "$l not renewed"
done
zones_unchanged "after renew"

# Bad input: one line, non-zero, nothing written, zones unchanged.
bad() {  # bad NAME PATTERN ARGS...: the command fails, says PATTERN, writes no lineage NAME
  local name=$1 pattern=$2; shift 2
  expect_fail "$@"
  echo "$LAST_ERR" | seen -- "$pattern" || fail "error for $name does not say '$pattern': $LAST_ERR"
  one_line
  no_lineage "$name" "$pattern"
  zones_unchanged "$name"
}
log "wrong TSIG secret"
write_creds "$TEST_DIR/bad-secret.ini" "$BIND_OTHER_SECRET" HMAC-SHA256
bad bad1.example.test "did not accept the TSIG key 'acmed-key'" \
  rfc2136 --dns-rfc2136-credentials "$TEST_DIR/bad-secret.ini" -d bad1.example.test
log "wrong TSIG algorithm"
write_creds "$TEST_DIR/bad-alg.ini" "$BIND_SECRET" HMAC-SHA512
bad bad2.example.test "did not accept the TSIG key" \
  rfc2136 --dns-rfc2136-credentials "$TEST_DIR/bad-alg.ini" -d bad2.example.test
log "a key the zone does not allow: REFUSED"
write_creds "$TEST_DIR/other.ini" "$BIND_OTHER_SECRET" HMAC-SHA256 other-key
bad bad3.example.test "refused the update of example.test (REFUSED)" \
  rfc2136 --dns-rfc2136-credentials "$TEST_DIR/other.ini" -d bad3.example.test
log "credentials: world-readable, missing, lacking the secret, unknown algorithm"
cp "$BIND_CREDS" "$TEST_DIR/open.ini"; chmod 644 "$TEST_DIR/open.ini"
bad bad4.example.test "chmod 600 $TEST_DIR/open.ini" \
  rfc2136 --dns-rfc2136-credentials "$TEST_DIR/open.ini" -d bad4.example.test
bad bad4.example.test "does not exist" \
  rfc2136 --dns-rfc2136-credentials "$TEST_DIR/none.ini" -d bad4.example.test
grep -v secret "$BIND_CREDS" >"$TEST_DIR/nosecret.ini"; chmod 600 "$TEST_DIR/nosecret.ini"
bad bad4.example.test "lacks dns_rfc2136_secret" \
  rfc2136 --dns-rfc2136-credentials "$TEST_DIR/nosecret.ini" -d bad4.example.test
write_creds "$TEST_DIR/alg.ini" "$BIND_SECRET" HMAC-SHA999
bad bad4.example.test "HMAC-SHA999" \
  rfc2136 --dns-rfc2136-credentials "$TEST_DIR/alg.ini" -d bad4.example.test
log "no zone for the name"
bad host.nozone.test "no DNS zone found for _acme-challenge.host.nozone.test" \
  rfc2136 --dns-rfc2136-credentials "$BIND_CREDS" -d host.nozone.test
log "a CNAME loop"
bad loop.example.test "loops: _acme-challenge.loop.example.test -> _acme-challenge.loop2.example.test" \
  rfc2136 --dns-rfc2136-credentials "$BIND_CREDS" -d loop.example.test
log "an authoritative server that never serves the record: bounded, names the server"
start=$(date +%s)
bad www.lagging.test "ns3.lagging.test ($BIND_DEAD_IP:53) still does not serve" \
  rfc2136 --dns-rfc2136-credentials "$BIND_CREDS" --dns-propagation-seconds 2 -d www.lagging.test
[ $(( $(date +%s) - start )) -lt 30 ] || fail "the propagation timeout was not bounded"
[ -z "$(txt_of _acme-challenge.www.lagging.test)" ] || fail "cleanup after the timeout left a record"
log "SIGTERM while waiting for propagation: the record is removed, no lineage, exit 143"
"$ACMED_BIN" --config-dir "$C" --work-dir "$TEST_DIR/work" --logs-dir "$TEST_DIR/logs" \
  certonly --dns-rfc2136 --dns-rfc2136-credentials "$BIND_CREDS" --dns-propagation-seconds 120 \
  -d www.lagging.test --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" --non-interactive \
  --agree-tos --register-unsafely-without-email >"$TEST_DIR/term.out" 2>&1 &
term_pid=$!
_PIDS+=("$term_pid")
for _ in $(seq 1 200); do grep -q '^Waiting for' "$TEST_DIR/term.out" && break; sleep 0.1; done
grep -q '^Waiting for' "$TEST_DIR/term.out" || { cat "$TEST_DIR/term.out"; fail "never waited for propagation"; }
[ -n "$(txt_of _acme-challenge.www.lagging.test)" ] || fail "the record was not published before the signal"
start=$(date +%s)
kill -TERM "$term_pid"
rc=0; wait "$term_pid" || rc=$?
[ "$rc" -eq 143 ] || { cat "$TEST_DIR/term.out"; fail "exit $rc after SIGTERM, not 143"; }
[ $(( $(date +%s) - start )) -lt 10 ] || fail "SIGTERM took more than 10 s to end the run"
grep -q 'interrupted by SIGTERM' "$TEST_DIR/term.out" || { cat "$TEST_DIR/term.out"; fail "no interrupt message"; }
[ -z "$(txt_of _acme-challenge.www.lagging.test)" ] || fail "cleanup after SIGTERM left a record"
no_lineage www.lagging.test "after SIGTERM"
zones_unchanged "after SIGTERM"
log "--dns-propagation-check resolver asks only the resolver: the dead server does not matter"
rfc2136 --dns-rfc2136-credentials "$BIND_CREDS" --dns-propagation-check resolver \
  --dns-propagation-seconds 5 -d www.lagging.test >"$TEST_DIR/resolver.out" 2>&1 \
  || { cat "$TEST_DIR/resolver.out"; fail "resolver check"; }
grep -qx "dns_propagation_check = resolver" "$C/renewal/www.lagging.test.conf" || fail "check not stored"
log "bad DNS settings are usage errors before the CA is asked"
bad bad5.example.test "authoritative, resolver or none" \
  rfc2136 --dns-rfc2136-credentials "$BIND_CREDS" --dns-propagation-check sometimes -d bad5.example.test
bad bad5.example.test "not a DNS server address" \
  rfc2136 --dns-rfc2136-credentials "$BIND_CREDS" --dns-resolver ns.example.test -d bad5.example.test
bad bad5.example.test "needs --dns-rfc2136-credentials" rfc2136 -d bad5.example.test
log "wildcards: http-01 only, two wildcard labels, a wildcard on an IP"
bad wild.example.test "can only be proven with dns-01" \
  acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" -d '*.wild.example.test'
bad x.example.test "wildcard" rfc2136 --dns-rfc2136-credentials "$BIND_CREDS" -d '*.*.x.example.test'
bad 127.0.0.1 "wildcard" rfc2136 --dns-rfc2136-credentials "$BIND_CREDS" -d '*.127.0.0.1'
echo "PASS"
