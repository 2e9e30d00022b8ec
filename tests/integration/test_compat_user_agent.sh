#!/usr/bin/env bash
# --user-agent (certbot's): the User-Agent header acmed sends to the CA is the given text; without
# it, acmed/VERSION. A loopback listener records each request's User-Agent and answers 404 (so
# acmed stops at the directory, which is all this needs), for certonly and register.
. "$(dirname "$0")/lib.sh"
need python3

port=$(free_port)
UA="$TEST_DIR/agents"
start_bg listener python3 -c '
import http.server, sys
out, port = sys.argv[1], int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        with open(out, "a") as f:
            f.write(self.headers.get("User-Agent", "(none)") + "\n")
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_GET = do_HEAD = do_POST = answer
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", port), H)
s.timeout = 1
import time
end = time.time() + 300
while time.time() < end:
    s.handle_request()
' "$UA" "$port"
wait_for_port "$port" 20 listener
server="http://127.0.0.1:$port/dir"
# agent_of CMD...: runs acmed CMD (it must fail at the directory) and prints the User-Agent
# of the one request it sent.
agent_of() {
  : >"$UA"
  expect_fail acmed "$@" --server "$server" --non-interactive --agree-tos \
    --register-unsafely-without-email 2>/dev/null
  echo "$LAST_ERR" | seen 'not an ACME directory' || fail "unexpected error: $LAST_ERR"
  [ "$(wc -l <"$UA")" = 1 ] || fail "expected one request, got: $(cat "$UA")"
  cat "$UA"
}

log "certonly --user-agent sends the given text"
got=$(agent_of certonly --standalone -d ua.test --user-agent 'my-fleet/2.1 (ops; +https://ops.test)')
[ "$got" = 'my-fleet/2.1 (ops; +https://ops.test)' ] || fail "User-Agent was '$got'"

log "without --user-agent: acmed/VERSION"
version=$("$ACMED_BIN" --version | awk '{print $NF}')
got=$(agent_of certonly --standalone -d ua.test)
[ "$got" = "acmed/$version" ] || fail "default User-Agent was '$got', expected acmed/$version"

log "register sends it too; given twice, the last wins"
got=$(agent_of register --user-agent first/1 --user-agent 'second/2')
[ "$got" = second/2 ] || fail "register: User-Agent was '$got'"

log "user-agent in a cli.ini, as certbot reads it"
printf 'user-agent = from-ini/3 (cli.ini)\n' >"$TEST_DIR/cli.ini"
got=$(agent_of -c "$TEST_DIR/cli.ini" certonly --standalone -d ua.test)
[ "$got" = 'from-ini/3 (cli.ini)' ] || fail "cli.ini: User-Agent was '$got'"
