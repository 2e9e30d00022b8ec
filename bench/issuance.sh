#!/usr/bin/env bash
# Issuance benchmark: acmed next to certbot and lego (both from apt), same Pebble, same run.
# Pebble runs with PEBBLE_VA_NOSLEEP=1 and no nonce rejection; every client uses its built-in
# http-01 server on the same loopback port. Scenarios:
#   cold   new account + 1 domain (fresh config dir)
#   warm   1 domain with the account already stored
#   san20  one certificate with 20 names (stored account)
#   seq20  20 one-domain certificates one after another (stored account; total wall time)
# Figures: wall time (median of RUNS runs; seq20 once per run, median of totals), memory, and HTTP
# requests per issuance as counted in Pebble's own request log (plus acmed's self-reported count
# from -v). Memory is the peak of PSS (shared pages divided among the processes sharing them) and
# of private memory (Private_Clean + Private_Dirty), sampled from /proc/PID/smaps_rollup every
# 10 ms while the client runs, next to peak RSS from GNU time (%M), which counts every shared
# library page in full; for seq20 the largest of the 20. curl(1) (same libcurl and OpenSSL) is
# measured the same way for scale. It prints a table and the certbot/acmed and lego/acmed
# ratios. It is not a test and sets no target.
#   ACMED_BIN=build/src/acmed bench/issuance.sh [RUNS]      (RUNS default 3)
# Needs: pebble, openssl, /usr/bin/time (package `time`); certbot and lego for the comparison
# (apt-get install -y certbot lego); a client that is missing is skipped.
set -euo pipefail
ACMED_BIN=${ACMED_BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/src/acmed}
export ACMED_BIN
. "$(dirname "$0")/../tests/integration/lib.sh"

RUNS=${1:-3}
command -v /usr/bin/time >/dev/null || fail "/usr/bin/time missing: apt-get install time"
CLIENTS=(acmed)
command -v certbot >/dev/null && CLIENTS+=(certbot) || log "certbot missing: apt-get install -y certbot"
command -v lego >/dev/null && CLIENTS+=(lego) || log "lego missing: apt-get install -y lego"

PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 start_pebble
PORT=$HTTP01_PORT
SEQ=0

# run_client CLIENT DIR NAME...: one issuance by CLIENT with its state in DIR.
run_client() {
  local client=$1 dir=$2; shift 2
  local d args=()
  case $client in
    acmed)
      for d in "$@"; do args+=(-d "$d"); done
      exec "$ACMED_BIN" -v --config-dir "$dir/etc" --work-dir "$dir/work" --logs-dir "$dir/logs" certonly \
        --standalone --http-01-port "$PORT" --http-01-address 127.0.0.1 --server "$PEBBLE_URL" \
        --ca-bundle "$PEBBLE_CA_BUNDLE" -n --agree-tos --register-unsafely-without-email "${args[@]}" ;;
    certbot)
      for d in "$@"; do args+=(-d "$d"); done
      REQUESTS_CA_BUNDLE="$PEBBLE_CA_BUNDLE" exec certbot certonly --standalone --http-01-port "$PORT" \
        --http-01-address 127.0.0.1 --server "$PEBBLE_URL" --config-dir "$dir/etc" \
        --work-dir "$dir/work" --logs-dir "$dir/logs" -n --agree-tos \
        --register-unsafely-without-email "${args[@]}" ;;
    lego)
      for d in "$@"; do args+=(-d "$d"); done
      LEGO_CA_CERTIFICATES="$PEBBLE_CA_BUNDLE" exec lego --server "$PEBBLE_URL" --accept-tos \
        --email x@y.test --http --http.port "127.0.0.1:$PORT" --path "$dir" "${args[@]}" run ;;
  esac
}

pebble_requests() { grep -c -- '-> calling handler()' "$TEST_DIR/pebble.log" || true; }

# GNU time runs a program, not a shell function: the issuance runs as bash -c 'run_client ...',
# which execs the client (a few ms of bash start-up, the same for every client).
export -f run_client
export PORT PEBBLE_URL PEBBLE_CA_BUNDLE

# sample_memory PARENT OUT: waits for the child of PARENT (GNU time's; bash exec'd into the
# client), then samples its smaps_rollup every 10 ms until it exits; writes "PSS_KB PRIVATE_KB",
# the peaks, to OUT. Bounded: gives up after 600 s.
sample_memory() {
  local parent=$1 out=$2 child="" pss=0 priv=0 line p q i
  for i in $(seq 1 500); do
    child=$(pgrep -P "$parent" | head -1 || true)
    [ -n "$child" ] && break
    kill -0 "$parent" 2>/dev/null || break
    sleep 0.002
  done
  for i in $(seq 1 60000); do
    [ -n "$child" ] || break
    line=$(awk '/^Pss:/ {p = $2} /^Private_(Clean|Dirty):/ {q += $2} END {if (p != "") print p, q}' \
      "/proc/$child/smaps_rollup" 2>/dev/null) || break
    [ -n "$line" ] || break
    read -r p q <<<"$line"
    [ "$p" -gt "$pss" ] && pss=$p
    [ "$q" -gt "$priv" ] && priv=$q
    sleep 0.01
  done
  echo "$pss $priv" >"$out"
}

# timed CLIENT DIR NAME...: one issuance under GNU time; sets T_WALL (s), T_RSS, T_PSS, T_PRIV
# (KB), T_REQ, T_SELF (acmed's own count, or -).
timed() {
  local client=$1 dir=$2; shift 2
  local r0 rc=0 pid sampler
  r0=$(pebble_requests)
  /usr/bin/time -f '%e %M' -o "$TEST_DIR/time.txt" bash -c 'run_client "$@"' run_client "$client" "$dir" "$@" \
    >"$TEST_DIR/out.txt" 2>&1 &
  pid=$!
  sample_memory "$pid" "$TEST_DIR/mem.txt" &
  sampler=$!
  wait "$pid" || rc=$?
  wait "$sampler" || true
  if [ "$rc" != 0 ]; then cat "$TEST_DIR/out.txt" >&2; fail "$client failed for $*"; fi
  T_REQ=$(( $(pebble_requests) - r0 ))
  read -r T_WALL T_RSS < <(tail -1 "$TEST_DIR/time.txt")
  read -r T_PSS T_PRIV <"$TEST_DIR/mem.txt"
  T_SELF=$(grep -o '[0-9][0-9]* HTTP requests sent to the CA' "$TEST_DIR/out.txt" | tail -1 | cut -d' ' -f1 || true)
  T_SELF=${T_SELF:--}
}

mb() { awk -v k="$1" 'BEGIN {print k / 1024}'; }
median() { printf '%s\n' "$@" | LC_ALL=C sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
names() { local base=$1 n=$2 i; for i in $(seq 1 "$n"); do echo "n$i.$base"; done; }

declare -A WALL RSS PSS PRIV REQ SELF
record() { # record CLIENT SCENARIO: appends the last timed() figures
  WALL[$1.$2]="${WALL[$1.$2]:-} $T_WALL"; RSS[$1.$2]="${RSS[$1.$2]:-} $T_RSS"
  PSS[$1.$2]="${PSS[$1.$2]:-} $T_PSS"; PRIV[$1.$2]="${PRIV[$1.$2]:-} $T_PRIV"
  REQ[$1.$2]="${REQ[$1.$2]:-} $T_REQ"; SELF[$1.$2]="${SELF[$1.$2]:-} $T_SELF"
}

for run in $(seq 1 "$RUNS"); do
  for client in "${CLIENTS[@]}"; do
    dir="$TEST_DIR/$client-$run"
    mkdir -p "$dir"
    SEQ=$((SEQ + 1)); log "run $run/$RUNS $client: cold"
    timed "$client" "$dir" "cold$SEQ.$client.test"; record "$client" cold
    SEQ=$((SEQ + 1)); log "run $run/$RUNS $client: warm"
    timed "$client" "$dir" "warm$SEQ.$client.test"; record "$client" warm
    SEQ=$((SEQ + 1)); log "run $run/$RUNS $client: 20 SANs"
    # shellcheck disable=SC2046
    timed "$client" "$dir" $(names "san$SEQ.$client.test" 20); record "$client" san20
    log "run $run/$RUNS $client: 20 certificates in a row"
    total=0; peak=0; peak_pss=0; peak_priv=0; reqs=0; selfs=0
    for i in $(seq 1 20); do
      SEQ=$((SEQ + 1))
      timed "$client" "$dir" "seq$SEQ.$client.test"
      total=$(awk -v a="$total" -v b="$T_WALL" 'BEGIN {print a + b}')
      [ "$T_RSS" -gt "$peak" ] && peak=$T_RSS
      [ "$T_PSS" -gt "$peak_pss" ] && peak_pss=$T_PSS
      [ "$T_PRIV" -gt "$peak_priv" ] && peak_priv=$T_PRIV
      reqs=$((reqs + T_REQ))
      [ "$T_SELF" = - ] || selfs=$((selfs + T_SELF))
    done
    T_WALL=$total; T_RSS=$peak; T_PSS=$peak_pss; T_PRIV=$peak_priv; T_REQ=$(awk -v r="$reqs" 'BEGIN {print r / 20}')
    if [ "$client" = acmed ]; then T_SELF=$(awk -v r="$selfs" 'BEGIN {print r / 20}'); else T_SELF=-; fi
    record "$client" seq20
  done
done

echo
echo "acmed issuance benchmark: Pebble (VA no sleep, no nonce rejection), $RUNS run(s), medians"
echo "requests = HTTP requests per issuance counted by Pebble (acmed's own count in brackets)"
echo "memory in MB: peak RSS (GNU time), peak PSS and peak private (smaps_rollup, 10 ms samples)"
printf '%-8s %-7s %10s %8s %8s %8s %14s\n' client scenario "wall s" RSS PSS private requests
for scenario in cold warm san20 seq20; do
  for client in "${CLIENTS[@]}"; do
    k="$client.$scenario"
    # shellcheck disable=SC2086
    w=$(median ${WALL[$k]}); r=$(median ${RSS[$k]}); q=$(median ${REQ[$k]})
    # shellcheck disable=SC2086
    p=$(median ${PSS[$k]}); v=$(median ${PRIV[$k]})
    req="$q"
    # shellcheck disable=SC2086
    [ "$client" = acmed ] && req="$q [$(median ${SELF[$k]})]"
    printf '%-8s %-7s %10.2f %8.1f %8.1f %8.1f %14s\n' "$client" "$scenario" "$w" \
      "$(mb "$r")" "$(mb "$p")" "$(mb "$v")" "$req"
  done
done
echo
for scenario in cold warm san20 seq20; do
  for other in certbot lego; do
    [ -n "${WALL[$other.$scenario]:-}" ] || continue
    # shellcheck disable=SC2086
    ow=$(median ${WALL[$other.$scenario]}); aw=$(median ${WALL[acmed.$scenario]})
    # shellcheck disable=SC2086
    opss=$(median ${PSS[$other.$scenario]}); apss=$(median ${PSS[acmed.$scenario]})
    awk -v s="$scenario" -v o="$other" -v ow="$ow" -v aw="$aw" -v op="$opss" -v ap="$apss" \
      'BEGIN {printf "%-6s %s/acmed: wall %.1fx, peak PSS %.1fx\n", s, o, (aw > 0 ? ow / aw : 0), (ap > 0 ? op / ap : 0)}'
  done
done
# shellcheck disable=SC2086
echo "acmed 20-SAN / 1-name (warm) wall ratio: $(awk -v a="$(median ${WALL[acmed.san20]})" -v b="$(median ${WALL[acmed.warm]})" 'BEGIN {printf "%.2f", a / b}')"
# For scale: Debian's curl(1), the same libcurl and OpenSSL, fetching the directory 300 times over
# one HTTPS connection (long enough to be sampled like the clients above).
if command -v curl >/dev/null; then
  urls=()
  for _ in $(seq 1 300); do urls+=("$PEBBLE_URL"); done
  /usr/bin/time -f '%e %M' -o "$TEST_DIR/time.txt" bash -c 'exec "$@"' curl curl -sf -o /dev/null \
    --cacert "$PEBBLE_CA_BUNDLE" "${urls[@]}" >/dev/null &
  pid=$!
  sample_memory "$pid" "$TEST_DIR/mem.txt"
  wait "$pid" || fail "curl could not fetch the directory"
  read -r _ crss <"$TEST_DIR/time.txt"
  read -r cpss cpriv <"$TEST_DIR/mem.txt"
  echo "for scale: curl(1) fetching the directory 300 times over HTTPS (same libcurl/OpenSSL):" \
    "RSS $(mb "$crss") MB, PSS $(mb "$cpss") MB, private $(mb "$cpriv") MB"
fi
