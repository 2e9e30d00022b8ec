#!/usr/bin/env bash
# The whole test suite: the fuzz targets for a bounded time (scripts/fuzz.sh), then unit and
# integration tests (real Pebble, nginx, apache), once in a normal build and once under
# AddressSanitizer + UndefinedBehaviorSanitizer. Installs missing Debian packages first when run
# as root.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh

jobs=$(nproc)
status=0
# libFuzzer targets under ASan + UBSan (clang), each for a bounded time (about 75 s in all).
echo "=== fuzz (at ${SECONDS} s) ==="
bash scripts/fuzz.sh || status=1

configure() {  # configure VARIANT: the build dir build-test-VARIANT
  # The optimised build as shipped (-O2) but with line tables only (-g1: backtraces keep their
  # lines, the build takes 45% less time than with -g), and the tests' own code at -O0.
  local extra=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
    -DACMED_TEST_CODE_FLAGS=-O0)
  # The sanitizer build unoptimised, with line tables only as well: its reports keep file and
  # line, and it is CI's longest step (955 s instead of 1096 s with -g in a CI rehearsal).
  [ "$1" = asan ] && extra=(-DACMED_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1)
  cmake -S . -B "build-test-$1" -G Ninja "${extra[@]}" >/dev/null
}
configure release
configure asan
echo "=== release build (at ${SECONDS} s) ==="
cmake --build build-test-release -j "$jobs"
# Most of an integration test is waiting for Pebble, nginx or BIND: the ASan build runs at the
# lowest CPU priority while the release tests run, so it takes only what they leave idle.
nice -n 19 cmake --build build-test-asan -j "$jobs" >build-test-asan/build.log 2>&1 &
asan_build=$!

for variant in release asan; do
  dir="build-test-$variant"
  select=(-LE hostile)  # the hostile-CA scripts run once, under the sanitizers (CI time)
  # ... and the package test in the release build only (an ASan binary is not what ships)
  [ "$variant" = asan ] && select=(-LE package)
  if [ "$variant" = asan ]; then
    if ! wait "$asan_build"; then
      tail -n 60 build-test-asan/build.log >&2
      echo "acmed: the ASan build failed (build-test-asan/build.log)" >&2
      exit 1
    fi
  fi
  echo "=== tests: $variant build (at ${SECONDS} s) ==="
  # Tests run two at a time. Those that use ports 80/443 or the system trust store hold one
  # RESOURCE_LOCK (exclusive_system_resources in tests/integration/lib.sh), so they never overlap.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$dir" --output-on-failure -j 2 "${select[@]}" 2>&1 | tee "$dir/ctest.log" || status=1
  # A skipped test (exit 77, SKIP_RETURN_CODE) is not a pass: it hides whatever it did not test.
  if grep -q -e '\*\*\*Skipped' -e 'tests did not run' "$dir/ctest.log"; then
    echo "acmed: tests were skipped in the $variant build (see above); a skip fails the suite" >&2
    status=1
  fi
done
echo "=== done in ${SECONDS} s (status $status) ==="
exit "$status"
