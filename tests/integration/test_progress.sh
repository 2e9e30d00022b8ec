#!/usr/bin/env bash
# The progress line of long waits: a dns-01 issuance through --manual hooks that publish the TXT
# record with nsupdate at a real BIND 9 (which Pebble validates through), with a fixed 3 s
# propagation wait. On a terminal (script(1) gives acmed one) the wait is shown as one line redrawn in place
# and erased at its end; with stderr a file, or under -q, nothing of it is written.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bind_lib.sh"

need script nsupdate python3

start_bind
PEBBLE_DNS_SERVER="$BIND_IP:53" start_pebble
H="$TEST_DIR/hooks"; mkdir -p "$H"
cat >"$H/auth.sh" <<SH
#!/bin/sh
printf 'server %s 53\nupdate add _acme-challenge.%s. 60 TXT "%s"\nsend\n' \
  "$BIND_IP" "\$CERTBOT_DOMAIN" "\$CERTBOT_VALIDATION" | nsupdate -y "hmac-sha256:acmed-key:$BIND_SECRET"
SH
cat >"$H/cleanup.sh" <<SH
#!/bin/sh
printf 'server %s 53\nupdate delete _acme-challenge.%s. TXT "%s"\nsend\n' \
  "$BIND_IP" "\$CERTBOT_DOMAIN" "\$CERTBOT_VALIDATION" | nsupdate -y "hmac-sha256:acmed-key:$BIND_SECRET"
SH
chmod 755 "$H/auth.sh" "$H/cleanup.sh"
# run.sh NAME [FLAGS...]: a dns-01 issuance of NAME with a 3 s wait for propagation (not checked)
cat >"$TEST_DIR/run.sh" <<SH
#!/bin/sh
name=\$1; shift
exec "$ACMED_BIN" -c /dev/null --config-dir "$ACMED_CONFIG_DIR" --work-dir "$TEST_DIR/work" \\
  --logs-dir "$TEST_DIR/logs" certonly --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" \\
  --non-interactive --agree-tos --register-unsafely-without-email --manual \\
  --preferred-challenges dns --manual-auth-hook "$H/auth.sh" --manual-cleanup-hook "$H/cleanup.sh" \\
  --dns-resolver $BIND_IP:53 --dns-propagation-check none --dns-propagation-seconds 3 \\
  -d "\$name" "\$@"
SH
chmod 755 "$TEST_DIR/run.sh"
esc=$(printf '\033')

log "on a terminal: the wait is one line, redrawn in place, then erased"
timeout 120 script -qfec "$TEST_DIR/run.sh tty.example.test" "$TEST_DIR/tty.log" >/dev/null \
  || { cat "$TEST_DIR/tty.log"; fail "issuance on a terminal failed"; }
[ -f "$ACMED_CONFIG_DIR/live/tty.example.test/fullchain.pem" ] || fail "no certificate for tty.example.test"
seen "waiting for the DNS records to propagate (3 s, not checked) (1 s)" <"$TEST_DIR/tty.log" \
  || { cat -v "$TEST_DIR/tty.log"; fail "no progress line on the terminal"; }
seen "(2 s)" <"$TEST_DIR/tty.log" || fail "the progress line was not redrawn"
seen -F "${esc}[K" <"$TEST_DIR/tty.log" || fail "the progress line is not erased in place"
# The line after the wait starts clean: erased, then the next log line.
python3 - "$TEST_DIR/tty.log" <<'PY' || fail "a log line was written onto the progress line"
import sys
text = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
for chunk in text.split("\r\x1b[K")[1:]:
    if chunk.startswith("waiting for"):
        # a progress line ends where the next erase starts: nothing may follow it on that line
        assert "\n" not in chunk, repr(chunk[:200])
PY

log "stderr to a file: no progress line"
"$TEST_DIR/run.sh" file.example.test >"$TEST_DIR/file.out" 2>"$TEST_DIR/file.err" \
  || { cat "$TEST_DIR/file.err"; fail "issuance with stderr to a file failed"; }
if seen "waiting for the DNS" <"$TEST_DIR/file.err"; then fail "a progress line went to a file"; fi
if seen -F "$esc" <"$TEST_DIR/file.err"; then fail "escape sequences went to a file"; fi

log "on a terminal with -q: no progress line"
timeout 120 script -qfec "$TEST_DIR/run.sh quiet.example.test -q" "$TEST_DIR/quiet.log" >/dev/null \
  || { cat "$TEST_DIR/quiet.log"; fail "issuance with -q failed"; }
[ -f "$ACMED_CONFIG_DIR/live/quiet.example.test/fullchain.pem" ] || fail "no certificate for quiet.example.test"
if seen "waiting for" <"$TEST_DIR/quiet.log"; then fail "-q showed a progress line"; fi
echo "PASS"
