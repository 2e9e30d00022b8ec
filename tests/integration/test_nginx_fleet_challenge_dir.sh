#!/usr/bin/env bash
# Fleet mode on one node: `acmed --nginx --nginx-challenge-dir DIR` (local CA, free high ports)
# makes the real nginx serve DIR/.well-known/acme-challenge/TOKEN over plain HTTP from the site's
# port-80 server block, whatever its root; with the redirect on, that path is still served while
# every other path answers 301. A second install adds nothing.
. "$(dirname "$0")/lib.sh"
need nginx curl

export HOME="$TEST_DIR/home" ACMED_LOCAL_CAROOT="$TEST_DIR/caroot"
export ACMED_LOCAL_SYSTEM_ROOT="$TEST_DIR/sysroot"  # never the real system store
mkdir -p "$HOME" "$ACMED_LOCAL_SYSTEM_ROOT/usr/local/share/ca-certificates"
HTTP=$(free_port)
HTTPS=$(free_port)
NGX="$TEST_DIR/nginx"
FLEET="$TEST_DIR/fleet dir"  # a space: written quoted
mkdir -p "$NGX/sites-enabled" "$FLEET/.well-known/acme-challenge" "$TEST_DIR/www"
echo "fleet-token.key" >"$FLEET/.well-known/acme-challenge/fleet-token"
echo "site page" >"$TEST_DIR/www/index.html"
nginx_conf "$NGX" "access_log off;" "include sites-enabled/*;"
cat >"$NGX/sites-enabled/fleet" <<CONF
server {
    listen 127.0.0.1:$HTTP;
    server_name fleet.test;
    root $TEST_DIR/www;
}
CONF
start_nginx "$NGX"
wait_for_port "$HTTP"

get() {  # get PATH: prints "CODE BODY" for a 200, "CODE LOCATION" for anything else
  local out code
  out=$(curl -s --max-time 5 --resolve "fleet.test:$HTTP:127.0.0.1" -o "$TEST_DIR/body" \
    -w '%{http_code} %{redirect_url}' "http://fleet.test:$HTTP$1") || true
  code=${out%% *}
  if [ "$code" = 200 ]; then echo "200 $(cat "$TEST_DIR/body")"; else echo "$out"; fi
}
TOKEN=/.well-known/acme-challenge/fleet-token
get "$TOKEN" | seen -Fx "404 " || fail "served before acmed set it up: $(get "$TOKEN")"

acmed local install >/dev/null 2>&1 || true
[ -f "$ACMED_LOCAL_CAROOT/rootCA.pem" ] || fail "local install did not create the CA"
FLAGS=(--nginx --nginx-server-root "$NGX" --http-01-port "$HTTP" --https-port "$HTTPS")

log "a relative --nginx-challenge-dir is refused, nothing changed"
BEFORE=$(tree_digest "$NGX")
expect_fail acmed "${FLAGS[@]}" --local -d fleet.test --no-redirect --nginx-challenge-dir fleet
echo "$LAST_ERR" | seen -F -- "--nginx-challenge-dir must be an absolute directory" \
  || fail "no clear error for a relative directory"
[ "$(tree_digest "$NGX")" = "$BEFORE" ] || fail "the config changed on a refused directory"

log "acmed --nginx --local --no-redirect --nginx-challenge-dir"
acmed "${FLAGS[@]}" --local -d fleet.test --no-redirect --nginx-challenge-dir "$FLEET" \
  || fail "--nginx --nginx-challenge-dir failed"
get "$TOKEN" | seen -Fx "200 fleet-token.key" \
  || fail "the fleet's token is not served over plain HTTP: $(get "$TOKEN")"
get / | seen -Fx "200 site page" || fail "the site's own root is not served any more"
seen -F "nginx_challenge_dir = " <"$ACMED_CONFIG_DIR/renewal/fleet.test.conf" \
  || fail "the renewal conf does not keep nginx_challenge_dir"

log "enhance --redirect: the token is still served, everything else is a 301"
acmed enhance --redirect "${FLAGS[@]}" --cert-name fleet.test --nginx-challenge-dir "$FLEET" \
  || fail "enhance --redirect failed"
get "$TOKEN" | seen -Fx "200 fleet-token.key" \
  || fail "the redirect catches the fleet's token: $(get "$TOKEN")"
get /page | seen -Fx "301 https://fleet.test:$HTTPS/page" || fail "no 301: $(get /page)"

log "a second install adds nothing"
BEFORE=$(tree_digest "$NGX")
acmed install "${FLAGS[@]}" --cert-name fleet.test --nginx-challenge-dir "$FLEET" \
  || fail "the second install failed"
[ "$(tree_digest "$NGX")" = "$BEFORE" ] || fail "a second install changed the config"
[ "$(grep -c 'acme-challenge/ {' "$NGX/sites-enabled/fleet")" = 1 ] \
  || fail "the location is not there exactly once"
echo "nginx fleet challenge dir ok"
