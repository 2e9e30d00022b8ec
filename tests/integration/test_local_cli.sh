#!/usr/bin/env bash
# acmed local cert through the real binary: file naming, key types, --pkcs12, --client, --save,
# and clear one-line errors (non-zero exit, nothing written) for bad names and a missing or damaged
# CA. The CA lives in a scratch $ACMED_LOCAL_CAROOT and the system store in a scratch root, so
# this test changes nothing outside its temp dir and needs no root.
. "$(dirname "$0")/lib.sh"
exclusive_system_resources

export HOME="$TEST_DIR/home"
export ACMED_LOCAL_CAROOT="$TEST_DIR/ca"
export ACMED_LOCAL_SYSTEM_ROOT="$TEST_DIR/sysroot"
unset JAVA_HOME XDG_DATA_HOME
mkdir -p "$HOME" "$ACMED_LOCAL_SYSTEM_ROOT/etc/ssl/certs" "$ACMED_LOCAL_SYSTEM_ROOT/usr/share/ca-certificates"
OUT="$TEST_DIR/out"
mkdir -p "$OUT"
cd "$OUT"

# expect_one_line_error PATTERN CMD...: CMD fails, prints PATTERN in its first line, writes nothing.
expect_one_line_error() {
  local pattern=$1; shift
  expect_fail "$@"
  head -1 "$TEST_DIR/last.err" | seen -- "$pattern" \
    || fail "first error line of '$*' does not say '$pattern'"
  [ -z "$(ls -A "$OUT")" ] || fail "'$*' left files: $(ls -A "$OUT")"
}

log "no CA yet: cert says to install"
expect_one_line_error "there is no local CA in $ACMED_LOCAL_CAROOT" "$ACMED_BIN" local cert localhost
grep -q "acmed local install" "$TEST_DIR/last.err" || fail "no hint to run install"

"$ACMED_BIN" local install 2>"$TEST_DIR/install.out" || { cat "$TEST_DIR/install.out" >&2; fail "install"; }
[ -f "$ACMED_LOCAL_CAROOT/rootCA.pem" ] || fail "no CA created"
ROOT="$ACMED_LOCAL_CAROOT/rootCA.pem"

log "bad names"
expect_one_line_error "invalid domain name '': it is empty" "$ACMED_BIN" local cert ""
expect_one_line_error "invalid domain name '..'" "$ACMED_BIN" local cert ..
expect_one_line_error "invalid domain name 'a..test'" "$ACMED_BIN" local cert localhost a..test
expect_one_line_error "longer than 63" "$ACMED_BIN" local cert "$(printf 'a%.0s' $(seq 1 64)).test"
expect_one_line_error "longer than 253" "$ACMED_BIN" local cert "$(printf 'abcdefghi.%.0s' $(seq 1 26))test"
expect_one_line_error "character '/'" "$ACMED_BIN" local cert evil/name
expect_one_line_error "invalid domain name '../etc/passwd'" "$ACMED_BIN" local cert ../etc/passwd
expect_one_line_error "wildcard" "$ACMED_BIN" local cert 'a.*.test'
expect_fail "$ACMED_BIN" local cert
[ "$LAST_RC" -eq 2 ] || fail "no names: expected usage exit 2, got $LAST_RC"
expect_fail "$ACMED_BIN" local cert --key-type dsa localhost
[ "$LAST_RC" -eq 2 ] || fail "bad --key-type: expected usage exit 2, got $LAST_RC"

log "default: ECDSA P-256, mkcert names, serverAuth"
"$ACMED_BIN" local cert localhost 127.0.0.1 ::1 2>/dev/null
[ -f localhost+2.pem ] && [ -f localhost+2-key.pem ] || fail "localhost+2.pem / localhost+2-key.pem"
[ "$(stat -c %a localhost+2-key.pem)" = 600 ] || fail "key not 0600"
openssl pkey -in localhost+2-key.pem -noout -text | seen "NIST CURVE: P-256" || fail "not P-256"
openssl verify -purpose sslserver -CAfile "$ROOT" -verify_ip ::1 localhost+2.pem >/dev/null || fail "verify ::1"
openssl verify -purpose sslserver -CAfile "$ROOT" -verify_ip 127.0.0.1 localhost+2.pem >/dev/null || fail "verify v4"
openssl x509 -noout -ext extendedKeyUsage -in localhost+2.pem | seen "TLS Web Server Authentication" || fail "EKU"
if openssl x509 -noout -ext extendedKeyUsage -in localhost+2.pem | seen "Client"; then fail "clientAuth without --client"; fi
days=$(( ($(date -d "$(openssl x509 -noout -enddate -in localhost+2.pem | cut -d= -f2)" +%s) - $(date +%s)) / 86400 ))
[ "$days" -ge 395 ] && [ "$days" -le 397 ] || fail "validity $days days, expected about 397"
rm -f ./*.pem

log "wildcard, RSA, --client, explicit paths"
"$ACMED_BIN" local cert --key-type rsa --client '*.app.test' 2>/dev/null
[ -f _wildcard.app.test-client.pem ] && [ -f _wildcard.app.test-client-key.pem ] || fail "wildcard/client names"
openssl pkey -in _wildcard.app.test-client-key.pem -noout -text | seen "Private-Key: (2048 bit" || fail "not RSA 2048"
openssl verify -purpose sslclient -CAfile "$ROOT" _wildcard.app.test-client.pem >/dev/null || fail "clientAuth"
openssl verify -purpose sslserver -CAfile "$ROOT" -verify_hostname x.app.test _wildcard.app.test-client.pem >/dev/null \
  || fail "wildcard does not match x.app.test"
"$ACMED_BIN" local cert --cert-file "$TEST_DIR/c.pem" --key-file "$TEST_DIR/k.pem" localhost 2>/dev/null
[ -f "$TEST_DIR/c.pem" ] && [ -f "$TEST_DIR/k.pem" ] || fail "--cert-file/--key-file"
rm -f ./*.pem

log "--pkcs12"
"$ACMED_BIN" local cert --pkcs12 localhost 2>/dev/null
[ "$(ls -A)" = localhost.p12 ] || fail "--pkcs12 wrote: $(ls -A)"
openssl pkcs12 -in localhost.p12 -passin pass:changeit -nokeys 2>/dev/null | seen "BEGIN CERTIFICATE" \
  || fail "p12 does not open with password changeit"
rm -f localhost.p12
expect_one_line_error "--key-file cannot be used with --pkcs12" "$ACMED_BIN" local cert --pkcs12 --key-file k.pem localhost

log "--save keeps a lineage under a local server; saving again adds a version"
"$ACMED_BIN" --config-dir "$TEST_DIR/etc" --work-dir "$TEST_DIR/work" --logs-dir "$TEST_DIR/logs" \
  local cert --save localhost 127.0.0.1 2>/dev/null
conf="$TEST_DIR/etc/renewal/localhost.conf"
[ -f "$conf" ] || fail "no renewal conf for the saved lineage"
grep -q "^server = acmed-local" "$conf" || fail "renewal conf does not name the local server"
grep -q "^authenticator = local" "$conf" || fail "renewal conf does not name the local authenticator"
openssl verify -CAfile "$ROOT" "$TEST_DIR/etc/live/localhost/cert.pem" >/dev/null || fail "lineage cert"
"$ACMED_BIN" --config-dir "$TEST_DIR/etc" --work-dir "$TEST_DIR/work" --logs-dir "$TEST_DIR/logs" \
  local cert --save 127.0.0.1 localhost 2>/dev/null
[ "$(readlink "$TEST_DIR/etc/live/localhost/cert.pem")" = ../../archive/localhost/cert2.pem ] \
  || fail "second --save did not add version 2"
rm -f ./*.pem

log "damaged CA: clear errors, nothing written"
cp "$ACMED_LOCAL_CAROOT/rootCA.pem" "$TEST_DIR/rootCA.good"
head -c 100 "$TEST_DIR/rootCA.good" >"$ACMED_LOCAL_CAROOT/rootCA.pem"
expect_one_line_error "the local CA is unusable: $ACMED_LOCAL_CAROOT/rootCA.pem is not a PEM certificate" \
  "$ACMED_BIN" local cert localhost
cp "$TEST_DIR/rootCA.good" "$ACMED_LOCAL_CAROOT/rootCA.pem"
mv "$ACMED_LOCAL_CAROOT/rootCA-key.pem" "$TEST_DIR/key.good"
expect_one_line_error "rootCA-key.pem is missing" "$ACMED_BIN" local cert localhost
mv "$TEST_DIR/key.good" "$ACMED_LOCAL_CAROOT/rootCA-key.pem"
"$ACMED_BIN" local cert localhost 2>/dev/null || fail "the restored CA does not work"

"$ACMED_BIN" local uninstall --delete-ca 2>/dev/null || fail "uninstall --delete-ca"
[ ! -e "$ACMED_LOCAL_CAROOT" ] || fail "CA dir still there"

# As an ordinary user everything but the system store works, and the skip is explained. (Only
# testable when this runs as root, which can switch to the user "nobody".)
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
  log "as an ordinary user: the system store is skipped with an explanation"
  chmod 0711 "$TEST_DIR"
  NB="$TEST_DIR/nobody"
  mkdir -p "$NB/home" "$NB/out"
  chown -R nobody "$NB"
  as_nobody() {
    (cd "$NB/out" && setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
      env -i PATH="$PATH" HOME="$NB/home" "$ACMED_BIN" "$@")
  }
  as_nobody local install 2>"$TEST_DIR/nobody-install.out" \
    || { cat "$TEST_DIR/nobody-install.out" >&2; fail "install as nobody"; }
  cat "$TEST_DIR/nobody-install.out" >&2
  grep -q "skipped system store.*needs root; run \`sudo ACMED_LOCAL_CAROOT=$NB/home/.local/share/acmed acmed local install\`" \
    "$TEST_DIR/nobody-install.out" || fail "the system store skip is not explained"
  grep -q "added to NSS database $NB/home/.pki/nssdb" "$TEST_DIR/nobody-install.out" || fail "NSS as nobody"
  serial=$(openssl x509 -noout -serial -in "$NB/home/.local/share/acmed/rootCA.pem" | cut -d= -f2 | sed 's/^0*//')
  [ ! -e "/usr/local/share/ca-certificates/acmed_development_CA_$serial.crt" ] \
    || fail "an ordinary user changed the system store"
  as_nobody local cert localhost 2>/dev/null || fail "cert as nobody"
  [ -f "$NB/out/localhost.pem" ] || fail "no certificate written as nobody"
  as_nobody local uninstall --delete-ca 2>/dev/null || fail "uninstall as nobody"
  [ ! -e "$NB/home/.pki" ] && [ ! -e "$NB/home/.local/share/acmed" ] || fail "uninstall as nobody left files"
else
  skip_part "the ordinary-user part needs root, the user nobody and setpriv"
fi
log "OK"
