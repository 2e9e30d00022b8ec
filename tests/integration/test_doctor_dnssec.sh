#!/usr/bin/env bash
# dns.dnssec against real BIND 9: an authoritative named serving two signed zones on a loopback
# port, and a validating resolver named forwarding to it, whose trust anchor for good.sec is
# good.sec's key and for bad.sec a key that did not sign it (a broken chain, as after a botched
# key rollover). acmed doctor asks the resolver: good.sec is signed and validated, bad.sec fails
# with the fix, an unsigned zone is reported as not validated.
. "$(dirname "$0")/lib.sh"

need named
need dnssec-keygen
need dnssec-signzone
need python3

D="$TEST_DIR/bind"; mkdir -p "$D/auth" "$D/res"
AUTH=$(free_port); RES=$(free_port)
for z in good.sec bad.sec plain.sec; do
  cat >"$D/auth/$z.zone" <<ZONE
\$TTL 300
@   IN SOA ns.$z. admin.$z. 1 3600 600 86400 300
@   IN NS  ns.$z.
ns  IN A   127.0.0.1
www IN A   127.0.0.1
ZONE
done
(
  cd "$D/auth"
  for z in good.sec bad.sec; do
    dnssec-keygen -q -a ECDSAP256SHA256 -f KSK -n ZONE "$z" >/dev/null
    dnssec-keygen -q -a ECDSAP256SHA256 -n ZONE "$z" >/dev/null
    dnssec-signzone -q -S -K . -o "$z" -f "$z.signed" "$z.zone" >/dev/null
  done
) || fail "cannot sign the test zones"
# the trust anchor line of a zone's KSK: "<zone> static-key 257 3 13 "<key>";"
anchor() {  # anchor ZONE KEYFILE-ZONE
  local key
  key=$(awk '!/^;/ { for (d = 1; d <= NF; d++) if ($d == "DNSKEY") break }
    !/^;/ && $(d + 1) == 257 { for (i = d + 4; i <= NF; i++) k = k $i; print k; exit }' \
    "$D"/auth/K"$2".+013+*.key)
  [ -n "$key" ] || fail "no KSK for $2"
  printf '%s. static-key 257 3 13 "%s";\n' "$1" "$key"
}
cat >"$D/auth/named.conf" <<CONF
options {
  directory "$D/auth"; pid-file "$D/auth/named.pid";
  listen-on port $AUTH { 127.0.0.1; }; listen-on-v6 { none; };
  recursion no; dnssec-validation no;
};
zone "good.sec" { type primary; file "good.sec.signed"; };
zone "bad.sec" { type primary; file "bad.sec.signed"; };
zone "plain.sec" { type primary; file "plain.sec.zone"; };
CONF
GOOD_ANCHOR=$(anchor good.sec good.sec)
BAD_ANCHOR=$(anchor bad.sec good.sec)  # good.sec's key: not the one that signed bad.sec
cat >"$D/res/named.conf" <<CONF
options {
  directory "$D/res"; pid-file "$D/res/named.pid";
  listen-on port $RES { 127.0.0.1; }; listen-on-v6 { none; };
  recursion yes; allow-query { 127.0.0.1; }; dnssec-validation yes;
  forward only; forwarders { 127.0.0.1 port $AUTH; };
};
trust-anchors {
  $GOOD_ANCHOR
  $BAD_ANCHOR
};
CONF
start_bg named-auth named -g -c "$D/auth/named.conf"
wait_for_port "$AUTH" 20 named-auth
start_bg named-res named -g -c "$D/res/named.conf"
wait_for_port "$RES" 20 named-res

rc=0
acmed doctor --json --resolver "127.0.0.1:$RES" --connect-to 127.0.0.1 --timeout 3 \
  --server "http://127.0.0.1:$(free_port)/dir" \
  -d www.good.sec -d www.bad.sec -d www.plain.sec >"$TEST_DIR/d.json" || rc=$?
[ "$rc" = 1 ] || fail "doctor exited $rc with a broken DNSSEC zone"
python3 - "$TEST_DIR/d.json" <<'PY' || fail "dns.dnssec findings: $(cat "$TEST_DIR/d.json")"
import json, sys
j = json.load(open(sys.argv[1]))
f = {c["name"]: c for c in j["checks"] if c["id"] == "dns.dnssec"}
assert f["www.good.sec"]["status"] == "ok" and "validated by" in f["www.good.sec"]["detail"], f
assert f["www.bad.sec"]["status"] == "fail" and "DS record" in f["www.bad.sec"]["fix"], f
assert f["www.plain.sec"]["status"] == "ok" and "not validated" in f["www.plain.sec"]["detail"], f
r = {c["name"]: c for c in j["checks"] if c["id"] == "dns.resolves"}
assert r["www.good.sec"]["status"] == "ok" and r["www.bad.sec"]["status"] == "fail", r
PY
echo "PASS"
