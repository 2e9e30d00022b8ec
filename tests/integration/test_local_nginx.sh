#!/usr/bin/env bash
# `acmed --nginx --local -d myapp.test`: a developer's nginx gets HTTPS and the redirect from the
# local development CA, through the same installer as production, with no ACME server.
. "$(dirname "$0")/lib.sh"
exclusive_system_resources

export HOME="$TEST_DIR/home" ACMED_LOCAL_CAROOT="$TEST_DIR/caroot"
export ACMED_LOCAL_SYSTEM_ROOT="$TEST_DIR/sysroot"  # never the real system store
mkdir -p "$HOME" "$ACMED_LOCAL_SYSTEM_ROOT/usr/local/share/ca-certificates"
for port in 80 443; do
  ss -Hltn "sport = :$port" | seen . && fail "port $port is in use"
done

NGX="$TEST_DIR/nginx"
mkdir -p "$NGX/sites-enabled"
nginx_conf "$NGX" "access_log off;" "include sites-enabled/*;"
cat >"$NGX/sites-enabled/myapp" <<'CONF'
server {
    listen 127.0.0.1:80;
    server_name myapp.test;
    location / { return 200 "hello from myapp\n"; }
}
CONF
start_nginx "$NGX"
wait_for_port 80

log "without a local CA: a clear error, nothing changed"
BEFORE=$(tree_digest "$NGX/sites-enabled")
expect_fail acmed --nginx --nginx-server-root "$NGX" --local -d myapp.test
echo "$LAST_ERR" | seen "acmed local install" || fail "no hint to run 'acmed local install'"
[ "$(tree_digest "$NGX/sites-enabled")" = "$BEFORE" ] || fail "the site changed without a CA"

acmed local install >/dev/null 2>&1 || true
[ -f "$ACMED_LOCAL_CAROOT/rootCA.pem" ] || fail "local install did not create the CA"

log "acmed --nginx --local -d myapp.test"
acmed --nginx --nginx-server-root "$NGX" --local -d myapp.test || fail "--nginx --local failed"
curl -sS --max-time 10 --cacert "$ACMED_LOCAL_CAROOT/rootCA.pem" --resolve myapp.test:443:127.0.0.1 \
  https://myapp.test/ | seen "hello from myapp" || fail "the site does not answer over HTTPS"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' --resolve myapp.test:80:127.0.0.1 http://myapp.test/)
[ "$code" = 301 ] || fail "port 80 answers $code, not 301"
grep -q "^authenticator = local" "$ACMED_CONFIG_DIR/renewal/myapp.test.conf" \
  || fail "the lineage is not marked as the local CA's"
grep -q "^installer = nginx" "$ACMED_CONFIG_DIR/renewal/myapp.test.conf" \
  || fail "the lineage does not record nginx, so renewals would not reload it"
echo "local nginx ok"
