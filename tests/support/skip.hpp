// Skipping a test that cannot run here (a program it needs is missing), the ctest way: the test
// binary still runs every other test case and then exits 77, tests/CMakeLists.txt's
// SKIP_RETURN_CODE, instead of 0. ctest reports it as skipped and scripts/test.sh (CI) fails on
// any skip, so a missing program never passes silently.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::test {

// The exit code ctest treats as "skipped" (SKIP_RETURN_CODE in tests/CMakeLists.txt).
inline constexpr int k_skip_exit_code = 77;

// Records that the current test case cannot run, and why. The caller returns right after.
void skip(std::string_view reason);

// True when every program is found on PATH or as an absolute path; otherwise skip()s naming the
// missing one and returns false:   if (!test::have_programs({"nginx"})) return;
bool have_programs(std::initializer_list<std::string_view> programs);

// The reasons recorded so far (empty when nothing was skipped).
const std::vector<std::string>& skipped();

}  // namespace acmed::test
