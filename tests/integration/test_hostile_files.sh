#!/usr/bin/env bash
# Issue 14 item 7: the logs dir is 0700 and letsencrypt.log 0600 whatever the umask (an existing
# world-readable logs dir is tightened), and a contact e-mail with CR/LF or without a proper
# domain is a one-line usage error before anything is sent to the CA.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hostile_lib.sh"
hostile_setup

log "umask 000: a fresh logs dir and log file are private"
rm -rf "$H/logs"
(umask 000 && "$ACMED_BIN" --config-dir "$H/etc" --work-dir "$H/work" --logs-dir "$H/logs" \
  certificates >/dev/null 2>&1) || fail "acmed certificates failed"
[ "$(stat -c %a "$H/logs")" = 700 ] || fail "logs dir is $(stat -c %a "$H/logs")"
[ "$(stat -c %a "$H/logs/letsencrypt.log")" = 600 ] || fail "letsencrypt.log is $(stat -c %a "$H/logs/letsencrypt.log")"

log "an existing 0777 logs dir and 0666 log file are tightened"
chmod 0777 "$H/logs"; chmod 0666 "$H/logs/letsencrypt.log"
(umask 000 && "$ACMED_BIN" --config-dir "$H/etc" --work-dir "$H/work" --logs-dir "$H/logs" \
  certificates >/dev/null 2>&1) || fail "acmed certificates failed"
[ "$(stat -c %a "$H/logs")" = 700 ] || fail "logs dir stayed $(stat -c %a "$H/logs")"
[ "$(stat -c %a "$H/logs/letsencrypt.log")" = 600 ] || fail "letsencrypt.log stayed $(stat -c %a "$H/logs/letsencrypt.log")"

for email in $'ops@example.com\r\nBcc: all@example.com' 'a@b@example.com' 'ops@localhost' 'ops'; do
  log "contact e-mail $(printf %q "$email") is refused"
  : >"$H/events"
  rc=0
  "$ACMED_BIN" --config-dir "$H/etc-fresh" --work-dir "$H/work" --logs-dir "$H/logs" certonly \
    --server "$HOSTILE_URL" --webroot -w "$WWW" -d c.test --agree-tos -m "$email" \
    >"$H/run.out" 2>"$H/run.err" || rc=$?
  cat "$H/run.err" >&2
  [ "$rc" -eq 2 ] || fail "exit $rc, expected 2 (usage)"
  grep -q "is not valid" "$H/run.err" || fail "no message naming the address"
  check_escaped "$H/run.err" "stderr"
  [ "$(grep -c . "$H/run.err")" -le 2 ] || fail "more than an error and a hint line"
  [ ! -s "$H/events" ] || fail "a request was sent: $(head -1 "$H/events")"
done
