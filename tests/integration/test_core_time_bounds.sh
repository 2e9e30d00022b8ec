#!/usr/bin/env bash
# Time bounds through the acmed binary, against a scripted "CA" on loopback (python3): a server
# that accepts and never answers ends at --issuance-timeout; one that trickles its directory a
# byte a second is cut by the low-speed limit; a 503 with a Retry-After longer than the budget
# ends the run at once, naming when to retry. Each exits 75 (temporary) with a one-line error,
# writes nothing, and leaves no process behind. The bounds checked here are generous ceilings
# that only a missing time bound would exceed, not speed targets.
. "$(dirname "$0")/lib.sh"

C=$ACMED_CONFIG_DIR
command -v python3 >/dev/null || fail "python3 is needed for the scripted CA"

# slow_ca MODE PORT: stall (read the request, never answer), trickle (the directory one byte a
# second), busy (503 with Retry-After: 86400). Serves for at most 120 s.
slow_ca() {
  start_bg "ca-$1" python3 -c '
import socket, sys, threading, time
mode, port = sys.argv[1], int(sys.argv[2])
end = time.time() + 120
directory = b"{\"newNonce\":\"http://127.0.0.1:%d/nonce\",\"newAccount\":\"http://127.0.0.1:%d/acct\",\"newOrder\":\"http://127.0.0.1:%d/order\"}" % (port, port, port)
def serve(c):
    c.settimeout(1)
    try:
        data = b""
        while b"\r\n\r\n" not in data and time.time() < end:
            try:
                chunk = c.recv(4096)
            except socket.timeout:
                continue
            if not chunk:
                return
            data += chunk
        if mode == "stall":
            while time.time() < end and c.recv(1):
                pass
        elif mode == "trickle":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(directory))
            for b in directory:
                if time.time() > end:
                    break
                c.sendall(bytes([b]))
                time.sleep(1)
        else:
            body = b"busy"
            c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 86400\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    except OSError:
        pass
    finally:
        c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(8)
s.settimeout(1)
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' "$1" "$2"
  wait_for_port "$2"
}

# slow_run NEEDLE PORT ARGS...: certonly against the CA on PORT fails with exit 75 within a
# 120 s ceiling, its first error line names NEEDLE, nothing is written, no acmed is left.
slow_run() {
  local needle=$1 port=$2; shift 2
  local start=$SECONDS
  expect_fail timeout 120 "$ACMED_BIN" --config-dir "$C" --work-dir "$TEST_DIR/work" \
    --logs-dir "$TEST_DIR/logs" certonly --server "http://127.0.0.1:$port/dir" \
    --standalone --http-01-port "$(free_port)" --http-01-address 127.0.0.1 \
    --non-interactive --agree-tos --register-unsafely-without-email -d slow.test "$@"
  [ "$LAST_RC" != 124 ] || fail "acmed was still running after 120 s"
  [ "$LAST_RC" = 75 ] || fail "exit $LAST_RC, want 75 (temporary)"
  local lines; lines=$(echo "$LAST_ERR" | grep -v '^hint:' | grep -v '^Requesting a certificate' || true)
  [ "$(echo "$lines" | grep -c .)" -le 1 ] || fail "more than a one-line error"
  head -1 <<<"$lines" | seen -F -- "$needle" || fail "the error does not say '$needle'"
  [ ! -e "$C/live" ] && [ ! -e "$C/archive" ] && [ ! -e "$C/accounts" ] || fail "something was written"
  ELAPSED=$((SECONDS - start))
  log "ended after ${ELAPSED}s"
}

log "a CA that accepts and never answers ends at --issuance-timeout"
port=$(free_port); slow_ca stall "$port"
slow_run "issuance timeout (4 s)" "$port" --issuance-timeout 4

log "a directory trickled at one byte a second is cut by the low-speed limit"
port=$(free_port); slow_ca trickle "$port"
slow_run "too slow" "$port"

log "a 503 asking to come back in a day ends the run at once with the time to retry"
port=$(free_port); slow_ca busy "$port"
slow_run "retry after 86400 s" "$port"
grep -q "^hint: run acmed again after 20[0-9-]*T[0-9:]*Z" <<<"$LAST_ERR" || fail "no time to retry in the hint"
[ "$ELAPSED" -lt 30 ] || fail "acmed waited ${ELAPSED}s instead of ending (ceiling 30 s)"

log "bad --issuance-timeout values are refused"
for v in 0 -5 abc; do
  expect_fail "$ACMED_BIN" --config-dir "$C" --work-dir "$TEST_DIR/work" --logs-dir "$TEST_DIR/logs" \
    certonly --server "http://127.0.0.1:$port/dir" --standalone -n --agree-tos \
    --register-unsafely-without-email -d slow.test --issuance-timeout "$v"
  grep -q -- "--issuance-timeout" <<<"$LAST_ERR" || fail "the error for '$v' does not name the flag"
done
echo "PASS"
