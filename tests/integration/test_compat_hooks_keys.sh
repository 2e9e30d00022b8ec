#!/usr/bin/env bash
# certbot's hooks on `certonly` and its private-key permission rule, against Pebble: pre, deploy
# (RENEWED_LINEAGE, RENEWED_DOMAINS) and post (RENEWED_DOMAINS, FAILED_DOMAINS) in that order on
# the first issuance; --dry-run runs pre and post but deploy only with --run-deploy-hooks; a
# failed issuance runs post with FAILED_DOMAINS and no deploy; a failing hook exits non-zero with
# the certificate in place; renewal-hooks/{pre,deploy,post} exist after the first issuance; the
# first key is 0600; a key made group-readable (chgrp ssl-cert, chmod 640) stays so on renewal;
# letsencrypt.log rotated per run with --max-log-backups.
. "$(dirname "$0")/lib.sh"

start_pebble
C=$ACMED_CONFIG_DIR
H="$TEST_DIR/hooks.log"
standalone() {
  acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 "$@"
}
hooks=(--pre-hook "echo pre >> $H"
  --deploy-hook "echo \"deploy \$RENEWED_LINEAGE|\$RENEWED_DOMAINS\" >> $H"
  --post-hook "echo \"post \$RENEWED_DOMAINS|\$FAILED_DOMAINS\" >> $H")

log "certonly runs pre, deploy (with the lineage and its names) and post, in that order"
standalone -d h.test -d www.h.test "${hooks[@]}" >"$TEST_DIR/out" 2>&1 || { cat "$TEST_DIR/out"; fail "certonly"; }
expected="pre
deploy $C/live/h.test|h.test www.h.test
post h.test www.h.test|"
[ "$(cat "$H")" = "$expected" ] || { cat "$H"; fail "hook order or environment"; }

log "renewal-hooks/{pre,deploy,post} exist after the first issuance"
for d in pre deploy post; do [ -d "$C/renewal-hooks/$d" ] || fail "no renewal-hooks/$d"; done

log "the first key is 0600, owned by root (the user acmed runs as)"
[ "$(stat -c '%a %u' "$C/archive/h.test/privkey1.pem")" = "600 $(id -u)" ] \
  || fail "first key is $(stat -c '%a %U' "$C/archive/h.test/privkey1.pem")"

log "--dry-run: pre and post run, deploy does not"
: >"$H"
standalone -d h.test -d www.h.test --dry-run "${hooks[@]}" >/dev/null 2>&1 || fail "dry run"
[ "$(cat "$H")" = "pre
post h.test www.h.test|" ] || { cat "$H"; fail "dry-run hooks"; }

log "--dry-run --run-deploy-hooks runs the deploy hook too"
: >"$H"
standalone -d h.test -d www.h.test --dry-run --run-deploy-hooks "${hooks[@]}" >/dev/null 2>&1 \
  || fail "dry run with deploy hooks"
grep -qx "deploy $C/live/h.test|h.test www.h.test" "$H" || { cat "$H"; fail "no deploy hook in the dry run"; }

log "a failed issuance runs post with FAILED_DOMAINS and no deploy"
: >"$H"
expect_fail acmed_pebble certonly --standalone --http-01-port "$(free_port)" \
  --http-01-address 127.0.0.1 -d bad.test "${hooks[@]}"
[ "$(cat "$H")" = "pre
post |bad.test" ] || { cat "$H"; fail "hooks after a failed issuance"; }

log "a failing deploy hook: non-zero exit naming it, the certificate stays"
expect_fail standalone -d f.test --deploy-hook "exit 3"
echo "$LAST_ERR" | seen "deploy-hook 'exit 3' exited with status 3" || fail "failing hook not named"
[ -f "$C/live/f.test/fullchain.pem" ] || fail "the certificate of a failing deploy hook was lost"

log "a key made group-readable keeps its group and mode on renewal"
getent group ssl-cert >/dev/null || groupadd --system ssl-cert || fail "cannot create group ssl-cert"
chgrp ssl-cert "$C/archive/h.test/privkey1.pem"
chmod 640 "$C/archive/h.test/privkey1.pem"
: >"$H"
acmed_pebble renew --force-renewal --pre-hook true --deploy-hook true \
  --post-hook "echo \"post \$RENEWED_DOMAINS|\$FAILED_DOMAINS\" >> $H" >"$TEST_DIR/out" 2>&1 \
  || { cat "$TEST_DIR/out"; fail "renew"; }
[ "$(readlink "$C/live/h.test/privkey.pem")" = "../../archive/h.test/privkey2.pem" ] || fail "not renewed"
[ "$(stat -c '%a %G' "$C/archive/h.test/privkey2.pem")" = "640 ssl-cert" ] \
  || fail "renewed key is $(stat -c '%a %G' "$C/archive/h.test/privkey2.pem")"
[ "$(stat -c '%a' "$C/archive/f.test/privkey2.pem")" = 600 ] || fail "a 0600 key did not stay 0600"

log "renew's post hook gets RENEWED_DOMAINS and FAILED_DOMAINS"
[ "$(cat "$H")" = "post f.test h.test www.h.test|" ] || { cat "$H"; fail "renew post hook env"; }
log "letsencrypt.log in the logs dir: a new one each run, --max-log-backups old ones kept"
# (Only the explicit --max-log-backups is asserted: Debian's certbot ships /etc/letsencrypt/cli.ini
# with max-log-backups = 0, which acmed reads as certbot does.)
[ -f "$TEST_DIR/logs/letsencrypt.log" ] || { ls "$TEST_DIR/logs"; fail "no letsencrypt.log"; }
grep -rq "Requesting a certificate for h.test" "$TEST_DIR/logs" || fail "the issuance is not in the logs"
for _ in 1 2 3 4; do acmed --logs-dir "$TEST_DIR/l2" certificates --max-log-backups 2 >/dev/null; done
[ "$(ls "$TEST_DIR/l2" | LC_ALL=C sort | tr '\n' ' ')" = "letsencrypt.log letsencrypt.log.1 letsencrypt.log.2 " ] \
  || { ls "$TEST_DIR/l2"; fail "--max-log-backups 2"; }
echo PASS
