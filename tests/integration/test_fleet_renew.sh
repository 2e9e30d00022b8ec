#!/usr/bin/env bash
# Fleet mode, renewal: three nodes (three config dirs, three nginx on 127.0.0.2, .3 and .4) share
# FLEET_LINEAGES (default 20) lineages through a real 3-member etcd cluster, each running
# `acmed fleet agent`; Pebble's DNS points each name at the node the test chooses.
#   - node 1 renews while Pebble validates against node 2 (node 2's agent serves the response);
#   - `renew --force-renewal --store etcd` started on all three nodes at once: exactly one order
#     per lineage in Pebble's log, one new version each, and every node serves every new
#     certificate;
#   - the lock holder killed with -9 mid-order: nothing of it is written, another node completes
#     within the lock's TTL plus one run;
#   - a lock lost mid-order (its lease revoked): the order is abandoned, nothing written;
#   - an agent that never acknowledges: a bounded wait, the node named;
#   - a lineage locked by another node: skipped, exit 0;
#   - one etcd member down: renewals go on; etcd down: every node keeps serving, `renew` exits 75
#     in one line, and works again when etcd is back;
#   - the fleet key missing or another one on one node, a prefix of another format; a node whose
#     clock is an hour ahead (libfaketime) running its agent and renewing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd_lib.sh"
need etcd etcdctl nginx curl openssl python3 faketime

N=${FLEET_LINEAGES:-20}
[ "$N" -ge 9 ] || fail "FLEET_LINEAGES: at least 9 (the faults below use l1 ... l9)"
TTL=10  # --fleet-lock-ttl of every node (the default is 30 s)
start_pebble
pebble_root "$TEST_DIR/root.pem"
start_etcd_cluster 3
KEY="$TEST_DIR/fleet.key"
. "$(dirname "$0")/fleet_lib.sh"
ectl() { etcdctl_tls --endpoints "$ETCD_ENDPOINTS" "$@"; }
current() { ectl get "/acmed/current/$1" --print-value-only; }
# Pebble hands an account its valid authorization again 1% of the time even with
# PEBBLE_AUTHZREUSE=0 (lib.sh, with_new_account); a step that needs a challenge then has none to
# publish. validations NAME counts Pebble's http-01 attempts for NAME; the steps below retry
# (at most 3 times) when their renewal validated nothing.
validations() { grep -c "Attempting to validate w/ HTTP: http://$1:" "$TEST_DIR/pebble.log" || true; }
# published_while PID: waits (bounded, 10 s) until a challenge is in etcd while PID runs; fails
# when PID ended first (it was handed a valid authorization).
published_while() {
  for _ in $(seq 1 100); do
    [ -n "$(ectl get --prefix /acmed/challenges/ --keys-only)" ] && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.1
  done
  fail "no challenge published within 10 s"
}
# store_digest I: node I's lineages and accounts (not the lock file, which names its last holder).
store_digest() {
  local d
  for d in live archive renewal accounts; do tree_digest "$TEST_DIR/n$1/etc/$d"; done | sha256sum
}

log "bad fleet options: one line, exit 2"
rc=0
"$ACMED_BIN" -c /dev/null --config-dir "$TEST_DIR/bad/etc" --work-dir "$TEST_DIR/bad/work" \
  --logs-dir "$TEST_DIR/bad/logs" renew --store etcd 2>"$TEST_DIR/bad.err" || rc=$?
[ "$rc" = 2 ] && seen -F "fleet mode needs --etcd-endpoints" <"$TEST_DIR/bad.err" || { cat "$TEST_DIR/bad.err"; fail "no endpoints: exit $rc"; }
rc=0
"$ACMED_BIN" -c /dev/null --store elsewhere renew 2>"$TEST_DIR/bad.err" || rc=$?
[ "$rc" = 2 ] && seen -F "elsewhere not in {filesystem,etcd}" <"$TEST_DIR/bad.err" || { cat "$TEST_DIR/bad.err"; fail "--store elsewhere: exit $rc"; }

log "node 1 obtains $N lineages; they name nginx (through node-nginx) as installer; fleet import"
fleet_obtain
ok node 2 fleet agent --once
ok node 3 fleet agent --once

log "three nginx (port-80 stand-in $HTTP01_PORT serving each node's challenge dir, TLS $TLS_PORT)"
for n in 1 2 3; do start_node_nginx "$n"; done
converged "$(name 1)" || fail "the nodes do not serve the imported certificates"

log "an agent on every node (node 3's clock an hour ahead)"
start_agents +1h

log "node 1 renews $(name 1) while Pebble validates against node 2"
point "$(name 1)" "$(addr 2)"
before=$(serial_of "$TEST_DIR/n1/etc/live/$(name 1)/cert.pem")
for try in 1 2 3; do
  asked=$(validations "$(name 1)")
  ok renew 1 --force-renewal --cert-name "$(name 1)"
  seen -F "$(name 1): version $((try + 1)) published to the fleet" <"$TEST_DIR/out" || { cat "$TEST_DIR/out"; fail "no publish"; }
  [ "$(validations "$(name 1)")" = "$asked" ] || break
done
[ "$(current "$(name 1)")" = $((try + 1)) ] || fail "etcd version of $(name 1)"
seen -F "GET /.well-known/acme-challenge/" <"$TEST_DIR/nginx2/access.log" || fail "Pebble did not ask node 2"
if seen -F "GET /.well-known/acme-challenge/" <"$TEST_DIR/nginx1/access.log"; then fail "Pebble asked node 1"; fi
[ "$(serial_of "$TEST_DIR/n1/etc/live/$(name 1)/cert.pem")" != "$before" ] || fail "node 1 has no new certificate"
converged "$(name 1)" || fail "not every node serves the new $(name 1)"
[ -z "$(ectl get --prefix /acmed/challenges/ --keys-only)" ] || fail "challenges left in etcd"
[ -z "$(ectl get --prefix /acmed/locks/ --keys-only)" ] || fail "a lock is left in etcd"

log "renew --force-renewal on all three nodes at once: one order per lineage"
all=()
for ((k = 1; k <= N; k++)); do point "$(name "$k")" "$(addr $((k % 3 + 1)))"; all+=("$(name "$k")"); done
declare -A version_before
for nm in "${all[@]}"; do version_before[$nm]=$(current "$nm"); done
orders_before=$(orders)
pids=()
for n in 1 2 3; do
  start_renew "all$n" "$n" --force-renewal
  pids+=("$BG_PID")
done
for n in 1 2 3; do
  wait "${pids[n - 1]}" || { cat "$TEST_DIR/all$n.log"; fail "node $n's renew failed"; }
done
[ $(($(orders) - orders_before)) = "$N" ] || fail "$(($(orders) - orders_before)) orders for $N lineages"
for nm in "${all[@]}"; do
  [ "$(current "$nm")" = $((version_before[$nm] + 1)) ] || fail "$nm: etcd version $(current "$nm")"
done
renewed=$(cat "$TEST_DIR"/all?.log | grep -c "published to the fleet" || true)
[ "$renewed" = "$N" ] || fail "$renewed lineages published"
cat "$TEST_DIR"/all?.log | seen -E "skipped: (node node[123] is renewing it|the fleet has version)" \
  || fail "no node skipped a lineage another renewed"
converged "${all[@]}" || fail "not every node serves every new certificate"
for nm in "${all[@]}"; do verify_chain "$TEST_DIR/n3/etc/live/$nm/fullchain.pem" "$TEST_DIR/root.pem"; done

log "a lineage locked by another node is skipped (exit 0)"
lease=$(ectl lease grant 60 | awk '{print $2}')
ectl put --lease="$lease" "/acmed/locks/$(name 5)" elsewhere >/dev/null
ok renew 2 --force-renewal --cert-name "$(name 5)"
seen -F "$(name 5): skipped: node elsewhere is renewing it" <"$TEST_DIR/out" || { cat "$TEST_DIR/out"; fail "no skip"; }
ectl lease revoke "$lease" >/dev/null

log "an agent that never acknowledges: a bounded wait, the node named, nothing written"
ghost=$(ectl lease grant 300 | awk '{print $2}')
ectl put --lease="$ghost" /acmed/alive/ghost ghost >/dev/null
for try in 1 2 3; do
  v=$(current "$(name 4)")
  n1=$(store_digest 1)
  rc=0
  renew 1 --force-renewal --cert-name "$(name 4)" --fleet-ack-timeout 3 >"$TEST_DIR/out" 2>&1 || rc=$?
  [ "$rc" = 0 ] || break
done
[ "$rc" != 0 ] || fail "a silent agent did not fail the renewal"
seen -F "fleet node(s) ghost did not serve the http-01 responses for $(name 4) within 3 s" <"$TEST_DIR/out" \
  || { cat "$TEST_DIR/out"; fail "the silent node is not named"; }
[ "$(current "$(name 4)")" = "$v" ] || fail "a failed renewal changed etcd"
[ -z "$(ectl get --prefix /acmed/locks/ --keys-only)" ] || fail "the lock outlived the run"
[ "$(store_digest 1)" = "$n1" ] || fail "a failed renewal changed node 1's store"

log "a lock lost mid-order (its lease revoked): the order is abandoned, nothing written"
for try in 1 2 3; do
  n3=$(store_digest 3)
  v=$(current "$(name 3)")
  start_renew lost 3 --force-renewal --cert-name "$(name 3)" --fleet-ack-timeout 120
  lost_pid=$BG_PID
  published_while "$lost_pid" && break
  [ "$try" != 3 ] || fail "three renewals without a challenge"
done
lock_lease=$(ectl get "/acmed/locks/$(name 3)" -w json | python3 -c 'import json,sys; print("%x" % json.load(sys.stdin)["kvs"][0]["lease"])')
ectl lease revoke "$lock_lease" >/dev/null
rc=0
for _ in $(seq 1 100); do kill -0 "$lost_pid" 2>/dev/null || break; sleep 0.2; done
kill -0 "$lost_pid" 2>/dev/null && fail "the holder did not notice its lost lock within 20 s"
wait "$lost_pid" || rc=$?
[ "$rc" != 0 ] || fail "a lost lock did not fail the renewal"
seen -F "the fleet lock on $(name 3) was lost" <"$TEST_DIR/lost.log" || { cat "$TEST_DIR/lost.log"; fail "lost lock message"; }
[ "$(current "$(name 3)")" = "$v" ] || fail "a lost lock changed etcd"
[ "$(store_digest 3)" = "$n3" ] || fail "a lost lock changed node 3's files"

log "kill -9 the lock holder mid-order: another node completes within the TTL plus one run"
for try in 1 2 3; do
  v=$(current "$(name 2)")
  n1=$(store_digest 1)
  start_renew holder 1 --force-renewal --cert-name "$(name 2)" --fleet-ack-timeout 120
  holder=$BG_PID
  published_while "$holder" && break
  [ "$try" != 3 ] || fail "three renewals without a challenge"
done
kill -9 "$holder"
wait "$holder" 2>/dev/null || true
# (Checked now: the version another node writes below reaches node 1 through its agent.)
[ "$(store_digest 1)" = "$n1" ] || fail "the killed holder changed node 1's store"
ectl lease revoke "$ghost" >/dev/null
killed=$(date +%s)
done_in=
for _ in $(seq 1 $((TTL + 30))); do
  renew 2 --force-renewal --cert-name "$(name 2)" >"$TEST_DIR/takeover.out" 2>&1 || true
  if seen -F "published to the fleet" <"$TEST_DIR/takeover.out"; then done_in=$(($(date +%s) - killed)); break; fi
  seen -F "node node1 is renewing it" <"$TEST_DIR/takeover.out" || { cat "$TEST_DIR/takeover.out"; fail "takeover run"; }
  sleep 1
done
[ -n "$done_in" ] || fail "no node took $(name 2) over"
echo "taken over ${done_in}s after the kill (lock TTL ${TTL}s)" >&2
[ "$done_in" -le $((TTL + 15)) ] || fail "the takeover took ${done_in}s"
[ "$(current "$(name 2)")" = $((v + 1)) ] || fail "$(name 2): etcd version $(current "$(name 2)")"
converged "$(name 2)" || fail "not every node serves the taken-over $(name 2)"

log "one etcd member down: a renewal goes on"
stop_etcd_member 0
ok renew 3 --force-renewal --cert-name "$(name 6)"
seen -F "published to the fleet" <"$TEST_DIR/out" || { cat "$TEST_DIR/out"; fail "renewal with a member down"; }
converged "$(name 6)" || fail "not every node serves $(name 6) with a member down"

log "etcd down: every node keeps serving, renew exits 75 in one line; back up: it works"
stop_etcd_member 1
stop_etcd_member 2
n2=$(store_digest 2)
rc=0
renew 2 --etcd-timeout 2 --force-renewal --cert-name "$(name 7)" 2>"$TEST_DIR/down.err" >/dev/null || rc=$?
[ "$rc" = 75 ] || { cat "$TEST_DIR/down.err"; fail "etcd down: exit $rc"; }
[ "$(grep -vc '^hint: ' "$TEST_DIR/down.err" || true)" = 1 ] || { cat "$TEST_DIR/down.err"; fail "not one error line"; }
seen -F "127.0.0.1" <"$TEST_DIR/down.err" || fail "the error does not name etcd"
[ "$(store_digest 2)" = "$n2" ] || fail "etcd down changed node 2's files"
for n in 1 2 3; do
  [ -n "$(served "$n" "$(name 7)")" ] || fail "node $n stopped serving with etcd down"
done
start_etcd_member 0 1 2
ok renew 2 --force-renewal --cert-name "$(name 7)"
seen -F "published to the fleet" <"$TEST_DIR/out" || { cat "$TEST_DIR/out"; fail "no renewal after etcd came back"; }
converged "$(name 7)" || fail "not every node serves $(name 7) after etcd came back"

log "the fleet key missing on one node: refused, the file named, nothing written"
n3=$(store_digest 3)
FLEET_KEY="$TEST_DIR/missing.key" expect_fail renew 3 --force-renewal --cert-name "$(name 8)"
echo "$LAST_ERR" | seen -F "missing.key" || fail "missing key: $LAST_ERR"
[ "$(store_digest 3)" = "$n3" ] || fail "a missing key changed node 3's files"

log "another fleet key on node 3: refused before anything is read or written"
FLEET_KEY="$TEST_DIR/other.key" ok node 3 fleet init
n3=$(store_digest 3)
v=$(current "$(name 8)")
FLEET_KEY="$TEST_DIR/other.key" expect_fail renew 3 --force-renewal --cert-name "$(name 8)"
# (The accounts it would copy are the first things it opens.)
echo "$LAST_ERR" | seen -E "in etcd does not open with this node's fleet key|this node's fleet key is not the one the fleet" \
  || fail "wrong key: $LAST_ERR"
[ "$(current "$(name 8)")" = "$v" ] || fail "a wrong key changed etcd"
[ "$(store_digest 3)" = "$n3" ] || fail "a wrong key changed node 3's files"

log "a prefix that holds another program's data is refused"
ectl put /other/format "not ours" >/dev/null
expect_fail renew 2 --etcd-prefix /other/ --cert-name "$(name 8)"
echo "$LAST_ERR" | seen -F "etcd prefix /other/ holds data of another format" || fail "other format: $LAST_ERR"

log "node 3, its clock an hour ahead, renews for the fleet; fleet status shows every node current"
node_cmd 3 +1h
ok "${NODE_CMD[@]}" "${RENEW[@]}" --force-renewal --cert-name "$(name 9)"
seen -F "published to the fleet" <"$TEST_DIR/out" || { cat "$TEST_DIR/out"; fail "skewed node's renewal"; }
converged "$(name 9)" || fail "not every node serves $(name 9)"
for _ in $(seq 1 20); do
  node 1 fleet status --json >"$TEST_DIR/status.json" 2>/dev/null || true
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(any(n["outdated"] for n in s["nodes"]))' \
    "$TEST_DIR/status.json" 2>/dev/null && break
  sleep 0.5
done
python3 - "$TEST_DIR/status.json" "$N" <<'EOF' || fail "fleet status"
import json, sys
s = json.load(open(sys.argv[1]))
nodes = {n["name"]: n for n in s["nodes"]}
assert set(nodes) == {"node1", "node2", "node3"}, nodes
for n in nodes.values():
    assert n["outdated"] == [], n
    assert len(n["lineages"]) == int(sys.argv[2]), n
EOF
echo "PASS"
