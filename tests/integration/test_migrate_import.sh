#!/usr/bin/env bash
# `acmed migrate --from lego|acme.sh` imports another client's accounts and certificates into the
# certbot layout. Debian's lego obtains certificates from Pebble; a second lego store provides
# the certificate and account that are laid out as acme.sh 3.x keeps them (acme.sh is not in
# Debian). Each import: --dry-run changes nothing; the import renews the way the certificate
# was obtained (lego: the lego command in cron; acme.sh: Le_Webroot, Le_API, Le_ReloadCmd);
# what does not map is named and left alone; the source stores never change; cron lines go only
# with --remove-cron; acmed renews and nginx serves the imported lineages; --undo gives back the
# machine exactly; a migration killed after the import is completed by a rerun.
. "$(dirname "$0")/lib.sh"
need lego nginx systemctl

start_pebble
pebble_root "$TEST_DIR/root.pem"
export LEGO_CA_CERTIFICATES="$PEBBLE_CA_BUNDLE"
C=$ACMED_CONFIG_DIR
LEGO=$TEST_DIR/lego-store
lego_() {
  lego --server "$PEBBLE_URL" --accept-tos --http --http.port "127.0.0.1:$HTTP01_PORT" "$@" \
    >>"$TEST_DIR/lego.out" 2>&1 || { cat "$TEST_DIR/lego.out"; fail "lego $*"; }
}
migrate() {
  acmed migrate --system-root "$ROOT" --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" "$@"
}
# served_cert PORT NAME: the SHA-256 fingerprint of the certificate served there for NAME.
served_cert() {
  echo | timeout 10 openssl s_client -connect "127.0.0.1:$1" -servername "$2" 2>/dev/null \
    | openssl x509 -noout -fingerprint -sha256
}
live_cert() { openssl x509 -noout -fingerprint -sha256 -in "$C/live/$1/cert.pem"; }

log "lego obtains lego.test (+ www) for its store, and acme.test (+ www) for the acme.sh one"
lego_ --path "$LEGO" --email admin@lego.test -d lego.test -d www.lego.test run
lego_ --path "$TEST_DIR/lego-for-acmesh" --email admin@acme.test -d acme.test -d www.acme.test run

# A system with acmed's units, lego's renewal in cron.d and acme.sh's in root's crontab.
ROOT="$TEST_DIR/sysroot"
mkdir -p "$ROOT/lib/systemd/system" "$ROOT/etc/systemd/system" "$ROOT/etc/cron.d" \
  "$ROOT/var/spool/cron/crontabs"
cp "$ACMED_SOURCE_DIR/systemd/acmed.service" "$ACMED_SOURCE_DIR/systemd/acmed.timer" "$ROOT/lib/systemd/system/"
LEGO_CRON="17 3 * * * root lego --server $PEBBLE_URL --path $LEGO --email admin@lego.test --domains lego.test --domains www.lego.test --http --http.port 127.0.0.1:$HTTP01_PORT renew --days 30"
printf '# lego renewals\n%s\n' "$LEGO_CRON" >"$ROOT/etc/cron.d/lego"
ACMESH_CRON='37 0 * * * "/root/.acme.sh"/acme.sh --cron --home "/root/.acme.sh" > /dev/null'
printf '%s\n' "$ACMESH_CRON" >"$ROOT/var/spool/cron/crontabs/root"
chmod 600 "$ROOT/var/spool/cron/crontabs/root"
original=$(tree_digest "$ROOT")
lego_digest=$(tree_digest "$LEGO")

log "lego --dry-run: every change printed, nothing changed"
migrate --from lego --source "$LEGO" --dry-run >"$TEST_DIR/dry.out" 2>&1 \
  || { cat "$TEST_DIR/dry.out"; fail "migrate --from lego --dry-run"; }
for line in "would import the account https://127.0.0.1" "would import lego.test from $LEGO/certificates/lego.test.crt (renewed with standalone)" \
  "would enable acmed.timer" "$ROOT/etc/cron.d/lego:2 still runs lego"; do
  seen -F "$line" <"$TEST_DIR/dry.out" || { cat "$TEST_DIR/dry.out"; fail "lego dry run lacks: $line"; }
done
[ "$(tree_digest "$ROOT")" = "$original" ] || fail "--dry-run changed the system"
[ ! -e "$C/renewal" ] || fail "--dry-run wrote into the store"

log "an import whose lineage would not renew (migrate's own flag: a port Pebble does not use) is removed again"
expect_fail migrate --from lego --source "$LEGO" --remove-cron --standalone --http-01-port "$(free_port)"
echo "$LAST_ERR" | seen -F "nothing more is imported: 1 lineage(s) would not renew under acmed: lego.test" \
  || fail "failed check: $LAST_ERR"
[ "$(tree_digest "$ROOT")" = "$original" ] || fail "a failed check changed the system"
! compgen -G "$C/renewal/*.conf" >/dev/null && [ ! -e "$C/live/lego.test" ] || fail "a failed check left the lineage"
[ -z "$(find "$C/accounts" -name private_key.json 2>/dev/null)" ] || fail "a failed check left the account"
[ ! -e "$TEST_DIR/work/acmed/migrate.json" ] || fail "a failed check left a record"

log "lego: imported with the way its cron command obtains it; the cron line commented out"
migrate --from lego --source "$LEGO" --remove-cron >"$TEST_DIR/lego-migrate.out" 2>&1 \
  || { cat "$TEST_DIR/lego-migrate.out"; fail "migrate --from lego"; }
conf="$C/renewal/lego.test.conf"
for kv in "authenticator = standalone" "http01_port = $HTTP01_PORT" "http01_address = 127.0.0.1" \
  "server = $PEBBLE_URL" "key_type = ecdsa"; do
  seen -F "$kv" <"$conf" || { cat "$conf"; fail "lego.test.conf lacks: $kv"; }
done
account=$(sed -n 's/^account = //p' "$conf")
[ -n "$account" ] && [ -n "$(find "$C/accounts" -path "*/$account/private_key.json")" ] \
  || fail "account '$account' not imported"
[ "$(openssl pkey -in "$C/live/lego.test/privkey.pem" -pubout)" = \
  "$(openssl pkey -in "$LEGO/certificates/lego.test.key" -pubout)" ] || fail "the imported key is not lego's"
[ "$(stat -c %a "$(readlink -f "$C/live/lego.test/privkey.pem")")" = 600 ] || fail "imported key mode"
verify_chain "$C/live/lego.test/fullchain.pem" "$TEST_DIR/root.pem"
seen -F "#disabled-by-acmed-migrate# $LEGO_CRON" <"$ROOT/etc/cron.d/lego" || fail "lego's cron line not commented out"
[ -L "$ROOT/etc/systemd/system/timers.target.wants/acmed.timer" ] || fail "acmed.timer not enabled"
[ "$(tree_digest "$LEGO")" = "$lego_digest" ] || fail "the import changed lego's store"

log "acmed renews the imported lego lineage"
acmed renew --force-renewal --cert-name lego.test --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" -n \
  >"$TEST_DIR/renew.out" 2>&1 || { cat "$TEST_DIR/renew.out"; fail "acmed renew lego.test"; }
[ "$(readlink "$C/live/lego.test/cert.pem")" = "../../archive/lego.test/cert2.pem" ] || fail "lego.test not renewed"
verify_chain "$C/live/lego.test/fullchain.pem" "$TEST_DIR/root.pem"

log "lego --undo: the lineage and account go, the cron line and the timer come back"
migrate --undo >"$TEST_DIR/undo.out" 2>&1 || { cat "$TEST_DIR/undo.out"; fail "migrate --undo"; }
[ "$(tree_digest "$ROOT")" = "$original" ] || fail "--undo did not restore the system"
! compgen -G "$C/renewal/*.conf" >/dev/null && [ ! -e "$C/live/lego.test" ] || fail "the imported lineage outlived --undo"
[ -z "$(find "$C/accounts" -name private_key.json)" ] || fail "the imported account outlived --undo"
[ "$(tree_digest "$LEGO")" = "$lego_digest" ] || fail "--undo changed lego's store"

log "a lego migration killed (SIGKILL) at each step: a rerun completes it, or --undo reverses it"
# The steps: the account saved (the record is written before it), the lineage created (then
# the dry-run check runs), enabling acmed.timer (a systemctl in front of the real one kills
# acmed, its parent). Each kill lands wherever the process is at that moment, as a crash would.
REAL_SYSTEMCTL=$(command -v systemctl)
mkdir -p "$TEST_DIR/crashbin"
printf '#!/bin/sh\nkill -9 "$PPID"; exit 1\n' >"$TEST_DIR/crashbin/systemctl"
chmod +x "$TEST_DIR/crashbin/systemctl"
migrate_bin=("$ACMED_BIN" -c /dev/null --config-dir "$C" --work-dir "$TEST_DIR/work" --logs-dir "$TEST_DIR/logs"
  migrate --system-root "$ROOT" --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" --from lego
  --source "$LEGO" --remove-cron)
for at in account lineage systemctl; do
  for then in rerun undo; do
    if [ "$at" = systemctl ]; then
      PATH="$TEST_DIR/crashbin:$PATH" "${migrate_bin[@]}" >"$TEST_DIR/crash.out" 2>&1 &
    else
      "${migrate_bin[@]}" >"$TEST_DIR/crash.out" 2>&1 &
    fi
    pid=$!
    if [ "$at" != systemctl ]; then
      for _ in $(seq 1 2000); do
        if [ "$at" = account ]; then
          [ -n "$(find "$C/accounts" -name private_key.json 2>/dev/null)" ] && break
        else
          [ -e "$C/renewal/lego.test.conf" ] && break
        fi
        sleep 0.005
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" = 137 ] || { cat "$TEST_DIR/crash.out"; fail "migrate was not killed at the $at step (exit $rc)"; }
    [ -e "$TEST_DIR/work/acmed/migrate.json" ] || fail "no record after a kill at the $at step"
    if [ "$then" = rerun ]; then
      migrate --from lego --source "$LEGO" --remove-cron >"$TEST_DIR/rerun.out" 2>&1 \
        || { cat "$TEST_DIR/rerun.out"; fail "rerun after a kill at the $at step"; }
      [ -f "$C/renewal/lego.test.conf" ] && [ -L "$ROOT/etc/systemd/system/timers.target.wants/acmed.timer" ] \
        && seen -F "#disabled-by-acmed-migrate# $LEGO_CRON" <"$ROOT/etc/cron.d/lego" \
        || fail "the rerun after a kill at the $at step did not complete the migration"
      verify_chain "$C/live/lego.test/fullchain.pem" "$TEST_DIR/root.pem"
    fi
    migrate --undo >"$TEST_DIR/undo.out" 2>&1 || { cat "$TEST_DIR/undo.out"; fail "--undo after a kill at the $at step ($then)"; }
    [ "$(tree_digest "$ROOT")" = "$original" ] || fail "--undo after a kill at the $at step ($then): system not restored"
    ! compgen -G "$C/renewal/*.conf" >/dev/null && [ ! -e "$C/live/lego.test" ] && [ ! -e "$C/archive/lego.test" ] \
      || fail "--undo after a kill at the $at step ($then): lineage left"
    [ -z "$(find "$C/accounts" -name private_key.json 2>/dev/null)" ] || fail "--undo after a kill at the $at step ($then): account left"
  done
done
migrate --from lego --source "$LEGO" --remove-cron >"$TEST_DIR/lego-migrate.out" 2>&1 \
  || { cat "$TEST_DIR/lego-migrate.out"; fail "migrate --from lego after the kills"; }

log "acme.sh 3.x store: acme.test by webroot with a reload command, and a DNS-API one left alone"
H="$TEST_DIR/acmesh-home"
L2="$TEST_DIR/lego-for-acmesh"
ACME_PORT=${PEBBLE_URL#https://127.0.0.1:}
ACME_PORT=${ACME_PORT%/dir}
mkdir -p "$H/acme.test_ecc" "$H/cf.test_ecc" "$H/ca/127.0.0.1:$ACME_PORT/dir" "$TEST_DIR/www"
awk '/BEGIN CERTIFICATE/{n++} n==1' "$L2/certificates/acme.test.crt" >"$H/acme.test_ecc/acme.test.cer"
cp "$L2/certificates/acme.test.issuer.crt" "$H/acme.test_ecc/ca.cer"
cat "$H/acme.test_ecc/acme.test.cer" "$H/acme.test_ecc/ca.cer" >"$H/acme.test_ecc/fullchain.cer"
cp "$L2/certificates/acme.test.key" "$H/acme.test_ecc/acme.test.key"
reload="touch $TEST_DIR/reloaded && kill -HUP \$(cat $NGINX_RUN/nginx.pid)"
cat >"$H/acme.test_ecc/acme.test.conf" <<EOF
Le_Domain='acme.test'
Le_Alt='www.acme.test'
Le_Webroot='$TEST_DIR/www'
Le_PreHook=''
Le_PostHook=''
Le_RenewHook=''
Le_API='$PEBBLE_URL'
Le_Keylength='ec-256'
Le_LinkCert='https://127.0.0.1:$ACME_PORT/certZ/1'
Le_CertCreateTime='1764000000'
Le_NextRenewTime='1769000000'
Le_RealFullChainPath='/etc/nginx/ssl/acme.test.pem'
Le_ReloadCmd='__ACME_BASE64__START_$(printf '%s' "$reload" | base64 -w0)__ACME_BASE64__END_'
EOF
cp "$H/acme.test_ecc/"{acme.test.cer,ca.cer,fullchain.cer,acme.test.key} "$H/cf.test_ecc/"
for f in "$H/cf.test_ecc/acme.test."*; do mv "$f" "${f/acme.test./cf.test.}"; done
printf "Le_Domain='cf.test'\nLe_Alt='no'\nLe_Webroot='dns_cf'\nLe_API='%s'\n" "$PEBBLE_URL" >"$H/cf.test_ecc/cf.test.conf"
account_dir=$(dirname "$(find "$L2/accounts" -name account.json)")
cp "$account_dir/keys/admin@acme.test.key" "$H/ca/127.0.0.1:$ACME_PORT/dir/account.key"
url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["registration"]["uri"])' "$account_dir/account.json")
printf "ACCOUNT_URL='%s'\nCA_EMAIL='admin@acme.test'\n" "$url" >"$H/ca/127.0.0.1:$ACME_PORT/dir/ca.conf"
printf "ACCOUNT_EMAIL='admin@acme.test'\nAUTO_UPGRADE='1'\n" >"$H/account.conf"
acmesh_digest=$(tree_digest "$H")
migrated=$(tree_digest "$ROOT")

# nginx: the webroot on the http-01 port, lego.test on LEGO_TLS, acme.test on ACME_TLS.
LEGO_TLS=$(free_port)
ACME_TLS=$(free_port)
tls_server() {
  echo "server { listen 127.0.0.1:$1 ssl; server_name $2; ssl_certificate $C/live/$2/fullchain.pem; ssl_certificate_key $C/live/$2/privkey.pem; }"
}
webroot_server="server { listen 127.0.0.1:$HTTP01_PORT; root $TEST_DIR/www; }"
start_nginx "$TEST_DIR/nginx" "$webroot_server" "$(tls_server "$LEGO_TLS" lego.test)"

migrate --from acme.sh --source "$H" --dry-run >"$TEST_DIR/dry2.out" 2>&1 \
  || { cat "$TEST_DIR/dry2.out"; fail "migrate --from acme.sh --dry-run"; }
for line in "would import acme.test from $H/acme.test_ecc (renewed with webroot)" \
  "cf.test ($H/cf.test_ecc) is not imported: acme.sh obtained it through its DNS API 'dns_cf'" \
  "acme.sh installed copies of acme.test at /etc/nginx/ssl/acme.test.pem" \
  "$ROOT/var/spool/cron/crontabs/root:1 still runs acme.sh"; do
  seen -F "$line" <"$TEST_DIR/dry2.out" || { cat "$TEST_DIR/dry2.out"; fail "acme.sh dry run lacks: $line"; }
done
[ ! -e "$C/renewal/acme.test.conf" ] || fail "--dry-run imported"

log "acme.sh: imported (webroot map, reload command as the deploy hook); cron left on"
migrate --from acme.sh --source "$H" >"$TEST_DIR/acmesh.out" 2>&1 \
  || { cat "$TEST_DIR/acmesh.out"; fail "migrate --from acme.sh"; }
conf="$C/renewal/acme.test.conf"
for kv in "authenticator = webroot" "acme.test = $TEST_DIR/www" "www.acme.test = $TEST_DIR/www" \
  "server = $PEBBLE_URL" "renew_hook = $reload"; do
  seen -F "$kv" <"$conf" || { cat "$conf"; fail "acme.test.conf lacks: $kv"; }
done
[ ! -e "$C/renewal/cf.test.conf" ] || fail "the DNS-API lineage was imported"
[ "$(tree_digest "$H")" = "$acmesh_digest" ] || fail "the import changed acme.sh's store"
[ "$(tree_digest "$ROOT")" = "$migrated" ] || fail "without --remove-cron the system changed"
seen -F "$ACMESH_CRON" <"$ROOT/var/spool/cron/crontabs/root" || fail "acme.sh's cron line changed"

log "acmed renews acme.test (lego.test renewed above: its standalone port is nginx's now); nginx"
log "serves both lineages, acme.test's new certificate once acme.sh's reload command ran"
nginx_conf "$TEST_DIR/nginx" "$webroot_server" "$(tls_server "$LEGO_TLS" lego.test)" "$(tls_server "$ACME_TLS" acme.test)"
kill -HUP "$NGINX_PID"
old_acme=$(live_cert acme.test)
acmed renew --force-renewal --cert-name acme.test --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" -n \
  >"$TEST_DIR/renew2.out" 2>&1 || { cat "$TEST_DIR/renew2.out"; fail "acmed renew"; }
[ -e "$TEST_DIR/reloaded" ] || fail "acme.sh's reload command did not run as the deploy hook"
[ "$(live_cert acme.test)" != "$old_acme" ] || fail "acme.test not renewed"
verify_chain "$C/live/acme.test/fullchain.pem" "$TEST_DIR/root.pem"
ok=
for _ in $(seq 1 50); do
  if [ "$(served_cert "$ACME_TLS" acme.test)" = "$(live_cert acme.test)" ] \
    && [ "$(served_cert "$LEGO_TLS" lego.test)" = "$(live_cert lego.test)" ]; then ok=1; break; fi
  sleep 0.1
done
[ -n "$ok" ] || fail "nginx does not serve the renewed certificates"

log "--undo: both imports go, lego's cron line comes back, the system is as it was"
stop_nginx
migrate --undo >"$TEST_DIR/undo2.out" 2>&1 || { cat "$TEST_DIR/undo2.out"; fail "final --undo"; }
[ "$(tree_digest "$ROOT")" = "$original" ] || fail "the final --undo did not restore the system"
! compgen -G "$C/renewal/*.conf" >/dev/null || fail "imported lineages outlived --undo"
[ "$(tree_digest "$H")" = "$acmesh_digest" ] && [ "$(tree_digest "$LEGO")" = "$lego_digest" ] \
  || fail "a source store changed"

log "bad input: no store at --source; hooks from a conf others can write; nothing to import; a broken file"
expect_fail migrate --from lego --source "$TEST_DIR/nothing"
echo "$LAST_ERR" | seen -F "there is no lego store at $TEST_DIR/nothing" || fail "no store: $LAST_ERR"
chmod 666 "$H/acme.test_ecc/acme.test.conf"
migrate --from acme.sh --source "$H" --dry-run >"$TEST_DIR/dry3.out" 2>&1 || { cat "$TEST_DIR/dry3.out"; fail "dry run"; }
seen -F "the hooks of acme.test are not imported: $H/acme.test_ecc/acme.test.conf is not yours alone" \
  <"$TEST_DIR/dry3.out" || { cat "$TEST_DIR/dry3.out"; fail "hooks from a conf others can write"; }
rm -rf "$H/acme.test_ecc"
expect_fail migrate --from acme.sh --source "$H"
echo "$LAST_ERR" | seen -F "nothing in $H can be imported" || fail "nothing to import: $LAST_ERR"
cp -r "$LEGO" "$TEST_DIR/lego-broken"
echo '{not json' >"$TEST_DIR/lego-broken/certificates/lego.test.json"
expect_fail migrate --from lego --source "$TEST_DIR/lego-broken" --dry-run
echo "$LAST_ERR" | seen -F "lego's certificate $TEST_DIR/lego-broken/certificates/lego.test.crt is not imported" \
  || fail "broken json: $LAST_ERR"
[ "$(tree_digest "$ROOT")" = "$original" ] && ! compgen -G "$C/renewal/*.conf" >/dev/null || fail "bad input changed something"
echo "PASS"
