#!/usr/bin/env bash
# -c/--config FILE (certbot's cli.ini) against Pebble: settings from the file are used (key =
# value, bare flags, `authenticator = standalone`, comments), command-line flags win over it, a
# certbot-only key is a one-line warning naming file:line, and an unknown key, a malformed line
# or a missing file is one line, a non-zero exit, and no change to the store.
. "$(dirname "$0")/lib.sh"

start_pebble
C=$ACMED_CONFIG_DIR
INI="$TEST_DIR/cli.ini"
cat >"$INI" <<INI
# acmed reads certbot's format
server = $PEBBLE_URL
ca-bundle: $PEBBLE_CA_BUNDLE
agree-tos
register-unsafely-without-email
non-interactive = true
authenticator = standalone
http-01-port = $HTTP01_PORT
http-01-address = 127.0.0.1   ; loopback only
key-type = rsa
rsa-key-size = 3072
text
INI
key_bits() { openssl x509 -in "$C/live/$1/cert.pem" -noout -text | grep -o 'Public-Key: ([0-9]* bit)'; }

log "settings come from the file; a certbot-only key is a warning with file:line"
acmed -c "$INI" certonly -d a.test >"$TEST_DIR/a.out" 2>&1 || { cat "$TEST_DIR/a.out"; fail "certonly -c"; }
[ "$(key_bits a.test)" = "Public-Key: (3072 bit)" ] || fail "a.test key: $(key_bits a.test)"
grep -qF "$INI:12: 'text' is a certbot option" "$TEST_DIR/a.out" || { cat "$TEST_DIR/a.out"; fail "no warning for text"; }

log "command-line flags win over the file"
acmed --config "$INI" certonly -d b.test --rsa-key-size 2048 >"$TEST_DIR/b.out" 2>&1 \
  || { cat "$TEST_DIR/b.out"; fail "certonly -c with --rsa-key-size"; }
[ "$(key_bits b.test)" = "Public-Key: (2048 bit)" ] || fail "b.test key: $(key_bits b.test)"

store_digest() { echo "$(tree_digest "$C/live") $(tree_digest "$C/archive") $(tree_digest "$C/renewal")"; }
before=$(store_digest)
one_line() { [ "$(grep -c . <<<"$LAST_ERR")" -le 2 ] || fail "more than a line and a hint: $LAST_ERR"; }

log "an unknown key: file:line, nothing changed"
grep -vx text "$INI" >"$TEST_DIR/bad.ini"
echo "frobnicate = 1" >>"$TEST_DIR/bad.ini"
expect_fail acmed -c "$TEST_DIR/bad.ini" certonly -d c.test
grep -qF "$TEST_DIR/bad.ini:12: unknown option 'frobnicate'" <<<"$LAST_ERR" || fail "unknown key not located"
one_line

log "a malformed line: file:line, nothing changed"
printf 'server = %s\n= 4096\n' "$PEBBLE_URL" >"$TEST_DIR/malformed.ini"
expect_fail acmed -c "$TEST_DIR/malformed.ini" certonly -d c.test
grep -qF "$TEST_DIR/malformed.ini:2:" <<<"$LAST_ERR" || fail "malformed line not located"
one_line

log "a missing file given with -c"
expect_fail acmed -c "$TEST_DIR/none.ini" certonly -d c.test
grep -qF "none.ini" <<<"$LAST_ERR" || fail "missing file not named"
one_line
[ "$(store_digest)" = "$before" ] || fail "a bad config file changed the store"
[ ! -e "$C/renewal/c.test.conf" ] || fail "c.test was issued"
echo PASS
