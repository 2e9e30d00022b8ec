#!/usr/bin/env bash
# External Account Binding against a Pebble that requires it: without --eab-* a clear error with a
# hint; with the right kid/key an account and a certificate; a wrong key is refused; show_account
# and register behave (register when an account exists is a clear error).
. "$(dirname "$0")/lib.sh"

PEBBLE_EAB=1 start_pebble
pebble_root "$TEST_DIR/root.pem"
C=$ACMED_CONFIG_DIR
standalone() {
  acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 "$@"
}

log "show_account before any account: non-zero, says there is none"
expect_fail acmed_pebble show_account
echo "$LAST_ERR" | seen -i "account" || fail "show_account without an account does not say so"

log "without --eab-*: non-zero, mentions External Account Binding and a hint"
expect_fail standalone -d e1.test
echo "$LAST_ERR" | seen -i "external account binding" || fail "error does not mention External Account Binding"
echo "$LAST_ERR" | seen -- "--eab-kid" || fail "no hint naming --eab-kid"
[ ! -e "$C/live" ] && [ ! -e "$C/archive" ] || fail "a failed EAB issuance created live/ or archive/"
[ -z "$(find "$C/accounts" -type f 2>/dev/null)" ] || fail "an account was stored without EAB"

log "a wrong HMAC key is refused"
wrong=$(printf 'not-the-right-key-at-all-0123456789' | base64 | tr '+/' '-_' | tr -d '=\n')
expect_fail standalone -d e1.test --eab-kid "$EAB_KID" --eab-hmac-key "$wrong"
[ -z "$(find "$C/accounts" -type f 2>/dev/null)" ] || fail "an account was stored with a wrong EAB key"
echo "$LAST_ERR" | seen -- "--eab-hmac-key" || fail "a refused EAB key gets no hint to check --eab-hmac-key"

log "with --eab-kid/--eab-hmac-key: success"
standalone -d e1.test --eab-kid "$EAB_KID" --eab-hmac-key "$EAB_HMAC_KEY" >"$TEST_DIR/ok.out" 2>&1 \
  || { cat "$TEST_DIR/ok.out"; fail "EAB issuance"; }
verify_chain "$C/live/e1.test/fullchain.pem" "$TEST_DIR/root.pem"
grep -rq "$EAB_HMAC_KEY" "$C" "$TEST_DIR/logs" "$TEST_DIR/ok.out" && fail "the EAB HMAC key was written to disk or logged"

log "the stored account is reused without --eab-*"
standalone -d e2.test >/dev/null 2>&1 || fail "second issuance with the stored account"
[ "$(sed -n 's/^account = //p' "$C/renewal/e1.test.conf")" = "$(sed -n 's/^account = //p' "$C/renewal/e2.test.conf")" ] \
  || fail "the second issuance used another account"

log "show_account shows the account"
out=$(acmed_pebble show_account 2>&1) || { echo "$out"; fail "show_account"; }
echo "$out" | seen "my-account/" || { echo "$out"; fail "show_account shows no account URL"; }
echo "$out" | seen -i "valid" || { echo "$out"; fail "show_account shows no status"; }

log "register when an account exists: clear error, nothing changed"
before=$(find "$C/accounts" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum)
expect_fail acmed_pebble register --eab-kid "$EAB_KID" --eab-hmac-key "$EAB_HMAC_KEY"
echo "$LAST_ERR" | sed -n 1p | seen -i "already" || fail "register with an existing account: unclear error"
[ "$(find "$C/accounts" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum)" = "$before" ] \
  || fail "register changed the stored account"

log "register in a fresh config dir: without EAB refused, with EAB ok"
ACMED_CONFIG_DIR="$TEST_DIR/etc2"
expect_fail acmed_pebble register
echo "$LAST_ERR" | seen -i "external account binding" || fail "register without EAB: no mention of EAB"
acmed_pebble register --eab-kid "$EAB_KID" --eab-hmac-key "$EAB_HMAC_KEY" >/dev/null 2>&1 || fail "register with EAB"
acmed_pebble show_account >/dev/null 2>&1 || fail "show_account after register"
key=$(find "$ACMED_CONFIG_DIR/accounts" -name private_key.json)
[ -n "$key" ] && [ "$(stat -c %a "$key")" = 600 ] || fail "account key missing or not 0600"
echo "PASS"
