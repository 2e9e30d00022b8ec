#!/usr/bin/env bash
# acmed is one executable: copied alone into an empty directory (nothing next to it, no build tree
# to find), it still issues a certificate against Pebble. libcurl is an ordinary NEEDED entry
# resolved from the system's library path, with no RPATH back into the build.
. "$(dirname "$0")/lib.sh"

alone="$TEST_DIR/alone"
mkdir -p "$alone"
cp "$ACMED_BIN" "$alone/acmed"
ACMED_BIN="$alone/acmed"
[ "$(ls -A "$alone")" = acmed ] || fail "the copy is not alone in $alone"

log "libcurl is linked normally, and nothing points back at the build tree"
dyn=$(readelf -d "$ACMED_BIN") || fail "readelf failed"
echo "$dyn" | seen 'NEEDED.*\[libcurl' || { echo "$dyn"; fail "libcurl is not a NEEDED library"; }
if echo "$dyn" | seen -E 'RPATH|RUNPATH'; then echo "$dyn"; fail "the binary carries an RPATH"; fi
if grep -aq 'acmed-http\.so' "$ACMED_BIN"; then fail "the binary still mentions the HTTP module"; fi

start_pebble
pebble_root "$TEST_DIR/root.pem"

log "the lone copy issues a certificate"
(cd "$alone" && acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" \
  --http-01-address 127.0.0.1 -d alone.test) >"$TEST_DIR/issue.out" 2>&1 \
  || { cat "$TEST_DIR/issue.out"; fail "certonly with the copied binary failed"; }
verify_chain "$ACMED_CONFIG_DIR/live/alone.test/fullchain.pem" "$TEST_DIR/root.pem"
openssl x509 -in "$ACMED_CONFIG_DIR/live/alone.test/cert.pem" -noout -ext subjectAltName \
  | seen "DNS:alone.test" || fail "the certificate is not for alone.test"
echo "PASS"
