#!/usr/bin/env bash
# Bad input to `acmed certonly`: invalid names, conflicting flags, missing e-mail choice, an
# unreachable server, plain http to a non-loopback host, and a "CA" (a real nginx on loopback)
# that answers HTML, non-JSON, JSON that is no directory, 503, a dropped connection or 20 MiB.
# Each exits non-zero with a one-line error naming the thing, writes nothing, and leaves an
# existing lineage untouched. Also: a second acmed while one holds the lock exits 76 naming the PID.
. "$(dirname "$0")/lib.sh"

start_pebble
C=$ACMED_CONFIG_DIR
SA=(--standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1)

# digest of a dir without the lock file (it holds the PID of the last holder, by design)
dir_digest() {
  [ -d "$1" ] || { echo absent; return; }
  (cd "$1" && find . -path ./.acmed.lock -prune -o -printf '%p %m %l\n' | LC_ALL=C sort && \
    find . -path ./.acmed.lock -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) \
    | sha256sum | cut -d' ' -f1
}
# error_lines: stderr of the last failure without hint lines and progress lines
error_lines() { echo "$LAST_ERR" | grep -v '^hint:' | grep -v '^Requesting a certificate' || true; }
# bad NEEDLE RC ARGS...: acmed ARGS must exit RC ("any" = any non-zero) with a one-line error
# containing NEEDLE, write nothing into the config dir, and create no live/ or archive/.
bad() {
  local needle=$1 want_rc=$2; shift 2
  local before; before=$(dir_digest "$C")
  local had_live=0; [ -e "$C/live" ] && had_live=1
  expect_fail timeout 60 "$ACMED_BIN" --config-dir "$C" --work-dir "$TEST_DIR/work" \
    --logs-dir "$TEST_DIR/logs" "$@"
  [ "$want_rc" = any ] || [ "$LAST_RC" = "$want_rc" ] || fail "exit $LAST_RC, want $want_rc: $*"
  [ "$LAST_RC" != 124 ] || fail "timed out: $*"
  local lines; lines=$(error_lines)
  [ "$(echo "$lines" | grep -c .)" -le 2 ] || fail "more than a one-line error for: $*"
  echo "$lines" | sed -n 1p | seen -iF -- "$needle" || fail "first error line does not name '$needle': $*"
  [ "$(dir_digest "$C")" = "$before" ] || fail "the config dir changed after: $*"
  if [ "$had_live" = 0 ]; then
    [ ! -e "$C/live" ] && [ ! -e "$C/archive" ] || fail "live/ or archive/ created by: $*"
  fi
}
pebble_args=(--server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" --non-interactive --agree-tos)
certonly_bad() { local n=$1 rc=$2; shift 2; bad "$n" "$rc" certonly "${pebble_args[@]}" --register-unsafely-without-email "$@"; }

long_label=$(printf 'a%.0s' $(seq 1 64))
long_name=$(for _ in 1 2 3 4 5; do printf '%s.' "$(printf 'b%.0s' $(seq 1 50))"; done)test

run_name_cases() {
  certonly_bad "a..b.test" any "${SA[@]}" -d a..b.test
  certonly_bad "$long_label" any "${SA[@]}" -d "$long_label.test"
  certonly_bad "bbbbbbbbbb" any "${SA[@]}" -d "$long_name"
  certonly_bad "bad_char.test" any "${SA[@]}" -d bad_char.test
  certonly_bad "-lead.test" any "${SA[@]}" -d -lead.test
  certonly_bad "a/b.test" any "${SA[@]}" -d a/b.test
  certonly_bad "*.wild.test" any "${SA[@]}" -d '*.wild.test'
  certonly_bad "bücher.test" any "${SA[@]}" -d bücher.test
  echo "$LAST_ERR" | seen -i "punycode" || fail "no punycode hint for bücher.test"
  certonly_bad "a..b.test" any "${SA[@]}" -d ok.test -d a..b.test  # one bad name spoils the order
}

log "invalid names before any lineage exists: nothing created"
run_name_cases

log "conflicting flags exit 2"
certonly_bad "--webroot" 2 --standalone --webroot -w "$TEST_DIR" -d c.test
bad "--staging" 2 certonly --staging --server "$PEBBLE_URL" --register-unsafely-without-email "${SA[@]}" -d c.test
certonly_bad "--eab-hmac-key" 2 "${SA[@]}" --eab-kid kid-1 -d c.test
log "no e-mail and no --register-unsafely-without-email: usage error"
bad "e-mail" 2 certonly "${pebble_args[@]}" "${SA[@]}" -d c.test

log "an existing lineage, then everything again: it stays untouched"
"$ACMED_BIN" --config-dir "$C" --work-dir "$TEST_DIR/work" --logs-dir "$TEST_DIR/logs" certonly \
  "${pebble_args[@]}" --register-unsafely-without-email "${SA[@]}" -d keep.test >/dev/null 2>&1 \
  || fail "issuing keep.test"
run_name_cases
certonly_bad "--webroot" 2 --standalone --webroot -w "$TEST_DIR" -d keep.test

log "unreachable server: exit 75"
dead=$(free_port)
bad "127.0.0.1:$dead" 75 certonly --server "http://127.0.0.1:$dead/dir" --non-interactive --agree-tos \
  --register-unsafely-without-email "${SA[@]}" -d keep.test --force-renewal
log "plain http to a non-loopback host is refused"
bad "http://192.0.2.1/dir" any certonly --server "http://192.0.2.1/dir" --non-interactive --agree-tos \
  --register-unsafely-without-email "${SA[@]}" -d keep.test --force-renewal

log "a bad CA served by nginx on loopback"
need nginx  # serves the bad-CA cases
NG="$TEST_DIR/nginx"; NPORT=$(free_port)
mkdir -p "$NG"
head -c $((20 * 1024 * 1024)) /dev/zero | tr '\0' '{' >"$NG/big.json"
start_nginx "$NG" "access_log off;" "server {" \
  "  listen 127.0.0.1:$NPORT;" \
  '  location = /html { default_type text/html; return 200 "<html><body>hello</body></html>"; }' \
  '  location = /nonjson { default_type application/json; return 200 "this is {not json"; }' \
  "  location = /notdir { default_type application/json; return 200 '{\"hello\": \"world\", \"n\": [1, 2]}'; }" \
  "  location = /wrongshape { default_type application/json; return 200 '{\"newNonce\": 5, \"newAccount\": [\"x\"], \"newOrder\": {}}'; }" \
  "  location = /503 { return 503; }" \
  "  location = /drop { return 444; }" \
  "  location = /big { default_type application/json; alias $NG/big.json; }" \
  "}"
wait_for_port "$NPORT"
for path in html nonjson notdir wrongshape 503 drop big; do
  log "--server http://127.0.0.1:$NPORT/$path"
  bad "127.0.0.1:$NPORT" any certonly --server "http://127.0.0.1:$NPORT/$path" --non-interactive \
    --agree-tos --register-unsafely-without-email "${SA[@]}" -d keep.test --force-renewal
  [ "$LAST_RC" != 2 ] || fail "/$path: a server failure exited 2 (usage)"
done
[ "$LAST_RC" -lt 128 ] || fail "acmed died from a signal on an oversized response"

log "a second acmed while one holds the lock: exit 76 naming the holder PID"
HPORT=$(free_port)
start_bg holder-listener python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $HPORT)); s.listen(8)
conns = []
end = time.time() + 60
while time.time() < end:
    c, _ = s.accept(); conns.append(c)
"
wait_for_port "$HPORT"
start_bg holder "$ACMED_BIN" --config-dir "$C" --work-dir "$TEST_DIR/work" --logs-dir "$TEST_DIR/logs" \
  certonly --server "http://127.0.0.1:$HPORT/dir" --non-interactive --agree-tos \
  --register-unsafely-without-email "${SA[@]}" -d keep.test --force-renewal
HOLDER=$BG_PID
for _ in $(seq 1 50); do [ "$(cat "$C/.acmed.lock" 2>/dev/null | tr -d '\n')" = "$HOLDER" ] && break; sleep 0.1; done
[ "$(cat "$C/.acmed.lock" 2>/dev/null | tr -d '\n')" = "$HOLDER" ] || fail "the holder never took the lock"
kill -0 "$HOLDER" 2>/dev/null || fail "the holder exited too early"
bad "$HOLDER" 76 certonly "${pebble_args[@]}" --register-unsafely-without-email "${SA[@]}" -d keep.test --force-renewal
stop_pid "$HOLDER"

log "trailing dot and upper case are normalised"
"$ACMED_BIN" --config-dir "$C" --work-dir "$TEST_DIR/work" --logs-dir "$TEST_DIR/logs" certonly \
  "${pebble_args[@]}" --register-unsafely-without-email "${SA[@]}" -d FOO.Example.TEST. >"$TEST_DIR/norm.out" 2>&1 \
  || { cat "$TEST_DIR/norm.out"; fail "issuing FOO.Example.TEST."; }
[ -L "$C/live/foo.example.test/cert.pem" ] || { ls "$C/live"; fail "lineage not named foo.example.test"; }
openssl x509 -in "$C/live/foo.example.test/cert.pem" -noout -ext subjectAltName | seen "DNS:foo.example.test$" \
  || fail "certificate not for foo.example.test"
echo "PASS"
