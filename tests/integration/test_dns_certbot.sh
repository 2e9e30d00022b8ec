#!/usr/bin/env bash
# Renewal confs as certbot stores them: a lineage obtained by certbot's own dns-rfc2136 plugin
# (Debian's python3-certbot-dns-rfc2136, against the same BIND and Pebble) renews under
# `acmed renew` unchanged, and the conf acmed then rewrites still renews under certbot.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bind_lib.sh"
command -v certbot >/dev/null || { echo "certbot is not installed" >&2; exit 77; }
/usr/bin/python3 -c 'import certbot_dns_rfc2136' 2>/dev/null || { echo "python3-certbot-dns-rfc2136 missing" >&2; exit 77; }

start_bind
PEBBLE_DNS_SERVER="$BIND_IP:53" start_pebble
pebble_root "$TEST_DIR/root.pem"
CB="$TEST_DIR/cb"
before=$(zone_dump example.test)
certbot_() {
  REQUESTS_CA_BUNDLE="$PEBBLE_CA_BUNDLE" certbot --config-dir "$CB" --work-dir "$CB/work" \
    --logs-dir "$CB/logs" --server "$PEBBLE_URL" -n "$@"
}

log "certbot obtains *.example.test + example.test with its dns-rfc2136 plugin"
certbot_ certonly --agree-tos --register-unsafely-without-email --dns-rfc2136 \
  --dns-rfc2136-credentials "$BIND_CREDS" --dns-rfc2136-propagation-seconds 1 \
  -d '*.example.test' -d example.test >"$TEST_DIR/certbot.out" 2>&1 \
  || { cat "$TEST_DIR/certbot.out"; fail "certbot certonly"; }
conf="$CB/renewal/example.test.conf"
grep -qx "authenticator = dns-rfc2136" "$conf" || fail "certbot wrote no dns-rfc2136 conf"
grep -qx "version = 2.1.0" "$conf" || fail "not a conf written by certbot 2.1"

log "acmed renew renews certbot's lineage through the stored credentials"
"$ACMED_BIN" --config-dir "$CB" --work-dir "$CB/work" --logs-dir "$CB/logs" renew --force-renewal \
  --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" -n >"$TEST_DIR/renew.out" 2>&1 \
  || { cat "$TEST_DIR/renew.out"; fail "acmed renew of certbot's lineage"; }
[ "$(readlink "$CB/live/example.test/cert.pem")" = "../../archive/example.test/cert2.pem" ] \
  || fail "acmed did not write version 2"
verify_chain "$CB/live/example.test/fullchain.pem" "$TEST_DIR/root.pem"
openssl x509 -in "$CB/live/example.test/cert.pem" -noout -ext subjectAltName | seen 'DNS:\*.example.test' \
  || fail "the renewed certificate lost the wildcard"
grep -qx "dns_rfc2136_credentials = $BIND_CREDS" "$conf" || fail "acmed dropped dns_rfc2136_credentials"
grep -qx "dns_rfc2136_propagation_seconds = 1" "$conf" || fail "acmed dropped the propagation seconds"
[ "$(zone_dump example.test)" = "$before" ] || fail "records left behind"

log "certbot renews the conf acmed rewrote"
certbot_ renew --force-renewal --no-random-sleep-on-renew >"$TEST_DIR/certbot-renew.out" 2>&1 \
  || { cat "$TEST_DIR/certbot-renew.out"; fail "certbot renew of acmed's conf"; }
[ "$(readlink "$CB/live/example.test/cert.pem")" = "../../archive/example.test/cert3.pem" ] \
  || fail "certbot did not write version 3"
echo "PASS"
