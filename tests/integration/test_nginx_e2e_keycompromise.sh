#!/usr/bin/env bash
# `acmed revoke --cert-name NAME --reason keycompromise --reissue` end to end with the real nginx
# (serving the lineage on 127.0.0.1:443: run under flock /tmp/acmed-80-443.lock) and Pebble: the
# old key recorded as compromised, a new key and certificate, nginx reloaded and serving the new
# one, and only then the old certificate revoked (keyCompromise, signed by the old key, checked at
# Pebble's management interface). A failure injected at each step (the CA cannot validate; nginx's
# config test fails; the CA does not answer the revocation) leaves the old certificate valid and
# the printed command resumes; --reuse-key never reuses the compromised key.
. "$(dirname "$0")/lib.sh"

need nginx
exclusive_system_resources  # nginx serves the lineage on 127.0.0.1:443
start_pebble
C=$ACMED_CONFIG_DIR
ROOT="$TEST_DIR/nginx"
mkdir -p "$TEST_DIR/www"
HTTP_SERVER="server { listen 127.0.0.1:$HTTP01_PORT; root $TEST_DIR/www; }"
TLS_SERVER="server { listen 127.0.0.1:443 ssl; server_name kc.test; ssl_certificate $C/live/kc.test/fullchain.pem; ssl_certificate_key $C/live/kc.test/privkey.pem; }"
start_nginx "$ROOT" "access_log off;" "$HTTP_SERVER"
webroot() { acmed_pebble certonly --webroot -w "$TEST_DIR/www" "$@"; }
webroot -d kc.test >/dev/null 2>&1 || fail "certonly kc.test"
nginx_conf "$ROOT" "access_log off;" "$HTTP_SERVER" "$TLS_SERVER"
nginx -e "$NGINX_RUN/error.log" -c "$ROOT/nginx.conf" -s reload || fail "nginx reload with TLS"
sed -i "/^\[renewalparams\]/a installer = nginx\nnginx_server_root = $ROOT" "$C/renewal/kc.test.conf"

serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
served() {
  echo | openssl s_client -connect 127.0.0.1:443 -servername kc.test 2>/dev/null \
    | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}
status_of() {  # SERIAL -> "<Status> <Reason>" at Pebble
  curl -sf --max-time 10 --cacert "$PEBBLE_CA_BUNDLE" "$PEBBLE_MGMT/cert-status-by-serial/$1" \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["Status"], d.get("Reason"))'
}
OLD=$(serial_of "$C/archive/kc.test/cert1.pem")
for _ in $(seq 1 50); do [ "$(served)" = "$OLD" ] && break; sleep 0.1; done
[ "$(served)" = "$OLD" ] || fail "nginx does not serve kc.test's first certificate"
store_digest() {  # the config dir without the lock file (it holds the last holder's PID)
  (cd "$C" && find . -path ./.acmed.lock -prune -o -printf '%p %m %l\n' | LC_ALL=C sort && \
    find . -path ./.acmed.lock -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) \
    | sha256sum | cut -d' ' -f1
}
recover() { acmed_pebble revoke --cert-name kc.test --reason keycompromise --reissue "$@"; }
resume_hint() {  # STEP: the error names the step that failed and says how to resume
  grep -q "while $1" <<<"$LAST_ERR" || fail "the error does not name the step '$1': $LAST_ERR"
  grep -q "NOT revoked yet.*--reason keycompromise --reissue' again to resume" <<<"$LAST_ERR" \
    || fail "no resume instruction: $LAST_ERR"
}
old_still_valid() {
  [ "$(status_of "$OLD")" = "Valid None" ] || fail "the old certificate was revoked too early: $(status_of "$OLD")"
}

log "bad input: --reissue without keycompromise, or for an unknown lineage: nothing changed"
before=$(store_digest)
expect_fail acmed_pebble revoke --cert-name kc.test --reason superseded --reissue
grep -q "needs --reason" <<<"$LAST_ERR" || fail "reason check: $LAST_ERR"
expect_fail acmed_pebble revoke --cert-name nosuch.test --reason keycompromise --reissue
grep -q "no certificate named 'nosuch.test'" <<<"$LAST_ERR" || fail "unknown lineage: $LAST_ERR"
[ "$(store_digest)" = "$before" ] || fail "bad input changed the store"

log "step 2 fails (the CA cannot reach kc.test): old certificate served and valid"
curl -sf --max-time 5 -X POST -d '{"host":"kc.test.","addresses":["127.0.0.2"]}' "$CHALL_MGMT/add-a" >/dev/null
with_new_account expect_fail recover
resume_hint "obtaining the new certificate"
old_still_valid
[ "$(served)" = "$OLD" ] || fail "the served certificate changed although no new one was issued"
[ "$(wc -l <"$C/compromised-keys")" = 1 ] || fail "the old key is not recorded"
curl -sf --max-time 5 -X POST -d '{"host":"kc.test."}' "$CHALL_MGMT/clear-a" >/dev/null

log "--reuse-key does not reuse the recorded compromised key"
webroot -d kc.test --cert-name kc.test --reuse-key --force-renewal 2>"$TEST_DIR/reuse.err" \
  || { cat "$TEST_DIR/reuse.err"; fail "certonly --reuse-key"; }
grep -q "recorded as compromised" "$TEST_DIR/reuse.err" || fail "no warning about the compromised key"
cmp -s "$C/archive/kc.test/privkey1.pem" "$C/archive/kc.test/privkey2.pem" && fail "--reuse-key reused the compromised key"
old_still_valid
grep -q "^installer = nginx" "$C/renewal/kc.test.conf" \
  || sed -i "/^\[renewalparams\]/a installer = nginx\nnginx_server_root = $ROOT" "$C/renewal/kc.test.conf"

log "step 3 fails (nginx's config test): nginx keeps serving the old certificate"
echo "include $ROOT/missing.conf;" >>"$ROOT/nginx.conf"
expect_fail recover
resume_hint "deploying the new certificate"
grep -q "resuming" <<<"$LAST_ERR" || fail "the second run did not resume"
old_still_valid
[ "$(served)" = "$OLD" ] || fail "nginx serves something else after a failed config test"
sed -i '$d' "$ROOT/nginx.conf"

log "step 4 fails (the CA does not answer): the new certificate is served, the old still valid"
NEW=$(serial_of "$C/live/kc.test/cert.pem")
[ "$NEW" != "$OLD" ] || fail "no new certificate"
kill -STOP "$PEBBLE_PID"
on_exit "kill -CONT $PEBBLE_PID"
expect_fail recover --issuance-timeout 2
kill -CONT "$PEBBLE_PID"
resume_hint "revoking the old certificate"
[ "$(served)" = "$NEW" ] || fail "nginx does not serve the new certificate after step 3"
old_still_valid

log "resumed to the end: old revoked for keyCompromise after the new one was served"
recover 2>"$TEST_DIR/done.err" || { cat "$TEST_DIR/done.err"; fail "final resume"; }
[ "$(status_of "$OLD")" = "Revoked 1" ] || fail "old certificate: $(status_of "$OLD")"
[ "$(status_of "$NEW")" = "Valid None" ] || fail "new certificate: $(status_of "$NEW")"
[ "$(served)" = "$NEW" ] || fail "nginx does not serve the new certificate"
[ ! -e "$TEST_DIR/work/acmed/compromise/kc.test.json" ] || fail "recovery state left behind"

log "a clean run in one go: step 3 before step 4"
recover 2>"$TEST_DIR/one.err" || { cat "$TEST_DIR/one.err"; fail "one-go recovery"; }
grep -n "3/4\|4/4" "$TEST_DIR/one.err" | sed -n 1,2p | seen "^[0-9]*:.*3/4" || fail "step order: $(cat "$TEST_DIR/one.err")"
[ "$(status_of "$NEW")" = "Revoked 1" ] || fail "second recovery did not revoke: $(status_of "$NEW")"
[ "$(served)" = "$(serial_of "$C/live/kc.test/cert.pem")" ] || fail "nginx does not serve the newest certificate"
[ "$(wc -l <"$C/compromised-keys")" = 2 ] || fail "the second compromised key is not recorded"
log "PASS"
