#!/usr/bin/env bash
# Benchmark of `acmed doctor` on N names (default 20) served by one nginx on loopback, next to
# the same checks done the way people do them by hand, one name after the other: dig (A, AAAA,
# CAA), curl (the port-80 redirect, the page and its headers) and openssl s_client (the chain,
# TLS 1.0, 1.1 and 1.3, ALPN h2). No other ACME client has a doctor, so the hand-made loop is the
# comparison. DNS is pebble-challtestsrv (127.0.0.1 for every name). Prints wall time and peak
# RSS (GNU time); it is not a test. Needs: nginx, pebble, openssl, curl, bind9-dnsutils (dig),
# /usr/bin/time (package `time`).
#   ACMED_BIN=build/src/acmed bench/doctor.sh [N]
set -euo pipefail
ACMED_BIN=${ACMED_BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/src/acmed}
export ACMED_BIN
. "$(dirname "$0")/../tests/integration/lib.sh"

N=${1:-20}
command -v /usr/bin/time >/dev/null || fail "/usr/bin/time missing: apt-get install time"
need nginx dig curl openssl

measure() {  # measure LABEL CMD...
  local label=$1; shift
  local rc=0
  /usr/bin/time -v -o "$TEST_DIR/time.txt" "$@" >"$TEST_DIR/$label.out" 2>&1 || rc=$?
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$TEST_DIR/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$TEST_DIR/time.txt")
  printf '%-46s wall %10s   peak RSS %7s MB   exit %d\n' "$label" "$wall" "$rss" "$rc"
}

start_pebble  # for challtestsrv's DNS
names=()
for i in $(seq 1 "$N"); do names+=("site$i.test"); done
# One certificate for every name, from a throwaway CA.
C="$TEST_DIR/tls"; mkdir -p "$C"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench CA" \
  -keyout "$C/ca.key" -out "$C/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=${names[0]}" \
  -keyout "$C/site.key" -out "$C/site.csr" 2>/dev/null
san=$(printf 'DNS:%s,' "${names[@]}"); printf 'subjectAltName=%s\n' "${san%,}" >"$C/ext.cnf"
openssl x509 -req -in "$C/site.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -days 2 \
  -extfile "$C/ext.cnf" -out "$C/site.pem" 2>/dev/null
cat "$C/ca.pem" "$PEBBLE_CA_BUNDLE" >"$C/trust.pem"
HTTP=$(free_port); HTTPS=$(free_port)
mkdir -p "$TEST_DIR/www"; echo '<html><img src="https://x.test/a.png"></html>' >"$TEST_DIR/www/index.html"
echo '{"meta": {"caaIdentities": ["letsencrypt.org"]}}' >"$TEST_DIR/www/dir.json"
start_nginx "$TEST_DIR/nginx" "access_log off;" \
  "server { listen 127.0.0.1:$HTTP default_server; location = /dir.json { root $TEST_DIR/www; } location / { return 301 https://\$host:$HTTPS\$request_uri; } }" \
  "server { listen 127.0.0.1:$HTTPS ssl http2; ssl_certificate $C/site.pem; ssl_certificate_key $C/site.key; ssl_protocols TLSv1.2 TLSv1.3; root $TEST_DIR/www; add_header Strict-Transport-Security max-age=600 always; }"
wait_for_port "$HTTPS" 20 nginx

doctor_args=(doctor --json --resolver "127.0.0.1:$DNS_PORT" --connect-to 127.0.0.1
  --http-01-port "$HTTP" --https-port "$HTTPS" --ca-bundle "$C/trust.pem"
  --server "http://127.0.0.1:$HTTP/dir.json")
for n in "${names[@]}"; do doctor_args+=(-d "$n"); done

# The same questions asked one name at a time with the usual tools (a script, for GNU time).
cat >"$TEST_DIR/by_hand.sh" <<SCRIPT
for n in ${names[*]}; do
  for t in A AAAA CAA; do dig +short +time=5 @127.0.0.1 -p $DNS_PORT "\$n" "\$t" >/dev/null; done
  curl -s -o /dev/null --max-time 5 --connect-to "\$n:$HTTP:127.0.0.1:$HTTP" "http://\$n:$HTTP/"
  curl -s -o /dev/null -D - --max-time 5 --cacert "$C/ca.pem" \\
    --connect-to "\$n:$HTTPS:127.0.0.1:$HTTPS" "https://\$n:$HTTPS/" >/dev/null
  for v in -tls1 -tls1_1 -tls1_3; do
    openssl s_client -connect 127.0.0.1:$HTTPS -servername "\$n" "\$v" -CAfile "$C/ca.pem" \\
      </dev/null >/dev/null 2>&1 || true
  done
  openssl s_client -connect 127.0.0.1:$HTTPS -servername "\$n" -alpn h2,http/1.1 \\
    -CAfile "$C/ca.pem" -verify_return_error </dev/null >/dev/null 2>&1 || true
done
SCRIPT

echo "acmed doctor on $N names (each: DNS A/AAAA/CAA/DNSSEC, listeners, redirect, 5 TLS handshakes, one GET)"
measure "acmed doctor, $N names" "$ACMED_BIN" -c /dev/null --config-dir "$ACMED_CONFIG_DIR" \
  --work-dir "$TEST_DIR/work" --logs-dir "$TEST_DIR/logs" "${doctor_args[@]}"
measure "acmed doctor, $N names (again)" "$ACMED_BIN" -c /dev/null \
  --config-dir "$ACMED_CONFIG_DIR" --work-dir "$TEST_DIR/work" --logs-dir "$TEST_DIR/logs" \
  "${doctor_args[@]}"
measure "dig + curl + openssl s_client by hand, $N names" bash "$TEST_DIR/by_hand.sh"
checks=$(grep -c '"id"' "$TEST_DIR/acmed doctor, $N names.out" || true)
failed=$(grep -c '"status": "fail"' "$TEST_DIR/acmed doctor, $N names.out" || true)
echo "doctor reported $checks findings, $failed of them fail"
