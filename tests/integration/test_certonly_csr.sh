#!/usr/bin/env bash
# `acmed certonly --csr` against Pebble, as certbot: RSA-2048 and ECDSA P-256 CSRs made with
# openssl req (PEM and DER); certbot's default files NNNN_cert.pem / NNNN_chain.pem /
# NNNN_fullchain.pem in the current directory (a second run gets 0001_), explicit --cert-path /
# --chain-path / --fullchain-path, chains verified against Pebble's root, the certificate carries
# the CSR's public key and names, no lineage is made, no hook runs, --dry-run writes nothing; and
# bad input (an existing --cert-path, a bad signature, an RSA-1024 CSR, a name acmed refuses, a -d
# name not in the CSR, a garbage file, a missing file): one line, non-zero exit, nothing written.
. "$(dirname "$0")/lib.sh"

start_pebble
pebble_root "$TEST_DIR/root.pem"
C=$ACMED_CONFIG_DIR
K="$TEST_DIR/keys"
W="$TEST_DIR/cwd"
mkdir -p "$K" "$W"

standalone() {
  acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 "$@"
}
# csr NAME NEWKEY SUBJECT SAN: $K/NAME.csr (PEM) and its key $K/NAME.key, made by openssl req
# (NEWKEY "ec": P-256).
csr() {
  local name=$1 newkey=$2 subj=$3 san=$4
  local -a key=(-newkey "$newkey")
  [ "$newkey" != ec ] || key+=(-pkeyopt ec_paramgen_curve:P-256)
  openssl req -new "${key[@]}" -nodes -keyout "$K/$name.key" -subj "$subj" \
    ${san:+-addext "subjectAltName=$san"} -out "$K/$name.csr" 2>/dev/null \
    || fail "openssl req for $name"
}
pub_of_csr() { openssl req -in "$1" -noout -pubkey; }
pub_of_cert() { openssl x509 -in "$1" -noout -pubkey; }
sans_of() {
  openssl x509 -in "$1" -noout -ext subjectAltName | tail -n +2 | tr -d ' ' | tr ',' '\n' | LC_ALL=C sort
}
certs_in() { grep -c -- '-----BEGIN CERTIFICATE-----' "$1"; }
# check_issued CERT CHAIN FULLCHAIN CSR SANS: the three files are what certbot writes for CSR.
check_issued() {
  local cert=$1 chain=$2 full=$3 req=$4 want=$5
  [ "$(certs_in "$cert")" = 1 ] || fail "$cert holds $(certs_in "$cert") certificates"
  [ "$(certs_in "$chain")" -ge 1 ] || fail "$chain holds no certificate"
  [ "$(cat "$cert" "$chain")" = "$(cat "$full")" ] || fail "$full is not $cert + $chain"
  verify_chain "$full" "$TEST_DIR/root.pem"
  [ "$(pub_of_cert "$cert")" = "$(pub_of_csr "$req")" ] || fail "$cert does not carry the key of $req"
  [ "$(sans_of "$cert")" = "$want" ] || fail "SANs of $cert: $(sans_of "$cert" | tr '\n' ' ') (want $want)"
  [ "$(stat -c %a "$cert")" = 644 ] || fail "$cert has mode $(stat -c %a "$cert")"
}
# no_lineage: nothing under live/, archive/ or renewal/.
no_lineage() {
  local d
  for d in live archive renewal; do
    [ -z "$(ls -A "$C/$d" 2>/dev/null)" ] || { ls -lR "$C/$d"; fail "--csr left something in $d/"; }
  done
}
# digest of the cwd and the config dir (without the lock file: it holds its last holder's PID)
state() {
  (tree_digest "$W"; tree_digest "$TEST_DIR/explicit"
   cd "$C" 2>/dev/null && find . -path ./.acmed.lock -prune -o -printf '%p %m %l\n' | LC_ALL=C sort) \
    | sha256sum
}

csr rsa rsa:2048 /CN=rsa.test "DNS:rsa.test,DNS:www.rsa.test"
csr ec ec /CN=ec.test "DNS:ec.test"
openssl req -in "$K/ec.csr" -outform DER -out "$K/ec.der" || fail "DER form of ec.csr"
csr weak rsa:1024 /CN=weak.test "DNS:weak.test"
csr badname rsa:2048 /CN=ok.test "DNS:ok.test,DNS:bad..name.test"
# A bad signature: the last byte of the DER (inside the signature) flipped.
openssl req -in "$K/rsa.csr" -outform DER -out "$K/badsig.der"
python3 - "$K/badsig.der" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[-1] ^= 1
open(p, "wb").write(b)
PY
head -c 600 /dev/urandom >"$K/garbage.csr"

log "RSA-2048 CSR (PEM), no paths: certbot's 0000_cert.pem, 0000_chain.pem, 0000_fullchain.pem in the cwd"
(cd "$W" && standalone --csr "$K/rsa.csr") >"$TEST_DIR/rsa.out" 2>&1 \
  || { cat "$TEST_DIR/rsa.out"; fail "certonly --csr rsa.csr"; }
[ "$(cd "$W" && ls | LC_ALL=C sort | tr '\n' ' ')" = "0000_cert.pem 0000_chain.pem 0000_fullchain.pem " ] \
  || { ls -la "$W"; fail "unexpected files in the cwd"; }
check_issued "$W/0000_cert.pem" "$W/0000_chain.pem" "$W/0000_fullchain.pem" "$K/rsa.csr" \
  "$(printf 'DNS:rsa.test\nDNS:www.rsa.test')"
grep -qF "Certificate is saved at: $W/0000_cert.pem" "$TEST_DIR/rsa.out" \
  || { cat "$TEST_DIR/rsa.out"; fail "the output does not name $W/0000_cert.pem"; }
no_lineage
[ -z "$(find "$C" -name 'privkey*')" ] || fail "a private key was stored for a CSR"

log "ECDSA P-256 CSR (DER), same cwd, with hooks: 0001_ files, 0000_ untouched, no hook runs (as certbot)"
before=$(cat "$W"/0000_* | sha256sum)
(cd "$W" && standalone --csr "$K/ec.der" --pre-hook "echo pre >>$TEST_DIR/hooks.log" \
  --post-hook "echo post >>$TEST_DIR/hooks.log" --deploy-hook "echo deploy >>$TEST_DIR/hooks.log") \
  >"$TEST_DIR/ec.out" 2>&1 || { cat "$TEST_DIR/ec.out"; fail "certonly --csr ec.der"; }
check_issued "$W/0001_cert.pem" "$W/0001_chain.pem" "$W/0001_fullchain.pem" "$K/ec.csr" "DNS:ec.test"
[ "$(cat "$W"/0000_* | sha256sum)" = "$before" ] || fail "the second run changed the 0000_ files"
[ "$(ls "$W" | wc -l)" = 6 ] || { ls -la "$W"; fail "unexpected files in the cwd"; }
[ ! -e "$TEST_DIR/hooks.log" ] || { cat "$TEST_DIR/hooks.log"; fail "a hook ran with --csr"; }
grep -q "hooks do not run with --csr" "$TEST_DIR/ec.out" || { cat "$TEST_DIR/ec.out"; fail "no warning that hooks do not run"; }
no_lineage

log "explicit --cert-path/--chain-path/--fullchain-path, -d naming one of the CSR's names (certbot's rule)"
E="$TEST_DIR/explicit"
mkdir -p "$E"
standalone --csr "$K/rsa.csr" -d www.rsa.test --cert-path "$E/c.pem" --chain-path "$E/ch.pem" \
  --fullchain-path "$E/fc.pem" >"$TEST_DIR/explicit.out" 2>&1 \
  || { cat "$TEST_DIR/explicit.out"; fail "certonly --csr with explicit paths"; }
check_issued "$E/c.pem" "$E/ch.pem" "$E/fc.pem" "$K/rsa.csr" "$(printf 'DNS:rsa.test\nDNS:www.rsa.test')"
[ "$(ls -A "$E" | LC_ALL=C sort | tr '\n' ' ')" = "c.pem ch.pem fc.pem " ] || { ls -la "$E"; fail "unexpected files in $E"; }
[ "$(ls "$W" | wc -l)" = 6 ] || fail "explicit paths wrote into the cwd"
no_lineage

log "--dry-run: issues from the CA, writes nothing"
s0=$(state)
(cd "$W" && standalone --csr "$K/ec.csr" --dry-run) >"$TEST_DIR/dry.out" 2>&1 \
  || { cat "$TEST_DIR/dry.out"; fail "certonly --csr --dry-run"; }
[ "$(state)" = "$s0" ] || { ls -la "$W"; fail "--dry-run wrote something"; }
no_lineage

# refused CMD... : exits non-zero with a one-line error mentioning $WANT, and nothing was written.
refused() {
  local s
  s=$(state)
  (cd "$W" && expect_fail "$@")
  LAST_ERR=$(cat "$TEST_DIR/last.err")
  local errs
  errs=$(echo "$LAST_ERR" | grep -v '^hint:' || true)
  [ "$(echo "$errs" | grep -c .)" = 1 ] || fail "not a one-line error: $errs"
  echo "$errs" | seen -F -- "$WANT" || fail "error does not say '$WANT': $errs"
  [ "$(state)" = "$s" ] || { ls -la "$W" "$E"; fail "a refused --csr changed files"; }
  no_lineage
}

log "an existing --cert-path is never overwritten; nothing else is written either"
echo keep >"$E/exists.pem"
WANT="$E/exists.pem exists" refused standalone --csr "$K/rsa.csr" --cert-path "$E/exists.pem" \
  --chain-path "$E/new-chain.pem" --fullchain-path "$E/new-full.pem"
[ "$(cat "$E/exists.pem")" = keep ] || fail "the existing --cert-path was changed"

log "bad input: each one line, non-zero, nothing written"
WANT="signature does not verify" refused standalone --csr "$K/badsig.der"
WANT="1024" refused standalone --csr "$K/weak.csr"
WANT="bad..name.test" refused standalone --csr "$K/badname.csr"
WANT="-d other.test is not in the CSR" refused standalone --csr "$K/rsa.csr" -d rsa.test -d other.test
WANT="not a CSR" refused standalone --csr "$K/garbage.csr"
WANT="cannot read $K/missing.csr" refused standalone --csr "$K/missing.csr"
WANT="is not a directory" refused standalone --csr "$K/rsa.csr" --cert-path "$TEST_DIR/nodir/c.pem"
WANT="must differ" refused standalone --csr "$K/rsa.csr" --cert-path "$E/same.pem" --chain-path "$E/same.pem"
echo "PASS"
