#!/usr/bin/env bash
# Benchmark of fleet mode (issue 18): N due lineages (default 20) renewed by
#   1. one node alone with the filesystem store (`acmed renew --force-renewal`, webroot through
#      its nginx), and
#   2. three nodes sharing them through a real 3-member etcd cluster (`acmed renew
#      --force-renewal --store etcd` started on all three at once, an agent on each),
# against the same Pebble in the same run. Prints for each: wall time until every node serves
# every new certificate (checked with openssl s_client against each node's nginx), the orders
# Pebble received (its log), and for the fleet the etcd requests (the members' gRPC counters,
# which the JSON gateway's calls go through) per renewal, with the agents' idle polling taken
# out. Target: the fleet within 2x of the single node, exactly one order per lineage. No other
# client has a fleet mode to compare with (certbot users rsync /etc/letsencrypt).
#   ACMED_BIN=build/src/acmed bench/fleet.sh [N]
set -euo pipefail
ACMED_BIN=${ACMED_BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/src/acmed}
export ACMED_BIN
here=$(cd "$(dirname "$0")/../tests/integration" && pwd)
. "$here/lib.sh"
. "$here/etcd_lib.sh"
need etcd etcdctl nginx curl openssl

N=${1:-20}
TTL=30
start_pebble
start_etcd_cluster 3
KEY="$TEST_DIR/fleet.key"
. "$here/fleet_lib.sh"
now() { date +%s.%N; }
# etcd_requests: gRPC requests the members have handled so far, summed.
etcd_requests() {
  local url total=0 n
  for url in ${ETCD_ENDPOINTS//,/ }; do
    n=$(curl -sf --max-time 5 --cacert "$ETCD_CACERT" --cert "$ETCD_CERT" --key "$ETCD_KEY" \
      "$url/metrics" | awk '/^grpc_server_handled_total/ {s += $2} END {printf "%d", s}')
    total=$((total + n))
  done
  echo "$total"
}
# all_served ADDRESS CONFIG_DIR: the nginx at ADDRESS serves CONFIG_DIR's live certificate of
# every lineage.
all_served() {
  local k
  for ((k = 1; k <= N; k++)); do
    [ "$(served_at "$1" "$(name "$k")")" = "$(serial_of "$2/live/$(name "$k")/cert.pem")" ] || return 1
  done
}

log "setup: node 1 obtains $N lineages and imports them; a copy becomes the single node"
fleet_obtain
mkdir -p "$TEST_DIR/solo"
cp -a "$TEST_DIR/n1/etc" "$TEST_DIR/solo/etc"
sed -i "s|$TEST_DIR/n1/etc|$TEST_DIR/solo/etc|g" "$TEST_DIR"/solo/etc/renewal/*.conf
ok node 2 fleet agent --once
ok node 3 fleet agent --once
for n in 1 2 3; do start_node_nginx "$n"; done
SOLO=127.0.0.5
start_nginx_at "$TEST_DIR/nginx-solo/nginx.conf" "$SOLO" "$TEST_DIR/solo/www" "$TEST_DIR/solo/etc"

log "1. one node, filesystem store"
for ((k = 1; k <= N; k++)); do point "$(name "$k")" "$SOLO"; done
orders0=$(orders)
t0=$(now)
NODE_NGINX_CONF="$TEST_DIR/nginx-solo/nginx.conf" "$ACMED_BIN" -c /dev/null \
  --config-dir "$TEST_DIR/solo/etc" --work-dir "$TEST_DIR/solo/work" --logs-dir "$TEST_DIR/solo/logs" \
  renew --force-renewal --webroot -w "$TEST_DIR/solo/www" --server "$PEBBLE_URL" \
  --ca-bundle "$PEBBLE_CA_BUNDLE" -n >"$TEST_DIR/solo.out" 2>&1 || { cat "$TEST_DIR/solo.out"; fail "solo renew"; }
solo_renew=$(echo "$(now) - $t0" | bc)
for _ in $(seq 1 120); do all_served "$SOLO" "$TEST_DIR/solo/etc" && break; sleep 0.25; done
all_served "$SOLO" "$TEST_DIR/solo/etc" || fail "the single node does not serve its new certificates"
solo_wall=$(echo "$(now) - $t0" | bc)
solo_orders=$(($(orders) - orders0))

log "2. three nodes, etcd"
start_agents
sleep 1
idle0=$(etcd_requests); ti=$(now); sleep 5
idle_rate=$(echo "($(etcd_requests) - $idle0) / ($(now) - $ti)" | bc -l)
for ((k = 1; k <= N; k++)); do point "$(name "$k")" "$(addr $((k % 3 + 1)))"; done
orders0=$(orders)
req0=$(etcd_requests)
t0=$(now)
pids=()
for n in 1 2 3; do start_renew "fleet$n" "$n" --force-renewal; pids+=("$BG_PID"); done
for n in 1 2 3; do wait "${pids[n - 1]}" || { cat "$TEST_DIR/fleet$n.log"; fail "node $n's renew"; }; done
fleet_renew=$(echo "$(now) - $t0" | bc)
all=()
for ((k = 1; k <= N; k++)); do all+=("$(name "$k")"); done
converged "${all[@]}" || fail "the fleet does not serve every new certificate"
fleet_wall=$(echo "$(now) - $t0" | bc)
fleet_orders=$(($(orders) - orders0))
req=$(($(etcd_requests) - req0))
polling=$(echo "$idle_rate * $fleet_wall" | bc -l)
per_renewal=$(echo "($req - $polling) / $N" | bc -l)

printf '\n%-40s %14s %16s %8s\n' "$N due lineages" "renew done (s)" "all serve (s)" "orders"
printf '%-40s %14.2f %16.2f %8d\n' "one node, filesystem store" "$solo_renew" "$solo_wall" "$solo_orders"
printf '%-40s %14.2f %16.2f %8d\n' "three nodes through etcd" "$fleet_renew" "$fleet_wall" "$fleet_orders"
printf 'fleet / single node: %.2fx (target <= 2x); orders per lineage: %s\n' \
  "$(echo "$fleet_wall / $solo_wall" | bc -l)" "$(echo "scale=2; $fleet_orders / $N" | bc)"
printf 'etcd requests during the fleet run: %d (agents idle: %.1f/s); per renewal, polling out: %.1f\n' \
  "$req" "$idle_rate" "$per_renewal"
