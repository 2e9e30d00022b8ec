#include "acmed/local/names.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace acmed;
using local::Purpose;

namespace {

local::LeafNames parse_ok(std::vector<std::string> names) {
  auto parsed = local::parse_names(names);
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error().message));
  return *parsed;
}

}  // namespace

TEST_CASE("names are split into host names and IP addresses, in the order given") {
  auto names = parse_ok({"localhost", "127.0.0.1", "::1", "App.Test."});
  CHECK(names.all == std::vector<std::string>{"localhost", "127.0.0.1", "::1", "app.test"});
  CHECK(names.dns == std::vector<std::string>{"localhost", "app.test"});
  CHECK(names.ips == std::vector<std::string>{"127.0.0.1", "::1"});
  CHECK(names.warnings.empty());
}

TEST_CASE("IPv6 addresses are canonicalised and duplicate names are dropped") {
  auto names = parse_ok({"0:0:0:0:0:0:0:1", "::1", "LOCALHOST", "localhost", "[2001:db8::1]"});
  CHECK(names.all == std::vector<std::string>{"::1", "localhost", "2001:db8::1"});
}

TEST_CASE("single-label host names and wildcards are accepted for local certificates") {
  auto names = parse_ok({"myhost", "*.app.test", "*.localhost"});
  CHECK(names.dns == std::vector<std::string>{"myhost", "*.app.test", "*.localhost"});
  REQUIRE(names.warnings.size() == 1);
  CHECK(names.warnings[0].find("*.localhost") != std::string::npos);
}

TEST_CASE("file names follow mkcert: first name, +N for the others, -client") {
  CHECK(local::default_file_base(parse_ok({"localhost", "127.0.0.1", "::1"}), Purpose::server) ==
        "localhost+2");
  CHECK(local::default_file_base(parse_ok({"example.test"}), Purpose::server) == "example.test");
  CHECK(local::default_file_base(parse_ok({"*.app.test", "app.test"}), Purpose::server) ==
        "_wildcard.app.test+1");
  CHECK(local::default_file_base(parse_ok({"::1"}), Purpose::server) == "__1");
  CHECK(local::default_file_base(parse_ok({"localhost"}), Purpose::client) == "localhost-client");
  // duplicates do not count towards +N
  CHECK(local::default_file_base(parse_ok({"localhost", "LOCALHOST"}), Purpose::server) ==
        "localhost");
}

TEST_CASE("bad names are refused with a message naming them") {
  const std::string long_label(64, 'a');
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'b') + ".";
  long_name += "test";  // 309 characters
  const std::vector<std::string> bad = {
      "",         "..",      "a..test",    long_label,   long_name + "",
      "foo_bar",  "foo/bar", "../etc",     "*",          "*foo.test",
      "a.*.test", "-dash",   "dash-.test", "héllo.test", "fe80::1%eth0",
      "a b"};
  for (const auto& name : bad) {
    CAPTURE(name);
    std::vector<std::string> names{name};
    auto parsed = local::parse_names(names);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == Errc::invalid_input);
    CHECK(parsed.error().message.find("'" + name + "'") != std::string::npos);
  }
}

TEST_CASE("one bad name among good ones fails the whole request") {
  std::vector<std::string> names{"localhost", "bad..name"};
  auto parsed = local::parse_names(names);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message.find("bad..name") != std::string::npos);
}

TEST_CASE("no name at all is a usage error") {
  std::vector<std::string> none;
  auto parsed = local::parse_names(none);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code == Errc::usage);
}
