#!/usr/bin/env bash
# `acmed revoke` against Pebble, each revocation checked through Pebble's management interface
# (/cert-status-by-serial): signed by the account (kid) and by the certificate's own key (jwk,
# RFC 8555 section 7.6, also for a copy outside the store), each of certbot's five reasons (by
# name and by number), alreadyRevoked as success with a note, --delete-after-revoke and
# --no-delete-after-revoke (and certbot's default under -n: delete; not while nginx names the
# lineage's files), and bad input (unknown lineage, a certificate outside the store
# without --key-path, an unknown reason, a key of another certificate) refused in one line with
# nothing sent and nothing changed.
. "$(dirname "$0")/lib.sh"

start_pebble
C=$ACMED_CONFIG_DIR

issue() {
  acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 \
    --cert-name "$1" -d "$1" >"$TEST_DIR/issue-$1.out" 2>&1 || { cat "$TEST_DIR/issue-$1.out"; fail "certonly $1"; }
}
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
# status_of CERT: "<Status> <Reason>" as Pebble's management interface reports them.
status_of() {
  curl -sf --max-time 10 --cacert "$PEBBLE_CA_BUNDLE" "$PEBBLE_MGMT/cert-status-by-serial/$(serial_of "$1")" \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["Status"], d.get("Reason"))'
}
expect_status() {  # CERT WANT
  local got; got=$(status_of "$1")
  [ "$got" = "$2" ] || fail "Pebble reports '$got' for $1, expected '$2'"
}
revoke() { acmed_pebble revoke "$@"; }
# nothing_changed BEFORE: the config dir (lock file aside) is as digested in BEFORE.
dir_digest() {
  (cd "$C" && find . -path ./.acmed.lock -prune -o -printf '%p %m %l\n' | LC_ALL=C sort && \
    find . -path ./.acmed.lock -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) \
    | sha256sum | cut -d' ' -f1
}

for n in kid.test jwk.test num.test out.test aff.test; do issue "$n"; done
cp "$C/live/out.test/cert.pem" "$TEST_DIR/outside-cert.pem"
cp "$C/live/out.test/privkey.pem" "$TEST_DIR/outside-key.pem"
expect_status "$C/live/kid.test/cert.pem" "Valid None"

log "bad input: one line, non-zero exit, nothing sent, nothing changed"
before=$(dir_digest)
expect_fail revoke --cert-name nosuch.test --no-delete-after-revoke
[ "$(wc -l <<<"$LAST_ERR")" -le 2 ] && grep -q "no certificate named 'nosuch.test'" <<<"$LAST_ERR" || fail "unknown lineage: $LAST_ERR"
expect_fail revoke --cert-path "$TEST_DIR/outside-cert.pem"
grep -q "is not a certificate of a lineage" <<<"$LAST_ERR" || fail "outside without key: $LAST_ERR"
expect_fail revoke --cert-name kid.test --reason compromised
[ "$LAST_RC" -eq 2 ] && grep -q "unknown revocation reason 'compromised'" <<<"$LAST_ERR" || fail "bad reason: $LAST_ERR"
expect_fail revoke --cert-name kid.test --key-path "$C/live/jwk.test/privkey.pem"
grep -q "does not belong to the certificate" <<<"$LAST_ERR" || fail "wrong key: $LAST_ERR"
expect_fail revoke --cert-name kid.test --cert-path "$C/live/kid.test/cert.pem"
grep -q "exactly one of --cert-name and --cert-path" <<<"$LAST_ERR" || fail "both: $LAST_ERR"
[ "$(dir_digest)" = "$before" ] || fail "bad input changed the config dir"
expect_status "$C/live/kid.test/cert.pem" "Valid None"

log "kid (account key), default reason unspecified, lineage kept"
revoke --cert-name kid.test --no-delete-after-revoke
expect_status "$C/live/kid.test/cert.pem" "Revoked 0"
[ -f "$C/renewal/kid.test.conf" ] || fail "--no-delete-after-revoke removed the lineage"

log "again: alreadyRevoked is success with a note"
revoke --cert-name kid.test --no-delete-after-revoke 2>"$TEST_DIR/again.err" || { cat "$TEST_DIR/again.err"; fail "alreadyRevoked failed"; }
grep -q "already revoked" "$TEST_DIR/again.err" || fail "no note on alreadyRevoked: $(cat "$TEST_DIR/again.err")"

log "jwk (the certificate's key) by --cert-path into the store, keycompromise"
revoke --cert-path "$C/live/jwk.test/cert.pem" --key-path "$C/live/jwk.test/privkey.pem" \
  --reason keycompromise --no-delete-after-revoke
expect_status "$C/live/jwk.test/cert.pem" "Revoked 1"

log "kid, reason by number (4 = superseded)"
revoke --cert-name num.test --reason 4 --no-delete-after-revoke
expect_status "$C/live/num.test/cert.pem" "Revoked 4"

log "jwk for a copy outside the store, cessationofoperation"
revoke --cert-path "$TEST_DIR/outside-cert.pem" --key-path "$TEST_DIR/outside-key.pem" \
  --reason cessationofoperation
expect_status "$TEST_DIR/outside-cert.pem" "Revoked 5"

log "kid, affiliationchanged (RFC 5280's spelling), then --delete-after-revoke"
cp "$C/live/aff.test/cert.pem" "$TEST_DIR/aff-cert.pem"
revoke --cert-name aff.test --reason affiliationChanged --delete-after-revoke
expect_status "$TEST_DIR/aff-cert.pem" "Revoked 3"
gone() {
  for d in "live/$1" "archive/$1" "renewal/$1.conf"; do
    [ ! -e "$C/$d" ] || fail "$d still there after the revocation's delete"
  done
}
gone aff.test

log "under -n without either flag the lineage is deleted (certbot's default)"
issue dflt.test
cp "$C/live/dflt.test/cert.pem" "$TEST_DIR/dflt-cert.pem"
revoke --cert-name dflt.test --reason superseded
expect_status "$TEST_DIR/dflt-cert.pem" "Revoked 4"
gone dflt.test

log "a lineage an nginx config still names is revoked but not deleted, with a warning"
issue ref.test
mkdir -p "$TEST_DIR/nginx"
printf 'events {}\nhttp { server { listen 127.0.0.1:1 ssl; ssl_certificate %s; ssl_certificate_key %s; } }\n' \
  "$C/live/ref.test/fullchain.pem" "$C/live/ref.test/privkey.pem" >"$TEST_DIR/nginx/nginx.conf"
revoke --cert-name ref.test --nginx-server-root "$TEST_DIR/nginx" 2>"$TEST_DIR/ref.err" \
  || { cat "$TEST_DIR/ref.err"; fail "revoke of a referenced lineage"; }
expect_status "$C/live/ref.test/cert.pem" "Revoked 0"
grep -q "was not deleted: .*nginx.conf:2" "$TEST_DIR/ref.err" || fail "no warning naming the reference: $(cat "$TEST_DIR/ref.err")"
[ -f "$C/renewal/ref.test.conf" ] || fail "a referenced lineage was deleted"
log "PASS"
