#!/usr/bin/env bash
# `acmed doctor` against a real nginx on loopback, Pebble's certificates and
# pebble-challtestsrv's DNS: each finding asserted by its id and status in --json.
#   good.test     the lineage's current certificate, full chain, TLS 1.2/1.3, h2, HSTS, 301
#   stale.test    renewed, never reloaded: nginx still serves version 1
#   nochain.test  cert.pem only: the intermediate is missing
#   mixed.test    a page loading a script over http://; no redirect on port 80
#   expired.test  an expired certificate
#   oldtls.test   TLS 1.0 accepted (its own port: OpenSSL's security level 0 for that server)
#   caa-bad.test  a CAA record naming another CA; away.test points elsewhere; gone.test SERVFAIL
# The CA of -d names is a directory nginx serves (with meta.caaIdentities letsencrypt.org and a
# Date header), so the CAA and clock checks run against loopback only.
. "$(dirname "$0")/lib.sh"

need nginx
need python3

start_pebble
pebble_root "$TEST_DIR/root.pem"
HTTP=$(free_port); HTTPS=$(free_port); OLD=$(free_port); TLS12=$(free_port)
W="$TEST_DIR/www"; mkdir -p "$W/good" "$W/mixed" "$W/plain"
echo '<html><script src="https://cdn.test/ok.js"></script></html>' >"$W/good/index.html"
printf '%s\n' '<html><head><script src="http://cdn.test/app.js"></script>' \
  '<link rel="stylesheet" href="https://cdn.test/a.css"></head>' \
  '<body><img src="http://cdn.test/logo.png"><a href="http://elsewhere.test/">x</a></body></html>' \
  >"$W/mixed/index.html"
echo '{"newNonce": "x", "meta": {"caaIdentities": ["letsencrypt.org"]}}' >"$W/plain/dir.json"

standalone() {
  acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 "$@"
}
for n in good stale nochain mixed; do
  standalone -d "$n.test" >/dev/null 2>&1 || fail "certonly $n.test"
done
L="$ACMED_CONFIG_DIR/live"
# good.test and mixed.test renew through webroots: good.test's is served on port 80, mixed.test's
# is not (a webroot nobody serves)
webroot() {  # webroot LINEAGE DIR
  local conf="$ACMED_CONFIG_DIR/renewal/$1.conf"
  sed -i 's/^authenticator = .*/authenticator = webroot/' "$conf"
  printf 'webroot_path = %s,\n[[webroot_map]]\n%s = %s\n' "$2" "$1" "$2" >>"$conf"
}
webroot good.test "$W/good"
mkdir -p "$TEST_DIR/unserved"
webroot mixed.test "$TEST_DIR/unserved"
python3 - "$TEST_DIR" <<'PY' || fail "cannot make the expired certificate"
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired.test")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now - datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("expired.test")]), False)
        .sign(key, hashes.SHA256()))
d = sys.argv[1]
open(d + "/expired.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(d + "/expired.key", "wb").write(key.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
PY

tls() {  # tls NAME CERT KEY [EXTRA...]: one TLS server block on $HTTPS
  local name=$1 cert=$2 key=$3; shift 3
  echo "server { listen 127.0.0.1:$HTTPS ssl http2; server_name $name; ssl_certificate $cert; ssl_certificate_key $key; ssl_protocols TLSv1.2 TLSv1.3; $* }"
}
start_nginx "$TEST_DIR/nginx" \
  "access_log off;" \
  "server { listen 127.0.0.1:$HTTP default_server; server_name _; root $W/plain; }" \
  "server { listen 127.0.0.1:$HTTP; server_name good.test; location / { return 301 https://\$host:$HTTPS\$request_uri; } location ^~ /.well-known/acme-challenge/ { root $W/good; } }" \
  "$(tls good.test "$L/good.test/fullchain.pem" "$L/good.test/privkey.pem" \
     "root $W/good; add_header Strict-Transport-Security \"max-age=31536000\" always;")" \
  "$(tls stale.test "$L/stale.test/fullchain.pem" "$L/stale.test/privkey.pem" "root $W/good;")" \
  "$(tls nochain.test "$L/nochain.test/cert.pem" "$L/nochain.test/privkey.pem" "root $W/good;")" \
  "$(tls mixed.test "$L/mixed.test/fullchain.pem" "$L/mixed.test/privkey.pem" "root $W/mixed; ssl_stapling on;")" \
  "$(tls expired.test "$TEST_DIR/expired.pem" "$TEST_DIR/expired.key" "root $W/good;")" \
  "server { listen 127.0.0.1:$TLS12 ssl; server_name tls12.test; ssl_certificate $L/good.test/fullchain.pem; ssl_certificate_key $L/good.test/privkey.pem; ssl_protocols TLSv1.2; }" \
  "server { listen 127.0.0.1:$OLD ssl; server_name oldtls.test; ssl_certificate $L/good.test/fullchain.pem; ssl_certificate_key $L/good.test/privkey.pem; ssl_protocols TLSv1 TLSv1.1 TLSv1.2; ssl_ciphers DEFAULT:@SECLEVEL=0; }"
wait_for_port "$HTTPS" 20 nginx

log "stale.test is renewed behind nginx's back: it keeps serving version 1"
acmed_pebble renew --force-renewal --cert-name stale.test >/dev/null 2>&1 || fail "renew stale.test"

# trust for the served chains (Pebble's root) and for the CA directories' HTTPS (Pebble's listener)
cat "$TEST_DIR/root.pem" "$PEBBLE_CA_BUNDLE" >"$TEST_DIR/trust.pem"
# DNS: challtestsrv answers 127.0.0.1 for every name; these are the exceptions
curl -sf --max-time 5 -d '{"host":"caa-bad.test.","policies":[{"tag":"issue","value":"sectigo.com"}]}' \
  "$CHALL_MGMT/add-caa" >/dev/null || fail "add-caa"
curl -sf --max-time 5 -d '{"host":"caa-ok.test.","policies":[{"tag":"issue","value":"letsencrypt.org"}]}' \
  "$CHALL_MGMT/add-caa" >/dev/null || fail "add-caa"
curl -sf --max-time 5 -d '{"host":"away.test.","addresses":["192.0.2.7"]}' \
  "$CHALL_MGMT/add-a" >/dev/null || fail "add-a"
curl -sf --max-time 5 -d '{"host":"gone.test."}' "$CHALL_MGMT/set-servfail" >/dev/null || fail "set-servfail"
curl -sf --max-time 5 -d '{"host":"away.test.","addresses":["2001:db8::7"]}' \
  "$CHALL_MGMT/add-aaaa" >/dev/null || fail "add-aaaa"

doctor() {
  acmed doctor --json --resolver "127.0.0.1:$DNS_PORT" --connect-to 127.0.0.1 \
    --http-01-port "$HTTP" --https-port "$HTTPS" --ca-bundle "$TEST_DIR/trust.pem" "$@"
}
# expect FILE ID NAME STATUS [TEXT]: the finding ID for NAME has STATUS (and its detail or fix
# contains TEXT)
expect() {
  python3 - "$@" <<'PY' || fail "finding $2 $3: expected $4 ${5:-}"
import json, sys
f, cid, name, status = sys.argv[1:5]
text = sys.argv[5] if len(sys.argv) > 5 else ""
j = json.load(open(f))
assert j["version"] == 1, j
hits = [c for c in j["checks"] if c["id"] == cid and c["name"] == name]
if len(hits) != 1 or hits[0]["status"] != status or text not in hits[0]["detail"] + hits[0]["fix"]:
    print(json.dumps(hits or [c for c in j["checks"] if c["name"] == name], indent=1))
    sys.exit(1)
PY
}

# a lineage whose live links are gone: reported, the others still checked
cp "$ACMED_CONFIG_DIR/renewal/good.test.conf" "$ACMED_CONFIG_DIR/renewal/broken.test.conf"
sed -i 's|live/good.test/|live/broken.test/|; s|archive/good.test|archive/broken.test|' \
  "$ACMED_CONFIG_DIR/renewal/broken.test.conf"

log "every lineage by default (the lineages' CA, Pebble: its clock, no CAA identity)"
rc=0; doctor --nginx-server-root "$TEST_DIR/nginx" >"$TEST_DIR/all.json" || rc=$?
[ "$rc" = 1 ] || fail "doctor exited $rc although checks failed"
J="$TEST_DIR/all.json"
expect "$J" dns.resolves good.test ok 127.0.0.1
expect "$J" dns.points_here good.test ok
expect "$J" port.80.listener "" ok nginx
expect "$J" port.443.listener "" ok "nginx (pid"
expect "$J" http.redirect good.test ok 301
expect "$J" tls.served_cert good.test ok "current certificate of good.test"
expect "$J" tls.chain good.test ok
expect "$J" tls.expiry good.test ok
expect "$J" tls.protocols good.test ok
expect "$J" tls.http2 good.test ok
expect "$J" tls.hsts good.test info "max-age=31536000"
expect "$J" page.mixed_content good.test ok
expect "$J" tls.served_cert stale.test fail "older version 1"
expect "$J" tls.served_cert stale.test fail "systemctl reload"
expect "$J" tls.chain nochain.test fail "intermediate is missing"
expect "$J" tls.chain nochain.test fail "live/nochain.test/fullchain.pem"
expect "$J" http.redirect mixed.test warn "not a redirect"
expect "$J" tls.hsts mixed.test info "no Strict-Transport-Security"
expect "$J" page.mixed_content mixed.test warn "http://cdn.test/app.js"
expect "$J" page.mixed_content mixed.test warn "http://cdn.test/logo.png"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); c=[x for x in d['checks'] if x['id']=='page.mixed_content' and x['name']=='mixed.test'][0]; sys.exit('elsewhere.test' in c['detail'] or 'a.css' in c['detail'])" "$J" \
  || fail "mixed content lists a link or an https URL"
expect "$J" clock.skew "$PEBBLE_URL" ok
expect "$J" dns.caa good.test ok "no CAA records"
expect "$J" renew.last_result stale.test ok
expect "$J" renew.last_result good.test warn "never checked"
expect "$J" renew.ari good.test skip
expect "$J" renew.timer "" skip "systemd is not running"
expect "$J" renew.last_result broken.test fail "cannot be read"
expect "$J" tls.ocsp_stapling mixed.test warn "no OCSP URL"
expect "$J" tls.ocsp_stapling mixed.test warn "ssl_stapling on"
expect "$J" http.challenge_path good.test ok "webroot authenticator"
expect "$J" http.challenge_path stale.test ok "standalone authenticator"
expect "$J" http.challenge_path mixed.test fail "status 404"
expect "$J" http.challenge_path mixed.test fail "location ^~ /.well-known/acme-challenge/"
leftovers=$(find "$W/good" "$TEST_DIR/unserved" -path '*acme-challenge/*' | wc -l)
[ "$leftovers" = 0 ] || fail "the challenge probe left $leftovers files behind"
[ ! -e "$TEST_DIR/unserved/.well-known" ] || fail "the probe left .well-known in a webroot that had none"

log "-d names, with a CA that names its CAA identity"
rc=0; doctor --server "http://127.0.0.1:$HTTP/dir.json" -d expired.test -d caa-bad.test \
  -d caa-ok.test -d away.test -d gone.test >"$TEST_DIR/d.json" || rc=$?
[ "$rc" = 1 ] || fail "doctor -d exited $rc"
J="$TEST_DIR/d.json"
expect "$J" tls.expiry expired.test fail "expired"
expect "$J" tls.ocsp_stapling expired.test ok "not configured"
expect "$J" dns.caa caa-bad.test fail "sectigo.com"
expect "$J" dns.caa caa-bad.test fail 'CAA 0 issue "letsencrypt.org"'
expect "$J" dns.caa caa-ok.test ok "permits letsencrypt.org"
expect "$J" dns.points_here away.test warn 192.0.2.7
expect "$J" dns.resolves away.test ok "192.0.2.7, 2001:db8::7"
expect "$J" dns.points_here away.test warn 2001:db8::7
expect "$J" dns.resolves gone.test fail SERVFAIL
expect "$J" clock.skew "http://127.0.0.1:$HTTP/dir.json" ok

log "TLS 1.0 and 1.1 accepted"
rc=0; doctor --https-port "$OLD" -d oldtls.test --server "http://127.0.0.1:$HTTP/dir.json" \
  >"$TEST_DIR/old.json" || rc=$?
expect "$TEST_DIR/old.json" tls.protocols oldtls.test fail "TLS 1.0"
expect "$TEST_DIR/old.json" tls.http2 oldtls.test warn "http2"

log "TLS 1.2 only: TLS 1.3 not offered"
rc=0; doctor --https-port "$TLS12" -d tls12.test --server "http://127.0.0.1:$HTTP/dir.json" \
  >"$TEST_DIR/tls12.json" || rc=$?
expect "$TEST_DIR/tls12.json" tls.protocols tls12.test warn "TLS 1.3 is not offered"

log "nobody on the ports: fail, with the way out"
stop_nginx
rc=0; doctor -d good.test >"$TEST_DIR/down.json" || rc=$?
[ "$rc" = 1 ] || fail "doctor with nginx down exited $rc"
expect "$TEST_DIR/down.json" port.443.listener "" fail "nothing listens on port $HTTPS"
expect "$TEST_DIR/down.json" tls.served_cert good.test fail
expect "$TEST_DIR/down.json" tls.chain good.test skip

log "a user who cannot bind low ports is told the three ways out"
# Two ports below 1024 nothing listens on, and a copy of the binary that user can run.
low=()
for p in $(seq 1001 1023); do
  ss -Hltn "sport = :$p" | seen . || low+=("$p")
  [ "${#low[@]}" -ge 2 ] && break
done
[ "${#low[@]}" -ge 2 ] || fail "no two free ports below 1024"
NB=$(mktemp -d /tmp/acmed-nobody.XXXXXX); on_exit "rm -rf '$NB'"
chmod 755 "$NB"; cp "$ACMED_BIN" "$NB/acmed"; mkdir -m 777 "$NB/etc" "$NB/work" "$NB/logs"
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$NB/acmed" -c /dev/null \
  --config-dir "$NB/etc" --work-dir "$NB/work" --logs-dir "$NB/logs" doctor --json \
  --resolver "127.0.0.1:$DNS_PORT" --connect-to 127.0.0.1 --http-01-port "${low[0]}" \
  --https-port "${low[1]}" --server "http://127.0.0.1:$(free_port)/dir" --timeout 2 -d good.test \
  >"$TEST_DIR/nobody.json" || rc=$?
[ "$rc" = 1 ] || fail "doctor as nobody exited $rc"
unpriv=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null || echo 1024)
if [ "$unpriv" -gt "${low[1]}" ] && ! setpriv --reuid=65534 --regid=65534 --clear-groups \
    python3 -c "import socket; socket.socket().bind(('127.0.0.1', ${low[1]}))" 2>/dev/null; then
  expect "$TEST_DIR/nobody.json" port.443.listener "" fail "may not bind it"
  expect "$TEST_DIR/nobody.json" port.443.listener "" fail "setcap 'cap_net_bind_service=+ep'"
else  # a container that lets everyone bind low ports: nothing to explain
  expect "$TEST_DIR/nobody.json" port.443.listener "" fail "nothing listens on port ${low[1]}"
fi

log "text output: one line per finding; bad options are one line, exit 2"
acmed doctor --resolver "127.0.0.1:$DNS_PORT" --connect-to 127.0.0.1 --https-port "$HTTPS" \
  --http-01-port "$HTTP" -d good.test >"$TEST_DIR/text.out" 2>/dev/null || true
seen -E '^fail +tls.served_cert +good.test: ' <"$TEST_DIR/text.out" || fail "text output: $(cat "$TEST_DIR/text.out")"
expect_fail acmed doctor --resolver "not an address"
[ "$LAST_RC" = 2 ] || fail "a bad --resolver exited $LAST_RC"
expect_fail acmed doctor --connect-to 127.0.0.1:443 -d good.test
[ "$LAST_RC" = 2 ] || fail "--connect-to with a port exited $LAST_RC"
echo "$LAST_ERR" | seen "without a port" || fail "--connect-to with a port: $LAST_ERR"
expect_fail acmed doctor -d good.test --cert-name good.test
[ "$LAST_RC" = 2 ] || fail "-d with --cert-name exited $LAST_RC"
expect_fail acmed doctor --cert-name nope.test
echo "$LAST_ERR" | seen "nope.test" || fail "an unknown --cert-name is not named"
echo "PASS"
