#!/usr/bin/env bash
# `acmed renew` end to end against Pebble: due / not due, forced renewal, renewal with the
# standalone and the webroot authenticator, hooks (order, environment, once only, directory hooks,
# a failing hook), a failing lineage among good ones, concurrent renewals (--jobs), --dry-run
# leaving the config dir byte-identical, and the lock stopping a second renew.
. "$(dirname "$0")/lib.sh"

need nginx  # serves the webroot lineages

start_pebble
pebble_root "$TEST_DIR/root.pem"
HOOKS="$TEST_DIR/hooks.log"

conf() { echo "$ACMED_CONFIG_DIR/renewal/$1.conf"; }
version_of() { readlink "$ACMED_CONFIG_DIR/live/$1/cert.pem" | sed 's/.*cert\([0-9]*\)\.pem/\1/'; }
# set_rbe NAME VALUE: a top-level renew_before_expiry in the lineage's renewal conf ("" removes it)
set_rbe() {
  sed -i '/^renew_before_expiry/d' "$(conf "$1")"
  if [ -n "$2" ]; then sed -i "1i renew_before_expiry = $2" "$(conf "$1")"; fi
}
# digest of a dir without the lock file (its content is the PID of the last holder, by design)
dir_digest() {
  (cd "$1" && find . -path ./.acmed.lock -prune -o -printf '%p %m %l\n' | LC_ALL=C sort && \
    find . -path ./.acmed.lock -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) \
    | sha256sum | cut -d' ' -f1
}
renew() { acmed_pebble renew "$@"; }
standalone() {
  acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 "$@"
}

log "two standalone lineages"
standalone -d sa.test >/dev/null 2>&1 || fail "certonly sa.test"
standalone -d sb.test -d www.sb.test >/dev/null 2>&1 || fail "certonly sb.test"

log "nothing is due right after issuance"
out=$(renew 2>&1) || { echo "$out"; fail "renew with nothing due failed"; }
echo "$out" | seen "checked 2, renewed 0, not due 2, failed 0" || { echo "$out"; fail "summary"; }
[ "$(version_of sa.test)" = 1 ] || fail "sa.test renewed although not due"
status="$TEST_DIR/work/acmed/status/sa.test.json"
[ -f "$status" ] || fail "no status file for sa.test"
grep -q '"next_due"' "$status" || fail "status has no next_due"
grep -q '"last_checked"' "$status" || fail "status has no last_checked"

log "a second run with nothing due sends nothing and rewrites nothing"
before=$(sha256sum "$status")
requests_before=$(grep -c -- '-> calling handler()' "$TEST_DIR/pebble.log" || true)
out=$(renew 2>&1) || { echo "$out"; fail "second renew with nothing due failed"; }
echo "$out" | seen "checked 2, renewed 0, not due 2, failed 0" || { echo "$out"; fail "summary"; }
requests_after=$(grep -c -- '-> calling handler()' "$TEST_DIR/pebble.log" || true)
[ "$requests_after" = "$requests_before" ] || fail "a run with nothing due sent $((requests_after - requests_before)) requests to Pebble"
[ "$(sha256sum "$status")" = "$before" ] || fail "a run that changed nothing rewrote the status file"
grep -q '"sa.test"' "$TEST_DIR/work/acmed/checked.json" || fail "checked.json does not list sa.test"
acmed certificates --cert-name sa.test | seen "Last Renewal Check" || fail "certificates lacks the check time"

log "renew_before_expiry makes it due"
set_rbe sa.test "36500 days"
out=$(renew 2>&1) || { echo "$out"; fail "renew of a due lineage failed"; }
echo "$out" | seen "checked 2, renewed 1, not due 1, failed 0" || { echo "$out"; fail "summary"; }
[ "$(version_of sa.test)" = 2 ] || fail "sa.test was not renewed"
[ "$(version_of sb.test)" = 1 ] || fail "sb.test renewed although not due"
verify_chain "$ACMED_CONFIG_DIR/live/sa.test/fullchain.pem" "$TEST_DIR/root.pem"
grep -q '"last_renewed"' "$status" || fail "status does not record the renewal"
set_rbe sa.test ""

log "--force-renewal --cert-name renews only that lineage"
renew --force-renewal --cert-name sb.test >/dev/null 2>&1 || fail "forced renewal"
[ "$(version_of sb.test)" = 2 ] || fail "sb.test not renewed by --force-renewal"
[ "$(version_of sa.test)" = 2 ] || fail "--cert-name sb.test touched sa.test"
openssl x509 -in "$ACMED_CONFIG_DIR/live/sb.test/cert.pem" -noout -ext subjectAltName \
  | seen "www.sb.test" || fail "renewed sb.test lost a name"
expect_fail renew --cert-name nope.test
echo "$LAST_ERR" | seen "nope.test" || fail "unknown --cert-name not named"

log "hooks: pre once, deploy per lineage with its environment, post once; directory hooks"
mkdir -p "$ACMED_CONFIG_DIR/renewal-hooks/deploy" "$ACMED_CONFIG_DIR/renewal-hooks/post"
printf '#!/bin/sh\necho "dir-deploy $RENEWED_DOMAINS" >> "%s"\n' "$HOOKS" \
  >"$ACMED_CONFIG_DIR/renewal-hooks/deploy/10-log"
printf '#!/bin/sh\necho dir-post >> "%s"\n' "$HOOKS" >"$ACMED_CONFIG_DIR/renewal-hooks/post/10-log"
chmod +x "$ACMED_CONFIG_DIR/renewal-hooks/deploy/10-log" "$ACMED_CONFIG_DIR/renewal-hooks/post/10-log"
: >"$HOOKS"
renew --force-renewal --jobs 1 \
  --pre-hook "echo pre >> $HOOKS" --post-hook "echo post >> $HOOKS" \
  --deploy-hook "echo \"deploy \$RENEWED_LINEAGE \$RENEWED_DOMAINS\" >> $HOOKS" >/dev/null 2>&1 \
  || fail "renew with hooks"
expected="pre
deploy $ACMED_CONFIG_DIR/live/sa.test sa.test
dir-deploy sa.test
deploy $ACMED_CONFIG_DIR/live/sb.test sb.test www.sb.test
dir-deploy sb.test www.sb.test
post
dir-post"
[ "$(cat "$HOOKS")" = "$expected" ] || { diff <(echo "$expected") "$HOOKS" >&2; fail "hook order/env"; }
grep -q "^renew_hook = " "$(conf sa.test)" || fail "the deploy hook was not stored in the conf"
grep -q "^pre_hook = " "$(conf sa.test)" || fail "the pre hook was not stored in the conf"

log "stored hooks run on the next renewal; nothing due runs no hook"
: >"$HOOKS"
renew >/dev/null 2>&1 || fail "renew with nothing due"
[ ! -s "$HOOKS" ] || fail "hooks ran although nothing was due: $(cat "$HOOKS")"
renew --force-renewal --cert-name sa.test >/dev/null 2>&1 || fail "renew with stored hooks"
grep -q "^deploy $ACMED_CONFIG_DIR/live/sa.test sa.test$" "$HOOKS" || fail "stored deploy hook did not run"
[ "$(grep -c '^pre$' "$HOOKS")" = 1 ] || fail "stored pre hook did not run once"
rm -f "$ACMED_CONFIG_DIR/renewal-hooks/deploy/10-log" "$ACMED_CONFIG_DIR/renewal-hooks/post/10-log"

log "a failing deploy hook is reported and the renewal still stands"
before=$(version_of sa.test)
expect_fail renew --force-renewal --cert-name sa.test --deploy-hook "echo hook-broke >&2; exit 3"
echo "$LAST_ERR" | seen "hook failed: deploy-hook" || fail "failing hook not in the summary"
echo "$LAST_ERR" | seen "hook-broke" || fail "the hook's stderr is not reported"
[ "$(version_of sa.test)" = $((before + 1)) ] || fail "the renewal was lost with the failing hook"
# put back a harmless stored deploy hook
renew --force-renewal --cert-name sa.test --deploy-hook "true" >/dev/null 2>&1 || fail "reset hook"

log "--dry-run: config dir byte-identical, pre/post hooks run, deploy hooks do not"
: >"$HOOKS"
conf_before=$(dir_digest "$ACMED_CONFIG_DIR")
work_before=$(dir_digest "$TEST_DIR/work")
out=$(renew --dry-run --pre-hook "echo pre >> $HOOKS" --post-hook "echo post >> $HOOKS" \
  --deploy-hook "echo deploy >> $HOOKS" 2>&1) || { echo "$out"; fail "dry run failed"; }
echo "$out" | seen "dry run: checked 2, simulated 2" || { echo "$out"; fail "dry-run summary"; }
[ "$(dir_digest "$ACMED_CONFIG_DIR")" = "$conf_before" ] || fail "--dry-run changed the config dir"
[ "$(dir_digest "$TEST_DIR/work")" = "$work_before" ] || fail "--dry-run changed the work dir"
[ "$(cat "$HOOKS")" = "pre
post" ] || fail "dry-run hooks: $(cat "$HOOKS")"
: >"$HOOKS"
renew --dry-run --run-deploy-hooks --cert-name sa.test --deploy-hook "echo deploy >> $HOOKS" \
  >/dev/null 2>&1 || fail "dry run with --run-deploy-hooks"
grep -qx deploy "$HOOKS" || fail "--run-deploy-hooks did not run the deploy hook"
[ "$(dir_digest "$ACMED_CONFIG_DIR")" = "$conf_before" ] || fail "--dry-run changed the config dir"

log "the lock stops a second renew while one runs"
rm -f "$TEST_DIR/started"
acmed_pebble renew --cert-name sa.test --force-renewal --pre-hook "touch $TEST_DIR/started; sleep 4" \
  >"$TEST_DIR/first.log" 2>&1 &
first=$!
for _ in $(seq 1 100); do [ -f "$TEST_DIR/started" ] && break; sleep 0.1; done
[ -f "$TEST_DIR/started" ] || fail "the first renew never started"
expect_fail renew
[ "$LAST_RC" = 76 ] || fail "second renew exited $LAST_RC, not 76 (locked)"
echo "$LAST_ERR" | seen "another acmed process" || fail "lock message"
wait "$first" || { cat "$TEST_DIR/first.log"; fail "the first renew failed"; }

log "webroot lineages (served by nginx), --jobs 4, and a failing lineage among good ones"
ACMED_CONFIG_DIR="$TEST_DIR/etc-webroot"
ROOT="$TEST_DIR/nginx"
mkdir -p "$ROOT" "$TEST_DIR/www"
start_nginx "$ROOT" "access_log off;" "server { listen 127.0.0.1:$HTTP01_PORT; root $TEST_DIR/www; }"
for i in 1 2 3 4 5; do
  acmed_pebble certonly --webroot -w "$TEST_DIR/www" -d "w$i.test" >/dev/null 2>&1 \
    || fail "certonly --webroot w$i.test"
done
acmed_pebble certonly --webroot -w "$TEST_DIR/www" -d broken.test >/dev/null 2>&1 || fail "certonly broken"
# w1.test is also served over TLS by nginx and names nginx as its installer: renewal must reload it.
TLS_PORT=$(free_port)
nginx_conf "$ROOT" "access_log off;" "server { listen 127.0.0.1:$HTTP01_PORT; root $TEST_DIR/www; }" \
  "server { listen 127.0.0.1:$TLS_PORT ssl; server_name w1.test;" \
  "  ssl_certificate $ACMED_CONFIG_DIR/live/w1.test/fullchain.pem;" \
  "  ssl_certificate_key $ACMED_CONFIG_DIR/live/w1.test/privkey.pem; }"
nginx -e "$NGINX_RUN/error.log" -c "$ROOT/nginx.conf" -s reload || fail "nginx reload with TLS"
sed -i "/^\[renewalparams\]/a installer = nginx\nnginx_server_root = $ROOT" "$(conf w1.test)"
served_serial() {
  echo | openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername w1.test 2>/dev/null \
    | openssl x509 -noout -serial 2>/dev/null
}
for _ in $(seq 1 50); do [ -n "$(served_serial)" ] && break; sleep 0.1; done
[ "$(served_serial)" = "$(openssl x509 -in "$ACMED_CONFIG_DIR/live/w1.test/cert.pem" -noout -serial)" ] \
  || fail "nginx does not serve w1.test's certificate before renewal"
sed -i "s|$TEST_DIR/www|$TEST_DIR/no-such-webroot|" "$(conf broken.test)"
start=$(date +%s%N)
with_new_account expect_fail renew --force-renewal --jobs 4
took=$(( ($(date +%s%N) - start) / 1000000 ))
echo "$LAST_ERR" | seen "checked 6, renewed 5, not due 0, failed 1" || fail "summary with a broken lineage"
echo "$LAST_ERR" | seen "failed: broken.test: " || fail "the failure is not explained"
for i in 1 2 3 4 5; do
  [ "$(version_of "w$i.test")" = 2 ] || fail "w$i.test not renewed next to a broken lineage"
  verify_chain "$ACMED_CONFIG_DIR/live/w$i.test/fullchain.pem" "$TEST_DIR/root.pem"
done
[ "$(version_of broken.test)" = 1 ] || fail "broken.test changed"
want=$(openssl x509 -in "$ACMED_CONFIG_DIR/live/w1.test/cert.pem" -noout -serial)
for _ in $(seq 1 50); do [ "$(served_serial)" = "$want" ] && break; sleep 0.1; done
[ "$(served_serial)" = "$want" ] || fail "nginx was not reloaded: it still serves the old w1.test certificate"
echo "$LAST_ERR" | seen "reloaded nginx" || fail "no reload reported"
grep -q '"failure_count": *1' "$TEST_DIR/work/acmed/status/broken.test.json" || fail "failure not recorded"
[ -z "$(ls -A "$TEST_DIR/www/.well-known/acme-challenge" 2>/dev/null)" ] || fail "challenge files left behind"
log "5 webroot renewals with --jobs 4 took ${took} ms"
log "PASS"
