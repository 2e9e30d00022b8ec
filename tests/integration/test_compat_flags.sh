#!/usr/bin/env bash
# certbot's command lines against Pebble, as certbot documents them: `auth` and -a/-i, the last
# of two values wins, --preferred-challenges http, --elliptic-curve secp521r1, certbot's key-type
# rules (a type change needs --cert-name, --reuse-key with another size is refused, also by
# `renew --key-type`, --new-key, --no-reuse-key), `renew` with -a/-i and key options stored, --ip-address, `plugins`, OCSP flags
# refused, --no-verify-ssl for a loopback server only, -m with --register-unsafely-without-email,
# --expand (required for a superset, as certbot -n), flags accepted for cron lines, and `certificates` with TEST_CERT / EXPIRED and -d.
. "$(dirname "$0")/lib.sh"

start_pebble
C=$ACMED_CONFIG_DIR
conf() { echo "$C/renewal/$1.conf"; }
sa=(-a standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1)
key_of() { openssl pkey -in "$C/live/$1/privkey.pem" -noout -text 2>/dev/null | sed -n '1p;/ASN1 OID/p'; }

log "auth -a standalone --preferred-challenges http; last --key-type wins; P-521"
acmed_pebble auth "${sa[@]}" -d k.test --preferred-challenges http --key-type rsa --key-type ecdsa \
  --elliptic-curve secp521r1 --no-random-sleep-on-renew --eff-email --no-eff-email --debug \
  >"$TEST_DIR/out" 2>&1 || { cat "$TEST_DIR/out"; fail "auth"; }
key_of k.test | seen "secp521r1" || { key_of k.test; fail "not a P-521 key"; }
grep -qx "elliptic_curve = secp521r1" "$(conf k.test)" || fail "curve not stored"
grep -qx "pref_challs = http-01," "$(conf k.test)" || { cat "$(conf k.test)"; fail "pref_challs"; }

log "an existing lineage keeps its key without key options; --keep-until-expiring keeps a fresh one"
out=$(acmed_pebble certonly "${sa[@]}" -d k.test --keep-until-expiring 2>&1) || { echo "$out"; fail "keep"; }
echo "$out" | seen "not yet due" || { echo "$out"; fail "not kept"; }
acmed_pebble certonly "${sa[@]}" -d k.test --force-renewal >/dev/null 2>&1 || fail "force renewal"
key_of k.test | seen "secp521r1" || fail "the lineage lost its key type"

log "a key type change without --cert-name is refused with certbot's question, nothing changed"
store_digest() { for d in live archive renewal; do tree_digest "$C/$d"; done; }
before=$(store_digest)
expect_fail acmed_pebble certonly "${sa[@]}" -d k.test --key-type rsa --force-renewal
[ "$LAST_RC" = 2 ] || fail "exit $LAST_RC"
echo "$LAST_ERR" | seen "Are you trying to change the key type of the certificate named k.test from ecdsa to rsa?" \
  || fail "not certbot's question"
[ "$(store_digest)" = "$before" ] || fail "a refused change touched the config dir"

log "with --cert-name it changes (and the last --rsa-key-size wins)"
acmed_pebble certonly "${sa[@]}" -d k.test --cert-name k.test --force-renewal --key-type rsa --rsa-key-size 2048 \
  --rsa-key-size 3072 >/dev/null 2>&1 || fail "key type change"
key_of k.test | seen "3072 bit" || { key_of k.test; fail "not RSA 3072"; }
grep -qx "key_type = rsa" "$(conf k.test)" && grep -qx "rsa_key_size = 3072" "$(conf k.test)" \
  || fail "key not stored"

log "--reuse-key with another size is refused; --reuse-key keeps it; --new-key replaces it"
expect_fail acmed_pebble certonly "${sa[@]}" --cert-name k.test -d k.test --reuse-key \
  --rsa-key-size 4096 --force-renewal
[ "$LAST_RC" = 2 ] && echo "$LAST_ERR" | seen -- "--reuse-key" || fail "reuse-key with a new size"
k1=$(sha256sum <"$C/live/k.test/privkey.pem")
acmed_pebble certonly "${sa[@]}" -d k.test --reuse-key --force-renewal >/dev/null 2>&1 || fail "reuse"
[ "$(sha256sum <"$C/live/k.test/privkey.pem")" = "$k1" ] || fail "--reuse-key changed the key"
grep -qx "reuse_key = True" "$(conf k.test)" || fail "reuse_key not stored"
acmed_pebble certonly "${sa[@]}" -d k.test --reuse-key --new-key --force-renewal >/dev/null 2>&1 || fail "new-key"
[ "$(sha256sum <"$C/live/k.test/privkey.pem")" != "$k1" ] || fail "--new-key kept the key"
grep -qx "reuse_key = True" "$(conf k.test)" || fail "--new-key dropped reuse_key"
acmed_pebble certonly "${sa[@]}" -d k.test --no-reuse-key --force-renewal >/dev/null 2>&1 || fail "no-reuse-key"
grep -qx "reuse_key = False" "$(conf k.test)" || { cat "$(conf k.test)"; fail "--no-reuse-key not stored"; }

log "renew --key-type on a lineage that keeps its key (reuse_key) is refused, nothing changed"
sed -i "s/^reuse_key = .*/reuse_key = True/" "$(conf k.test)"
cp "$(conf k.test)" "$TEST_DIR/conf.before"
k2=$(sha256sum <"$C/live/k.test/privkey.pem")
expect_fail acmed_pebble renew --cert-name k.test --force-renewal --key-type ecdsa
echo "$LAST_ERR" | seen "cannot change type or size while reuse_key is set" \
  && echo "$LAST_ERR" | seen -- "--new-key" || { echo "$LAST_ERR"; fail "renew --key-type with reuse_key"; }
[ "$(sha256sum <"$C/live/k.test/privkey.pem")" = "$k2" ] || fail "refused renewal changed the key"
cmp -s "$(conf k.test)" "$TEST_DIR/conf.before" || fail "refused renewal changed the renewal conf"
sed -i "s/^reuse_key = .*/reuse_key = False/" "$(conf k.test)"

log "renew takes -a/-i and key options, uses them and stores them"
sed -i "s/^http01_port = .*/http01_port = $(free_port)/" "$(conf k.test)"
sed -i "/^\[renewalparams\]/a installer = nginx" "$(conf k.test)"
acmed_pebble renew --cert-name k.test --force-renewal "${sa[@]}" -i null --key-type ecdsa \
  --elliptic-curve secp384r1 >"$TEST_DIR/out" 2>&1 || { cat "$TEST_DIR/out"; fail "renew with -a/-i"; }
key_of k.test | seen "secp384r1" || { key_of k.test; fail "renew --key-type not applied"; }
grep -qx "http01_port = $HTTP01_PORT" "$(conf k.test)" || fail "renew did not store -a's settings"
grep -q "^installer" "$(conf k.test)" && fail "-i null did not clear the installer"
grep -qx "key_type = ecdsa" "$(conf k.test)" && grep -qx "elliptic_curve = secp384r1" "$(conf k.test)" \
  || fail "renew did not store the key options"

log "a lineage covering some of the names: refused without --expand (certbot -n), replaced with it"
expect_fail acmed_pebble certonly "${sa[@]}" -d k.test -d k2.test
[ "$LAST_RC" = 2 ] && echo "$LAST_ERR" | seen -- "--expand" || { echo "$LAST_ERR"; fail "superset without --expand"; }
[ ! -e "$C/live/k.test-0001" ] && [ ! -e "$C/live/k2.test" ] || fail "a refused request made a lineage"
acmed_pebble certonly "${sa[@]}" -d k.test -d k2.test --expand >"$TEST_DIR/out" 2>&1 \
  || { cat "$TEST_DIR/out"; fail "--expand"; }
openssl x509 -in "$C/live/k.test/cert.pem" -noout -ext subjectAltName | seen "DNS:k2.test" \
  || fail "--expand did not add k2.test to k.test"
[ ! -e "$C/live/k.test-0001" ] || fail "--expand made a new lineage"

log "--ip-address is -d ADDR"
acmed_pebble certonly "${sa[@]}" --ip-address 127.0.0.1 --cert-name ip >/dev/null 2>&1 || fail "ip issuance"
openssl x509 -in "$C/live/ip/cert.pem" -noout -ext subjectAltName | seen "IP Address:127.0.0.1" \
  || fail "no IP SAN"

log "run / everything need an installer; unknown plugins and OCSP flags are refused"
expect_fail acmed_pebble everything "${sa[@]}" -d k.test
[ "$LAST_RC" = 2 ] && echo "$LAST_ERR" | seen "installer" || fail "everything without an installer"
expect_fail acmed_pebble certonly -a dns-cloudflare -d k.test
[ "$LAST_RC" = 2 ] && echo "$LAST_ERR" | seen "no authenticator named 'dns-cloudflare'" || fail "-a unknown"
for f in --must-staple --staple-ocsp; do
  expect_fail acmed_pebble certonly "${sa[@]}" -d k.test $f
  [ "$LAST_RC" = 2 ] && echo "$LAST_ERR" | seen "ended OCSP in 2025" || fail "$f"
done

log "plugins lists the registry"
out=$(acmed plugins)
for p in standalone webroot nginx apache manual null; do echo "$out" | seen -x "\* $p" || fail "plugins lacks $p"; done
out=$(acmed plugins --installers)
echo "$out" | seen -x "\* standalone" && fail "--installers lists standalone"
echo "$out" | seen -x "\* nginx" || fail "--installers lacks nginx"

log "--no-verify-ssl: loopback server without --ca-bundle works; any other server is refused"
"$ACMED_BIN" --config-dir "$TEST_DIR/etc2" --work-dir "$TEST_DIR/work2" --logs-dir "$TEST_DIR/logs2" \
  certonly "${sa[@]}" -d nv.test --server "$PEBBLE_URL" --no-verify-ssl --agree-tos -n \
  -m me@example.com --register-unsafely-without-email >"$TEST_DIR/out" 2>&1 \
  || { cat "$TEST_DIR/out"; fail "--no-verify-ssl against loopback Pebble"; }
grep -rq "mailto:me@example.com" "$TEST_DIR/etc2/accounts" || fail "-m with --register-unsafely-without-email lost the address"
expect_fail acmed certonly "${sa[@]}" -d nv.test --no-verify-ssl
[ "$LAST_RC" = 2 ] && echo "$LAST_ERR" | seen "loopback" || fail "--no-verify-ssl without a loopback server"

log "certificates: -d filters, TEST_CERT and EXPIRED as certbot marks them"
out=$(acmed certificates -d 127.0.0.1)
echo "$out" | seen "Certificate Name: ip" && ! echo "$out" | seen "Certificate Name: k.test" \
  || { echo "$out"; fail "-d filter"; }
echo "$out" | seen "(VALID: [0-9]* days)" || { echo "$out"; fail "VALID line"; }
sed -i "s|^server = .*|server = https://acme-staging-v02.api.letsencrypt.org/directory|" "$(conf ip)"
acmed certificates --cert-name ip | seen "(INVALID: TEST_CERT)" || fail "no TEST_CERT"
# An expired lineage made by hand (Pebble issues nothing that has expired).
python3 - "$TEST_DIR/old" <<'PY'
import datetime, sys, os
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
d = sys.argv[1]; os.makedirs(d)
k = ec.generate_private_key(ec.SECP256R1())
n = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old.test")])
t = datetime.datetime(2020, 1, 1)
c = (x509.CertificateBuilder().subject_name(n).issuer_name(n).public_key(k.public_key())
     .serial_number(7).not_valid_before(t).not_valid_after(t + datetime.timedelta(days=90))
     .add_extension(x509.SubjectAlternativeName([x509.DNSName("old.test")]), False)
     .sign(k, hashes.SHA256()))
open(d + "/privkey1.pem", "wb").write(k.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
pem = c.public_bytes(serialization.Encoding.PEM)
for f in ("cert1.pem", "chain1.pem", "fullchain1.pem"): open(d + "/" + f, "wb").write(pem)
PY
mkdir -p "$C/live/old.test"
cp -r "$TEST_DIR/old" "$C/archive/old.test"
for f in cert chain fullchain privkey; do ln -s "../../archive/old.test/${f}1.pem" "$C/live/old.test/$f.pem"; done
sed "s|/k.test|/old.test|g" "$(conf k.test)" >"$(conf old.test)"
acmed certificates --cert-name old.test | seen "(INVALID: EXPIRED)" \
  || { acmed certificates --cert-name old.test; fail "no EXPIRED"; }
echo PASS
