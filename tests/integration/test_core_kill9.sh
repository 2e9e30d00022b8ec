#!/usr/bin/env bash
# kill -9 of acmed at several points of an issuance (random delays 0..1.5 s, 8 runs) leaves the
# store consistent: every lineage absent or complete (all live links at the same version, cert
# matching key), `acmed certificates` shows no broken lineage, the lock is released. An existing
# lineage survives a kill during --force-renewal.
. "$(dirname "$0")/lib.sh"

PEBBLE_VA_NOSLEEP=0 PEBBLE_VA_SLEEPTIME=1 start_pebble
pebble_root "$TEST_DIR/root.pem"
C=$ACMED_CONFIG_DIR
RUNS=8

# run_and_kill DELAY ARGS...: starts acmed certonly --standalone, kill -9 after DELAY seconds.
run_and_kill() {
  local delay=$1; shift
  "$ACMED_BIN" --config-dir "$C" --work-dir "$TEST_DIR/work" --logs-dir "$TEST_DIR/logs" certonly \
    --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 --server "$PEBBLE_URL" \
    --ca-bundle "$PEBBLE_CA_BUNDLE" --non-interactive --agree-tos --register-unsafely-without-email \
    "$@" >>"$TEST_DIR/killed.log" 2>&1 &
  local pid=$!
  _PIDS+=("$pid")
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# check_lineage NAME: absent, or complete and consistent.
check_lineage() {
  local name=$1 live="$C/live/$1" v="" f target tv
  [ -e "$live" ] || [ -L "$live/cert.pem" ] || return 0
  for f in cert chain fullchain privkey; do
    [ -L "$live/$f.pem" ] || fail "$name: live/$f.pem missing"
    [ -s "$live/$f.pem" ] || fail "$name: live/$f.pem dangles or is empty ($(readlink "$live/$f.pem"))"
    target=$(readlink "$live/$f.pem")
    tv=$(echo "$target" | sed -n "s|^\.\./\.\./archive/$name/$f\([0-9]*\)\.pem$|\1|p")
    [ -n "$tv" ] || fail "$name: live/$f.pem -> $target is not a relative archive link"
    [ -z "$v" ] || [ "$v" = "$tv" ] || fail "$name: live links at different versions ($v, $tv)"
    v=$tv
  done
  [ "$(openssl x509 -in "$live/cert.pem" -noout -pubkey 2>/dev/null)" = \
    "$(openssl pkey -in "$live/privkey.pem" -pubout 2>/dev/null)" ] || fail "$name: cert does not match key"
  cat "$live/cert.pem" "$live/chain.pem" | cmp -s - "$live/fullchain.pem" || fail "$name: fullchain != cert+chain"
  verify_chain "$live/fullchain.pem" "$TEST_DIR/root.pem"
}

check_store() {
  local d
  for d in "$C"/live/*/ "$C"/archive/*/; do
    [ -d "$d" ] || continue
    check_lineage "$(basename "$d")"
  done
  # certificates must not report a broken lineage that has a renewal conf
  local out
  out=$(acmed certificates 2>&1) || { echo "$out"; fail "acmed certificates failed after a kill"; }
  for conf in "$C"/renewal/*.conf; do
    [ -f "$conf" ] || continue
    local n; n=$(basename "$conf" .conf)
    [ -L "$C/live/$n/cert.pem" ] || fail "renewal/$n.conf exists but live/$n does not"
    check_lineage "$n"
  done
  if echo "$out" | seen -i "broken\|invalid\|error"; then echo "$out"; fail "certificates shows a broken lineage"; fi
}

# lock_free: the next acmed run gets the lock at once (certificates takes no lock, so register does)
lock_free() {
  local rc=0
  timeout 20 "$ACMED_BIN" --config-dir "$C" --work-dir "$TEST_DIR/work" --logs-dir "$TEST_DIR/logs" \
    certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 --server "$PEBBLE_URL" \
    --ca-bundle "$PEBBLE_CA_BUNDLE" --non-interactive --agree-tos --register-unsafely-without-email \
    -d lockcheck.test >"$TEST_DIR/lockcheck.out" 2>&1 || rc=$?
  [ "$rc" != 76 ] || { cat "$TEST_DIR/lockcheck.out"; fail "lock still held after kill -9"; }
  [ "$rc" = 0 ] || { cat "$TEST_DIR/lockcheck.out"; fail "the run after a kill failed ($rc)"; }
}

log "$RUNS fresh issuances killed at random points"
RANDOM=4242
for i in $(seq 1 "$RUNS"); do
  delay=$(printf '0.%02d' $((RANDOM % 100)))
  [ $((i % 3)) -eq 0 ] && delay="1.$((RANDOM % 5))"
  log "run $i: kill -9 after ${delay}s"
  run_and_kill "$delay" -d "k$i.test" -d "www.k$i.test"
  check_store
done
log "lineages completed before their kill: $(ls "$C/live" 2>/dev/null | grep -c '^k' || true) of $RUNS"
lock_free
check_store

log "an existing lineage survives kills during --force-renewal"
acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 \
  -d keep.test >/dev/null 2>&1 || fail "issuing keep.test"
for i in 1 2 3 4; do
  delay=$(printf '%d.%d' $((i / 3)) $((RANDOM % 10)))
  log "force-renewal kill $i after ${delay}s"
  run_and_kill "$delay" -d keep.test --force-renewal
  [ -L "$C/live/keep.test/cert.pem" ] || fail "live/keep.test lost after a killed renewal"
  check_lineage keep.test
  check_store
done
lock_free
log "the lineage still renews after all the kills"
acmed_pebble certonly --standalone --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 \
  -d keep.test --force-renewal >/dev/null 2>&1 || fail "renewal after the kills"
check_lineage keep.test
echo "PASS"
