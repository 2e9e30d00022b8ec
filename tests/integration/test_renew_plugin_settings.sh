#!/usr/bin/env bash
# Plugin settings survive into renewal (issue 10): a certificate obtained with
# `certonly --nginx --nginx-ctl WRAPPER --nginx-server-root ROOT` is renewed by `acmed renew`
# through the same WRAPPER and ROOT (renewals used to run plain `nginx` against /etc/nginx), and
# the renewal conf holds them under certbot's keys. nginx runs on a free loopback port from a
# config root in the test dir and is stopped by its PID, pass or fail.
. "$(dirname "$0")/lib.sh"

command -v nginx >/dev/null || { echo "SKIP: nginx is not installed"; exit 77; }
start_pebble
ROOT="$TEST_DIR/nginx"
mkdir -p "$ROOT/sites"
nginx_conf "$ROOT" "access_log off;" "include sites/*;"
printf '%s\n' "server {" "	listen 127.0.0.1:$HTTP01_PORT;" "	server_name a.test;" \
  "	location / { return 200 \"a\\n\"; }" "}" >"$ROOT/sites/a.test"
start_nginx "$ROOT"

# The nginx acmed must run: a wrapper that logs each call, then runs the real nginx.
WRAP="$TEST_DIR/bin/nginx-wrapper"
mkdir -p "$TEST_DIR/bin"
printf '%s\n' '#!/bin/sh' "echo \"\$*\" >>\"$TEST_DIR/ctl.log\"" 'exec nginx "$@"' >"$WRAP"
chmod 755 "$WRAP"

log "certonly --nginx with --nginx-ctl and --nginx-server-root"
acmed_pebble certonly --nginx --nginx-ctl "$WRAP" --nginx-server-root "$ROOT" \
  --http-01-port "$HTTP01_PORT" -d a.test || fail "certonly --nginx failed"
[ -s "$TEST_DIR/ctl.log" ] || fail "certonly did not run the --nginx-ctl program"
CONF="$ACMED_CONFIG_DIR/renewal/a.test.conf"
grep -qx "nginx_ctl = $WRAP" "$CONF" || { cat "$CONF"; fail "nginx_ctl not stored"; }
grep -qx "nginx_server_root = $ROOT" "$CONF" || { cat "$CONF"; fail "nginx_server_root not stored"; }
grep -qx "http01_port = $HTTP01_PORT" "$CONF" || { cat "$CONF"; fail "http01_port not stored"; }

log "renew --force-renewal uses the stored program and root"
: >"$TEST_DIR/ctl.log"
acmed_pebble renew --force-renewal || fail "renew failed"
[ "$(readlink "$ACMED_CONFIG_DIR/live/a.test/cert.pem" | sed 's/.*cert\([0-9]*\)\.pem/\1/')" = 2 ] \
  || fail "a.test was not renewed"
[ -s "$TEST_DIR/ctl.log" ] || fail "the renewal did not run the stored --nginx-ctl program"
grep -q -- "-c $ROOT/nginx.conf" "$TEST_DIR/ctl.log" \
  || { cat "$TEST_DIR/ctl.log"; fail "the renewal did not use the stored --nginx-server-root"; }
log "install --https-port: nginx serves a.test over TLS on that port, the redirect names it"
HTTPS_PORT=$(free_port)
pebble_root "$TEST_DIR/root.pem"
acmed_pebble install --nginx --nginx-ctl "$WRAP" --nginx-server-root "$ROOT" --cert-name a.test \
  --http-01-port "$HTTP01_PORT" --https-port "$HTTPS_PORT" || fail "install --https-port failed"
grep -rq "listen 127.0.0.1:$HTTPS_PORT ssl\|listen $HTTPS_PORT ssl" "$ROOT/sites/a.test" \
  || { cat "$ROOT/sites/a.test"; fail "no TLS listener on --https-port"; }
curl -sf --max-time 5 --cacert "$TEST_DIR/root.pem" --resolve "a.test:$HTTPS_PORT:127.0.0.1" \
  "https://a.test:$HTTPS_PORT/" >"$TEST_DIR/https.out" || fail "nothing serves a.test on $HTTPS_PORT"
[ "$(cat "$TEST_DIR/https.out")" = a ] || fail "the TLS server answers: $(cat "$TEST_DIR/https.out")"
loc=$(curl -s --max-time 5 -o /dev/null -w '%{redirect_url}' --resolve "a.test:$HTTP01_PORT:127.0.0.1" \
  "http://a.test:$HTTP01_PORT/x")
[ "$loc" = "https://a.test:$HTTPS_PORT/x" ] || fail "the redirect goes to '$loc'"
grep -qx "https_port = $HTTPS_PORT" "$CONF" || { cat "$CONF"; fail "https_port not stored"; }
expect_fail acmed_pebble install --nginx --nginx-server-root "$ROOT" --cert-name a.test \
  --http-01-port "$HTTP01_PORT" --https-port 0
grep -q -- "--https-port" <<<"$LAST_ERR" || fail "a bad --https-port is not named: $LAST_ERR"
log "PASS"
