#!/usr/bin/env bash
# --manual with hook scripts that call nsupdate against a real BIND 9, Pebble validating through
# that BIND: wildcard + apex over dns-01, http-01 through a hook-written file, certbot's hook
# environment recorded by the hooks, renewal through `acmed renew`, and the bad inputs (failing,
# timed-out and non-executable hooks, -n without a hook) with cleanup run and no lineage written.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/bind_lib.sh"

start_bind
PEBBLE_DNS_SERVER="$BIND_IP:53" start_pebble
pebble_root "$TEST_DIR/root.pem"
C=$ACMED_CONFIG_DIR
H="$TEST_DIR/hooks"; mkdir -p "$H/env" "$TEST_DIR/www"
export BIND_IP BIND_SECRET H WWW="$TEST_DIR/www"

cat >"$H/auth.sh" <<'SH'
#!/bin/sh
# certbot-style auth hook: records its environment and arguments, publishes the challenge.
set -e
n=$(ls "$H/env" | grep -v argv | wc -l)
env | grep '^CERTBOT_' | sort >"$H/env/auth.$n"
echo "$0 $*" >"$H/env/argv.$n"
if [ -n "$CERTBOT_TOKEN" ]; then
  mkdir -p "$WWW/.well-known/acme-challenge"
  printf %s "$CERTBOT_VALIDATION" >"$WWW/.well-known/acme-challenge/$CERTBOT_TOKEN"
else
  printf 'server %s 53\nupdate add _acme-challenge.%s. 60 TXT "%s"\nsend\n' \
    "$BIND_IP" "$CERTBOT_DOMAIN" "$CERTBOT_VALIDATION" | nsupdate -y "hmac-sha256:acmed-key:$BIND_SECRET"
fi
echo "published-$CERTBOT_VALIDATION"
SH
cat >"$H/cleanup.sh" <<'SH'
#!/bin/sh
set -e
n=$(ls "$H/env" | grep -v argv | wc -l)
env | grep '^CERTBOT_' | sort >"$H/env/cleanup.$n"
if [ -n "$CERTBOT_TOKEN" ]; then
  rm -f "$WWW/.well-known/acme-challenge/$CERTBOT_TOKEN"
else
  printf 'server %s 53\nupdate delete _acme-challenge.%s. TXT "%s"\nsend\n' \
    "$BIND_IP" "$CERTBOT_DOMAIN" "$CERTBOT_VALIDATION" | nsupdate -y "hmac-sha256:acmed-key:$BIND_SECRET"
fi
SH
chmod 755 "$H/auth.sh" "$H/cleanup.sh"
before=$(zone_dump example.test)
manual() {
  acmed_pebble certonly --manual --manual-auth-hook "$H/auth.sh" --manual-cleanup-hook "$H/cleanup.sh" \
    --dns-resolver "$BIND_IP:53" "$@"
}

log "wildcard + apex through --manual hooks calling nsupdate"
manual --preferred-challenges dns -d '*.example.test' -d example.test >"$TEST_DIR/wild.out" 2>&1 \
  || { cat "$TEST_DIR/wild.out"; fail "manual dns-01 issuance"; }
verify_chain "$C/live/example.test/fullchain.pem" "$TEST_DIR/root.pem"
openssl x509 -in "$C/live/example.test/cert.pem" -noout -ext subjectAltName | seen 'DNS:\*.example.test' \
  || fail "no wildcard in the certificate"
[ "$(zone_dump example.test)" = "$before" ] || fail "the cleanup hooks left records behind"
log "the hooks saw certbot's environment"
[ -f "$H/env/auth.0" ] && [ -f "$H/env/auth.1" ] && [ -f "$H/env/cleanup.2" ] && [ -f "$H/env/cleanup.3" ] \
  || { ls "$H/env"; fail "expected two auth and two cleanup runs"; }
grep -qx "CERTBOT_DOMAIN=example.test" "$H/env/auth.0" || fail "CERTBOT_DOMAIN: $(cat "$H/env/auth.0")"
grep -qx "CERTBOT_REMAINING_CHALLENGES=1" "$H/env/auth.0" || fail "REMAINING for the first"
grep -qx "CERTBOT_REMAINING_CHALLENGES=0" "$H/env/auth.2" 2>/dev/null || seen -x "CERTBOT_REMAINING_CHALLENGES=0" "$H/env/auth.1" \
  || fail "REMAINING for the last"
grep -qx "CERTBOT_ALL_DOMAINS=example.test,example.test" "$H/env/auth.0" || fail "ALL_DOMAINS: $(cat "$H/env/auth.0")"
grep -Eqx "CERTBOT_VALIDATION=[A-Za-z0-9_-]{43}" "$H/env/auth.0" || fail "VALIDATION is not a dns-01 value"
grep -q "CERTBOT_TOKEN" "$H/env/auth.0" && fail "CERTBOT_TOKEN set for dns-01"
v0=$(sed -n 's/^CERTBOT_VALIDATION=//p' "$H/env/auth.0")
grep -qx "CERTBOT_AUTH_OUTPUT=published-$v0" "$H/env/cleanup.2" "$H/env/cleanup.3" \
  || fail "CERTBOT_AUTH_OUTPUT did not carry the auth hook's output"
for f in "$H"/env/argv.*; do
  grep -q "$v0" "$f" && fail "the validation reached a command line: $(cat "$f")"
done
conf="$C/renewal/example.test.conf"
grep -qx "authenticator = manual" "$conf" || fail "authenticator not stored"
grep -qx "manual_auth_hook = $H/auth.sh" "$conf" || fail "manual_auth_hook not stored"
grep -qx "manual_cleanup_hook = $H/cleanup.sh" "$conf" || fail "manual_cleanup_hook not stored"
grep -Eqx "pref_challs = dns-01,?" "$conf" || fail "pref_challs not stored: $(grep pref "$conf")"

log "acmed renew renews the manual lineage through its hooks"
rm -f "$H"/env/*
with_new_account acmed renew --force-renewal --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" -n \
  >"$TEST_DIR/renew.out" 2>&1 || { cat "$TEST_DIR/renew.out"; fail "renew"; }
[ "$(readlink "$C/live/example.test/cert.pem")" = "../../archive/example.test/cert2.pem" ] || fail "not renewed"
[ -f "$H/env/auth.0" ] || fail "renew did not run the auth hook"
[ "$(zone_dump example.test)" = "$before" ] || fail "renew left records behind"

log "http-01 through --manual: the hook writes the file a web server serves"
start_bg www python3 -m http.server --bind 127.0.0.1 --directory "$WWW" "$HTTP01_PORT"
wait_for_port "$HTTP01_PORT"
rm -f "$H"/env/*
manual -d web.example.test >"$TEST_DIR/http.out" 2>&1 || { cat "$TEST_DIR/http.out"; fail "manual http-01"; }
verify_chain "$C/live/web.example.test/fullchain.pem" "$TEST_DIR/root.pem"
grep -Eq "^CERTBOT_TOKEN=[A-Za-z0-9_-]+$" "$H/env/auth.0" || fail "no CERTBOT_TOKEN for http-01"
tok=$(sed -n 's/^CERTBOT_TOKEN=//p' "$H/env/auth.0")
grep -qx "CERTBOT_VALIDATION=$tok\..*" "$H/env/auth.0" || fail "http-01 validation is not the key authorization"
[ ! -e "$WWW/.well-known/acme-challenge/$tok" ] || fail "the cleanup hook did not run"

log "bad hooks: failing, not executable, timing out; -n without a hook"
bad() {
  local name=$1 pattern=$2; shift 2
  expect_fail "$@"
  echo "$LAST_ERR" | seen -- "$pattern" || fail "error for $name does not say '$pattern': $LAST_ERR"
  [ ! -e "$C/renewal/$name.conf" ] || fail "a lineage $name was written"
  [ "$(zone_dump example.test)" = "$before" ] || fail "records left behind after: $pattern"
}
printf '#!/bin/sh\n"%s" >/dev/null\necho "no such zone" >&2\nexit 3\n' "$H/auth.sh" >"$H/fail.sh"; chmod 755 "$H/fail.sh"
rm -f "$H"/env/*
bad f1.example.test "failed (exit 3): no such zone" acmed_pebble certonly --manual \
  --manual-auth-hook "$H/fail.sh" --manual-cleanup-hook "$H/cleanup.sh" --dns-resolver "$BIND_IP:53" \
  --preferred-challenges dns -d f1.example.test
ls "$H"/env/cleanup.* >/dev/null 2>&1 || fail "cleanup did not run after a failing auth hook"
cp "$H/auth.sh" "$H/noexec.sh"; chmod 644 "$H/noexec.sh"
bad f2.example.test "not executable" acmed_pebble certonly --manual --manual-auth-hook "$H/noexec.sh" \
  --dns-resolver "$BIND_IP:53" --preferred-challenges dns -d f2.example.test
printf '#!/bin/sh\nexec sleep 30\n' >"$H/slow.sh"; chmod 755 "$H/slow.sh"
start=$(date +%s)
bad f3.example.test "did not finish within 1 s" acmed_pebble certonly --manual --manual-auth-hook "$H/slow.sh" \
  --manual-hook-timeout 1 --dns-resolver "$BIND_IP:53" --preferred-challenges dns -d f3.example.test
[ $(( $(date +%s) - start )) -lt 20 ] || fail "the hook timeout was not enforced"
log "Ctrl-C (SIGINT) while the auth hook runs: the hook is killed, cleanup runs, exit 130"
printf '#!/bin/sh\n"%s" >/dev/null\nexec sleep 61.7\n' "$H/auth.sh" >"$H/pubsleep.sh"; chmod 755 "$H/pubsleep.sh"
rm -f "$H"/env/*
# A background job starts with SIGINT ignored (and acmed leaves an ignored signal alone):
# env --default-signal gives it the terminal's default back, as for a command typed at a prompt.
env --default-signal=INT "$ACMED_BIN" --config-dir "$C" --work-dir "$TEST_DIR/work" \
  --logs-dir "$TEST_DIR/logs" certonly --manual --manual-auth-hook "$H/pubsleep.sh" \
  --manual-cleanup-hook "$H/cleanup.sh" --dns-resolver "$BIND_IP:53" --preferred-challenges dns \
  -d int.example.test --server "$PEBBLE_URL" --ca-bundle "$PEBBLE_CA_BUNDLE" --non-interactive \
  --agree-tos --register-unsafely-without-email >"$TEST_DIR/int.out" 2>&1 &
int_pid=$!
_PIDS+=("$int_pid")
for _ in $(seq 1 200); do [ -n "$(txt_of _acme-challenge.int.example.test)" ] && break; sleep 0.1; done
[ -n "$(txt_of _acme-challenge.int.example.test)" ] || { cat "$TEST_DIR/int.out"; fail "the hook never published"; }
start=$(date +%s)
kill -INT "$int_pid"
rc=0; wait "$int_pid" || rc=$?
[ "$rc" -eq 130 ] || { cat "$TEST_DIR/int.out"; fail "exit $rc after SIGINT, not 130"; }
[ $(( $(date +%s) - start )) -lt 10 ] || fail "SIGINT took more than 10 s to end the run"
grep -q 'interrupted by SIGINT' "$TEST_DIR/int.out" || { cat "$TEST_DIR/int.out"; fail "no interrupt message"; }
ls "$H"/env/cleanup.* >/dev/null 2>&1 || fail "the cleanup hook did not run after SIGINT"
[ "$(zone_dump example.test)" = "$before" ] || fail "records left behind after SIGINT"
[ ! -e "$C/renewal/int.example.test.conf" ] || fail "a lineage was written after SIGINT"
! pgrep -fx "sleep 61.7" >/dev/null || fail "the interrupted auth hook is still running"
bad f4.example.test "needs a terminal" acmed_pebble certonly --manual --preferred-challenges dns -d f4.example.test
[ "$LAST_RC" = 2 ] || fail "-n without a hook: exit $LAST_RC, expected 2"
echo "PASS"
