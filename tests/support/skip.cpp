#include "support/skip.hpp"

#include "acmed/sys/process.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

namespace acmed::test {

namespace {
std::vector<std::string>& reasons() {
  static std::vector<std::string> r;
  return r;
}
}  // namespace

void skip(std::string_view reason) {
  reasons().emplace_back(reason);
  MESSAGE("SKIPPED: " << reason);
}

bool have_programs(std::initializer_list<std::string_view> programs) {
  for (std::string_view p : programs) {
    const std::string name(p);
    const bool found = name.starts_with('/') ? ::access(name.c_str(), X_OK) == 0
                                             : !sys::find_in_path(name).empty();
    if (!found) {
      skip(name + " is not installed");
      return false;
    }
  }
  return true;
}

const std::vector<std::string>& skipped() { return reasons(); }

}  // namespace acmed::test
