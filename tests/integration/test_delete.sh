#!/usr/bin/env bash
# `acmed delete --cert-name NAME` against lineages issued by Pebble: it refuses while a real
# nginx's or a real apache's config still names the lineage's files (listing file:line of each),
# deletes an unreferenced lineage completely, deletes a referenced one with --force, and every bad
# input (no name, unknown name, bad name, the store lock held) is one line, non-zero, nothing
# changed. nginx and apache run on free loopback ports, stopped by PID.
. "$(dirname "$0")/lib.sh"

need nginx apache2 flock

start_pebble
C=$ACMED_CONFIG_DIR
for name in a.test b.test; do
  acmed_pebble certonly --standalone --http-01-address 127.0.0.1 --http-01-port "$HTTP01_PORT" \
    -d "$name" >"$TEST_DIR/issue.out" 2>&1 || { cat "$TEST_DIR/issue.out"; fail "issuing $name"; }
done

log "a real nginx serving a.test's live files from an included file"
NG="$TEST_DIR/nginx"
NGINX_TLS_PORT=$(free_port)
mkdir -p "$NG/sites"
printf '%s\n' "server {" "	listen 127.0.0.1:$NGINX_TLS_PORT ssl;" "	server_name a.test;" \
  "	ssl_certificate $C/live/a.test/fullchain.pem;" \
  "	ssl_certificate_key $C/live/a.test/privkey.pem;" "	return 200 a;" "}" >"$NG/sites/a.conf"
start_nginx "$NG" "include $NG/sites/*.conf;"
wait_for_port "$NGINX_TLS_PORT"

log "a real apache serving a.test's archive files (Debian's tree, mod_ssl on a free port)"
ROOT="$TEST_DIR/apache2"
RUN="$TEST_DIR/apache-run"
APACHE_TLS_PORT=$(free_port)
cp -r "$ACMED_SOURCE_DIR/tests/data/corpus/apache/debian-apache2-2.4" "$ROOT"
chmod -R u+w "$ROOT"
mkdir -p "$ROOT/mods-enabled" "$ROOT/conf-enabled" "$ROOT/sites-enabled" \
  "$RUN/run" "$RUN/lock" "$RUN/log"
for m in authz_core mime mpm_event socache_shmcb ssl; do
  for e in load conf; do
    if [ -e "$ROOT/mods-available/$m.$e" ]; then
      ln -s "../mods-available/$m.$e" "$ROOT/mods-enabled/$m.$e"
    fi
  done
done
printf '%s\n' "unset HOME" "export APACHE_RUN_USER=www-data" "export APACHE_RUN_GROUP=www-data" \
  "export APACHE_PID_FILE=$RUN/run/apache2.pid" "export APACHE_RUN_DIR=$RUN/run" \
  "export APACHE_LOCK_DIR=$RUN/lock" "export APACHE_LOG_DIR=$RUN/log" "export LANG=C" \
  >"$ROOT/envvars"
echo "Listen 127.0.0.1:$APACHE_TLS_PORT" >"$ROOT/ports.conf"
printf '%s\n' "<VirtualHost 127.0.0.1:$APACHE_TLS_PORT>" "	ServerName a.test" "	SSLEngine on" \
  "	SSLCertificateFile $C/archive/a.test/cert1.pem" \
  "	SSLCertificateKeyFile $C/archive/a.test/privkey1.pem" "</VirtualHost>" \
  >"$ROOT/sites-available/a.conf"
ln -s ../sites-available/a.conf "$ROOT/sites-enabled/a.conf"
start_bg apache sh -c ". '$ROOT/envvars' && exec apache2 -d '$ROOT' -D FOREGROUND"
wait_for_port "$APACHE_TLS_PORT"

# The lineages (the lock file in the config dir holds the PID of its last holder).
store_digest() { echo "$(tree_digest "$C/live") $(tree_digest "$C/archive") $(tree_digest "$C/renewal")"; }
servers=(--nginx-server-root "$NG" --apache-server-root "$ROOT")
before=$(store_digest)

log "refused while both configs name a.test's files, each reference listed as file:line"
expect_fail acmed delete --cert-name a.test "${servers[@]}"
for ref in "$NG/sites/a.conf:4" "$NG/sites/a.conf:5" "$ROOT/sites-enabled/a.conf:4" \
           "$ROOT/sites-enabled/a.conf:5"; do
  grep -qF "$ref" <<<"$LAST_ERR" || fail "the refusal does not name $ref"
done
[ "$(grep -vc '^hint:' <<<"$LAST_ERR")" = 1 ] || fail "the refusal is not one line (and a hint)"
[ "$(store_digest)" = "$before" ] || fail "a refused delete changed the store"

log "bad input: no name, unknown name, bad name, the store lock held"
expect_fail acmed delete "${servers[@]}"
[ "$LAST_RC" = 2 ] || fail "delete without --cert-name exited $LAST_RC, not 2"
grep -q -- "--cert-name" <<<"$LAST_ERR" || fail "no --cert-name hint"
expect_fail acmed delete --cert-name nope.test "${servers[@]}"
grep -q "no certificate named 'nope.test'" <<<"$LAST_ERR" || fail "unknown name not named"
expect_fail acmed delete --cert-name ../a.test "${servers[@]}"
expect_fail flock "$C/.acmed.lock" "$ACMED_BIN" --config-dir "$C" --work-dir "$TEST_DIR/work" \
  --logs-dir "$TEST_DIR/logs" delete --cert-name b.test "${servers[@]}"
[ "$LAST_RC" = 76 ] || fail "delete under a held lock exited $LAST_RC, not 76 (locked)"
[ "$(store_digest)" = "$before" ] || fail "a bad delete changed the store"

log "an unreferenced lineage is deleted completely; the other stays"
acmed delete --cert-name b.test "${servers[@]}" || fail "delete b.test"
for p in live/b.test archive/b.test renewal/b.test.conf .acmed-delete/b.test; do
  [ ! -e "$C/$p" ] || fail "$p is still there after delete"
done
acmed certificates | seen "Certificate Name: a.test" || fail "a.test went too"
if acmed certificates | seen "b.test"; then fail "b.test still listed"; fi

log "--force deletes a referenced lineage, warning about each reference"
acmed delete --cert-name a.test --force "${servers[@]}" >"$TEST_DIR/force.out" 2>&1 \
  || { cat "$TEST_DIR/force.out"; fail "delete --force"; }
grep -qF "$NG/sites/a.conf:4" "$TEST_DIR/force.out" || fail "--force did not warn about nginx"
for p in live/a.test archive/a.test renewal/a.test.conf; do
  [ ! -e "$C/$p" ] || fail "$p is still there after delete --force"
done
echo PASS
