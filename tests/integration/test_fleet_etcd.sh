#!/usr/bin/env bash
# fleet: the etcd v3 client of the fleet module (through tests/support/etcd_probe) against a real
# 3-member etcd cluster that requires TLS client certificates (etcd_lib.sh): values (binary ones
# sealed with a fleet key) written and read back; a create-if-absent transaction; a lease-bound
# key that stays while kept alive and is gone after its TTL; failover past a stopped member; a
# bounded, temporary (exit 75), one-line failure naming every endpoint when all are stopped;
# sealed values refused under another fleet key or another name; a missing client certificate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd_lib.sh"
: "${ACMED_ETCD_PROBE:?ACMED_ETCD_PROBE must point at the etcd_probe program (ctest sets it)}"

# probe_at ENDPOINTS CMD...: etcd_probe with the cluster's CA and client certificate.
probe_at() {
  local endpoints=$1; shift
  "$ACMED_ETCD_PROBE" --endpoints "$endpoints" --cacert "$ETCD_CACERT" --cert "$ETCD_CERT" \
    --key "$ETCD_KEY" --timeout-ms 2000 "$@"
}
probe() { probe_at "$ETCD_ENDPOINTS" "$@"; }
# probe_rc CMD...: prints etcd_probe's exit status (its output is dropped).
probe_rc() {
  local rc=0
  probe "$@" >/dev/null 2>&1 || rc=$?
  echo "$rc"
}

SECONDS=0
start_etcd_cluster 3
log "a 3-member cluster is healthy after ${SECONDS}s: $ETCD_ENDPOINTS"
D=$TEST_DIR

log "a value put through the gateway reads back, and etcdctl sees the same"
probe put /t/plain "hello fleet"
[ "$(probe get /t/plain)" = "hello fleet" ] || fail "get /t/plain"
[ "$(etcdctl_tls --endpoints "$ETCD_ENDPOINTS" get --print-value-only /t/plain)" = "hello fleet" ] \
  || fail "etcdctl does not see the value put by the client"
[ "$(probe_rc get /t/absent)" = 3 ] || fail "an absent key is not exit 3"

log "a sealed value with binary bytes opens back byte for byte; what etcd stores is not it"
"$ACMED_ETCD_PROBE" gen-key "$D/fleet.key"
[ "$(stat -c %a "$D/fleet.key")" = 600 ] || fail "the fleet key file is not mode 600"
expect_fail "$ACMED_ETCD_PROBE" gen-key "$D/fleet.key"
echo "$LAST_ERR" | seen "exists already" || fail "gen-key over an existing key: $LAST_ERR"
{ printf '\000\001\n\377binary\r\n'; head -c 4096 /dev/urandom; } >"$D/value.bin"
probe seal-put "$D/fleet.key" /t/sealed "$D/value.bin"
probe open-get "$D/fleet.key" /t/sealed >"$D/opened.bin"
cmp -s "$D/value.bin" "$D/opened.bin" || fail "the opened value differs from what was sealed"
probe get /t/sealed >"$D/stored.bin"
[ "$(stat -c %s "$D/stored.bin")" -eq $(($(stat -c %s "$D/value.bin") + 29)) ] \
  || fail "the stored box is not the value plus 29 bytes"
! cmp -s "$D/value.bin" "$D/stored.bin" || fail "etcd holds the plaintext"

log "a sealed value does not open with another fleet key, or under another name"
"$ACMED_ETCD_PROBE" gen-key "$D/other.key"
expect_fail probe open-get "$D/other.key" /t/sealed
[ "$LAST_RC" = 1 ] || fail "open with another key: exit $LAST_RC"
echo "$LAST_ERR" | seen "does not open with this fleet key" || fail "unclear error: $LAST_ERR"
[ "$(echo "$LAST_ERR" | grep -c '^etcd_probe: error:')" = 1 ] || fail "not one error line"
probe copy /t/sealed /t/moved
expect_fail probe open-get "$D/fleet.key" /t/moved
echo "$LAST_ERR" | seen "does not open with this fleet key" || fail "moved box: $LAST_ERR"
echo "$LAST_ERR" | seen "while opening /t/moved" || fail "the error does not name the key"
chmod 640 "$D/fleet.key"
expect_fail probe open-get "$D/fleet.key" /t/sealed
echo "$LAST_ERR" | seen "hint: chmod 600 $D/fleet.key" || fail "no chmod hint: $LAST_ERR"
chmod 600 "$D/fleet.key"

log "txn-create: created the first time, exists the second; the first value stays"
[ "$(probe txn-create /t/once first)" = created ] || fail "txn-create did not create"
[ "$(probe txn-create /t/once second)" = exists ] || fail "txn-create created twice"
[ "$(probe get /t/once)" = first ] || fail "the second txn-create changed the value"

log "a lease-bound key stays while kept alive, and is gone after its TTL"
lease=$(probe lease-put /t/leased alive 2)
[ -n "$lease" ] || fail "no lease ID"
for _ in $(seq 1 8); do  # 4 s: twice the TTL
  probe keepalive "$lease" >/dev/null || fail "keepalive of lease $lease"
  [ "$(probe get /t/leased)" = alive ] || fail "the kept-alive key disappeared"
  sleep 0.5
done
start=$SECONDS
gone=
for _ in $(seq 1 40); do  # at most about 10 s
  rc=$(probe_rc get /t/leased)
  if [ "$rc" = 3 ]; then gone=1; break; fi
  [ "$rc" = 0 ] || fail "get /t/leased failed with exit $rc"
  sleep 0.25
done
[ -n "$gone" ] || fail "the key bound to lease $lease is still there after 10 s"
log "the leased key was gone $((SECONDS - start))s after the last keepalive"
expect_fail probe keepalive "$lease"
echo "$LAST_ERR" | seen "has expired" || fail "keepalive of an expired lease: $LAST_ERR"
lease=$(probe lease-put /t/revoked short-lived 60)
probe revoke "$lease"
[ "$(probe_rc get /t/revoked)" = 3 ] || fail "revoking lease $lease left its key"
expect_fail probe revoke "$lease"
[ "$LAST_RC" = 1 ] || fail "revoking a revoked lease: exit $LAST_RC"
echo "$LAST_ERR" | seen "requested lease not found" || fail "etcd's message is lost: $LAST_ERR"

log "without a client certificate etcd refuses the connection; a missing cert file is named"
expect_fail "$ACMED_ETCD_PROBE" --endpoints "$ETCD_ENDPOINTS" --cacert "$ETCD_CACERT" get /t/plain
echo "$LAST_ERR" | seen "${ETCD_CLIENT_URLS[0]}" || fail "the error does not name the endpoint"
expect_fail "$ACMED_ETCD_PROBE" --endpoints "$ETCD_ENDPOINTS" --cacert "$ETCD_CACERT" \
  --cert "$D/missing.pem" --key "$ETCD_KEY" get /t/plain
[ "$LAST_RC" = 1 ] || fail "a missing client certificate: exit $LAST_RC"
echo "$LAST_ERR" | seen "cannot read the TLS client certificate $D/missing.pem" \
  || fail "unclear error for a missing client certificate: $LAST_ERR"

log "with member 0 stopped, requests fail over to the next endpoint"
stop_etcd_member 0
start=$SECONDS
# The endpoint list starts with the dead member: one failover, and member 1 answers.
probe --stats 1 put /t/failover "after failover" 2>"$D/stats.err"
seen "calls=1 requests=2 failovers=1 endpoint=${ETCD_CLIENT_URLS[1]}\$" <"$D/stats.err" \
  || fail "no failover to member 1: $(cat "$D/stats.err")"
[ "$(probe get /t/failover)" = "after failover" ] || fail "get after failover"
[ "$(probe txn-create /t/once third)" = exists ] || fail "txn after failover"
((SECONDS - start < 10)) || fail "failover took $((SECONDS - start))s"

log "member 0 restarted from its data dir rejoins and has the writes it missed"
start_etcd_member 0
[ "$(probe_at "${ETCD_CLIENT_URLS[0]}" get /t/failover)" = "after failover" ] \
  || fail "the restarted member does not have the value written while it was down"

log "with every member stopped, a request fails at once: temporary, one line, every endpoint"
stop_etcd_cluster
start=$SECONDS
expect_fail probe get /t/plain
elapsed=$((SECONDS - start))
[ "$LAST_RC" = 75 ] || fail "no cluster: exit $LAST_RC, not 75 (temporary)"
[ "$(echo "$LAST_ERR" | grep -c '^etcd_probe: error:')" = 1 ] || fail "not one error line"
for url in "${ETCD_CLIENT_URLS[@]}"; do
  echo "$LAST_ERR" | grep '^etcd_probe: error:' | seen "$url" || fail "the error does not name $url"
done
((elapsed < 10)) || fail "failing took ${elapsed}s"

log "done in ${SECONDS}s"
