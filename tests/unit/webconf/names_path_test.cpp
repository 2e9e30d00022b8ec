// webconf::names_path: which directive arguments name a lineage's files (for `delete`).
#include "plugins/webconf/files.hpp"

#include <doctest/doctest.h>

using acmed::plugins::webconf::names_path;
namespace fs = std::filesystem;

TEST_CASE("a path names a lineage dir when it is the dir or under it, after normalisation") {
  const fs::path dirs[] = {"/etc/le/live/a.test", "/etc/le/archive/a.test"};
  CHECK(names_path("/etc/le/live/a.test/fullchain.pem", dirs));
  CHECK(names_path("/etc/le/archive/a.test/cert3.pem", dirs));
  CHECK(names_path("/etc/le/live/a.test", dirs));
  CHECK(names_path("/etc/x/../le//live/a.test/privkey.pem", dirs));
  CHECK_FALSE(names_path("/etc/le/live/a.test.old/fullchain.pem", dirs));
  CHECK_FALSE(names_path("/etc/le/live/b.test/fullchain.pem", dirs));
  CHECK_FALSE(names_path("/etc/le/live/a.test/../b.test/cert.pem", dirs));
  CHECK_FALSE(names_path("live/a.test/fullchain.pem", dirs));
  CHECK_FALSE(names_path("", dirs));
}
