#!/usr/bin/env bash
# Benchmark of `acmed renew` next to `certbot renew` on the same lineages, in the same run:
#   1. 1,000 lineages, none due: a warm-up run caches the CA's ARI answer (Pebble has no ARI, so
#      "no renewalInfo" is cached), then the measured run happens with Pebble STOPPED: it must
#      succeed without a single request.
#   2. 50 due lineages (renew_before_expiry beyond their lifetime) renewed against Pebble with
#      webroot challenges served by nginx.
# Prints wall time and peak RSS (GNU time); it is not a test. Needs: pebble, nginx, openssl,
# /usr/bin/time (package `time`); certbot for the comparison (apt-get install certbot).
#   ACMED_BIN=build/src/acmed bench/renew.sh [N_NOOP] [N_DUE] [JOBS]
set -euo pipefail
ACMED_BIN=${ACMED_BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/src/acmed}
export ACMED_BIN
. "$(dirname "$0")/../tests/integration/lib.sh"

N_NOOP=${1:-1000}
N_DUE=${2:-50}
JOBS=${3:-8}
command -v /usr/bin/time >/dev/null || fail "/usr/bin/time missing: apt-get install time"
HAVE_CERTBOT=0
command -v certbot >/dev/null && HAVE_CERTBOT=1

# measure LABEL CMD...: runs CMD under GNU time; prints wall seconds and peak RSS in MB.
measure() {
  local label=$1; shift
  local rc=0
  /usr/bin/time -v -o "$TEST_DIR/time.txt" "$@" >"$TEST_DIR/$label.out" 2>&1 || rc=$?
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$TEST_DIR/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$TEST_DIR/time.txt")
  printf '%-44s wall %10s   peak RSS %7s MB   exit %d\n' "$label" "$wall" "$rss" "$rc"
}

certbot_dirs() {  # certbot_dirs CONFIG_DIR
  echo --config-dir "$1" --work-dir "$TEST_DIR/certbot-work" --logs-dir "$TEST_DIR/certbot-logs"
}

start_pebble
WWW="$TEST_DIR/www"
mkdir -p "$WWW"

# ---- 1. N_NOOP lineages, none due -------------------------------------------------------------
log "writing $N_NOOP lineages (certbot layout) with openssl"
CFG="$TEST_DIR/noop"
mkdir -p "$CFG/renewal" "$TEST_DIR/gen"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=bench CA" \
  -keyout "$TEST_DIR/gen/ca.key" -out "$TEST_DIR/gen/ca.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TEST_DIR/gen/leaf.key" 2>/dev/null
openssl req -new -key "$TEST_DIR/gen/leaf.key" -subj "/CN=bench" -out "$TEST_DIR/gen/leaf.csr"
for i in $(seq 1 "$N_NOOP"); do
  name="n$i.bench.test"
  arch="$CFG/archive/$name"; live="$CFG/live/$name"
  mkdir -p "$arch" "$live"
  printf 'subjectAltName=DNS:%s\nauthorityKeyIdentifier=keyid\nbasicConstraints=CA:FALSE\n' "$name" \
    >"$TEST_DIR/gen/ext"
  openssl x509 -req -in "$TEST_DIR/gen/leaf.csr" -CA "$TEST_DIR/gen/ca.pem" -CAkey "$TEST_DIR/gen/ca.key" \
    -set_serial "$((100000 + i))" -days 90 -extfile "$TEST_DIR/gen/ext" -out "$arch/cert1.pem" 2>/dev/null
  cp "$TEST_DIR/gen/ca.pem" "$arch/chain1.pem"
  cat "$arch/cert1.pem" "$arch/chain1.pem" >"$arch/fullchain1.pem"
  cp "$TEST_DIR/gen/leaf.key" "$arch/privkey1.pem"
  for f in cert chain fullchain privkey; do ln -s "../../archive/$name/${f}1.pem" "$live/$f.pem"; done
  cat >"$CFG/renewal/$name.conf" <<CONF
version = 2.1.0
archive_dir = $arch
cert = $live/cert.pem
privkey = $live/privkey.pem
chain = $live/chain.pem
fullchain = $live/fullchain.pem

[renewalparams]
authenticator = webroot
webroot_path = $WWW,
server = $PEBBLE_URL
account = 00000000000000000000000000000000
key_type = ecdsa
[[webroot_map]]
$name = $WWW
CONF
done
cp -a "$CFG" "$TEST_DIR/noop-certbot"

ACMED_CONFIG_DIR=$CFG
log "warm-up run (fetches the directory once per worker and caches 'no ARI' per lineage)"
acmed renew -q --ca-bundle "$PEBBLE_CA_BUNDLE" --jobs "$JOBS" || fail "warm-up acmed renew failed"
log "stopping Pebble: the measured no-op run must not need the network"
stop_pid "$PEBBLE_PID"
echo
echo "== $N_NOOP lineages, none due"
measure "acmed renew (Pebble down, cached ARI)" \
  "$ACMED_BIN" --config-dir "$CFG" --work-dir "$TEST_DIR/work" --logs-dir "$TEST_DIR/logs" renew \
  --jobs "$JOBS" --ca-bundle "$PEBBLE_CA_BUNDLE"
grep -q "checked $N_NOOP, renewed 0, not due $N_NOOP, failed 0" "$TEST_DIR/acmed renew (Pebble down, cached ARI).out" \
  || { cat "$TEST_DIR/acmed renew (Pebble down, cached ARI).out"; fail "the no-op run did not report all lineages not due"; }
if grep -qi "ARI unavailable" "$TEST_DIR/acmed renew (Pebble down, cached ARI).out"; then
  fail "the no-op run tried to reach the CA"
fi
if [ "$HAVE_CERTBOT" = 1 ]; then
  # shellcheck disable=SC2046
  measure "certbot renew" certbot renew --no-random-sleep-on-renew $(certbot_dirs "$TEST_DIR/noop-certbot")
else
  echo "certbot renew                                (certbot not installed: apt-get install certbot)"
fi

# ---- 2. N_DUE due lineages against Pebble ----------------------------------------------------
start_pebble
ROOT="$TEST_DIR/nginx"
mkdir -p "$ROOT"
printf '%s\n' "user root;" "worker_processes 2;" "pid $ROOT/nginx.pid;" "error_log $ROOT/error.log;" \
  "events { worker_connections 256; }" \
  "http { access_log off; server { listen 127.0.0.1:$HTTP01_PORT; root $WWW; } }" >"$ROOT/nginx.conf"
nginx -e "$ROOT/error.log" -c "$ROOT/nginx.conf" || fail "nginx does not start"
on_exit 'stop_pid "$(cat "$ROOT/nginx.pid")"'
ACMED_CONFIG_DIR="$TEST_DIR/due"
log "obtaining $N_DUE certificates from Pebble"
for i in $(seq 1 "$N_DUE"); do
  acmed_pebble certonly -q --webroot -w "$WWW" -d "d$i.bench.test" || fail "certonly d$i"
done
for f in "$ACMED_CONFIG_DIR"/renewal/*.conf; do sed -i '1i renew_before_expiry = 36500 days' "$f"; done
cp -a "$ACMED_CONFIG_DIR" "$TEST_DIR/due-certbot"
echo
echo "== $N_DUE due lineages renewed against Pebble (VA without sleep)"
measure "acmed renew --jobs $JOBS" \
  "$ACMED_BIN" --config-dir "$ACMED_CONFIG_DIR" --work-dir "$TEST_DIR/work2" --logs-dir "$TEST_DIR/logs" \
  renew --jobs "$JOBS" --ca-bundle "$PEBBLE_CA_BUNDLE"
grep -q "renewed $N_DUE," "$TEST_DIR/acmed renew --jobs $JOBS.out" || { tail -5 "$TEST_DIR/acmed renew --jobs $JOBS.out"; fail "acmed did not renew all"; }
if [ "$HAVE_CERTBOT" = 1 ]; then
  # shellcheck disable=SC2046
  measure "certbot renew" env REQUESTS_CA_BUNDLE="$PEBBLE_CA_BUNDLE" certbot renew \
    --no-random-sleep-on-renew $(certbot_dirs "$TEST_DIR/due-certbot")
  tail -3 "$TEST_DIR/certbot renew.out"
fi
