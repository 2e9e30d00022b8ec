#!/usr/bin/env bash
# `acmed certonly --webroot` against Pebble with a real nginx serving two docroots on loopback:
# per-domain -w mapping, challenge files (and the dirs acmed created) removed afterwards, the
# [[webroot_map]] in the renewal conf, and a CA-side validation failure that exits non-zero with a
# one-line error naming the domain and still removes the challenge files; `renew -a webroot -w`;
# --allow-subset-of-names on certonly and on renewal.
. "$(dirname "$0")/lib.sh"

need nginx

PORT=$(free_port)
NG="$TEST_DIR/nginx"
D1="$TEST_DIR/www-a"
D2="$TEST_DIR/www-b"
D3="$TEST_DIR/www-c"
UNSERVED="$TEST_DIR/www-unserved"
mkdir -p "$NG" "$D1" "$D2" "$D3" "$UNSERVED"
start_nginx "$NG" \
  'log_format h "$host $request $status $request_filename";' \
  "access_log $NG/access.log h;" \
  "server { listen 127.0.0.1:$PORT default_server; server_name _; return 404; }" \
  "server { listen 127.0.0.1:$PORT; server_name a.test; root $D1; }" \
  "server { listen 127.0.0.1:$PORT; server_name b.test; root $D2; }" \
  "server { listen 127.0.0.1:$PORT; server_name c.test; root $D3; }"
wait_for_port "$PORT"

start_pebble "$PORT"
pebble_root "$TEST_DIR/root.pem"
C=$ACMED_CONFIG_DIR

log "certonly --webroot -w D1 -d a.test -w D2 -d b.test"
acmed_pebble certonly --webroot -w "$D1" -d a.test -w "$D2" -d b.test >"$TEST_DIR/ok.out" 2>&1 \
  || { cat "$TEST_DIR/ok.out"; fail "webroot issuance"; }
verify_chain "$C/live/a.test/fullchain.pem" "$TEST_DIR/root.pem"
san=$(openssl x509 -in "$C/live/a.test/cert.pem" -noout -ext subjectAltName)
echo "$san" | seen "DNS:a.test" && echo "$san" | seen "DNS:b.test" || fail "SAN: $san"
grep -q "GET /.well-known/acme-challenge/" "$NG/access.log" || fail "nginx never served a challenge"

log "challenge files and the dirs acmed created are gone"
for d in "$D1" "$D2"; do
  [ -z "$(find "$d" -type f)" ] || { find "$d"; fail "challenge files left in $d"; }
  [ ! -e "$d/.well-known" ] || { find "$d"; fail "acmed left $d/.well-known behind"; }
done

log "renewal conf has authenticator webroot and a [[webroot_map]] with both names"
conf="$C/renewal/a.test.conf"
grep -qx "authenticator = webroot" "$conf" || fail "authenticator not webroot"
grep -qx "\[\[webroot_map\]\]" "$conf" || { cat "$conf"; fail "no [[webroot_map]]"; }
map=$(sed -n '/^\[\[webroot_map\]\]/,/^\[/p' "$conf")
echo "$map" | seen "^a.test = $D1\$" || { cat "$conf"; fail "webroot_map lacks a.test = $D1"; }
echo "$map" | seen "^b.test = $D2\$" || { cat "$conf"; fail "webroot_map lacks b.test = $D2"; }

log "a pre-existing .well-known dir is kept (only acmed's files go)"
mkdir -p "$D2/.well-known/acme-challenge"
echo keep >"$D2/.well-known/acme-challenge/keep.txt"
acmed_pebble certonly --webroot -w "$D2" -d b.test >/dev/null 2>&1 || fail "second webroot issuance"
[ "$(find "$D2" -type f)" = "$D2/.well-known/acme-challenge/keep.txt" ] \
  || { find "$D2"; fail "unexpected files in $D2 after issuance"; }

log "CA-side failure: a webroot nginx does not serve"
before_live=$(cd "$C" && find live archive -printf '%p %l\n' | LC_ALL=C sort | sha256sum)
with_new_account expect_fail acmed_pebble certonly --webroot -w "$UNSERVED" -d a.test --cert-name fails
[ "$LAST_RC" != 2 ] || fail "a CA-side failure exited 2 (usage)"
errs=$(echo "$LAST_ERR" | grep -v '^hint:' | grep -v '^Requesting a certificate' || true)
[ "$(echo "$errs" | grep -c .)" = 1 ] || fail "not a one-line error: $errs"
echo "$errs" | seen "a.test" || fail "error does not name a.test"
[ -z "$(find "$UNSERVED" -type f)" ] || { find "$UNSERVED"; fail "challenge files left after the failure"; }
[ ! -e "$UNSERVED/.well-known" ] || fail "acmed left .well-known in the unserved webroot after the failure"
[ ! -e "$C/live/fails" ] && [ ! -e "$C/archive/fails" ] && [ ! -e "$C/renewal/fails.conf" ] \
  || fail "a failed issuance left a lineage behind"
[ "$(cd "$C" && find live archive -printf '%p %l\n' | LC_ALL=C sort | sha256sum)" = "$before_live" ] \
  || fail "the failed issuance changed live/ or archive/"
log "renew -a webroot -w DIR moves a lineage to webroot, every name to DIR, and stores it (certbot)"
acmed_pebble certonly --webroot -w "$UNSERVED" -d c.test --cert-name c.test >/dev/null 2>&1 && fail "unserved webroot validated"
acmed_pebble certonly --webroot -w "$D3" -d c.test --cert-name c.test >/dev/null 2>&1 || fail "c.test issuance"
cconf="$C/renewal/c.test.conf"
sed -i -e "s|^authenticator = .*|authenticator = standalone|" -e "/^\[\[webroot_map\]\]/,\$d" "$cconf"
serial=$(openssl x509 -in "$C/live/c.test/cert.pem" -noout -serial)
: >"$NG/access.log"
with_new_account acmed_pebble renew --cert-name c.test --force-renewal -a webroot -w "$D3" \
  >"$TEST_DIR/renew.out" 2>&1 || { cat "$TEST_DIR/renew.out"; fail "renew -a webroot -w"; }
[ "$(openssl x509 -in "$C/live/c.test/cert.pem" -noout -serial)" != "$serial" ] || fail "not renewed"
grep -q "^c.test GET /.well-known/acme-challenge/" "$NG/access.log" || fail "the renewal's challenge was not served from $D3"
grep -qx "authenticator = webroot" "$cconf" && grep -qx "webroot_path = $D3,\?" "$cconf" \
  || { cat "$cconf"; fail "renew -a webroot -w not stored"; }

log "renew -w NEWDIR replaces a stored webroot_map (the docroot moved); renew -a webroot keeps it"
mv "$D3" "$D3.old" && mkdir "$D3" && printf '[[webroot_map]]\nc.test = %s\n' "$D3.old" >>"$cconf"
sed -i "s|^webroot_path = .*|webroot_path = $D3.old,|" "$cconf"
: >"$NG/access.log"
with_new_account acmed_pebble renew --cert-name c.test --force-renewal -w "$D3" \
  >"$TEST_DIR/renew.out" 2>&1 || { cat "$TEST_DIR/renew.out"; fail "renew -w NEWDIR"; }
grep -q "^c.test GET /.well-known/acme-challenge/" "$NG/access.log" || fail "challenge not served from the new dir"
grep -qx "webroot_path = $D3,\?" "$cconf" && ! grep -q "$D3.old" "$cconf" || { cat "$cconf"; fail "new root not stored"; }
cp "$cconf" "$TEST_DIR/cconf.before"
with_new_account acmed_pebble renew --cert-name c.test --force-renewal -a webroot >"$TEST_DIR/renew.out" 2>&1 \
  || { cat "$TEST_DIR/renew.out"; fail "renew -a webroot without -w"; }
diff <(grep -v "^account" "$TEST_DIR/cconf.before") <(grep -v "^account" "$cconf") \
  || fail "renew -a webroot (its own plugin, no flags) changed the stored settings"
log "--allow-subset-of-names: a name that fails validation is dropped, the rest issued, the flag stored"
expect_fail acmed_pebble certonly --webroot -w "$D1" -d a.test -d gone.test --cert-name sub
[ ! -e "$C/live/sub" ] || fail "a failed validation without --allow-subset-of-names made a lineage"
acmed_pebble certonly --webroot -w "$D1" -d a.test -d gone.test --cert-name sub --allow-subset-of-names \
  >"$TEST_DIR/sub.out" 2>&1 || { cat "$TEST_DIR/sub.out"; fail "--allow-subset-of-names"; }
grep -q "allow-subset-of-names: dropping gone.test" "$TEST_DIR/sub.out" || { cat "$TEST_DIR/sub.out"; fail "no note on the dropped name"; }
san=$(openssl x509 -in "$C/live/sub/cert.pem" -noout -ext subjectAltName)
echo "$san" | seen "DNS:a.test" && ! echo "$san" | seen "gone.test" || fail "SAN: $san"
verify_chain "$C/live/sub/fullchain.pem" "$TEST_DIR/root.pem"
grep -qx "allow_subset_of_names = True" "$C/renewal/sub.conf" || { cat "$C/renewal/sub.conf"; fail "not stored"; }

log "a renewal with allow_subset_of_names stored drops a name that stopped validating"
acmed_pebble certonly --webroot -w "$D1" -d a.test -w "$D2" -d b.test --cert-name sub2 \
  --allow-subset-of-names >/dev/null 2>&1 || fail "sub2 issuance"
sed -i "s|^b.test = .*|b.test = $UNSERVED|" "$C/renewal/sub2.conf"
with_new_account acmed_pebble renew --cert-name sub2 --force-renewal >"$TEST_DIR/sub.out" 2>&1 \
  || { cat "$TEST_DIR/sub.out"; fail "renewal with a dropped name"; }
san=$(openssl x509 -in "$C/live/sub2/cert.pem" -noout -ext subjectAltName)
echo "$san" | seen "DNS:a.test" && ! echo "$san" | seen "b.test" || fail "renewed SAN: $san"
echo "PASS"
