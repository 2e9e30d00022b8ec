#!/usr/bin/env bash
# End to end with a real Debian apache2 and Pebble: `acmed --apache` gets a certificate through the
# running apache (http-01), serves it on 443 with a 301 from plain HTTP, a second run changes
# nothing, `acmed rollback` restores the tree byte for byte, and failures (configtest fails after
# the edit, apache stopped) leave the tree byte-identical and the old site answering.
# The config tree is a copy of Debian's /etc/apache2 in the test dir; apache runs on loopback,
# started in the foreground and stopped by PID (lib.sh), pass or fail.
. "$(dirname "$0")/lib.sh"
exclusive_system_resources

need apache2

start_pebble
HTTPS_PORT=443
ROOT="$TEST_DIR/apache2"
RUN="$TEST_DIR/apache-run"  # pid, locks, logs: outside ROOT, whose digest must not move
WWW="$TEST_DIR/www"

# Debian's tree with the package's default modules/confs enabled, on our ports and dirs.
make_apache_tree() {
  cp -r "$ACMED_SOURCE_DIR/tests/data/corpus/apache/debian-apache2-2.4" "$ROOT"
  chmod -R u+w "$ROOT"
  chmod 755 "$TEST_DIR"
  mkdir -p "$ROOT"/{mods-enabled,conf-enabled,sites-enabled} "$RUN"/{run,lock,log} "$WWW"
  local m e
  for m in access_compat alias auth_basic authn_core authn_file authz_core authz_host authz_user \
           autoindex deflate dir env filter mime mpm_event negotiation reqtimeout setenvif status; do
    for e in load conf; do
      [ -e "$ROOT/mods-available/$m.$e" ] && ln -s "../mods-available/$m.$e" "$ROOT/mods-enabled/$m.$e"
    done
  done
  for c in charset localized-error-pages other-vhosts-access-log security serve-cgi-bin; do
    ln -s "../conf-available/$c.conf" "$ROOT/conf-enabled/$c.conf"
  done
  echo "ServerName localhost" >"$ROOT/conf-available/servername.conf"
  ln -s ../conf-available/servername.conf "$ROOT/conf-enabled/servername.conf"
  cat >"$ROOT/envvars" <<EOF
unset HOME
export APACHE_RUN_USER=www-data
export APACHE_RUN_GROUP=www-data
export APACHE_PID_FILE=$RUN/run/apache2.pid
export APACHE_RUN_DIR=$RUN/run
export APACHE_LOCK_DIR=$RUN/lock
export APACHE_LOG_DIR=$RUN/log
export LANG=C
EOF
  cat >"$ROOT/ports.conf" <<EOF
Listen 127.0.0.1:$HTTP01_PORT

<IfModule ssl_module>
	Listen 127.0.0.1:$HTTPS_PORT
</IfModule>
EOF
  echo "hello from example.test" >"$WWW/index.html"
  chmod -R a+rX "$WWW"
  cat >"$ROOT/sites-available/example.conf" <<EOF
<VirtualHost *:$HTTP01_PORT>
	ServerName example.test
	DocumentRoot $WWW
	<Directory $WWW>
		Require all granted
	</Directory>
	ErrorLog \${APACHE_LOG_DIR}/error.log
</VirtualHost>
EOF
  ln -s ../sites-available/example.conf "$ROOT/sites-enabled/example.conf"
}

start_apache() {
  start_bg apache sh -c ". '$ROOT/envvars' && exec apache2 -d '$ROOT' -D FOREGROUND"
  APACHE_PID=$BG_PID
  wait_for_port "$HTTP01_PORT"
}

http_get() { curl -s --max-time 5 --resolve "example.test:$HTTP01_PORT:127.0.0.1" "$@"; }
https_get() {
  curl -s --max-time 5 --cacert "$TEST_DIR/root.pem" --resolve "example.test:$HTTPS_PORT:127.0.0.1" "$@"
}

acmed_apache() {
  acmed_pebble --apache --apache-server-root "$ROOT" --http-01-port "$HTTP01_PORT" "$@"
}

make_apache_tree
start_apache
[ "$(http_get "http://example.test:$HTTP01_PORT/")" = "hello from example.test" ] || fail "site not up"
ORIGINAL=$(tree_digest "$ROOT")

log "certonly --apache changes nothing in the tree"
acmed_apache certonly -d example.test || fail "certonly --apache failed"
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "certonly --apache left changes in $ROOT"
[ ! -e "$ROOT/conf-enabled/acmed-http01.conf" ] || fail "http-01 snippet left behind"

log "a configtest failure after the edit leaves the tree byte-identical"
cp "$ROOT/mods-available/rewrite.load" "$TEST_DIR/rewrite.load.orig"
echo "LoadModule rewrite_module /usr/lib/apache2/modules/mod_no_such_rewrite.so" >"$ROOT/mods-available/rewrite.load"
BROKEN=$(tree_digest "$ROOT")
expect_fail acmed_apache install --cert-name example.test
[ "$(tree_digest "$ROOT")" = "$BROKEN" ] || fail "failed install changed the tree"
[ "$(http_get "http://example.test:$HTTP01_PORT/")" = "hello from example.test" ] || fail "old site gone"
cp "$TEST_DIR/rewrite.load.orig" "$ROOT/mods-available/rewrite.load"
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "could not restore the test's own change"

log "acmed --apache deploys"
acmed_apache -d example.test || fail "acmed --apache failed"
pebble_root "$TEST_DIR/root.pem"
[ "$(https_get "https://example.test/")" = "hello from example.test" ] || fail "https does not serve the site"
code=$(http_get -o /dev/null -w '%{http_code} %{redirect_url}' "http://example.test:$HTTP01_PORT/x")
[ "$code" = "301 https://example.test/x" ] || fail "port $HTTP01_PORT answers '$code', not a 301"
if https_get --tlsv1.0 --tls-max 1.1 -o /dev/null "https://example.test/"; then
  fail "TLS 1.1 or older accepted"
fi
DEPLOYED=$(tree_digest "$ROOT")

log "a second run changes nothing"
acmed_apache -d example.test || fail "second run failed"
[ "$(tree_digest "$ROOT")" = "$DEPLOYED" ] || fail "second run changed the tree"

log "acmed rollback restores the tree byte for byte"
acmed rollback || fail "rollback failed"
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "rollback did not restore $ROOT"
[ "$(http_get "http://example.test:$HTTP01_PORT/")" = "hello from example.test" ] || fail "site gone after rollback"

log "--no-redirect: HTTPS added, plain HTTP keeps serving the site"
acmed_apache -d example.test --no-redirect || fail "acmed --apache --no-redirect failed"
[ "$(https_get "https://example.test/")" = "hello from example.test" ] || fail "https not served"
[ "$(http_get "http://example.test:$HTTP01_PORT/")" = "hello from example.test" ] || fail "port $HTTP01_PORT redirects"
acmed rollback || fail "second rollback failed"
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "rollback after --no-redirect did not restore $ROOT"

log "certbot's --apache-enmod a2enmod / --apache-ensite a2ensite are accepted; other programs refused"
acmed_apache install --cert-name example.test --apache-enmod a2enmod --apache-ensite /usr/sbin/a2ensite \
  --dry-run >/dev/null || fail "--apache-enmod a2enmod was refused"
expect_fail acmed_apache install --cert-name example.test --apache-enmod /opt/my-enmod
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "an --apache-enmod check changed the tree"

log "the CA rejects validation: the temporary challenge is removed, the tree is byte-identical"
# The DNS server now answers 127.0.0.2 for example.test, where apache does not listen.
curl -sf --max-time 5 -X POST -d '{"host":"example.test.","addresses":["127.0.0.2"]}' \
  "$CHALL_MGMT/add-a" >/dev/null || fail "cannot change challtestsrv's answer"
LIVE_BEFORE=$(tree_digest "$ACMED_CONFIG_DIR/live")
with_new_account expect_fail acmed_apache certonly -d example.test --force-renewal
echo "$LAST_ERR" | seen "example.test" || fail "the validation error does not name example.test"
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "a rejected validation left changes in $ROOT"
[ ! -e "$ROOT/conf-enabled/acmed-http01.conf" ] || fail "http-01 snippet left behind after a rejection"
[ "$(tree_digest "$ACMED_CONFIG_DIR/live")" = "$LIVE_BEFORE" ] || fail "a rejected validation changed live/"
[ "$(http_get "http://example.test:$HTTP01_PORT/")" = "hello from example.test" ] || fail "site gone"
curl -sf --max-time 5 -X POST -d '{"host":"example.test."}' "$CHALL_MGMT/clear-a" >/dev/null || true

log "with apache stopped, install is refused and nothing changes"
stop_pid "$APACHE_PID"
expect_fail acmed_apache install --cert-name example.test
[ "$(tree_digest "$ROOT")" = "$ORIGINAL" ] || fail "install with apache stopped changed the tree"
if (exec 3<>"/dev/tcp/127.0.0.1/$HTTP01_PORT") 2>/dev/null; then fail "acmed started apache"; fi

log "ok"
