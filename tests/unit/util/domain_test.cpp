#include "acmed/util/domain.hpp"

#include <doctest/doctest.h>

using namespace acmed;
using util::parse_identifier;

TEST_CASE("domain names are lower-cased and lose their trailing dot") {
  auto id = parse_identifier("WWW.Example.COM.");
  REQUIRE(id);
  CHECK(id->kind == util::IdentifierKind::dns);
  CHECK(id->value == "www.example.com");
}

TEST_CASE("a wildcard is accepted only as the whole first label") {
  auto ok = parse_identifier("*.example.com");
  REQUIRE(ok);
  CHECK(ok->is_wildcard());
  CHECK_FALSE(parse_identifier("www.*.example.com"));
  CHECK_FALSE(parse_identifier("w*.example.com"));
  CHECK_FALSE(parse_identifier("*"));
}

TEST_CASE("malformed domain names are refused with a message naming the name") {
  const char* bad[] = {"", ".", "a..example.com", ".example.com", "-a.example.com", "a-.example.com",
                       "exa_mple.com", "example.com/evil", "a b.com", "localhost", "ex\"ample.com"};
  for (const char* name : bad) {
    auto r = parse_identifier(name);
    CHECK_MESSAGE(!r, name);
    if (!r) {
      CHECK(r.error().code == Errc::invalid_input);
      CHECK(r.error().message.find(std::string("'") + name + "'") != std::string::npos);
    }
  }
}

TEST_CASE("label and name length limits follow RFC 1035") {
  std::string label63(63, 'a');
  CHECK(parse_identifier(label63 + ".com"));
  CHECK_FALSE(parse_identifier(label63 + "a.com"));
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefghi.";
  long_name += "coma";
  CHECK(long_name.size() == 254);
  CHECK_FALSE(parse_identifier(long_name));
  long_name.pop_back();
  CHECK(parse_identifier(long_name));
}

TEST_CASE("non-ASCII names are refused with a punycode hint") {
  auto r = parse_identifier("b\xc3\xbc" "cher.example");
  REQUIRE_FALSE(r);
  CHECK(r.error().hint.find("xn--") != std::string::npos);
  CHECK(parse_identifier("xn--bcher-kva.example"));
}

TEST_CASE("IP addresses become ip identifiers in canonical form") {
  auto v4 = parse_identifier("127.0.0.1");
  REQUIRE(v4);
  CHECK(v4->kind == util::IdentifierKind::ip);
  auto v6 = parse_identifier("[0:0:0:0:0:0:0:1]");
  REQUIRE(v6);
  CHECK(v6->kind == util::IdentifierKind::ip);
  CHECK(v6->value == "::1");
}

TEST_CASE("lineage names cannot escape their directory") {
  CHECK(util::is_safe_lineage_name("example.com-0001"));
  CHECK_FALSE(util::is_safe_lineage_name("../etc"));
  CHECK_FALSE(util::is_safe_lineage_name("a/b"));
  CHECK_FALSE(util::is_safe_lineage_name(".hidden"));
  CHECK_FALSE(util::is_safe_lineage_name(""));
  CHECK_FALSE(util::is_safe_lineage_name("a b"));
}
