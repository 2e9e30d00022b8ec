#!/usr/bin/env bash
# acmed local, end to end: `acmed local install` makes curl (system store) and a real headless
# Chromium (NSS db in $HOME/.pki/nssdb) trust a certificate from `acmed local cert localhost
# 127.0.0.1 ::1` served by nginx on loopback, without --cacert; after `acmed local uninstall` both
# refuse it again, and the system store and Java's cacerts are exactly as before. A real Node
# https server (docs/local-development.md) serves the same files and is trusted the same way, and
# `acmed doctor --local` reports each store before and after.
#
# The system store part needs root (CI runs as root): the real /usr/local/share/ca-certificates is
# used, and an exit trap uninstalls whatever happens. As an ordinary user that part is skipped.
. "$(dirname "$0")/lib.sh"
exclusive_system_resources

need nginx certutil curl openssl python3 node
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || skip "chromium is not installed (Debian package chromium)"

# Only this test's HOME and CA; no inherited trust settings.
export HOME="$TEST_DIR/home"
mkdir -p "$HOME"
unset ACMED_LOCAL_CAROOT XDG_DATA_HOME JAVA_HOME ACMED_LOCAL_SYSTEM_ROOT
unset CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR
CAROOT="$HOME/.local/share/acmed"

AS_ROOT=0
[ "$(id -u)" -eq 0 ] && AS_ROOT=1

# A digest of the system store (without java/, which Debian's hook rewrites byte-differently).
system_store_digest() {
  (find /usr/local/share/ca-certificates /etc/ssl/certs -path /etc/ssl/certs/java -prune \
     -o -printf '%p %m %l\n' | LC_ALL=C sort
   find /usr/local/share/ca-certificates /etc/ssl/certs -path /etc/ssl/certs/java -prune \
     -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) | sha256sum | cut -d' ' -f1
}
# The entries of Debian's Java cacerts (aliases and fingerprints), when there is one.
java_entries() {
  if [ -f /etc/ssl/certs/java/cacerts ] && command -v keytool >/dev/null; then
    keytool -list -keystore /etc/ssl/certs/java/cacerts -storepass changeit 2>/dev/null \
      | grep -v -e '^Keystore' -e '^Your keystore' | LC_ALL=C sort
  fi
}

if [ "$AS_ROOT" = 1 ]; then
  SYSTEM_BEFORE=$(system_store_digest)
  java_entries >"$TEST_DIR/java-before"
  # Whatever happens, the real system store gets its state back.
  restore_system_store() {
    if [ -f "$CAROOT/installed.json" ]; then
      "$ACMED_BIN" local uninstall >&2 || true
    fi
    if [ -f "$CAROOT/rootCA.pem" ]; then
      local serial
      serial=$(openssl x509 -noout -serial -in "$CAROOT/rootCA.pem" | cut -d= -f2 | sed 's/^0*//')
      if [ -e "/usr/local/share/ca-certificates/acmed_development_CA_$serial.crt" ]; then
        rm -f "/usr/local/share/ca-certificates/acmed_development_CA_$serial.crt"
        update-ca-certificates --fresh >/dev/null 2>&1 || true
      fi
    fi
  }
  on_exit restore_system_store
else
  skip_part "not root: the system store part (curl checks need it)"
fi

# --- install --------------------------------------------------------------------------------
log "acmed local install"
"$ACMED_BIN" local install 2>"$TEST_DIR/install.out" || { cat "$TEST_DIR/install.out" >&2; fail "install failed"; }
cat "$TEST_DIR/install.out" >&2
grep -q "added to NSS database $HOME/.pki/nssdb" "$TEST_DIR/install.out" || fail "NSS db not reported"
grep -q "skipped Java keystore: JAVA_HOME is not set" "$TEST_DIR/install.out" || fail "Java skip not explained"
if [ "$AS_ROOT" = 1 ]; then
  grep -q "added to system store" "$TEST_DIR/install.out" || fail "system store not reported"
fi
[ "$(stat -c %a "$CAROOT/rootCA-key.pem")" = 600 ] || fail "CA key is not 0600"
openssl x509 -noout -subject -in "$CAROOT/rootCA.pem" | seen "CN = acmed development CA $(id -un)@" \
  || fail "CA subject is not 'acmed development CA user@host'"

log "certutil -L shows the CA in the NSS db"
certutil -L -d "sql:$HOME/.pki/nssdb" | tee "$TEST_DIR/certutil.out" >&2
grep -Eq "^acmed development CA [0-9A-F]+ +C,," "$TEST_DIR/certutil.out" || fail "CA not in NSS db"

# a second install changes nothing
"$ACMED_BIN" local install 2>"$TEST_DIR/install2.out"
grep -q "already in NSS database" "$TEST_DIR/install2.out" || fail "second install not idempotent"

# --- a server with a local certificate ------------------------------------------------------
SITE="$TEST_DIR/site"
mkdir -p "$SITE"
TOKEN="acmed-local-ok-$RANDOM$RANDOM"
printf '<!doctype html><html><body><p id="t">%s</p></body></html>\n' "$TOKEN" >"$SITE/index.html"
(cd "$SITE" && "$ACMED_BIN" local cert localhost 127.0.0.1 ::1) 2>&1 | tee "$TEST_DIR/cert.out" >&2
[ -f "$SITE/localhost+2.pem" ] && [ -f "$SITE/localhost+2-key.pem" ] || fail "mkcert-style file names"
openssl x509 -noout -ext subjectAltName -in "$SITE/localhost+2.pem" | tee "$TEST_DIR/san.out" >&2
grep -q "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1" "$TEST_DIR/san.out" \
  || fail "SANs are not localhost, 127.0.0.1, ::1"

PORT=$(free_port)
IPV6_LISTEN=""
if ip -6 addr show dev lo 2>/dev/null | seen "::1/128"; then
  IPV6_LISTEN="listen [::1]:$PORT ssl;"
fi
mkdir -p "$TEST_DIR/nginx/logs"
cat >"$TEST_DIR/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
pid $TEST_DIR/nginx/nginx.pid;
error_log $TEST_DIR/nginx/logs/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $TEST_DIR/nginx/body;
  proxy_temp_path $TEST_DIR/nginx/proxy;
  fastcgi_temp_path $TEST_DIR/nginx/fastcgi;
  uwsgi_temp_path $TEST_DIR/nginx/uwsgi;
  scgi_temp_path $TEST_DIR/nginx/scgi;
  server {
    listen 127.0.0.1:$PORT ssl;
    $IPV6_LISTEN
    server_name localhost;
    ssl_certificate $SITE/localhost+2.pem;
    ssl_certificate_key $SITE/localhost+2-key.pem;
    root $SITE;
    default_type text/html;
  }
}
EOF
start_bg nginx nginx -p "$TEST_DIR/nginx" -e "$TEST_DIR/nginx/logs/error.log" -c "$TEST_DIR/nginx/nginx.conf"
NGINX_PID=$BG_PID
wait_for_port "$PORT"

# chromium_fetch NAME URL: loads URL in headless Chromium with this test's HOME and a new profile;
# prints the DOM. Bounded to 90 s; the process is stopped by PID.
chromium_fetch() {
  local name=$1 url=$2
  start_bg "$name" "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$TEST_DIR/$name-profile" --dump-dom "$url"
  local pid=$BG_PID
  for _ in $(seq 1 900); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    stop_pid "$pid"
    fail "chromium did not finish loading $url within 90s"
  fi
  wait "$pid" 2>/dev/null || true
  cat "$TEST_DIR/$name.log"
}

URL="https://localhost:$PORT/"
if [ "$AS_ROOT" = 1 ]; then
  log "curl $URL without --cacert (system store)"
  curl -sS --max-time 10 "$URL" | seen "$TOKEN" || fail "curl does not trust the local certificate"
  curl -sS --max-time 10 "https://127.0.0.1:$PORT/" | seen "$TOKEN" || fail "curl https://127.0.0.1"
  if [ -n "$IPV6_LISTEN" ]; then
    curl -sS --max-time 10 "https://[::1]:$PORT/" | seen "$TOKEN" || fail "curl https://[::1]"
  fi
fi

log "headless Chromium loads $URL (trust from \$HOME/.pki/nssdb)"
chromium_fetch chromium-trusted "$URL" >"$TEST_DIR/dom-trusted.txt"
grep -q "<p id=\"t\">$TOKEN</p>" "$TEST_DIR/dom-trusted.txt" \
  || { tail -20 "$TEST_DIR/dom-trusted.txt" >&2; fail "Chromium did not show the page"; }
if grep -q "Page load failed" "$TEST_DIR/dom-trusted.txt"; then fail "Chromium reported an error"; fi

# local_status FILE STORE-PREFIX STATUS: doctor --local's finding for that store has STATUS
local_status() {
  python3 - "$@" <<'PY' || fail "doctor --local: $2 is not $3: $(cat "$1")"
import json, sys
j = json.load(open(sys.argv[1]))
hits = [c for c in j["checks"] if c["id"] == "local.trust" and c["name"].startswith(sys.argv[2])]
assert hits and all(c["status"] == sys.argv[3] for c in hits), hits
PY
}
log "a Node https server with the same files, as docs/local-development.md shows it"
NODE_PORT=$(free_port)
cat >"$TEST_DIR/server.js" <<EOF
const https = require("node:https");
const fs = require("node:fs");
const options = {
  key: fs.readFileSync("$SITE/localhost+2-key.pem"),
  cert: fs.readFileSync("$SITE/localhost+2.pem"),
};
https.createServer(options, (req, res) => {
  res.writeHead(200, { "content-type": "text/html" });
  res.end('<!doctype html><html><body><p id="t">node-$TOKEN</p></body></html>');
}).listen($NODE_PORT, "127.0.0.1");
EOF
start_bg node node "$TEST_DIR/server.js"
wait_for_port "$NODE_PORT" 20 node
if [ "$AS_ROOT" = 1 ]; then
  curl -sS --max-time 10 "https://localhost:$NODE_PORT/" | seen "node-$TOKEN" \
    || fail "curl does not trust the Node server's local certificate"
fi
chromium_fetch chromium-node "https://localhost:$NODE_PORT/" >"$TEST_DIR/dom-node.txt"
grep -q "<p id=\"t\">node-$TOKEN</p>" "$TEST_DIR/dom-node.txt" \
  || { tail -20 "$TEST_DIR/dom-node.txt" >&2; fail "Chromium did not show the Node server's page"; }

log "acmed doctor --local: trusted where install put it"
"$ACMED_BIN" doctor --local --json >"$TEST_DIR/doctor-in.json" || fail "doctor --local after install"
local_status "$TEST_DIR/doctor-in.json" "NSS database $HOME/.pki/nssdb" ok
local_status "$TEST_DIR/doctor-in.json" "Java keystore" skip
[ "$AS_ROOT" = 1 ] && local_status "$TEST_DIR/doctor-in.json" "system store" ok

# --- uninstall ------------------------------------------------------------------------------
log "acmed local uninstall"
"$ACMED_BIN" local uninstall 2>"$TEST_DIR/uninstall.out" || { cat "$TEST_DIR/uninstall.out" >&2; fail "uninstall failed"; }
cat "$TEST_DIR/uninstall.out" >&2
grep -q "removed from NSS database $HOME/.pki/nssdb" "$TEST_DIR/uninstall.out" || fail "NSS removal not reported"
[ ! -e "$HOME/.pki" ] || fail "the NSS db install created is still there"
[ -f "$CAROOT/rootCA.pem" ] && [ -f "$CAROOT/rootCA-key.pem" ] || fail "uninstall without --delete-ca deleted the CA"
[ ! -e "$CAROOT/installed.json" ] || fail "install record kept after a clean uninstall"
if [ "$AS_ROOT" = 1 ]; then
  [ "$(system_store_digest)" = "$SYSTEM_BEFORE" ] || fail "the system store differs from before install"
  java_entries >"$TEST_DIR/java-after"
  diff "$TEST_DIR/java-before" "$TEST_DIR/java-after" >&2 || fail "Java cacerts differs from before install"
  log "curl now refuses the certificate"
  rc=0
  curl -sS --max-time 10 "$URL" >/dev/null 2>"$TEST_DIR/curl-untrusted.err" || rc=$?
  [ "$rc" -eq 60 ] || fail "curl after uninstall: expected exit 60 (untrusted), got $rc"
  grep -q "unable to get local issuer certificate" "$TEST_DIR/curl-untrusted.err" \
    || fail "curl failed for another reason: $(cat "$TEST_DIR/curl-untrusted.err")"
fi

log "acmed doctor --local: each store lacking the CA fails, with the fix"
rc=0; "$ACMED_BIN" doctor --local --json >"$TEST_DIR/doctor-out.json" || rc=$?
[ "$rc" = 1 ] || fail "doctor --local with the CA untrusted exited $rc"
local_status "$TEST_DIR/doctor-out.json" "NSS database $HOME/.pki/nssdb" fail
[ "$AS_ROOT" = 1 ] && local_status "$TEST_DIR/doctor-out.json" "system store" fail
seen "acmed local install" <"$TEST_DIR/doctor-out.json" || fail "doctor --local gives no fix"

log "headless Chromium now refuses it"
chromium_fetch chromium-untrusted "$URL" >"$TEST_DIR/dom-untrusted.txt"
if grep -q "$TOKEN" "$TEST_DIR/dom-untrusted.txt"; then
  fail "Chromium showed the page without the CA installed"
fi
# and it failed because of the certificate, not for some other reason
grep -q "net::ERR_CERT_AUTHORITY_INVALID" "$TEST_DIR/dom-untrusted.txt" \
  || { tail -20 "$TEST_DIR/dom-untrusted.txt" >&2; fail "Chromium failed, but not with ERR_CERT_AUTHORITY_INVALID"; }

stop_pid "$NGINX_PID"

log "acmed local uninstall --delete-ca"
"$ACMED_BIN" local uninstall --delete-ca 2>&1 | tee "$TEST_DIR/delete.out" >&2
[ ! -e "$CAROOT" ] || fail "--delete-ca left $CAROOT"
log "OK"
