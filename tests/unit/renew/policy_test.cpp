#include "acmed/renew/policy.hpp"

#include <doctest/doctest.h>

using namespace acmed;
using namespace std::chrono_literals;

namespace {

sys::TimePoint at(const char* text) {
  sys::TimePoint t;
  REQUIRE(sys::parse_rfc3339(text, t));
  return t;
}

crypto::CertInfo cert_valid(sys::TimePoint not_before, std::chrono::hours lifetime) {
  crypto::CertInfo c;
  c.not_before = not_before;
  c.not_after = not_before + lifetime;
  return c;
}

const auto k_day = std::chrono::hours(24);

}  // namespace

TEST_CASE("a 90-day certificate is due when 30 days remain, not a second before") {
  auto c = cert_valid(at("2026-01-01T00:00:00Z"), 90 * k_day);
  CHECK(renew::lifetime_due_time(c, std::nullopt) == c.not_after - 30 * k_day);
  CHECK_FALSE(renew::decide(c, std::nullopt, std::nullopt, c.not_after - 30 * k_day - 1s).due);
  auto d = renew::decide(c, std::nullopt, std::nullopt, c.not_after - 30 * k_day);
  CHECK(d.due);
  CHECK(d.rule == renew::DueRule::lifetime_fraction);
}

TEST_CASE("a 45-day certificate is due when 15 days remain and a 64-day one at a third") {
  auto c45 = cert_valid(at("2026-01-01T00:00:00Z"), 45 * k_day);
  CHECK(renew::lifetime_due_time(c45, std::nullopt) == c45.not_after - 15 * k_day);
  auto c64 = cert_valid(at("2026-01-01T00:00:00Z"), 64 * k_day);
  CHECK(renew::lifetime_due_time(c64, std::nullopt) ==
        c64.not_after - std::chrono::duration_cast<std::chrono::seconds>(64 * k_day) / 3);
}

TEST_CASE("a 6-day short-lived certificate is due at half its lifetime") {
  auto c = cert_valid(at("2026-01-01T00:00:00Z"), 6 * k_day);
  CHECK(renew::lifetime_due_time(c, std::nullopt) == c.not_after - 3 * k_day);
  // 10 days exactly is not short-lived any more: a third
  auto c10 = cert_valid(at("2026-01-01T00:00:00Z"), 10 * k_day);
  CHECK(renew::lifetime_due_time(c10, std::nullopt) ==
        c10.not_after - std::chrono::duration_cast<std::chrono::seconds>(10 * k_day) / 3);
}

TEST_CASE("renew_before_expiry replaces the lifetime fraction") {
  auto c = cert_valid(at("2026-01-01T00:00:00Z"), 90 * k_day);
  std::optional<std::chrono::seconds> rbe = std::chrono::seconds(100 * 86400);
  auto d = renew::decide(c, rbe, std::nullopt, at("2026-01-02T00:00:00Z"));
  CHECK(d.due);  // 100 days before a 90-day certificate expires: always due
  CHECK(d.rule == renew::DueRule::renew_before_expiry);
  rbe = std::chrono::seconds(5 * 86400);
  CHECK_FALSE(renew::decide(c, rbe, std::nullopt, c.not_after - 6 * k_day).due);
  CHECK(renew::decide(c, rbe, std::nullopt, c.not_after - 5 * k_day).due);
}

TEST_CASE("a chosen ARI moment decides, even far from the lifetime rule") {
  auto c = cert_valid(at("2026-01-01T00:00:00Z"), 90 * k_day);
  store::AriState ari;
  ari.chosen_time = at("2026-01-20T00:00:00Z");  // the CA wants it early (e.g. a revocation)
  auto d = renew::decide(c, std::nullopt, ari, at("2026-01-20T00:00:01Z"));
  CHECK(d.due);
  CHECK(d.rule == renew::DueRule::ari);
  CHECK_FALSE(renew::decide(c, std::nullopt, ari, at("2026-01-19T23:59:59Z")).due);
  // later than the lifetime rule: ARI still wins
  ari.chosen_time = c.not_after - 10 * k_day;
  CHECK_FALSE(renew::decide(c, std::nullopt, ari, c.not_after - 20 * k_day).due);
}

TEST_CASE("ARI state without a chosen moment falls back to the lifetime rule") {
  auto c = cert_valid(at("2026-01-01T00:00:00Z"), 90 * k_day);
  store::AriState no_ari;  // "this CA has no renewalInfo"
  no_ari.cert_id = "x.y";
  auto d = renew::decide(c, std::nullopt, no_ari, c.not_after - 29 * k_day);
  CHECK(d.due);
  CHECK(d.rule == renew::DueRule::lifetime_fraction);
}

TEST_CASE("renew_before_expiry earlier than the ARI moment wins") {
  auto c = cert_valid(at("2026-01-01T00:00:00Z"), 90 * k_day);
  store::AriState ari;
  ari.chosen_time = c.not_after - 10 * k_day;
  std::optional<std::chrono::seconds> rbe = std::chrono::seconds(40 * 86400);
  auto d = renew::decide(c, rbe, ari, c.not_after - 39 * k_day);
  CHECK(d.due);
  CHECK(d.rule == renew::DueRule::renew_before_expiry);
}

TEST_CASE("the reason names the rule and the time left") {
  auto c = cert_valid(at("2026-01-01T00:00:00Z"), 90 * k_day);
  auto d = renew::decide(c, std::nullopt, std::nullopt, at("2026-01-11T00:00:00Z"));
  CHECK(d.reason.find("not due until 2026-03-02T00:00:00Z") != std::string::npos);
  CHECK(d.reason.find("lifetime rule") != std::string::npos);
  CHECK(d.reason.find("expires in 80 days") != std::string::npos);
}

TEST_CASE("failures get more urgent as expiry nears") {
  auto c = cert_valid(at("2026-01-01T00:00:00Z"), 90 * k_day);
  std::chrono::seconds week = 7 * k_day;
  CHECK(renew::failure_urgency(c, c.not_after - 40 * k_day, week) == renew::Urgency::normal);
  CHECK(renew::failure_urgency(c, c.not_after - 29 * k_day, week) == renew::Urgency::warning);
  CHECK(renew::failure_urgency(c, c.not_after - 6 * k_day, week) == renew::Urgency::critical);
  CHECK(renew::failure_urgency(c, c.not_after + 1h, week) == renew::Urgency::critical);
  // a 6-day certificate: critical only in its last quarter (36 h), not during its whole life
  auto short_lived = cert_valid(at("2026-01-01T00:00:00Z"), 6 * k_day);
  CHECK(renew::failure_urgency(short_lived, short_lived.not_after - 2 * k_day, week) ==
        renew::Urgency::warning);
  CHECK(renew::failure_urgency(short_lived, short_lived.not_after - 1 * k_day, week) ==
        renew::Urgency::critical);
}

TEST_CASE("a certificate with an empty validity period is due at once") {
  crypto::CertInfo c;
  c.not_before = at("2026-01-01T00:00:00Z");
  c.not_after = c.not_before;
  CHECK(renew::decide(c, std::nullopt, std::nullopt, c.not_before).due);
}

TEST_CASE("durations are printed with their two largest units") {
  CHECK(renew::format_duration(std::chrono::seconds(0)) == "0 seconds");
  CHECK(renew::format_duration(std::chrono::seconds(61)) == "1 minute 1 second");
  CHECK(renew::format_duration(std::chrono::seconds(3 * 86400 + 4 * 3600 + 5)) ==
        "3 days 4 hours");
  CHECK(renew::format_duration(std::chrono::seconds(-7200)) == "-2 hours");
}
