# A real BIND 9 for dns-01 tests, on loopback. Source after lib.sh:   . "$(dirname "$0")/bind_lib.sh"
#
# start_bind starts one named (stopped by PID at exit, through lib.sh's start_bg) listening on
# port 53 of two fresh loopback addresses, so the authoritative propagation check is tested as
# it runs in production (every NS of the zone, port 53); the addresses are added to lo and
# removed at exit. Zones:
#   example.test    NS ns1, ns2 (both this named); A 127.0.0.1 for the apex and every name;
#                   a TXT "unrelated-value" on _acme-challenge.example.test that must survive;
#                   _acme-challenge.cname CNAME -> cname.delegated.test (delegation);
#                   _acme-challenge.loop <-> _acme-challenge.loop2 (a CNAME loop)
#   delegated.test  where delegated _acme-challenge names point
#   lagging.test    NS ns1 and ns3; ns3 (BIND_DEAD_IP) does not answer
# Keys: acmed-key (HMAC-SHA256) may update TXT in every zone; other-key may update nothing.
# Exports BIND_IP (ns1), BIND_IP2 (ns2), BIND_DEAD_IP, BIND_SECRET, BIND_OTHER_SECRET,
# BIND_PID, and BIND_CREDS (a certbot dns-rfc2136 credentials file for acmed-key, mode 600).

# bind_ip_free IP: true when nothing listens on IP:53.
bind_ip_free() { ! ss -Hlnu "src $1:53" | seen . && ! ss -Hlnt "src $1:53" | seen .; }

start_bind() {
  command -v named >/dev/null || { echo "named (bind9) is not installed" >&2; exit 77; }
  [ "$(id -u)" -eq 0 ] || { echo "BIND must listen on port 53: run as root" >&2; exit 77; }
  local base
  for _ in $(seq 1 50); do
    base="127.53.$((RANDOM % 250 + 1)).$((RANDOM % 60 * 4 + 1))"
    local b=${base%.*} l=${base##*.}
    BIND_IP=$base BIND_IP2="$b.$((l + 1))" BIND_DEAD_IP="$b.$((l + 2))"
    bind_ip_free "$BIND_IP" && bind_ip_free "$BIND_IP2" && bind_ip_free "$BIND_DEAD_IP" && break
  done
  # named listens only on addresses of an interface: put the two on lo for this test.
  local ip
  for ip in "$BIND_IP" "$BIND_IP2"; do
    ip addr add "$ip/32" dev lo || fail "cannot add $ip to lo"
    on_exit "ip addr del $ip/32 dev lo"
  done
  local d="$TEST_DIR/bind"
  mkdir -p "$d"
  tsig-keygen -a hmac-sha256 acmed-key >"$d/keys.conf"
  tsig-keygen -a hmac-sha256 other-key >>"$d/keys.conf"
  BIND_SECRET=$(awk '/key "acmed-key"/{k=1} k&&/secret/{gsub(/[";]/,"",$2); print $2; exit}' "$d/keys.conf")
  BIND_OTHER_SECRET=$(awk '/key "other-key"/{k=1} k&&/secret/{gsub(/[";]/,"",$2); print $2; exit}' "$d/keys.conf")
  cat >"$d/example.test.db" <<ZONE
\$TTL 60
@       SOA ns1.example.test. hostmaster.example.test. 1 60 60 600 60
@       NS  ns1.example.test.
@       NS  ns2.example.test.
ns1     A   $BIND_IP
ns2     A   $BIND_IP2
@       A   127.0.0.1
*       A   127.0.0.1
_acme-challenge       TXT "unrelated-value"
_acme-challenge.cname CNAME cname.delegated.test.
_acme-challenge.loop  CNAME _acme-challenge.loop2.example.test.
_acme-challenge.loop2 CNAME _acme-challenge.loop.example.test.
ZONE
  cat >"$d/delegated.test.db" <<ZONE
\$TTL 60
@       SOA ns1.example.test. hostmaster.example.test. 1 60 60 600 60
@       NS  ns1.example.test.
keep    TXT "kept"
ZONE
  cat >"$d/lagging.test.db" <<ZONE
\$TTL 60
@       SOA ns1.example.test. hostmaster.example.test. 1 60 60 600 60
@       NS  ns1.example.test.
@       NS  ns3.lagging.test.
ns3     A   $BIND_DEAD_IP
@       A   127.0.0.1
ZONE
  # An empty root zone: with recursion on (Pebble needs CNAMEs followed across zones) named is
  # authoritative for every name and never sends a query off this machine.
  cat >"$d/root.db" <<ZONE
\$TTL 60
@       SOA ns1.example.test. hostmaster.example.test. 1 60 60 600 60
@       NS  ns1.example.test.
ZONE
  local zones="zone \".\" { type primary; file \"$d/root.db\"; check-integrity no; };
"
  for z in example.test delegated.test lagging.test; do
    zones+="zone \"$z\" { type primary; file \"$d/$z.db\"; allow-transfer { any; };
  update-policy { grant acmed-key zonesub TXT; }; };
"
  done
  cat >"$d/named.conf" <<CONF
options {
  directory "$d";
  pid-file "$d/named.pid";
  session-keyfile "$d/session.key";
  managed-keys-directory "$d";
  listen-on port 53 { $BIND_IP; $BIND_IP2; };
  listen-on-v6 { none; };
  recursion yes;
  allow-recursion { any; };
  dnssec-validation no;
  notify no;
  allow-query { any; };
};
controls { };
include "$d/keys.conf";
$zones
CONF
  start_bg named named -g -4 -n 1 -c "$d/named.conf"
  BIND_PID=$BG_PID
  for _ in $(seq 1 100); do
    dig +time=1 +tries=1 +short @"$BIND_IP" example.test SOA 2>/dev/null | seen ns1 && break
    kill -0 "$BIND_PID" 2>/dev/null || { cat "$TEST_DIR/named.log" >&2; fail "named exited"; }
    sleep 0.1
  done
  dig +time=1 +tries=1 +short @"$BIND_IP2" example.test SOA | seen ns1 || fail "named does not answer"
  BIND_CREDS="$TEST_DIR/rfc2136.ini"
  write_creds "$BIND_CREDS" "$BIND_SECRET" HMAC-SHA256 acmed-key
  export BIND_IP BIND_IP2 BIND_DEAD_IP BIND_SECRET BIND_OTHER_SECRET BIND_PID BIND_CREDS
}

# write_creds FILE SECRET ALGORITHM [NAME]: a certbot dns-rfc2136 credentials file, mode 600.
write_creds() {
  (umask 077; cat >"$1" <<INI
# certbot dns-rfc2136 credentials
dns_rfc2136_server = $BIND_IP
dns_rfc2136_port = 53
dns_rfc2136_name = ${4:-acmed-key}
dns_rfc2136_secret = $2
dns_rfc2136_algorithm = $3
INI
  )
}

# zone_dump ZONE: the zone's records by AXFR, sorted, without the SOA (its serial moves with
# every update). Equal dumps mean the same records.
zone_dump() {
  dig +time=2 +tries=1 +nocmd +nostats +nocomments @"$BIND_IP" "$1" AXFR \
    | awk '$4 != "SOA" && NF' | LC_ALL=C sort -u
}

# txt_of NAME: the TXT values at NAME, sorted, one a line.
txt_of() { dig +time=2 +tries=1 +short @"$BIND_IP" "$1" TXT | tr -d '"' | LC_ALL=C sort; }
