#!/usr/bin/env bash
# The HTTP module (lib/acmed/acmed-http.so, holding libcurl): an installed acmed finds it next to
# its bin/, commands that need no network never load it, and a missing or unsafe module is a
# clear one-line error that changes nothing.
. "$(dirname "$0")/lib.sh"

build=$(cd "$(dirname "$ACMED_BIN")/.." && pwd)
[ -f "$build/CMakeCache.txt" ] || fail "ACMED_BIN is not in a CMake build tree: $build"
root="$TEST_DIR/prefix"
log "cmake --install puts the binary and its module under one prefix"
cmake --install "$build" --prefix "$root" >/dev/null || fail "cmake --install failed"
[ -x "$root/bin/acmed" ] || fail "no bin/acmed installed"
[ -f "$root/lib/acmed/acmed-http.so" ] || fail "no lib/acmed/acmed-http.so installed"

ACMED_BIN="$root/bin/acmed"
ACMED_CONFIG_DIR="$TEST_DIR/etc"
closed=$(free_port)  # nothing listens there
get() {
  acmed certonly --standalone --http-01-port "$(free_port)" --http-01-address 127.0.0.1 \
    --server "https://127.0.0.1:$closed/dir" -n --agree-tos --register-unsafely-without-email \
    -d a.test
}

log "a command without network does not load libcurl"
out=$(LD_DEBUG=files acmed certificates 2>&1) || { echo "$out"; fail "certificates failed"; }
if echo "$out" | grep -q "libcurl"; then fail "acmed certificates loaded libcurl"; fi

log "the installed binary loads its module when it needs the network"
expect_fail env LD_DEBUG=files "$ACMED_BIN" -v --config-dir "$ACMED_CONFIG_DIR" --work-dir "$TEST_DIR/work" \
  --logs-dir "$TEST_DIR/logs" certonly --standalone --http-01-port "$(free_port)" \
  --http-01-address 127.0.0.1 --server "https://127.0.0.1:$closed/dir" -n --agree-tos \
  --register-unsafely-without-email -d a.test
echo "$LAST_ERR" | grep -q "HTTP module: $root/lib/acmed/acmed-http.so" \
  || fail "the module was not loaded from the prefix"
echo "$LAST_ERR" | grep -q "libcurl" || fail "libcurl was not loaded"
echo "$LAST_ERR" | grep -q "request to https://127.0.0.1:$closed/dir failed" \
  || fail "the failure is not the refused connection"
[ "$LAST_RC" = 75 ] || fail "an unreachable CA should exit 75 (temporary), got $LAST_RC"

# After refusing the prefix's module acmed also tries the configured install dir; if this very
# build was installed there, that one would load and the checks below could not fail.
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
if [ -e "$prefix/lib/acmed/acmed-http.so" ]; then
  echo "SKIP rest: $prefix/lib/acmed/acmed-http.so exists (remove it to run these checks)"
  echo "PASS"
  exit 0
fi

log "a module others could replace is refused, and nothing is written"
chmod o+w "$root/lib/acmed/acmed-http.so"
expect_fail get
echo "$LAST_ERR" | grep -q "cannot load acmed's HTTP module" || fail "no clear error for an unsafe module"
echo "$LAST_ERR" | grep -q "writable by group or others" || fail "the error does not say why"
[ ! -e "$ACMED_CONFIG_DIR/live" ] && [ ! -e "$ACMED_CONFIG_DIR/accounts" ] || fail "something was written"
chmod o-w "$root/lib/acmed/acmed-http.so"

log "a missing module is a clear error"
rm "$root/lib/acmed/acmed-http.so"
expect_fail get
[ "$LAST_RC" = 1 ] || fail "a missing module should exit 1, got $LAST_RC"
echo "$LAST_ERR" | grep -q "cannot load acmed's HTTP module" || fail "no clear error for a missing module"
echo "$LAST_ERR" | grep -q "cmake --install" || fail "the error does not say what to do"
[ ! -e "$ACMED_CONFIG_DIR/live" ] && [ ! -e "$ACMED_CONFIG_DIR/accounts" ] || fail "something was written"
echo "PASS"
