# Fleet nodes on one machine, for test_fleet_renew.sh and bench/fleet.sh. Source after lib.sh and
# etcd_lib.sh, once Pebble and etcd run; set N (lineages), KEY (the fleet key file) and TTL (the
# nodes' --fleet-lock-ttl) first.
#
# Node I has its config dir $TEST_DIR/nI/etc, its challenge dir $TEST_DIR/nI/challenges, and its
# own nginx on 127.0.0.(I+1): port $HTTP01_PORT serves the challenge dir, $TLS_PORT serves the N
# lineages lK.fleet.test from the node's live/ dir. `node-nginx` stands in for the nginx binary
# every renewal conf names (machines of a fleet are alike: one path, one layout); it runs the
# node's own nginx, named by NODE_NGINX_CONF.

TLS_PORT=$(free_port)
mkdir -p "$TEST_DIR/bin" "$TEST_DIR/layout"
cat >"$TEST_DIR/bin/node-nginx" <<'WRAPPER'
#!/bin/bash
args=()
while (($#)); do
  if [ "$1" = -c ]; then shift 2; continue; fi
  args+=("$1"); shift
done
exec nginx -c "$NODE_NGINX_CONF" "${args[@]}"
WRAPPER
chmod +x "$TEST_DIR/bin/node-nginx"

addr() { echo "127.0.0.$(($1 + 1))"; }  # node 1 is 127.0.0.2
name() { echo "l$1.fleet.test"; }

# node_cmd I [SKEW]: NODE_CMD is node I's acmed (one process: start_bg's PID is acmed's own);
# with SKEW ("+1h") its clock is off by that much (libfaketime).
node_cmd() {
  NODE_CMD=(env NODE_NGINX_CONF="$TEST_DIR/nginx$1/nginx.conf")
  if [ -n "${2:-}" ]; then
    NODE_CMD+=(LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 FAKETIME="$2"
      DONT_FAKE_MONOTONIC=1 ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
  fi
  NODE_CMD+=("$ACMED_BIN" -c /dev/null --config-dir "$TEST_DIR/n$1/etc"
    --work-dir "$TEST_DIR/n$1/work" --logs-dir "$TEST_DIR/n$1/logs"
    --etcd-endpoints "$ETCD_ENDPOINTS" --etcd-cacert "$ETCD_CACERT" --etcd-cert "$ETCD_CERT"
    --etcd-key "$ETCD_KEY" --fleet-key "${FLEET_KEY:-$KEY}" --node-name "node$1"
    --challenge-dir "$TEST_DIR/n$1/challenges" --fleet-lock-ttl "$TTL")
}
node() { node_cmd "$1"; shift; "${NODE_CMD[@]}" "$@"; }
RENEW=(renew --store etcd --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" -n)
renew() { local n=$1; shift; node "$n" "${RENEW[@]}" "$@"; }
# start_renew LOG I ARGS...: node I's renew in the background ($TEST_DIR/LOG.log); BG_PID is
# acmed's PID.
start_renew() {
  local name=$1; node_cmd "$2"; shift 2
  start_bg "$name" "${NODE_CMD[@]}" "${RENEW[@]}" "$@"
}
ok() { "$@" >"$TEST_DIR/out" 2>&1 || { cat "$TEST_DIR/out"; fail "$*"; }; }
# point NAME ADDRESS: Pebble resolves NAME to ADDRESS (only).
point() {
  curl -sf --max-time 5 -X POST -d "{\"host\":\"$1.\"}" "$CHALL_MGMT/clear-a" >/dev/null \
    || fail "challtestsrv clear-a $1"
  curl -sf --max-time 5 -X POST -d "{\"host\":\"$1.\",\"addresses\":[\"$2\"]}" \
    "$CHALL_MGMT/add-a" >/dev/null || fail "challtestsrv add-a $1"
}
orders() { grep -c 'Added order' "$TEST_DIR/pebble.log" || true; }
serial_of() { openssl x509 -noout -serial -in "$1" | cut -d= -f2; }
# served_at ADDRESS NAME: the serial of the certificate the nginx at ADDRESS serves for NAME.
served_at() {
  openssl s_client -connect "$1:$TLS_PORT" -servername "$2" </dev/null 2>/dev/null \
    | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}
served() { served_at "$(addr "$1")" "$2"; }
# converged NAME...: nodes 1 2 3 have the same live certificate of each NAME and their nginx
# serves it; waits at most 30 s for the agents.
converged() {
  local nm n want i all
  for ((i = 0; i < 60; i++)); do
    all=1
    for nm in "$@"; do
      want=$(serial_of "$TEST_DIR/n1/etc/live/$nm/cert.pem")
      for n in 1 2 3; do
        cmp -s "$TEST_DIR/n1/etc/live/$nm/cert.pem" "$TEST_DIR/n$n/etc/live/$nm/cert.pem" || all=0
        [ "$(served "$n" "$nm")" = "$want" ] || all=0
      done
      [ "$all" = 1 ] || break
    done
    [ "$all" = 1 ] && return 0
    sleep 0.5
  done
  return 1
}

# fleet_obtain: node 1 obtains the N lineages (standalone, on 127.0.0.1) and names nginx, through
# node-nginx, as their installer; node 1 makes the fleet key and imports them.
fleet_obtain() {
  local k
  for ((k = 1; k <= N; k++)); do
    ok node 1 certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 \
      -d "$(name "$k")" --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" -n --agree-tos \
      --register-unsafely-without-email
    sed -i "/^\[renewalparams\]/a installer = nginx\nnginx_ctl = $TEST_DIR/bin/node-nginx\nnginx_server_root = $TEST_DIR/layout" \
      "$TEST_DIR/n1/etc/renewal/$(name "$k").conf"
  done
  ok node 1 fleet init
  ok node 1 fleet import
  seen -F "$N lineage(s) and 1 account(s) imported" <"$TEST_DIR/out" || { cat "$TEST_DIR/out"; fail "import"; }
}

# start_nginx_at CONF ADDRESS CHALLENGE_ROOT CONFIG_DIR: writes CONF (its pid file and logs beside
# it) for an nginx on ADDRESS serving CHALLENGE_ROOT on $HTTP01_PORT and the N lineages of
# CONFIG_DIR/live on $TLS_PORT, and starts it (stopped by PID at exit).
start_nginx_at() {
  local conf=$1 address=$2 root=$3 config=$4 dir k live pid=
  dir=$(dirname "$conf")
  mkdir -p "$dir" "$root"
  {
    echo "user root; worker_processes 1; pid $dir/nginx.pid;"
    echo "error_log $dir/error.log; events { worker_connections 64; }"
    echo "http { access_log $dir/access.log;"
    echo "  server { listen $address:$HTTP01_PORT;"
    echo "    location ^~ /.well-known/acme-challenge/ { root $root; default_type text/plain; }"
    echo "    location / { return 404; } }"
    for ((k = 1; k <= N; k++)); do
      live="$config/live/$(name "$k")"
      echo "  server { listen $address:$TLS_PORT ssl; server_name $(name "$k");"
      echo "    ssl_certificate $live/fullchain.pem; ssl_certificate_key $live/privkey.pem; }"
    done
    echo "}"
  } >"$conf"
  nginx -c "$conf" || fail "nginx from $conf does not start"
  for _ in $(seq 1 50); do
    pid=$(cat "$dir/nginx.pid" 2>/dev/null || true)
    [ -n "$pid" ] && break
    sleep 0.1
  done
  [ -n "$pid" ] || fail "nginx from $conf wrote no pid file"
  _PIDS+=("$pid")
}
start_node_nginx() {
  start_nginx_at "$TEST_DIR/nginx$1/nginx.conf" "$(addr "$1")" "$TEST_DIR/n$1/challenges" \
    "$TEST_DIR/n$1/etc"
}

# start_agents [SKEW3]: `fleet agent --interval 1` on nodes 1 2 3 (node 3's clock off by SKEW3)
# and waits (bounded) until all three are alive in etcd.
start_agents() {
  local n
  for n in 1 2 3; do
    node_cmd "$n" "$([ "$n" = 3 ] && echo "${1:-}")"
    start_bg "agent$n" "${NODE_CMD[@]}" fleet agent --interval 1
  done
  for _ in $(seq 1 40); do
    [ "$(etcdctl_tls --endpoints "$ETCD_ENDPOINTS" get --prefix /acmed/alive/ --keys-only | grep -c node)" = 3 ] && return 0
    sleep 0.25
  done
  fail "not every agent is alive"
}
