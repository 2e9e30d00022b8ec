#include "acmed/util/domain.hpp"

#include <doctest/doctest.h>

using namespace acmed;
using util::parse_identifier;

TEST_CASE("a wildcard on an IP address is refused, naming the name") {
  for (const char* name : {"*.192.0.2.1", "*.127.0.0.1"}) {
    auto r = parse_identifier(name);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(name) != std::string::npos);
    CHECK(r.error().message.find("IP address") != std::string::npos);
  }
}

TEST_CASE("two wildcard labels or a wildcard over a single label are refused") {
  CHECK_FALSE(parse_identifier("*.*.example.com"));
  CHECK_FALSE(parse_identifier("*.com"));
  CHECK(parse_identifier("*.example.com"));
}
