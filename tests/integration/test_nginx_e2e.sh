#!/usr/bin/env bash
# End to end with the real Debian nginx and Pebble: `acmed --nginx` proves example.test through the
# running nginx (http-01), serves the certificate on 443 with a 301 from plain HTTP, a second run
# changes nothing, `acmed rollback` restores the tree byte for byte; `--no-redirect`,
# `certonly --nginx`, `install --dry-run`, `enhance --redirect` (with --dry-run); and failures (a config nginx already rejects, port 443
# taken so the new config cannot be served, nginx stopped, a read-only site file) leave the tree
# byte-identical and the old site answering. nginx runs from a config root in the test dir, on
# loopback, and is stopped by the PID in its pid file, pass or fail.
. "$(dirname "$0")/lib.sh"
exclusive_system_resources

need nginx

start_pebble
ROOT="$TEST_DIR/nginx"
mkdir -p "$ROOT/sites-available" "$ROOT/sites-enabled"
nginx_conf "$ROOT" "access_log off;" "include sites-enabled/*;"
make_site() {  # make_site NAME: a server block for NAME on the http-01 port
  printf '%s\n' \
    "# the $1 site" \
    "server {" \
    "	listen 127.0.0.1:$HTTP01_PORT;" \
    "	server_name $1;" \
    "	location / {" \
    "		return 200 \"hello from $1\\n\";" \
    "	}" \
    "}" >"$ROOT/sites-available/$1"
  ln -s "../sites-available/$1" "$ROOT/sites-enabled/$1"
}
make_site example.test
make_site other.test

start_nginx "$ROOT"

NGINX_FLAGS=(--nginx --nginx-server-root "$ROOT" --http-01-port "$HTTP01_PORT")
http_get() {  # http_get HOST PATH -> "<code> <redirect url>"
  curl -s -o /dev/null --max-time 5 -H "Host: $1" -w '%{http_code} %{redirect_url}' \
    "http://127.0.0.1:$HTTP01_PORT$2"
}
site_answers() {
  [ "$(curl -s --max-time 5 -H 'Host: example.test' "http://127.0.0.1:$HTTP01_PORT/")" = \
    "hello from example.test" ] || fail "the old site does not answer on plain HTTP"
}
https_body() {
  curl -s --max-time 5 --cacert "$TEST_DIR/pebble-root.pem" \
    --resolve example.test:443:127.0.0.1 https://example.test/
}
ORIGINAL=$(tree_digest "$ROOT")

log "a config nginx already rejects is reported and left alone"
echo "include $ROOT/missing.conf;" >"$ROOT/sites-available/broken"
ln -s ../sites-available/broken "$ROOT/sites-enabled/broken"
BROKEN=$(tree_digest "$ROOT")
expect_fail acmed_pebble "${NGINX_FLAGS[@]}" -d example.test
[ "$(tree_digest "$ROOT")" = "$BROKEN" ] || fail "acmed touched a config nginx rejects"
rm "$ROOT/sites-enabled/broken" "$ROOT/sites-available/broken"
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "test setup: tree differs"

log "acmed --nginx -d example.test"
acmed_pebble "${NGINX_FLAGS[@]}" -d example.test || fail "acmed --nginx failed"
LIVE="$ACMED_CONFIG_DIR/live/example.test"
pebble_root "$TEST_DIR/pebble-root.pem"
verify_chain "$LIVE/fullchain.pem" "$TEST_DIR/pebble-root.pem"
[ "$(https_body)" = "hello from example.test" ] || fail "HTTPS does not serve the site"
[ "$(http_get example.test '/x?y=1')" = "301 https://example.test/x?y=1" ] || fail "no 301 on plain HTTP"
[ "$(http_get other.test /)" = "200 " ] || fail "the other server block changed"
openssl s_client -connect 127.0.0.1:443 -servername example.test -tls1_2 </dev/null >/dev/null 2>&1 \
  || fail "TLSv1.2 is not offered"
if openssl s_client -connect 127.0.0.1:443 -servername example.test -tls1_1 </dev/null >/dev/null 2>&1; then
  fail "TLSv1.1 is offered"
fi
grep -q "managed by acmed" "$ROOT/sites-available/example.test" || fail "edits are not marked"
[ -L "$ROOT/sites-enabled/example.test" ] || fail "the sites-enabled symlink was replaced"
DEPLOYED=$(tree_digest "$ROOT")

log "second run changes nothing"
acmed_pebble "${NGINX_FLAGS[@]}" -d example.test || fail "second run failed"
[ "$(tree_digest "$ROOT")" = "$DEPLOYED" ] || fail "second run changed the nginx config"

log "acmed rollback restores the tree byte for byte"
acmed rollback || fail "rollback failed"
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "rollback did not restore the tree"
site_answers

log "install --dry-run shows the diff and changes nothing"
acmed install "${NGINX_FLAGS[@]}" --cert-name example.test --dry-run >"$TEST_DIR/dry.out" \
  || fail "dry run failed"
grep -q '^+.*listen 443 ssl' "$TEST_DIR/dry.out" || fail "dry run shows no diff"
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "dry run changed the config"

log "port 443 taken: the new config cannot be served, everything is restored"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=squatter \
  -keyout "$TEST_DIR/squat.key" -out "$TEST_DIR/squat.pem" 2>/dev/null
start_bg squatter openssl s_server -accept 127.0.0.1:443 -cert "$TEST_DIR/squat.pem" \
  -key "$TEST_DIR/squat.key" -www
SQUAT_PID=$BG_PID
wait_for_port 443
expect_fail acmed install "${NGINX_FLAGS[@]}" --cert-name example.test
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "a failed install left changes behind"
site_answers
stop_pid "$SQUAT_PID"

log "a read-only site file: refused, nothing changed"
chmod 0444 "$ROOT/sites-available/example.test"
RO=$(tree_digest "$ROOT")
expect_fail acmed install "${NGINX_FLAGS[@]}" --cert-name example.test
[ "$(tree_digest "$ROOT")" = "$RO" ] || fail "the read-only case changed the tree"
chmod 0644 "$ROOT/sites-available/example.test"

log "nginx stopped: install fails and restores the tree"
stop_nginx
expect_fail acmed install "${NGINX_FLAGS[@]}" --cert-name example.test
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "install with nginx stopped left changes"
start_nginx "$ROOT"
site_answers

log "--no-redirect keeps plain HTTP serving the site"
acmed install "${NGINX_FLAGS[@]}" --cert-name example.test --no-redirect || fail "install failed"
[ "$(http_get example.test /)" = "200 " ] || fail "--no-redirect still redirects"
[ "$(https_body)" = "hello from example.test" ] || fail "HTTPS does not serve the site"

log "enhance --redirect: --dry-run shows the diff only, then the redirect is added"
NO_REDIRECT=$(tree_digest "$ROOT")
acmed enhance "${NGINX_FLAGS[@]}" --cert-name example.test --redirect --dry-run >"$TEST_DIR/enh.diff" \
  || fail "enhance --dry-run failed"
grep -q '^+.*return 301' "$TEST_DIR/enh.diff" || fail "enhance --dry-run shows no redirect in its diff"
[ "$(tree_digest "$ROOT")" = "$NO_REDIRECT" ] || fail "enhance --dry-run changed the tree"
acmed enhance "${NGINX_FLAGS[@]}" --cert-name example.test --redirect || fail "enhance failed"
[ "$(http_get example.test /)" = "301 https://example.test/" ] || fail "enhance added no redirect"
acmed enhance "${NGINX_FLAGS[@]}" --cert-name example.test --redirect || fail "second enhance failed"
expect_fail acmed enhance "${NGINX_FLAGS[@]}" --cert-name example.test
echo "$LAST_ERR" | seen -- "--redirect" || fail "enhance without an enhancement gives no usage hint"
acmed rollback || fail "rollback of enhance failed"
[ "$(tree_digest "$ROOT")" = "$NO_REDIRECT" ] || fail "rollback did not undo the enhancement"
acmed rollback || fail "rollback failed"
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "rollback did not restore the tree"

log "the CA rejects validation: the temporary challenge is removed, the tree is byte-identical"
# away.test is served on 127.0.0.2 only; the CA (through challtestsrv) connects to 127.0.0.1.
printf '%s\n' "server {" "	listen 127.0.0.2:$HTTP01_PORT;" "	server_name away.test;" "	return 403;" "}" \
  >"$ROOT/sites-available/away.test"
ln -s ../sites-available/away.test "$ROOT/sites-enabled/away.test"
nginx -c "$ROOT/nginx.conf" -s reload || fail "nginx reload"
WITH_AWAY=$(tree_digest "$ROOT")
expect_fail acmed_pebble certonly "${NGINX_FLAGS[@]}" -d away.test
[ "$(tree_digest "$ROOT")" = "$WITH_AWAY" ] || fail "a failed validation left the challenge behind"
[ ! -e "$ACMED_CONFIG_DIR/live/away.test" ] || fail "a lineage was created for a failed order"
site_answers
rm "$ROOT/sites-enabled/away.test" "$ROOT/sites-available/away.test"
nginx -c "$ROOT/nginx.conf" -s reload || fail "nginx reload"

log "certonly --nginx proves other.test through nginx and installs nothing"
acmed_pebble certonly "${NGINX_FLAGS[@]}" -d other.test || fail "certonly --nginx failed"
[ -s "$ACMED_CONFIG_DIR/live/other.test/fullchain.pem" ] || fail "no certificate for other.test"
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "certonly left changes in the nginx config"
site_answers
echo "PASS"
