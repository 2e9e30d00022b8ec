#!/usr/bin/env bash
# dns-01 benchmark: acmed --dns-rfc2136 next to certbot's dns-rfc2136 plugin, same BIND 9, same
# Pebble (PEBBLE_VA_NOSLEEP=1, validating through that BIND), same run. Each issuance starts from
# a fresh config dir (new account), for every client alike. Scenarios:
#   acmed http-01      one name through --standalone (the reference for the 2x target)
#   acmed dns-01       *.example.test + example.test through --dns-rfc2136 (checks the record on
#                      every authoritative server, then answers)
#   certbot 1s         the same names, certbot --dns-rfc2136-propagation-seconds 1
#   certbot default    the same names, certbot's default propagation wait (60 s; run once)
# Prints the median wall time of RUNS runs (default 3) and the two ratios of issue 13's targets:
# acmed dns-01 / acmed http-01 (target <= 2) and certbot 1s / acmed dns-01 (target >= 10).
#   ACMED_BIN=build/src/acmed bench/dns01.sh [RUNS]
# Needs root (BIND listens on port 53 of two loopback addresses it adds to lo), bind9, dnsutils,
# pebble, /usr/bin/time; certbot and python3-certbot-dns-rfc2136 for the comparison (skipped if
# missing). It is not a test and sets no target by itself.
set -euo pipefail
ACMED_BIN=${ACMED_BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/src/acmed}
export ACMED_BIN
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$(dirname "$0")/../tests/integration/bind_lib.sh"

RUNS=${1:-3}
command -v /usr/bin/time >/dev/null || fail "/usr/bin/time missing: apt-get install time"
CERTBOT=0
if command -v certbot >/dev/null && /usr/bin/python3 -c 'import certbot_dns_rfc2136' 2>/dev/null; then
  CERTBOT=1
else
  log "certbot or its dns-rfc2136 plugin missing: apt-get install -y certbot python3-certbot-dns-rfc2136"
fi

start_bind
PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_DNS_SERVER="$BIND_IP:53" start_pebble

# timed NAME CMD...: runs CMD under GNU time, appends its wall time to WALL[NAME].
declare -A WALL
timed() {
  local name=$1; shift
  /usr/bin/time -f '%e' -o "$TEST_DIR/time.txt" "$@" >"$TEST_DIR/out.txt" 2>&1 \
    || { cat "$TEST_DIR/out.txt" >&2; fail "$name failed"; }
  WALL[$name]="${WALL[$name]:-} $(tail -1 "$TEST_DIR/time.txt")"
}
median() { printf '%s\n' "$@" | LC_ALL=C sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

acmed_in() {  # acmed_in DIR ARGS...
  local dir=$1; shift
  "$ACMED_BIN" --config-dir "$dir/etc" --work-dir "$dir/work" --logs-dir "$dir/logs" certonly \
    --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" -n --agree-tos \
    --register-unsafely-without-email "$@"
}
certbot_in() {  # certbot_in DIR ARGS...
  local dir=$1; shift
  REQUESTS_CA_BUNDLE="$PEBBLE_CA_BUNDLE" certbot certonly --server "$PEBBLE_URL" \
    --config-dir "$dir/etc" --work-dir "$dir/work" --logs-dir "$dir/logs" -n --agree-tos \
    --register-unsafely-without-email --dns-rfc2136 --dns-rfc2136-credentials "$BIND_CREDS" "$@"
}
export -f acmed_in certbot_in
export PEBBLE_URL PEBBLE_CA_BUNDLE BIND_CREDS

for run in $(seq 1 "$RUNS"); do
  log "run $run/$RUNS: acmed http-01"
  timed acmed_http bash -c 'acmed_in "$@"' _ "$TEST_DIR/ah$run" --standalone \
    --http-01-address 127.0.0.1 --http-01-port "$HTTP01_PORT" -d "h$run.example.test"
  log "run $run/$RUNS: acmed dns-01 (wildcard + apex)"
  timed acmed_dns bash -c 'acmed_in "$@"' _ "$TEST_DIR/ad$run" --dns-rfc2136 \
    --dns-rfc2136-credentials "$BIND_CREDS" -d '*.example.test' -d example.test
  if [ "$CERTBOT" = 1 ]; then
    log "run $run/$RUNS: certbot dns-rfc2136, propagation 1 s"
    timed certbot_1s bash -c 'certbot_in "$@"' _ "$TEST_DIR/c1$run" \
      --dns-rfc2136-propagation-seconds 1 -d '*.example.test' -d example.test
  fi
done
if [ "$CERTBOT" = 1 ]; then
  log "certbot dns-rfc2136, default propagation wait (once)"
  timed certbot_default bash -c 'certbot_in "$@"' _ "$TEST_DIR/cd" -d '*.example.test' -d example.test
fi

echo
echo "dns-01 benchmark: BIND 9 + Pebble (VA no sleep) on loopback, fresh account each issuance"
echo "wall seconds, median of $RUNS run(s) (certbot default: one run)"
# shellcheck disable=SC2086
ah=$(median ${WALL[acmed_http]}); ad=$(median ${WALL[acmed_dns]})
printf '%-36s %8.2f\n' "acmed http-01 (1 name)" "$ah" "acmed dns-01 (*.example.test + apex)" "$ad"
if [ "$CERTBOT" = 1 ]; then
  # shellcheck disable=SC2086
  c1=$(median ${WALL[certbot_1s]}); cd=$(median ${WALL[certbot_default]})
  printf '%-36s %8.2f\n' "certbot dns-rfc2136, propagation 1 s" "$c1" "certbot dns-rfc2136, default wait" "$cd"
fi
echo
awk -v d="$ad" -v h="$ah" 'BEGIN {printf "acmed dns-01 / acmed http-01: %.2fx (target <= 2x)\n", d / h}'
if [ "$CERTBOT" = 1 ]; then
  awk -v c="$c1" -v d="$ad" 'BEGIN {printf "certbot (1 s) / acmed dns-01: %.1fx (target >= 10x)\n", c / d}'
  awk -v c="$cd" -v d="$ad" 'BEGIN {printf "certbot (default) / acmed dns-01: %.1fx\n", c / d}'
fi
