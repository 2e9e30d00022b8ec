# Shared helpers for integration tests: free ports, process cleanup, and a real Pebble CA with
# pebble-challtestsrv as its DNS server, all on loopback.
#
# Source it from a test script:   . "$(dirname "$0")/lib.sh"
# Every process started through start_bg is killed by PID when the script exits, pass or fail.
# A test that cannot run here calls skip (or need), which exits 77: ctest's SKIP_RETURN_CODE
# (tests/CMakeLists.txt). A skip is never a pass: scripts/test.sh, and so CI, fails on any skip.
set -euo pipefail

: "${ACMED_BIN:?ACMED_BIN must point at the acmed binary (ctest sets it)}"
ACMED_SOURCE_DIR="${ACMED_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

TEST_DIR=$(mktemp -d /tmp/acmed-it-XXXXXX)
_PIDS=()
_CLEANUPS=()
_SKIPPED_PARTS=()

_cleanup() {
  local rc=$?
  local i
  for ((i = ${#_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${_CLEANUPS[$i]}" || true; done
  for pid in "${_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ "$rc" -eq 0 ] && ((${#_SKIPPED_PARTS[@]})); then
    printf 'SKIP (part): %s\n' "${_SKIPPED_PARTS[@]}" >&2
    rc=77
  fi
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; then
    rm -rf "$TEST_DIR"
  else
    echo "FAILED (exit $rc); files kept in $TEST_DIR" >&2
  fi
  exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

# `cmd | seen PATTERN` is `cmd | grep -q PATTERN` that reads all of its input first. Under
# pipefail, `cmd | grep -q` fails at random: grep exits on the first match, and when cmd (even
# bash's echo, which writes a line at a time) writes again it dies of SIGPIPE (exit 141).
seen() {
  local input
  input=$(cat)
  grep -q "$@" <<<"$input"
}

# on_exit CMD: run CMD (a string) at exit, before processes are killed; last registered runs first.
on_exit() { _CLEANUPS+=("$1"); }

fail() { echo "FAIL: $*" >&2; exit 1; }
# skip REASON: this test cannot run here; exits 77 (reported by ctest as skipped).
skip() { echo "SKIP: $*" >&2; exit 77; }
# skip_part REASON: a part of the test cannot run here; the rest runs, and the script then exits
# 77 instead of 0 (a failure still exits non-zero as usual).
skip_part() { echo "SKIP (part): $*" >&2; _SKIPPED_PARTS+=("$*"); }
# need PROGRAM...: skips the test unless every PROGRAM is installed.
need() {
  local p
  for p in "$@"; do command -v "$p" >/dev/null || skip "$p is not installed"; done
}
log() { echo "== $*" >&2; }

# start_bg NAME CMD...: starts CMD in the background, output in $TEST_DIR/NAME.log; sets BG_PID.
start_bg() {
  local name=$1; shift
  "$@" >"$TEST_DIR/$name.log" 2>&1 &
  BG_PID=$!
  _PIDS+=("$BG_PID")
}

# stop_pid PID: stops one process started with start_bg and waits for it (bounded).
stop_pid() {
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}

# free_port: prints a TCP/UDP port on 127.0.0.1 that no socket uses, in any state, and that no
# running test has been handed (ctest runs two at a time: a port picked by one test but not yet
# bound must not go to the other). Ports come from 20000-32767, below the kernel's ephemeral
# range (32768-60999): an outgoing connection's local port there would make a later bind fail.
# The machine-wide list /tmp/acmed-test-ports ("PORT PID" of the test script) is changed under
# flock; entries of scripts that have ended are dropped.
_PORTS_FILE=/tmp/acmed-test-ports
free_port() {
  local port pid taken
  exec 8>>"$_PORTS_FILE.lock"
  flock -w 30 8 || fail "cannot lock $_PORTS_FILE.lock"
  taken=$(while read -r port pid; do kill -0 "$pid" 2>/dev/null && echo "$port $pid"; done \
    <"$_PORTS_FILE" 2>/dev/null || true)
  printf '%s\n' "$taken" | grep . >"$_PORTS_FILE.new" || true
  mv "$_PORTS_FILE.new" "$_PORTS_FILE"
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 12768))
    grep -q "^$port " "$_PORTS_FILE" && continue
    if ! ss -Htanu "sport = :$port" | seen .; then
      echo "$port $$" >>"$_PORTS_FILE"
      exec 8>&-
      echo "$port"
      return 0
    fi
  done
  exec 8>&-
  fail "no free port found"
}

# wait_for_port PORT [SECONDS] [NAME]: waits until something listens on 127.0.0.1:PORT. On
# failure, the end of the log of the process start_bg started as NAME is printed.
wait_for_port() {
  local port=$1 limit=${2:-20} name=${3:-}
  for _ in $(seq 1 $((limit * 10))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  if [ -n "$name" ] && [ -f "$TEST_DIR/$name.log" ]; then
    echo "the last lines of $name's log:" >&2
    tail -n 20 "$TEST_DIR/$name.log" >&2
  fi
  fail "nothing listens on port $port after ${limit}s${name:+ ($name)}"
}

# exclusive_system_resources: marks a test that uses what every test on the machine shares (ports
# 80 and 443, the system trust store). tests/CMakeLists.txt finds the call and gives these scripts
# one ctest RESOURCE_LOCK, so a parallel ctest never runs two of them at once. Two ctest runs at
# the same time do not know of each other: wrap such runs in `flock /tmp/acmed-80-443.lock`.
# (No lock is taken here: a daemon started by the test would inherit it and could outlive it.)
exclusive_system_resources() { :; }

# nginx_conf ROOT HTTP_LINE...: writes ROOT/nginx.conf for a test nginx: one worker (run as root),
# 64 connections, its pid file and error log in $NGINX_RUN (outside ROOT, so ROOT's bytes change
# only when acmed edits them), and an http block holding the HTTP_LINEs, one per line. Relative
# includes ("include sites-enabled/*;") are found under ROOT.
NGINX_RUN="$TEST_DIR/nginx-run"
NGINX_PID=
nginx_conf() {
  local root=$1; shift
  mkdir -p "$root" "$NGINX_RUN"
  {
    printf '%s\n' "user root;" "worker_processes 1;" "pid $NGINX_RUN/nginx.pid;" \
      "error_log $NGINX_RUN/error.log;" "events {" "	worker_connections 64;" "}" "http {"
    local line
    for line in "$@"; do printf '\t%s\n' "$line"; done
    printf '}\n'
  } >"$root/nginx.conf"
}

# start_nginx ROOT [HTTP_LINE...]: with HTTP_LINEs, writes ROOT/nginx.conf first (nginx_conf);
# without, starts from the ROOT/nginx.conf already there. Starts nginx from it and waits (bounded)
# for its pid file; sets NGINX_PID to the master's PID, which is stopped at exit, pass or fail.
# One nginx per test: starting a second while the first runs fails.
start_nginx() {
  local root=$1; shift
  [ -z "$NGINX_PID" ] || fail "start_nginx: nginx $NGINX_PID is still running"
  if (($#)); then nginx_conf "$root" "$@"; fi
  mkdir -p "$NGINX_RUN"
  rm -f "$NGINX_RUN/nginx.pid"
  nginx -e "$NGINX_RUN/error.log" -c "$root/nginx.conf" \
    || fail "nginx does not start from $root/nginx.conf (log: $NGINX_RUN/error.log)"
  local pid=
  for _ in $(seq 1 50); do
    pid=$(cat "$NGINX_RUN/nginx.pid" 2>/dev/null || true)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && break
    pid=
    sleep 0.1
  done
  [ -n "$pid" ] || fail "nginx started but wrote no pid file in $NGINX_RUN"
  NGINX_PID=$pid
  if [ -z "${_NGINX_ON_EXIT:-}" ]; then
    _NGINX_ON_EXIT=1
    on_exit stop_nginx
  fi
}

# stop_nginx: stops the nginx start_nginx started, by its PID (bounded); nothing if none runs.
stop_nginx() {
  if [ -n "$NGINX_PID" ]; then stop_pid "$NGINX_PID"; fi
  NGINX_PID=
}

# make_tls_ca DIR: a throwaway CA in DIR (ca.pem, ca.key) and a server cert for localhost and
# 127.0.0.1 signed by it (server.pem, server.key).
make_tls_ca() {
  local dir=$1
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=acmed test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$dir/ext.cnf"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/ext.cnf" -out "$dir/server.pem" 2>/dev/null
}

# start_pebble [HTTP01_PORT]: starts pebble-challtestsrv (DNS answering 127.0.0.1 for every name)
# and Pebble on free loopback ports. Pebble validates http-01 on HTTP01_PORT (default: a free
# port, exported as HTTP01_PORT). Extra Pebble settings come from the environment of the caller:
# PEBBLE_VA_NOSLEEP (default 1), PEBBLE_WFE_NONCEREJECT (default 0), PEBBLE_ALTERNATE_ROOTS
# (default 0: one root; 1 adds an alternate chain), PEBBLE_EAB (set to 1 to
# require External Account Binding with kid "kid-1" and key $EAB_HMAC_KEY), PEBBLE_DNS_SERVER
# (IP:PORT Pebble resolves and validates dns-01 through; default challtestsrv) and
# TLSALPN01_PORT (where Pebble validates tls-alpn-01; default a free port).
# Exports: PEBBLE_URL (directory), PEBBLE_CA_BUNDLE (trust for Pebble's HTTPS listener),
# PEBBLE_MGMT (management base URL), DNS_PORT, HTTP01_PORT, TLSALPN01_PORT, PEBBLE_PID, and CHALL_MGMT (the DNS
# server's management URL: POST /add-a {"host":"x.test.","addresses":[...]} to point a name
# elsewhere, /clear-a to undo).
EAB_KID=kid-1
EAB_HMAC_KEY=zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W
start_pebble() {
  HTTP01_PORT=${1:-$(free_port)}
  TLSALPN01_PORT=${TLSALPN01_PORT:-$(free_port)}
  local acme_port mgmt_port dns_port chall_mgmt
  acme_port=$(free_port); mgmt_port=$(free_port); dns_port=$(free_port); chall_mgmt=$(free_port)
  make_tls_ca "$TEST_DIR/pebble-tls"
  local eab_required=false eab_keys='{}'
  if [ "${PEBBLE_EAB:-0}" = 1 ]; then
    eab_required=true
    eab_keys="{\"$EAB_KID\": \"$EAB_HMAC_KEY\"}"
  fi
  cat >"$TEST_DIR/pebble-config.json" <<JSON
{"pebble": {
  "listenAddress": "127.0.0.1:$acme_port",
  "managementListenAddress": "127.0.0.1:$mgmt_port",
  "certificate": "$TEST_DIR/pebble-tls/server.pem",
  "privateKey": "$TEST_DIR/pebble-tls/server.key",
  "httpPort": $HTTP01_PORT,
  "tlsPort": $TLSALPN01_PORT,
  "ocspResponderURL": "",
  "externalAccountBindingRequired": $eab_required,
  "externalAccountMACKeys": $eab_keys
}}
JSON
  start_bg challtestsrv pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
    -dns01 "127.0.0.1:$dns_port" -management "127.0.0.1:$chall_mgmt" \
    -http01 "" -https01 "" -tlsalpn01 ""
  wait_for_port "$chall_mgmt" 20 challtestsrv
  start_bg pebble env PEBBLE_VA_NOSLEEP="${PEBBLE_VA_NOSLEEP:-1}" \
    PEBBLE_WFE_NONCEREJECT="${PEBBLE_WFE_NONCEREJECT:-0}" \
    PEBBLE_AUTHZREUSE="${PEBBLE_AUTHZREUSE:-0}" \
    PEBBLE_ALTERNATE_ROOTS="${PEBBLE_ALTERNATE_ROOTS:-0}" \
    pebble -config "$TEST_DIR/pebble-config.json" -dnsserver "${PEBBLE_DNS_SERVER:-127.0.0.1:$dns_port}"
  PEBBLE_PID=$BG_PID
  wait_for_port "$acme_port" 20 pebble
  wait_for_port "$mgmt_port" 20 pebble
  DNS_PORT=$dns_port
  CHALL_MGMT="http://127.0.0.1:$chall_mgmt"
  PEBBLE_URL="https://127.0.0.1:$acme_port/dir"
  PEBBLE_MGMT="https://127.0.0.1:$mgmt_port"
  PEBBLE_CA_BUNDLE="$TEST_DIR/pebble-tls/ca.pem"
  export HTTP01_PORT TLSALPN01_PORT PEBBLE_URL PEBBLE_MGMT PEBBLE_CA_BUNDLE DNS_PORT PEBBLE_PID CHALL_MGMT
}

# pebble_root FILE: saves Pebble's issuing root (which changes every start) to FILE.
pebble_root() {
  curl -sf --max-time 10 --cacert "$PEBBLE_CA_BUNDLE" "$PEBBLE_MGMT/roots/0" >"$1" \
    || fail "cannot fetch Pebble's root"
}

# verify_chain FULLCHAIN ROOT: OpenSSL verifies the issued chain up to Pebble's root.
verify_chain() {
  local fullchain=$1 root=$2 leaf="$TEST_DIR/leaf.$$.pem" inter="$TEST_DIR/inter.$$.pem"
  awk 'BEGIN{n=0} /BEGIN CERTIFICATE/{n++} { if (n==1) print > "'"$leaf"'"; else print > "'"$inter"'" }' "$fullchain"
  openssl verify -CAfile "$root" -untrusted "$inter" "$leaf" >/dev/null \
    || fail "chain in $fullchain does not verify against Pebble's root"
}

# acmed ARGS...: runs acmed against the test Pebble with dirs inside TEST_DIR. The exit code is
# returned, stdout/stderr pass through. `-c /dev/null`: the machine's own cli.ini (Debian's
# certbot installs /etc/letsencrypt/cli.ini, read when running as root) must not change what a
# test sees; a test's own `-c FILE` comes later and wins.
ACMED_CONFIG_DIR="$TEST_DIR/etc"
acmed() {
  "$ACMED_BIN" -c /dev/null --config-dir "$ACMED_CONFIG_DIR" --work-dir "$TEST_DIR/work" \
    --logs-dir "$TEST_DIR/logs" "$@"
}

# acmed_pebble ARGS...: acmed with --server and --ca-bundle pointing at the test Pebble.
acmed_pebble() {
  acmed "$@" --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" --non-interactive \
    --agree-tos --register-unsafely-without-email
}

# with_new_account CMD...: runs CMD (often `expect_fail ...`) as a new account at Pebble, then puts
# the stored accounts and the renewal confs' `account =` lines back. Use it for a step that must
# validate a name an account already validated (a validation that must fail, or a renewal whose
# challenge the test checks): Pebble hands such an account its valid authorization again 1% of the
# time even with PEBBLE_AUTHZREUSE=0 (it makes a new one only when rand.Intn(100) > the
# percentage), and then validates nothing.
with_new_account() {
  local accounts="$ACMED_CONFIG_DIR/accounts" kept="$TEST_DIR/accounts-kept" new conf i rc=0
  local -a confs=()
  mv "$accounts" "$kept"
  acmed_pebble register >/dev/null 2>&1 || fail "registering a second account at Pebble"
  new=$(find "$accounts" -name private_key.json -printf '%h\n')
  new=${new##*/}
  [ -n "$new" ] || fail "the new account was not stored in $accounts"
  for conf in "$ACMED_CONFIG_DIR"/renewal/*.conf; do
    [ -e "$conf" ] || continue
    confs+=("$conf" "$(sed -n 's/^account = //p' "$conf")")
    sed -i "s/^account = .*/account = $new/" "$conf"
  done
  "$@" || rc=$?
  rm -rf "$accounts"
  mv "$kept" "$accounts"
  for ((i = 0; i < ${#confs[@]}; i += 2)); do
    [ -e "${confs[i]}" ] && sed -i "s/^account = $new\$/account = ${confs[i + 1]}/" "${confs[i]}"
  done
  return "$rc"
}

# tree_digest DIR: a digest of every file's path, mode, symlink target and content under DIR;
# equal digests mean byte-identical trees.
tree_digest() {
  (cd "$1" && find . -printf '%p %m %l\n' | LC_ALL=C sort && \
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) | sha256sum | cut -d' ' -f1
}

# expect_fail CMD...: CMD must exit non-zero; its stderr is kept in $LAST_ERR.
expect_fail() {
  local rc=0
  "$@" 2>"$TEST_DIR/last.err" || rc=$?
  LAST_ERR=$(cat "$TEST_DIR/last.err")
  cat "$TEST_DIR/last.err" >&2
  [ "$rc" -ne 0 ] || fail "expected failure from: $*"
  LAST_RC=$rc
}
