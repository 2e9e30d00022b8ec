// Helpers shared by the acmed::local tests: scratch environments and directory snapshots.
#pragma once

#include "acmed/local/environment.hpp"
#include "acmed/sys/fs.hpp"
#include "acmed/sys/process.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace acmed::test {

namespace fs = std::filesystem;

inline std::chrono::system_clock::time_point now_seconds() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

// An environment that touches only `dir`: CA in dir/ca, HOME dir/home, system store under
// dir/sysroot (never the real one), no Java unless a test sets it.
inline local::Environment scratch_env(const TempDir& dir) {
  local::Environment env;
  env.ca_root = dir / "ca";
  env.home = dir / "home";
  env.system_root = dir / "sysroot";
  env.user_at_host = "tester@testhost";
  env.certutil = sys::find_in_path("certutil");
  env.update_ca_certificates = sys::find_in_path("update-ca-certificates");
  fs::create_directories(env.home);
  return env;
}

// Every file, directory and symlink below `root`, with content / link target, for comparing a
// tree before and after.
inline std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  if (!fs::exists(root, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string rel = fs::relative(it->path(), root, ec).string();
    if (it->is_symlink(ec)) {
      out[rel] = "-> " + fs::read_symlink(it->path(), ec).string();
    } else if (it->is_directory(ec)) {
      out[rel] = "dir";
    } else {
      out[rel] = sys::read_file(it->path()).value_or("<unreadable>");
    }
  }
  return out;
}

// Runs a tool and returns its result; fails the test when it cannot be started.
inline sys::ProcessResult run(const std::vector<std::string>& argv, const std::string& input = {}) {
  sys::ProcessOptions options;
  options.stdin_data = input;
  options.timeout = std::chrono::seconds(120);
  auto result = sys::run_process(argv, options);
  REQUIRE_MESSAGE(result.ok(), argv.front());
  return *result;
}

}  // namespace acmed::test
