#!/usr/bin/env bash
# Fleet mode, distribution: three nodes (three config dirs) share their lineages through a real
# 3-member etcd cluster (TLS with client certificates). Node 1 obtains a certificate from Pebble
# and imports it; `fleet agent --once` copies it byte for byte to nodes 2 and 3 (accounts too),
# private keys sealed in etcd; a newer local version is published and reaches the others; an
# http-01 response published in etcd is served by node 3's nginx on 127.0.0.3 and acknowledged;
# `fleet status --json` shows each node's versions. Faults: a wrong or missing fleet key (nothing
# written, the lineage named), a prefix of another format, one etcd member down (failover), all
# of etcd down (exit 75, local files kept) and back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd_lib.sh"
need etcd etcdctl nginx curl python3

start_pebble
pebble_root "$TEST_DIR/root.pem"
start_etcd_cluster 3
KEY="$TEST_DIR/fleet.key"
node() {
  local n=$1; shift
  "$ACMED_BIN" -c /dev/null --config-dir "$TEST_DIR/n$n/etc" --work-dir "$TEST_DIR/n$n/work" \
    --logs-dir "$TEST_DIR/n$n/logs" "$@"
}
fleet() {
  local n=$1; shift
  node "$n" fleet --etcd-endpoints "$ETCD_ENDPOINTS" --etcd-cacert "$ETCD_CACERT" \
    --etcd-cert "$ETCD_CERT" --etcd-key "$ETCD_KEY" --fleet-key "${FLEET_KEY:-$KEY}" \
    --node-name "node$n" "$@"
}
ectl() { etcdctl_tls --endpoints "$ETCD_ENDPOINTS" "$@"; }
ok() { "$@" >"$TEST_DIR/out" 2>&1 || { cat "$TEST_DIR/out"; fail "$*"; }; }
pebble_flags=(--server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" -n --agree-tos
  --register-unsafely-without-email)

log "node 1 obtains fleet.test; fleet init makes the key (0600) and never replaces it"
ok node 1 certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 \
  -d fleet.test -d www.fleet.test "${pebble_flags[@]}"
ok fleet 1 init
[ "$(stat -c %a "$KEY")" = 600 ] || fail "fleet key mode"
key_digest=$(sha256sum <"$KEY")
expect_fail fleet 1 init
[ "$(sha256sum <"$KEY")" = "$key_digest" ] || fail "a second init replaced the key"

log "a prefix that holds another program's data is refused"
ectl put /other/format "not ours" >/dev/null
expect_fail fleet 1 --etcd-prefix /other/ import
echo "$LAST_ERR" | seen -F "etcd prefix /other/ holds data of another format" || fail "other format: $LAST_ERR"
ectl put /stray/key x >/dev/null
expect_fail fleet 1 --etcd-prefix /stray/ status
echo "$LAST_ERR" | seen -F "holds keys but no /stray/format" || fail "stray keys: $LAST_ERR"
expect_fail fleet 1 status
echo "$LAST_ERR" | seen -F "there is no acmed fleet under etcd prefix /acmed/" || fail "no fleet: $LAST_ERR"

log "fleet import: the lineage and account go into etcd, private keys sealed"
# What a killed save of an account leaves (store/account.cpp) is not an account.
acct=$(dirname "$(find "$TEST_DIR/n1/etc/accounts" -name private_key.json)")
cp -r "$acct" "$(dirname "$acct")/.$(basename "$acct").acmed-tmp-XYZ123"
ok fleet 1 import
seen -F "1 lineage(s) and 1 account(s) imported under /acmed/" <"$TEST_DIR/out" || { cat "$TEST_DIR/out"; fail "import output"; }
[ "$(ectl get /acmed/current/fleet.test --print-value-only)" = 1 ] || fail "current version"
ectl get --prefix /acmed/ >"$TEST_DIR/etcd-dump"
if grep -a -q "PRIVATE KEY\|\"d\":" "$TEST_DIR/etcd-dump"; then fail "a private key is in etcd in the clear"; fi
ok fleet 1 import
seen -F "fleet.test: etcd has this version or a newer one" <"$TEST_DIR/out" || fail "second import"
[ "$(ectl get /acmed/current/fleet.test --print-value-only)" = 1 ] || fail "a second import added a version"

log "agents on nodes 2 and 3 copy it byte for byte; a second pass changes nothing"
ok fleet 1 agent --once
ok fleet 2 agent --once
for f in cert chain fullchain privkey; do
  cmp "$TEST_DIR/n1/etc/live/fleet.test/$f.pem" "$TEST_DIR/n2/etc/live/fleet.test/$f.pem" || fail "node 2 $f.pem differs"
done
[ "$(stat -c %a "$(readlink -f "$TEST_DIR/n2/etc/live/fleet.test/privkey.pem")")" = 600 ] || fail "node 2 key mode"
seen -F "archive_dir = $TEST_DIR/n2/etc/archive/fleet.test" <"$TEST_DIR/n2/etc/renewal/fleet.test.conf" \
  || fail "node 2's renewal conf does not point at its own files"
[ -n "$(find "$TEST_DIR/n2/etc/accounts" -name private_key.json)" ] || fail "node 2 has no account"
verify_chain "$TEST_DIR/n2/etc/live/fleet.test/fullchain.pem" "$TEST_DIR/root.pem"
n2=$(tree_digest "$TEST_DIR/n2/etc")
ok fleet 2 agent --once
[ "$(tree_digest "$TEST_DIR/n2/etc")" = "$n2" ] || fail "a second agent pass changed node 2"

log "node 3 with another fleet key: refused, the lineage named, nothing written"
FLEET_KEY="$TEST_DIR/other.key" ok fleet 3 init
FLEET_KEY="$TEST_DIR/other.key" expect_fail fleet 3 agent --once
echo "$LAST_ERR" | seen -F "lineage fleet.test in etcd does not open with this node's fleet key" || fail "wrong key: $LAST_ERR"
[ ! -e "$TEST_DIR/n3/etc/live/fleet.test" ] && [ ! -e "$TEST_DIR/n3/etc/renewal/fleet.test.conf" ] || fail "wrong key wrote files"
FLEET_KEY="$TEST_DIR/missing.key" expect_fail fleet 3 agent --once
echo "$LAST_ERR" | seen -F "missing.key" || fail "missing key: $LAST_ERR"

log "node 3's agent serves an http-01 response published in etcd through its nginx, and acks it"
CHAL_PORT=$(free_port)
mkdir -p "$TEST_DIR/n3/challenges"
start_nginx "$TEST_DIR/nginx3" "server { listen 127.0.0.3:$CHAL_PORT; root $TEST_DIR/n3/challenges; }"
token=abcdefghijklmnopqrstuvwxyz012345_-ABCD
keyauth="$token.0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
lease=$(ectl lease grant 60 | awk '{print $2}')
ectl put --lease="$lease" "/acmed/challenges/$token" "$keyauth" >/dev/null
ectl put "/acmed/challenges/..%2f..%2fescape" "x.y" >/dev/null
ok fleet 3 agent --once --challenge-dir "$TEST_DIR/n3/challenges"
[ "$(curl -sf --max-time 5 "http://127.0.0.3:$CHAL_PORT/.well-known/acme-challenge/$token")" = "$keyauth" ] \
  || fail "node 3 does not serve the published response"
[ "$(ectl get "/acmed/acks/$token/node3" --print-value-only)" = 1 ] || fail "no ack from node 3"
[ -z "$(find "$TEST_DIR/n3" -name '*escape*')" ] || fail "a bad token became a file"
ectl lease revoke "$lease" >/dev/null
ok fleet 3 agent --once --challenge-dir "$TEST_DIR/n3/challenges"
[ ! -e "$TEST_DIR/n3/challenges/.well-known/acme-challenge/$token" ] || fail "a withdrawn response is still served"
[ -z "$(ectl get "/acmed/acks/$token/node3" --print-value-only)" ] || fail "the ack outlived its challenge"
cmp "$TEST_DIR/n1/etc/live/fleet.test/cert.pem" "$TEST_DIR/n3/etc/live/fleet.test/cert.pem" || fail "node 3 cert"

log "node 1 renews; import puts the newer version; the agents copy it"
ok node 1 renew --force-renewal --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" -n
ok fleet 1 import
seen -F "fleet.test: this node's newer version put into etcd" <"$TEST_DIR/out" || { cat "$TEST_DIR/out"; fail "no update"; }
[ "$(ectl get /acmed/current/fleet.test --print-value-only)" = 2 ] || fail "etcd version 2"
ok fleet 2 agent --once
cmp "$TEST_DIR/n1/etc/live/fleet.test/cert.pem" "$TEST_DIR/n2/etc/live/fleet.test/cert.pem" || fail "node 2 did not get version 2"
ok fleet 1 agent --once  # node 1 already has it: a heartbeat, no copy
[ "$(readlink "$TEST_DIR/n1/etc/live/fleet.test/cert.pem")" = "../../archive/fleet.test/cert2.pem" ] || fail "node 1 copied its own version back"

log "fleet status --json: every node, its heartbeat, its versions; node 3 is outdated"
ok fleet 1 status --json
python3 - "$TEST_DIR/out" <<'EOF' || fail "status JSON"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["version"] == 1, s
nodes = {n["name"]: n for n in s["nodes"]}
assert set(nodes) == {"node1", "node2", "node3"}, nodes
assert nodes["node1"]["lineages"]["fleet.test"]["version"] == 2, nodes
assert nodes["node2"]["lineages"]["fleet.test"]["version"] == 2, nodes
assert nodes["node3"]["lineages"]["fleet.test"]["version"] == 1, nodes
assert nodes["node3"]["outdated"] == ["fleet.test"] and nodes["node2"]["outdated"] == [], nodes
assert all(n["last_heartbeat"].endswith("Z") for n in nodes.values()), nodes
assert s["lineages"]["fleet.test"]["version"] == 2, s
EOF

log "one etcd member down: the agent goes on through another"
stop_etcd_member 0
ok fleet 3 agent --once
cmp "$TEST_DIR/n1/etc/live/fleet.test/cert.pem" "$TEST_DIR/n3/etc/live/fleet.test/cert.pem" || fail "node 3 did not get version 2"

log "etcd down entirely: exit 75 in one line, the local files stay; back up: it works again"
stop_etcd_member 1
stop_etcd_member 2
n3=$(tree_digest "$TEST_DIR/n3/etc")
rc=0
fleet 3 --etcd-timeout 2 agent --once 2>"$TEST_DIR/down.err" || rc=$?
[ "$rc" = 75 ] || { cat "$TEST_DIR/down.err"; fail "etcd down: exit $rc"; }
seen -F "127.0.0.1" <"$TEST_DIR/down.err" || fail "the error does not name etcd's endpoints"
[ "$(tree_digest "$TEST_DIR/n3/etc")" = "$n3" ] || fail "etcd down changed node 3's files"
start_etcd_member 0 1 2
ok fleet 3 agent --once

log "the fleet's settings from cli.ini (what acmed-fleet-agent.service uses)"
cat >"$TEST_DIR/cli.ini" <<EOF
etcd-endpoints = $ETCD_ENDPOINTS
etcd-cacert = $ETCD_CACERT
etcd-cert = $ETCD_CERT
etcd-key = $ETCD_KEY
fleet-key = $KEY
node-name = node2
EOF
ok node 2 -c "$TEST_DIR/cli.ini" fleet agent --once
ok node 2 -c "$TEST_DIR/cli.ini" fleet status
seen -F "lineage fleet.test: version 2" <"$TEST_DIR/out" || { cat "$TEST_DIR/out"; fail "status from cli.ini"; }
echo "PASS"
