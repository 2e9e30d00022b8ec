#!/usr/bin/env bash
# certbot's `install --cert-path/--key-path/--fullchain-path/--chain-path` (issue 11): real nginx
# serves files that are not a lineage's, on a free loopback HTTPS port, for -d's names or else the
# certificate's; nothing is recorded in any renewal conf, and `acmed rollback` restores the tree
# byte for byte. Every bad file or flag combination (no key, a key of another certificate, not a
# certificate, a missing file, a name the certificate does not cover, an expired certificate,
# --cert-path disagreeing with --fullchain-path, --chain-path without --fullchain-path) is one
# line and a non-zero exit, and leaves the nginx tree byte-identical. nginx and Pebble run on
# loopback and are stopped by PID, pass or fail.
. "$(dirname "$0")/lib.sh"
need nginx openssl

start_pebble
ROOT="$TEST_DIR/nginx"
mkdir -p "$ROOT/sites"
nginx_conf "$ROOT" "access_log off;" "include sites/*;"
for name in a.test b.test; do
  printf '%s\n' "server {" "	listen 127.0.0.1:$HTTP01_PORT;" "	server_name $name;" \
    "	location / { return 200 \"$name\\n\"; }" "}" >"$ROOT/sites/$name"
done
start_nginx "$ROOT"
HTTPS_PORT=$(free_port)
NGINX=(--nginx --nginx-server-root "$ROOT" --http-01-port "$HTTP01_PORT" --https-port "$HTTPS_PORT")
pebble_root "$TEST_DIR/root.pem"

log "a certificate for a.test, copied out of its lineage"
acmed_pebble certonly --nginx --nginx-server-root "$ROOT" --http-01-port "$HTTP01_PORT" -d a.test \
  || fail "certonly failed"
FILES="$TEST_DIR/files"
mkdir -p "$FILES"
for f in cert chain fullchain privkey; do
  cp "$ACMED_CONFIG_DIR/live/a.test/$f.pem" "$FILES/$f.pem"
done
CONF="$ACMED_CONFIG_DIR/renewal/a.test.conf"
cp "$CONF" "$TEST_DIR/conf.before"
ORIGINAL=$(tree_digest "$ROOT")

refused() {  # refused PATTERN ARGS...: install ARGS fails with one line matching PATTERN, no change
  local pattern=$1; shift
  expect_fail acmed install "${NGINX[@]}" "$@"
  echo "$LAST_ERR" | seen -- "$pattern" || fail "install $*: no '$pattern' in: $LAST_ERR"
  [ "$(echo "$LAST_ERR" | grep -vc "^hint:")" = 1 ] || fail "install $*: not one line: $LAST_ERR"
  [ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "install $* changed the nginx tree"
}

log "bad flag combinations and files are refused, nothing changes"
refused "needs --key-path" --fullchain-path "$FILES/fullchain.pem"
[ "$LAST_RC" = 2 ] || fail "a missing --key-path is not a usage error (exit $LAST_RC)"
refused "needs --fullchain-path" --key-path "$FILES/privkey.pem"
refused "--fullchain-path" --cert-path "$FILES/cert.pem" --chain-path "$FILES/chain.pem" \
  --key-path "$FILES/privkey.pem"
refused "is not a file" --fullchain-path "$FILES/missing.pem" --key-path "$FILES/privkey.pem"
echo "not a certificate" >"$FILES/garbage.pem"
refused "not a PEM certificate chain" --fullchain-path "$FILES/garbage.pem" --key-path "$FILES/privkey.pem"
refused "not a PEM private key" --fullchain-path "$FILES/fullchain.pem" --key-path "$FILES/garbage.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$FILES/other.key" 2>/dev/null
refused "does not belong to the certificate" --fullchain-path "$FILES/fullchain.pem" \
  --key-path "$FILES/other.key"
refused "does not cover b.test" --fullchain-path "$FILES/fullchain.pem" \
  --key-path "$FILES/privkey.pem" -d b.test
refused "is not the first certificate" --cert-path "$FILES/chain.pem" \
  --fullchain-path "$FILES/fullchain.pem" --key-path "$FILES/privkey.pem"
# An expired certificate made by hand (Pebble issues nothing that has expired; openssl req
# refuses -days 0).
python3 - "$FILES" <<'PY'
import datetime, sys
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
k = ec.generate_private_key(ec.SECP256R1())
n = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "a.test")])
t = datetime.datetime(2020, 1, 1)
c = (x509.CertificateBuilder().subject_name(n).issuer_name(n).public_key(k.public_key())
     .serial_number(7).not_valid_before(t).not_valid_after(t + datetime.timedelta(days=90))
     .add_extension(x509.SubjectAlternativeName([x509.DNSName("a.test")]), False)
     .sign(k, hashes.SHA256()))
open(sys.argv[1] + "/expired.key", "wb").write(k.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
open(sys.argv[1] + "/expired.pem", "wb").write(c.public_bytes(serialization.Encoding.PEM))
PY
refused "is not valid now" --fullchain-path "$FILES/expired.pem" --key-path "$FILES/expired.key"
refused "no certificate named" --cert-name nope.test --key-path "$FILES/privkey.pem"

log "--dry-run shows the diff and changes nothing"
acmed install "${NGINX[@]}" --fullchain-path "$FILES/fullchain.pem" --key-path "$FILES/privkey.pem" \
  --dry-run >"$TEST_DIR/dry.diff" || fail "install --dry-run failed"
grep -q "^+.*ssl_certificate $FILES/fullchain.pem" "$TEST_DIR/dry.diff" \
  || { cat "$TEST_DIR/dry.diff"; fail "the dry run's diff does not point nginx at the given file"; }
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "install --dry-run changed the tree"

log "install --fullchain-path --key-path: nginx serves the given files for the certificate's names"
(cd "$FILES" && acmed install "${NGINX[@]}" --fullchain-path fullchain.pem --key-path privkey.pem) \
  || fail "install with paths failed"
grep -q "ssl_certificate $FILES/fullchain.pem;" "$ROOT/sites/a.test" \
  || { cat "$ROOT/sites/a.test"; fail "nginx is not pointed at the absolute --fullchain-path"; }
grep -q "ssl_certificate_key $FILES/privkey.pem;" "$ROOT/sites/a.test" \
  || fail "nginx is not pointed at the absolute --key-path"
[ "$(curl -s --max-time 5 --cacert "$TEST_DIR/root.pem" --resolve "a.test:$HTTPS_PORT:127.0.0.1" \
  "https://a.test:$HTTPS_PORT/")" = a.test ] || fail "a.test is not served over HTTPS"
grep -q ssl "$ROOT/sites/b.test" && fail "b.test, which the certificate does not name, was changed"
cmp -s "$CONF" "$TEST_DIR/conf.before" || fail "installing files changed a renewal conf"
acmed rollback || fail "rollback failed"
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "rollback did not restore the tree"

log "--cert-path holding only the leaf is served, with a warning that the chain is missing"
acmed install "${NGINX[@]}" --cert-path "$FILES/cert.pem" --key-path "$FILES/privkey.pem" -d a.test \
  2>"$TEST_DIR/leaf.err" || { cat "$TEST_DIR/leaf.err"; fail "install --cert-path failed"; }
grep -q "holds no intermediate" "$TEST_DIR/leaf.err" || fail "no warning about the missing chain"
grep -q "ssl_certificate $FILES/cert.pem;" "$ROOT/sites/a.test" || fail "nginx does not serve --cert-path"
acmed rollback || fail "rollback failed"
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "rollback did not restore the tree"

log "--cert-name with --key-path: certbot fills the other paths from the lineage"
acmed install "${NGINX[@]}" --cert-name a.test --key-path "$FILES/privkey.pem" \
  || fail "install --cert-name --key-path failed"
grep -q "ssl_certificate $ACMED_CONFIG_DIR/live/a.test/fullchain.pem;" "$ROOT/sites/a.test" \
  || fail "the lineage's fullchain is not served"
grep -q "ssl_certificate_key $FILES/privkey.pem;" "$ROOT/sites/a.test" || fail "--key-path is not used"
acmed rollback || fail "rollback failed"
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "rollback did not restore the tree"
log "ok"
