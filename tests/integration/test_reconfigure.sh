#!/usr/bin/env bash
# `acmed reconfigure` (certbot 2.3+) against Pebble with a real nginx serving the webroots: new
# settings are proven by a dry run (whose challenge nginx must serve) before they are written to
# the renewal conf; a failing dry run leaves the conf and the lineage byte for byte as they were;
# no --cert-name, an unknown lineage and nothing to change are one-line usage errors.
. "$(dirname "$0")/lib.sh"

need nginx

PORT=$(free_port)
NG="$TEST_DIR/nginx"
D="$TEST_DIR/www"
UNSERVED="$TEST_DIR/www-unserved"
mkdir -p "$NG" "$D" "$UNSERVED"
start_nginx "$NG" \
  'log_format h "$host $request $status";' \
  "access_log $NG/access.log h;" \
  "server { listen 127.0.0.1:$PORT default_server; server_name _; return 404; }" \
  "server { listen 127.0.0.1:$PORT; server_name r.test; root $D; }"
wait_for_port "$PORT"
start_pebble "$PORT"
C=$ACMED_CONFIG_DIR
conf="$C/renewal/r.test.conf"
HOOKS="$TEST_DIR/hooks.log"

acmed_pebble certonly --webroot -w "$D" -d r.test >"$TEST_DIR/out" 2>&1 || { cat "$TEST_DIR/out"; fail "issuance"; }
cert_before=$(sha256sum <"$C/live/r.test/cert.pem")

log "a dry run that fails (a webroot nginx does not serve): nothing written"
cp "$conf" "$TEST_DIR/conf.before"
live_before=$(tree_digest "$C/live") archive_before=$(tree_digest "$C/archive")
with_new_account expect_fail acmed_pebble reconfigure --cert-name r.test -w "$UNSERVED" \
  --deploy-hook "echo deploy >>$HOOKS"
[ "$LAST_RC" != 0 ] && [ "$LAST_RC" != 2 ] || fail "a failed dry run exited $LAST_RC"
echo "$LAST_ERR" | seen "the renewal conf of r.test is unchanged" || fail "no unchanged note"
echo "$LAST_ERR" | seen "r.test" || fail "the error does not name r.test"
cmp "$conf" "$TEST_DIR/conf.before" || fail "a failed reconfigure changed the renewal conf"
[ "$(tree_digest "$C/live")" = "$live_before" ] && [ "$(tree_digest "$C/archive")" = "$archive_before" ] \
  || fail "a failed reconfigure changed the lineage"

log "a dry run that passes: the challenge is served, the settings are stored, no certificate changes"
: >"$NG/access.log"
with_new_account acmed_pebble reconfigure --cert-name r.test -w "$D" --pre-hook "echo pre >>$HOOKS" \
  --deploy-hook "echo deploy >>$HOOKS" >"$TEST_DIR/out" 2>&1 || { cat "$TEST_DIR/out"; fail "reconfigure"; }
grep -q "^r.test GET /.well-known/acme-challenge/" "$NG/access.log" || fail "the dry run validated nothing"
grep -qx "renew_hook = echo deploy >>$HOOKS" "$conf" && grep -qx "pre_hook = echo pre >>$HOOKS" "$conf" \
  || { cat "$conf"; fail "hooks not stored"; }
grep -qx "webroot_path = $D,\?" "$conf" || { cat "$conf"; fail "webroot not stored"; }
[ "$(cat "$HOOKS")" = "pre" ] || fail "hooks during the dry run: $(cat "$HOOKS") (certbot: pre/post, no deploy)"
[ "$(sha256sum <"$C/live/r.test/cert.pem")" = "$cert_before" ] || fail "the dry run replaced the certificate"
grep -q "now holds the new settings" "$TEST_DIR/out" || fail "no success line"

log "later renewals use the stored settings"
rm -f "$HOOKS"
with_new_account acmed_pebble renew --cert-name r.test --force-renewal >"$TEST_DIR/out" 2>&1 \
  || { cat "$TEST_DIR/out"; fail "renew after reconfigure"; }
[ "$(cat "$HOOKS")" = "$(printf 'pre\ndeploy')" ] || fail "renew did not run the reconfigured hooks"

log "usage errors: no --cert-name, unknown lineage, nothing to change, -d"
cp "$conf" "$TEST_DIR/conf.before"
for args in "-w $D" "--cert-name nope.test -w $D" "--cert-name r.test" "--cert-name r.test -d r.test -w $D"; do
  # shellcheck disable=SC2086
  expect_fail acmed_pebble reconfigure $args
  [ "$(echo "$LAST_ERR" | grep -vc '^hint:')" = 1 ] || fail "not one line: $LAST_ERR"
  case $args in
    *nope.test*) echo "$LAST_ERR" | seen "no certificate named nope.test" || fail "unknown lineage" ;;
    *" -d "*) echo "$LAST_ERR" | seen "reconfigure .* takes no -d" || fail "reconfigure -d: $LAST_ERR" ;;
    *) [ "$LAST_RC" = 2 ] || fail "reconfigure $args exited $LAST_RC" ;;
  esac
done
cmp "$conf" "$TEST_DIR/conf.before" || fail "a refused reconfigure changed the conf"
echo "PASS"
