#!/usr/bin/env bash
# `acmed migrate` hands a machine from certbot to acmed: Debian's certbot obtains a lineage from
# Pebble; migrate proves it renews under acmed (a dry run against --server), then turns off
# certbot's timer and cron file and turns on acmed.timer, recording what it changed; a lineage
# that would not renew stops it before anything changes; --dry-run changes nothing; a second run
# changes nothing more; acmed renews certbot's lineage; --undo gives the machine back exactly; a
# migration killed (SIGKILL) at each step is completed by a rerun, or reversed by --undo.
# The schedulers are those of a scratch system root (--system-root: systemctl --root), so the
# test changes nothing of this machine.
. "$(dirname "$0")/lib.sh"
need certbot systemctl nginx

start_pebble
pebble_root "$TEST_DIR/root.pem"
C=$ACMED_CONFIG_DIR
certbot_() {
  REQUESTS_CA_BUNDLE="$PEBBLE_CA_BUNDLE" certbot --config-dir "$C" --work-dir "$TEST_DIR/cbwork" \
    --logs-dir "$TEST_DIR/cblogs" --server "$PEBBLE_URL" -n "$@"
}
migrate() {
  acmed migrate --system-root "$ROOT" --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" "$@"
}

log "certbot obtains a lineage (standalone, on the port Pebble validates)"
certbot_ certonly --agree-tos --register-unsafely-without-email --standalone \
  --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 -d migrated.test \
  >"$TEST_DIR/certbot.out" 2>&1 || { cat "$TEST_DIR/certbot.out"; fail "certbot certonly"; }

# A system with certbot's timer enabled, its cron file, and acmed's units installed.
ROOT="$TEST_DIR/sysroot"
mkdir -p "$ROOT/lib/systemd/system" "$ROOT/etc/systemd/system" "$ROOT/etc/cron.d"
printf '[Unit]\nDescription=certbot\n[Service]\nType=oneshot\nExecStart=/usr/bin/certbot -q renew\n' \
  >"$ROOT/lib/systemd/system/certbot.service"
printf '[Unit]\nDescription=certbot twice a day\n[Timer]\nOnCalendar=*-*-* 00,12:00:00\n[Install]\nWantedBy=timers.target\n' \
  >"$ROOT/lib/systemd/system/certbot.timer"
cp "$ACMED_SOURCE_DIR/systemd/acmed.service" "$ACMED_SOURCE_DIR/systemd/acmed.timer" "$ROOT/lib/systemd/system/"
systemctl --quiet --root="$ROOT" enable certbot.timer
echo '0 */12 * * * root test -x /usr/bin/certbot -a \! -d /run/systemd/system && certbot -q renew' \
  >"$ROOT/etc/cron.d/certbot"
wants="$ROOT/etc/systemd/system/timers.target.wants"
original=$(tree_digest "$ROOT")

log "--dry-run prints the changes and changes nothing"
migrate --dry-run >"$TEST_DIR/dry.out" 2>&1 || { cat "$TEST_DIR/dry.out"; fail "migrate --dry-run"; }
for line in "would disable certbot.timer" "would enable acmed.timer" "would move $ROOT/etc/cron.d/certbot"; do
  grep -q "$line" "$TEST_DIR/dry.out" || { cat "$TEST_DIR/dry.out"; fail "dry run lacks: $line"; }
done
[ "$(tree_digest "$ROOT")" = "$original" ] || fail "--dry-run changed the system"

log "a lineage that would not renew under acmed stops the migration before any change"
conf="$C/renewal/migrated.test.conf"
cp "$conf" "$TEST_DIR/conf.good"
sed -i "s/^http01_port = .*/http01_port = $(free_port)/" "$conf"
grep -q "^http01_port = $HTTP01_PORT" "$conf" && fail "the conf edit did not take"
store_before=$(tree_digest "$C/live")
expect_fail migrate
echo "$LAST_ERR" | seen "1 lineage(s) would not renew under acmed: migrated.test" || fail "error: $LAST_ERR"
[ "$(tree_digest "$ROOT")" = "$original" ] || fail "a failed check changed the system"
[ "$(tree_digest "$C/live")" = "$store_before" ] || fail "the dry runs changed the lineage"
[ ! -e "$TEST_DIR/work/acmed/migrate.json" ] || fail "a record was written"
cp "$TEST_DIR/conf.good" "$conf"

log "migrate: certbot's timer and cron off, acmed.timer on, recorded"
migrate >"$TEST_DIR/migrate.out" 2>&1 || { cat "$TEST_DIR/migrate.out"; fail "migrate"; }
[ ! -e "$wants/certbot.timer" ] && [ ! -L "$wants/certbot.timer" ] || fail "certbot.timer still enabled"
[ -L "$wants/acmed.timer" ] || fail "acmed.timer not enabled"
[ ! -e "$ROOT/etc/cron.d/certbot" ] && [ -f "$ROOT/etc/cron.d/certbot.disabled-by-acmed" ] || fail "cron file not moved"
[ "$(stat -c %a "$TEST_DIR/work/acmed/migrate.json")" = 600 ] || fail "record mode"
migrated=$(tree_digest "$ROOT")
migrate >"$TEST_DIR/again.out" 2>&1 || { cat "$TEST_DIR/again.out"; fail "a second migrate"; }
[ "$(tree_digest "$ROOT")" = "$migrated" ] || fail "a second migrate changed the system"

log "acmed renews certbot's lineage"
acmed renew --force-renewal --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" -n \
  >"$TEST_DIR/renew.out" 2>&1 || { cat "$TEST_DIR/renew.out"; fail "acmed renew"; }
[ "$(readlink "$C/live/migrated.test/cert.pem")" = "../../archive/migrated.test/cert2.pem" ] || fail "not renewed"
verify_chain "$C/live/migrated.test/fullchain.pem" "$TEST_DIR/root.pem"
log "nginx serves the lineage acmed renewed"
TLS_PORT=$(free_port)
start_nginx "$TEST_DIR/nginx" "server { listen 127.0.0.1:$TLS_PORT ssl; server_name migrated.test; ssl_certificate $C/live/migrated.test/fullchain.pem; ssl_certificate_key $C/live/migrated.test/privkey.pem; }"
served=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername migrated.test 2>/dev/null \
  | openssl x509 -noout -fingerprint -sha256)
[ "$served" = "$(openssl x509 -noout -fingerprint -sha256 -in "$C/live/migrated.test/cert.pem")" ] \
  || fail "nginx does not serve the renewed certificate ($served)"
stop_nginx

log "--undo gives the system back exactly; a second --undo has nothing to undo"
migrate --undo >"$TEST_DIR/undo.out" 2>&1 || { cat "$TEST_DIR/undo.out"; fail "migrate --undo"; }
[ "$(tree_digest "$ROOT")" = "$original" ] || fail "--undo did not restore the system"
[ ! -e "$TEST_DIR/work/acmed/migrate.json" ] || fail "the record outlived --undo"
expect_fail migrate --undo
echo "$LAST_ERR" | seen "no migration to undo" || fail "second undo: $LAST_ERR"

log "a migration killed at each of its steps: run again it completes; --undo restores"
# A systemctl in front of the real one that kills acmed (its parent) on its Nth call, as a crash
# or a power cut would: no cleanup runs. Call 1 disables certbot.timer (the record is already
# written), call 2 enables acmed.timer (certbot's timer and cron are already off by then).
REAL_SYSTEMCTL=$(command -v systemctl)
mkdir -p "$TEST_DIR/crashbin"
cat >"$TEST_DIR/crashbin/systemctl" <<EOF
#!/bin/sh
n=\$(( \$(cat "$TEST_DIR/calls" 2>/dev/null || echo 0) + 1 ))
echo "\$n" >"$TEST_DIR/calls"
if [ "\$n" = "\$KILL_AT" ]; then kill -9 "\$PPID"; exit 1; fi
exec "$REAL_SYSTEMCTL" "\$@"
EOF
chmod +x "$TEST_DIR/crashbin/systemctl"
for at in 1 2; do
  for then in rerun undo; do
    rm -f "$TEST_DIR/calls"
    rc=0
    KILL_AT=$at PATH="$TEST_DIR/crashbin:$PATH" migrate >"$TEST_DIR/crash.out" 2>&1 || rc=$?
    [ "$rc" = 137 ] || { cat "$TEST_DIR/crash.out"; fail "migrate was not killed at call $at (exit $rc)"; }
    [ -e "$TEST_DIR/work/acmed/migrate.json" ] || fail "no record after a kill at call $at"
    if [ "$then" = rerun ]; then
      migrate >"$TEST_DIR/rerun.out" 2>&1 || { cat "$TEST_DIR/rerun.out"; fail "rerun after a kill at call $at"; }
      [ "$(tree_digest "$ROOT")" = "$migrated" ] || fail "rerun after a kill at call $at: not migrated"
    fi
    migrate --undo >"$TEST_DIR/undo.out" 2>&1 || { cat "$TEST_DIR/undo.out"; fail "--undo after a kill at call $at ($then)"; }
    [ "$(tree_digest "$ROOT")" = "$original" ] || fail "--undo after a kill at call $at ($then): not restored"
    [ ! -e "$TEST_DIR/work/acmed/migrate.json" ] || fail "record left after --undo ($at, $then)"
  done
done

log "bad input: an unknown source, acmed.timer missing"
expect_fail migrate --from nothing
[ "$LAST_RC" = 2 ] || fail "--from nothing: exit $LAST_RC"
rm "$ROOT/lib/systemd/system/acmed.timer"
original=$(tree_digest "$ROOT")
expect_fail migrate
echo "$LAST_ERR" | seen "acmed.timer is not installed" || fail "no timer: $LAST_ERR"
[ "$(tree_digest "$ROOT")" = "$original" ] || fail "changed the system without acmed.timer"
echo "PASS"
