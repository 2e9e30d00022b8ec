#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang 14 under ASan + UBSan in build-fuzz and
# runs each for a bounded time, seeded from the test data. A crash, leak, sanitizer report,
# timeout or a failed lossless round trip exits non-zero; so does a missing clang (no skip).
# FUZZ_SECONDS sets the time per target (default 15: about 75 s for the five).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-15}
dir=build-fuzz
command -v clang++-14 >/dev/null || {
  echo "acmed: clang++-14 is missing; run scripts/deps.sh as root (clang-14, libclang-rt-14-dev)" >&2
  exit 1
}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# Warnings are errors in the g++ builds; clang's extra warnings are not allowed to stop the fuzzing.
cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 "${launcher[@]}" -DACMED_FUZZ=ON \
  -DACMED_TESTS=OFF -DACMED_WERROR=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$dir" --target fuzz_targets -j "$(nproc)"

# seeds TARGET: the test data a target starts from.
seeds() {
  case $1 in
    fuzz_acme_messages) echo tests/fuzz/seeds/acme ;;
    fuzz_pem_chain) echo tests/unit/acme/data ;;
    fuzz_renewal_conf) echo tests/fuzz/seeds/renewal ;;
    fuzz_nginx_config) echo tests/data/corpus/nginx ;;
    fuzz_apache_config) echo tests/data/corpus/apache ;;
  esac
}

targets=(fuzz_acme_messages fuzz_pem_chain fuzz_renewal_conf fuzz_nginx_config fuzz_apache_config)
failed=0
for target in "${targets[@]}"; do
  work="$dir/corpus/$target"
  rm -rf "$work"
  mkdir -p "$work"
  # libFuzzer reads a seed directory flat: copy each file of the seed tree in under its own name.
  n=0
  while IFS= read -r -d '' f; do
    cp "$f" "$work/seed-$n"
    n=$((n + 1))
  done < <(find $(seeds "$target") -type f -size -64k -print0 | sort -z)
  [ "$n" -gt 0 ] || { echo "acmed: no seeds for $target" >&2; exit 1; }
  echo "=== fuzz: $target for ${seconds}s from $n seeds ==="
  rm -f "$dir/$target-"*
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$dir/tests/fuzz/$target" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$dir/$target-" -print_final_stats=1 "$work" \
      >"$dir/$target.log" 2>&1; then
    grep -E "stat::number_of_executed_units" "$dir/$target.log" || true
  else
    tail -n 40 "$dir/$target.log" >&2
    echo "acmed: $target failed; the input is in $dir/$target-* (full log: $dir/$target.log)" >&2
    failed=$((failed + 1))
  fi
done
echo "fuzz: $((${#targets[@]} - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
