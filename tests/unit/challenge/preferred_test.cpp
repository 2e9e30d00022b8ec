#include "acmed/challenge/authenticator.hpp"

#include <doctest/doctest.h>

using namespace acmed;

namespace {

class Fake final : public challenge::Authenticator {
 public:
  explicit Fake(std::vector<std::string> types) : m_types(std::move(types)) {}
  std::string name() const override { return "fake"; }
  std::vector<std::string> supported_types() const override { return m_types; }
  Status perform(std::span<const challenge::Task>) override { return ok_status(); }
  void cleanup(std::span<const challenge::Task>) noexcept override {}

 private:
  std::vector<std::string> m_types;
};

std::vector<std::string> v(std::initializer_list<const char*> items) {
  return std::vector<std::string>(items.begin(), items.end());
}

}  // namespace

TEST_CASE("--preferred-challenges takes certbot's short and full names, in order, once each") {
  auto parsed = challenge::parse_preferred_challenges(v({"dns", "HTTP-01", "tls-alpn", "dns-01"}));
  REQUIRE(parsed);
  CHECK(*parsed == v({"dns-01", "http-01", "tls-alpn-01"}));
  auto bad = challenge::parse_preferred_challenges(v({"dns", "smtp-01"}));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::usage);
  CHECK(bad.error().message.find("smtp-01") != std::string::npos);
}

TEST_CASE("the challenge order is the preference restricted to what the authenticator answers") {
  Fake manual(v({"http-01", "dns-01"}));
  CHECK(*challenge::challenge_order(manual, {}) == v({"http-01", "dns-01"}));
  auto dns_first = v({"tls-alpn-01", "dns-01", "http-01"});
  CHECK(*challenge::challenge_order(manual, dns_first) == v({"dns-01", "http-01"}));
  auto alpn_only = v({"tls-alpn-01"});
  auto none = challenge::challenge_order(manual, alpn_only);
  REQUIRE_FALSE(none);
  CHECK(none.error().code == Errc::usage);
  CHECK(none.error().message.find("fake") != std::string::npos);
}

TEST_CASE("a wildcard needs dns-01 among the types") {
  auto names = v({"example.com", "*.example.com"});
  auto http = v({"http-01"});
  auto r = challenge::check_wildcards(names, http, "standalone");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("*.example.com") != std::string::npos);
  auto both = v({"http-01", "dns-01"});
  CHECK(challenge::check_wildcards(names, both, "manual"));
  auto plain = v({"example.com"});
  CHECK(challenge::check_wildcards(plain, http, "standalone"));
}
