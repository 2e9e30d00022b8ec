// doctest's main, plus the skip convention of support/skip.hpp: a binary in which a test case
// skipped and nothing failed exits 77 (ctest's SKIP_RETURN_CODE) instead of 0.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "support/skip.hpp"

#include <cstdio>

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int rc = context.run();
  if (context.shouldExit() || rc != 0) return rc;
  const auto& skipped = acmed::test::skipped();
  if (skipped.empty()) return 0;
  for (const auto& reason : skipped) std::fprintf(stderr, "SKIPPED: %s\n", reason.c_str());
  return acmed::test::k_skip_exit_code;
}
