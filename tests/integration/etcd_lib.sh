# A real etcd v3 cluster for integration tests: N members on free loopback ports, TLS with client
# certificates for clients, plain HTTP between peers (loopback only), each member's data in its
# own directory under $TEST_DIR. Source it after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/etcd_lib.sh"
#   start_etcd_cluster 3
#
# Members are numbered from 0. Every member is stopped by its PID when the script exits.

ETCD_PIDS=()         # PID of member I, "" while it is stopped
ETCD_CLIENT_URLS=()  # https://127.0.0.1:PORT of member I
_ETCD_PEER_URLS=()
_ETCD_CLUSTER=       # --initial-cluster
_ETCD_STARTS=0

# make_tls_client_cert DIR: a client certificate (client.pem, client.key; extendedKeyUsage
# clientAuth) signed by the CA make_tls_ca made in DIR.
make_tls_client_cert() {
  local dir=$1
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=acmed test client" \
    -keyout "$dir/client.key" -out "$dir/client.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$dir/client-ext.cnf"
  openssl x509 -req -in "$dir/client.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 2 -extfile "$dir/client-ext.cnf" -out "$dir/client.pem" 2>/dev/null \
    || fail "cannot make a TLS client certificate in $dir"
}

# etcdctl_tls ARGS...: etcdctl with the cluster's CA and client certificate; bounded in time.
etcdctl_tls() {
  etcdctl --cacert "$ETCD_CACERT" --cert "$ETCD_CERT" --key "$ETCD_KEY" --dial-timeout 2s \
    --command-timeout 3s "$@"
}

# _etcd_run I STATE: starts member I (STATE: new or existing) in the background.
_etcd_run() {
  local i=$1 state=$2
  _ETCD_STARTS=$((_ETCD_STARTS + 1))
  # Fast elections on loopback: 50 ms heartbeats, a 500 ms election timeout. A small backend
  # quota (64 MiB) keeps the preallocated database file small.
  start_bg "etcd-m$i-$_ETCD_STARTS" etcd --name "m$i" --data-dir "$TEST_DIR/etcd/m$i" \
    --listen-client-urls "${ETCD_CLIENT_URLS[i]}" --advertise-client-urls "${ETCD_CLIENT_URLS[i]}" \
    --listen-peer-urls "${_ETCD_PEER_URLS[i]}" \
    --initial-advertise-peer-urls "${_ETCD_PEER_URLS[i]}" \
    --initial-cluster "$_ETCD_CLUSTER" --initial-cluster-state "$state" \
    --initial-cluster-token "acmed-test-$$" \
    --cert-file "$TEST_DIR/etcd-tls/server.pem" --key-file "$TEST_DIR/etcd-tls/server.key" \
    --client-cert-auth --trusted-ca-file "$TEST_DIR/etcd-tls/ca.pem" \
    --heartbeat-interval 50 --election-timeout 500 --quota-backend-bytes $((64 * 1024 * 1024)) \
    --logger zap --log-outputs stderr
  ETCD_PIDS[i]=$BG_PID
}

# _etcd_wait_healthy URL...: waits (at most 30 s) until every member at URL reports healthy.
_etcd_wait_healthy() {
  local endpoints
  endpoints=$(IFS=,; echo "$*")
  for _ in $(seq 1 60); do
    if etcdctl_tls --endpoints "$endpoints" endpoint health >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  local i
  for i in "${!ETCD_PIDS[@]}"; do
    echo "the last lines of member $i's log:" >&2
    tail -n 5 "$TEST_DIR/etcd-m$i-"*.log 2>/dev/null >&2 || true
  done
  etcdctl_tls --endpoints "$endpoints" endpoint health >&2 || true
  fail "etcd at $endpoints is not healthy after 30 s"
}

# start_etcd_cluster N: starts an N-member cluster and waits (bounded) until every member is
# healthy. Exports ETCD_ENDPOINTS (comma-separated https URLs, member 0 first), ETCD_CACERT,
# ETCD_CERT, ETCD_KEY (the client certificate the members require) and ETCD_PIDS (array).
start_etcd_cluster() {
  local n=$1 i
  need etcd etcdctl openssl
  [ "${#ETCD_CLIENT_URLS[@]}" -eq 0 ] || fail "start_etcd_cluster: a cluster is running already"
  make_tls_ca "$TEST_DIR/etcd-tls"
  make_tls_client_cert "$TEST_DIR/etcd-tls"
  ETCD_CACERT="$TEST_DIR/etcd-tls/ca.pem"
  ETCD_CERT="$TEST_DIR/etcd-tls/client.pem"
  ETCD_KEY="$TEST_DIR/etcd-tls/client.key"
  local -a cluster=()
  for ((i = 0; i < n; i++)); do
    ETCD_CLIENT_URLS[i]="https://127.0.0.1:$(free_port)"
    _ETCD_PEER_URLS[i]="http://127.0.0.1:$(free_port)"
    cluster+=("m$i=${_ETCD_PEER_URLS[i]}")
  done
  _ETCD_CLUSTER=$(IFS=,; echo "${cluster[*]}")
  ETCD_ENDPOINTS=$(IFS=,; echo "${ETCD_CLIENT_URLS[*]}")
  mkdir -p "$TEST_DIR/etcd"
  on_exit stop_etcd_cluster
  for ((i = 0; i < n; i++)); do _etcd_run "$i" new; done
  _etcd_wait_healthy "${ETCD_CLIENT_URLS[@]}"
  export ETCD_ENDPOINTS ETCD_CACERT ETCD_CERT ETCD_KEY
}

# stop_etcd_member I: stops member I by its PID and waits for it (bounded).
stop_etcd_member() {
  local i=$1
  [ -n "${ETCD_PIDS[i]:-}" ] || fail "stop_etcd_member: member $i is not running"
  stop_pid "${ETCD_PIDS[i]}"
  ETCD_PIDS[i]=
}

# start_etcd_member I...: restarts the stopped members I... from their data dirs (they rejoin the
# cluster) and waits (bounded) until they are healthy. Give every member that restores quorum at
# once: one member alone has no leader and never becomes healthy.
start_etcd_member() {
  local i urls=()
  for i in "$@"; do
    [ -z "${ETCD_PIDS[i]:-}" ] || fail "start_etcd_member: member $i is running"
    _etcd_run "$i" existing
    urls+=("${ETCD_CLIENT_URLS[i]}")
  done
  _etcd_wait_healthy "${urls[@]}"
}

# stop_etcd_cluster: stops every running member by its PID (bounded); registered with on_exit.
stop_etcd_cluster() {
  local i
  for i in "${!ETCD_PIDS[@]}"; do
    if [ -n "${ETCD_PIDS[i]}" ]; then stop_pid "${ETCD_PIDS[i]}"; fi
    ETCD_PIDS[i]=
  done
}
