#!/usr/bin/env bash
# `acmed certonly --standalone` end to end against Pebble: two names, chain verified against
# Pebble's root, certbot's store layout (relative live links, modes, renewal conf), `certificates
# --json`, not-due re-run changes nothing, --force-renewal, key types and sizes, --cert-name, the
# "-0001" suffix on a name clash and --reuse-key.
. "$(dirname "$0")/lib.sh"

start_pebble
pebble_root "$TEST_DIR/root.pem"
C=$ACMED_CONFIG_DIR

standalone() {
  acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 "$@"
}
version_of() { readlink "$C/live/$1/cert.pem" | sed 's/.*cert\([0-9]*\)\.pem/\1/'; }
# digest of the config dir without the lock file (it holds the PID of the last holder, by design)
dir_digest() {
  (cd "$1" && find . -path ./.acmed.lock -prune -o -printf '%p %m %l\n' | LC_ALL=C sort && \
    find . -path ./.acmed.lock -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) \
    | sha256sum | cut -d' ' -f1
}
mode_of() { stat -c %a "$1"; }
pub_of_key() { openssl pkey -in "$1" -pubout 2>/dev/null; }
pub_of_cert() { openssl x509 -in "$1" -noout -pubkey 2>/dev/null; }

log "issue a.test + www.a.test"
standalone -d a.test -d www.a.test >"$TEST_DIR/issue1.out" 2>&1 || { cat "$TEST_DIR/issue1.out"; fail "certonly"; }
verify_chain "$C/live/a.test/fullchain.pem" "$TEST_DIR/root.pem"
san=$(openssl x509 -in "$C/live/a.test/cert.pem" -noout -ext subjectAltName)
echo "$san" | seen "DNS:a.test" || fail "a.test missing in SAN: $san"
echo "$san" | seen "DNS:www.a.test" || fail "www.a.test missing in SAN: $san"

log "layout: relative live links into archive, modes"
for f in cert chain fullchain privkey; do
  link="$C/live/a.test/$f.pem"
  [ -L "$link" ] || fail "$link is not a symlink"
  target=$(readlink "$link")
  [ "$target" = "../../archive/a.test/${f}1.pem" ] || fail "$link -> $target (want ../../archive/a.test/${f}1.pem)"
  [ -f "$C/archive/a.test/${f}1.pem" ] || fail "archive/a.test/${f}1.pem missing"
done
[ "$(mode_of "$C/archive/a.test/privkey1.pem")" = 600 ] || fail "privkey mode $(mode_of "$C/archive/a.test/privkey1.pem")"
[ "$(mode_of "$C/archive")" = 700 ] || fail "archive/ mode $(mode_of "$C/archive")"
[ "$(mode_of "$C/accounts")" = 700 ] || fail "accounts/ mode $(mode_of "$C/accounts")"
[ "$(pub_of_key "$C/live/a.test/privkey.pem")" = "$(pub_of_cert "$C/live/a.test/cert.pem")" ] \
  || fail "cert does not match privkey"
conf="$C/renewal/a.test.conf"
[ -f "$conf" ] || fail "no renewal conf"
for kv in "authenticator = standalone" "key_type = ecdsa"; do
  grep -qx "$kv" "$conf" || fail "renewal conf lacks '$kv'"
done
grep -qx "server = $PEBBLE_URL" "$conf" || fail "renewal conf lacks server"
grep -Eq '^account = [0-9a-f]+$' "$conf" || fail "renewal conf lacks account"
account=$(sed -n 's/^account = //p' "$conf")
[ -n "$(find "$C/accounts" -type d -name "$account")" ] || fail "account $account not stored under accounts/"
openssl pkey -in "$C/live/a.test/privkey.pem" -noout -text 2>/dev/null | seen "prime256v1\|P-256" \
  || fail "default key is not ECDSA P-256"

log "certificates --json lists the lineage with both domains"
acmed certificates --json >"$TEST_DIR/certs.json" || fail "certificates --json"
python3 - "$TEST_DIR/certs.json" <<'PY' || fail "certificates --json content"
import json, sys
data = json.load(open(sys.argv[1]))
lin = [c for c in data if c["name"] == "a.test"]
assert len(lin) == 1, data
assert sorted(lin[0]["domains"]) == ["a.test", "www.a.test"], lin[0]["domains"]
PY

log "an identical second run is not due and changes nothing"
before=$(dir_digest "$C")
out=$(standalone -d a.test -d www.a.test 2>&1) || { echo "$out"; fail "second run failed"; }
echo "$out" | seen -i "not yet due" || { echo "$out"; fail "second run did not say not due"; }
[ "$(dir_digest "$C")" = "$before" ] || fail "not-due run changed the config dir"

log "--force-renewal creates version 2"
key1=$(pub_of_key "$C/live/a.test/privkey.pem")
standalone -d a.test -d www.a.test --force-renewal >/dev/null 2>&1 || fail "force renewal"
[ "$(version_of a.test)" = 2 ] || fail "version after --force-renewal is $(version_of a.test)"
for f in cert chain fullchain privkey; do
  [ "$(readlink "$C/live/a.test/$f.pem")" = "../../archive/a.test/${f}2.pem" ] || fail "live $f.pem not at version 2"
done
verify_chain "$C/live/a.test/fullchain.pem" "$TEST_DIR/root.pem"
[ "$(pub_of_key "$C/live/a.test/privkey.pem")" != "$key1" ] || fail "renewal without --reuse-key kept the key"

log "--reuse-key with --force-renewal keeps the key"
key2=$(pub_of_key "$C/live/a.test/privkey.pem")
standalone -d a.test -d www.a.test --force-renewal --reuse-key >/dev/null 2>&1 || fail "reuse-key renewal"
[ "$(version_of a.test)" = 3 ] || fail "version after reuse-key renewal is $(version_of a.test)"
[ "$(pub_of_key "$C/live/a.test/privkey.pem")" = "$key2" ] || fail "--reuse-key changed the key"
[ "$(pub_of_cert "$C/live/a.test/cert.pem")" = "$key2" ] || fail "reused key does not match the cert"

log "--key-type rsa --rsa-key-size 3072"
standalone -d rsa.test --key-type rsa --rsa-key-size 3072 >/dev/null 2>&1 || fail "rsa issuance"
openssl pkey -in "$C/live/rsa.test/privkey.pem" -noout -text 2>/dev/null | sed -n 1p \
  | seen "3072 bit" || fail "rsa.test key is not RSA 3072"
openssl x509 -in "$C/live/rsa.test/cert.pem" -noout -text | seen "rsaEncryption" || fail "rsa cert key"
grep -qx "key_type = rsa" "$C/renewal/rsa.test.conf" || fail "rsa key_type not stored"
verify_chain "$C/live/rsa.test/fullchain.pem" "$TEST_DIR/root.pem"

log "--elliptic-curve secp384r1"
standalone -d p384.test --elliptic-curve secp384r1 >/dev/null 2>&1 || fail "p384 issuance"
openssl pkey -in "$C/live/p384.test/privkey.pem" -noout -text 2>/dev/null | seen "secp384r1\|P-384" \
  || fail "p384.test key is not P-384"
grep -qx "elliptic_curve = secp384r1" "$C/renewal/p384.test.conf" || fail "curve not stored"

log "--cert-name names the lineage"
standalone -d named.test --cert-name custom >/dev/null 2>&1 || fail "cert-name issuance"
[ -L "$C/live/custom/cert.pem" ] || fail "no live/custom"
[ ! -e "$C/live/named.test" ] || fail "live/named.test created despite --cert-name"
[ -f "$C/renewal/custom.conf" ] || fail "no renewal/custom.conf"

log "--cert-name with more names updates the lineage now"
standalone -d named.test -d more.named.test --cert-name custom >/dev/null 2>&1 || fail "adding a name"
[ "$(version_of custom)" = 2 ] || fail "adding a name did not write version 2"
openssl x509 -in "$C/live/custom/cert.pem" -noout -ext subjectAltName | seen "DNS:more.named.test" \
  || fail "custom lacks the added name"

log "--cert-name dropping a name needs --renew-with-new-domains (also in a dry run)"
before=$(dir_digest "$C")
expect_fail standalone -d more.named.test --cert-name custom
[ "$LAST_RC" = 2 ] || fail "dropping a name: exit $LAST_RC, expected 2"
echo "$LAST_ERR" | seen "covers named.test" || fail "the error does not name the dropped name"
echo "$LAST_ERR" | seen -- "--renew-with-new-domains" || fail "the error does not say what to do"
expect_fail standalone -d more.named.test --cert-name custom --dry-run
[ "$LAST_RC" = 2 ] || fail "dropping a name in a dry run: exit $LAST_RC, expected 2"
[ "$(dir_digest "$C")" = "$before" ] || fail "a refused request changed the config dir"
standalone -d more.named.test --cert-name custom --renew-with-new-domains >/dev/null 2>&1 \
  || fail "--renew-with-new-domains"
[ "$(version_of custom)" = 3 ] || fail "--renew-with-new-domains did not write version 3"
san=$(openssl x509 -in "$C/live/custom/cert.pem" -noout -ext subjectAltName)
echo "$san" | seen "DNS:named.test" && fail "the dropped name is still in the certificate: $san"
echo "$san" | seen "DNS:more.named.test" || fail "custom lacks more.named.test: $san"

log "a second lineage with the same first name gets -0001"
standalone -d a.test -d other.a.test >/dev/null 2>&1 || fail "clashing lineage"
[ -L "$C/live/a.test-0001/cert.pem" ] || fail "no live/a.test-0001"
san=$(openssl x509 -in "$C/live/a.test-0001/cert.pem" -noout -ext subjectAltName)
echo "$san" | seen "DNS:other.a.test" || fail "a.test-0001 lacks other.a.test"
echo "$san" | seen "DNS:www.a.test" && fail "a.test-0001 has www.a.test"
[ "$(version_of a.test)" = 3 ] || fail "the original a.test lineage changed"

log "certificates lists every lineage"
acmed certificates >"$TEST_DIR/certs.txt" 2>&1 || fail "certificates"
for n in a.test a.test-0001 rsa.test p384.test custom; do
  grep -q "$n" "$TEST_DIR/certs.txt" || fail "certificates does not list $n"
done
echo "PASS"
