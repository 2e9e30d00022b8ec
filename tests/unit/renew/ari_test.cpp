#include "acmed/renew/ari.hpp"
#include "acmed/renew/policy.hpp"

#include <doctest/doctest.h>

#include <deque>

using namespace acmed;
using namespace std::chrono_literals;

namespace {

sys::TimePoint at(const char* text) {
  sys::TimePoint t;
  REQUIRE(sys::parse_rfc3339(text, t));
  return t;
}

// Answers from a script, counting the questions.
class ScriptedLookup final : public renew::AriLookup {
 public:
  std::deque<Result<acme::RenewalInfo>> answers;
  int calls = 0;
  std::string last_cert_id;

  Result<acme::RenewalInfo> renewal_info(const store::Lineage&, std::string_view cert_id) override {
    ++calls;
    last_cert_id = std::string(cert_id);
    REQUIRE_FALSE(answers.empty());
    auto a = std::move(answers.front());
    answers.pop_front();
    return a;
  }
};

acme::RenewalInfo window(const char* start, const char* end,
                         std::optional<std::chrono::seconds> retry = std::nullopt) {
  acme::RenewalInfo info;
  info.window_start = at(start);
  info.window_end = at(end);
  info.retry_after = retry;
  return info;
}

// A 90-day certificate issued on 2026-05-20 (expires 2026-08-18).
// (built on first use: REQUIRE cannot run during static initialisation)
const store::Lineage& lineage() {
  static const store::Lineage l = [] {
    store::Lineage x;
    x.cert.not_before = at("2026-05-20T00:00:00Z");
    x.cert.not_after = x.cert.not_before + 24h * 90;
    return x;
  }();
  return l;
}
const renew::Uniform01 k_half = [] { return 0.5; };

}  // namespace

TEST_CASE("a fresh answer picks the moment the random number says inside the window") {
  ScriptedLookup ca;
  ca.answers.push_back(window("2026-06-10T00:00:00Z", "2026-06-12T00:00:00Z", 3h));
  auto now = at("2026-06-01T00:00:00Z");
  auto r = renew::refresh_ari(lineage(), "aki.serial", std::nullopt, now, ca, k_half);
  CHECK(ca.calls == 1);
  CHECK(ca.last_cert_id == "aki.serial");
  CHECK(r.requested);
  REQUIRE(r.usable);
  // half-way through the window less the run margin: [start, end - 70 min]
  CHECK(*r.state->chosen_time == at("2026-06-10T23:25:00Z"));
  CHECK(*r.state->retry_after_until == now + 3h);
  CHECK(r.state->cert_id == "aki.serial");
}

TEST_CASE("moments are spread uniformly over the whole window") {
  auto s = at("2026-06-10T00:00:00Z");
  auto e = at("2026-06-12T00:00:00Z");
  CHECK(renew::pick_in_window(s, e, 0.0) == s);
  CHECK(renew::pick_in_window(s, e, 0.25) == s + 12h);
  CHECK(renew::pick_in_window(s, e, 0.999999999) <= e);
  CHECK(renew::pick_in_window(s, e, 7.0) == e);  // out-of-range input is clamped
  CHECK(renew::pick_in_window(e, s, 0.5) == e);  // reversed window: its start
}

TEST_CASE("inside Retry-After the cached answer is used and no request is sent") {
  ScriptedLookup ca;  // no answers: any request fails the test
  store::AriState cached;
  cached.cert_id = "aki.serial";
  cached.window_start = at("2026-06-10T00:00:00Z");
  cached.window_end = at("2026-06-12T00:00:00Z");
  cached.chosen_time = at("2026-06-10T07:00:00Z");
  cached.retry_after_until = at("2026-06-01T06:00:00Z");
  auto r =
      renew::refresh_ari(lineage(), "aki.serial", cached, at("2026-06-01T05:59:59Z"), ca, k_half);
  CHECK(ca.calls == 0);
  CHECK_FALSE(r.requested);
  CHECK(r.usable);
  CHECK(r.state == cached);
}

TEST_CASE("after Retry-After the CA is asked again, and an unchanged window keeps its moment") {
  ScriptedLookup ca;
  ca.answers.push_back(window("2026-06-10T00:00:00Z", "2026-06-12T00:00:00Z"));
  store::AriState cached;
  cached.cert_id = "aki.serial";
  cached.window_start = at("2026-06-10T00:00:00Z");
  cached.window_end = at("2026-06-12T00:00:00Z");
  cached.chosen_time = at("2026-06-10T07:00:00Z");
  cached.retry_after_until = at("2026-06-01T06:00:00Z");
  auto now = at("2026-06-01T06:00:00Z");
  auto r = renew::refresh_ari(lineage(), "aki.serial", cached, now, ca, k_half);
  CHECK(ca.calls == 1);
  REQUIRE(r.usable);
  CHECK(*r.state->chosen_time == at("2026-06-10T07:00:00Z"));
  // no Retry-After: the default interval
  CHECK(*r.state->retry_after_until == now + renew::k_ari_default_retry);
}

TEST_CASE("a moved window gets a new moment") {
  ScriptedLookup ca;
  ca.answers.push_back(window("2026-06-02T00:00:00Z", "2026-06-04T00:00:00Z"));
  store::AriState cached;
  cached.cert_id = "aki.serial";
  cached.window_start = at("2026-06-10T00:00:00Z");
  cached.window_end = at("2026-06-12T00:00:00Z");
  cached.chosen_time = at("2026-06-10T07:00:00Z");
  cached.retry_after_until = at("2026-06-01T00:00:00Z");
  auto r =
      renew::refresh_ari(lineage(), "aki.serial", cached, at("2026-06-01T01:00:00Z"), ca, k_half);
  REQUIRE(r.usable);
  CHECK(*r.state->chosen_time == at("2026-06-02T23:25:00Z"));
}

TEST_CASE("a cached answer about another certificate is not used") {
  ScriptedLookup ca;
  ca.answers.push_back(window("2026-07-10T00:00:00Z", "2026-07-12T00:00:00Z"));
  store::AriState cached;
  cached.cert_id = "old.cert";
  cached.window_start = at("2026-06-10T00:00:00Z");
  cached.window_end = at("2026-06-12T00:00:00Z");
  cached.chosen_time = at("2026-06-10T07:00:00Z");
  cached.retry_after_until = at("2026-06-05T00:00:00Z");
  auto r =
      renew::refresh_ari(lineage(), "new.cert", cached, at("2026-06-01T00:00:00Z"), ca, k_half);
  CHECK(ca.calls == 1);
  REQUIRE(r.usable);
  CHECK(r.state->cert_id == "new.cert");
  CHECK(*r.state->chosen_time == at("2026-07-10T23:25:00Z"));
}

TEST_CASE("a window that passed since the certificate was issued means renew now") {
  ScriptedLookup ca;
  ca.answers.push_back(window("2026-05-21T00:00:00Z", "2026-05-22T00:00:00Z"));
  auto now = at("2026-06-01T00:00:00Z");
  auto r = renew::refresh_ari(lineage(), "aki.serial", std::nullopt, now, ca, k_half);
  REQUIRE(r.usable);
  crypto::CertInfo cert;
  cert.not_before = at("2026-05-20T00:00:00Z");
  cert.not_after = cert.not_before + 24h * 90;
  auto d = renew::decide(cert, std::nullopt, r.state, now);
  CHECK(d.due);
  CHECK(d.rule == renew::DueRule::ari);
}

TEST_CASE("Retry-After is bounded: not sooner than an hour, not later than a week") {
  ScriptedLookup ca;
  ca.answers.push_back(window("2026-06-10T00:00:00Z", "2026-06-12T00:00:00Z", 0s));
  ca.answers.push_back(window("2026-06-10T00:00:00Z", "2026-06-12T00:00:00Z", 24h * 30));
  auto now = at("2026-06-01T00:00:00Z");
  auto r1 = renew::refresh_ari(lineage(), "a.b", std::nullopt, now, ca, k_half);
  CHECK(*r1.state->retry_after_until == now + renew::k_ari_min_retry);
  auto r2 = renew::refresh_ari(lineage(), "a.b", std::nullopt, now, ca, k_half);
  CHECK(*r2.state->retry_after_until == now + renew::k_ari_max_retry);
}

TEST_CASE("a CA without renewalInfo is remembered for a while and not asked on every run") {
  ScriptedLookup ca;
  ca.answers.push_back(Error(Errc::not_found, "the CA has no renewalInfo"));
  auto now = at("2026-06-01T00:00:00Z");
  auto r = renew::refresh_ari(lineage(), "a.b", std::nullopt, now, ca, k_half);
  CHECK_FALSE(r.usable);
  REQUIRE(r.state);
  CHECK_FALSE(r.state->chosen_time);
  CHECK(*r.state->retry_after_until == now + renew::k_ari_default_retry);
  auto again = renew::refresh_ari(lineage(), "a.b", r.state, now + 1h, ca, k_half);
  CHECK(ca.calls == 1);
  CHECK_FALSE(again.usable);
}

TEST_CASE("a malformed or failed answer falls back to the lifetime rule and is not cached") {
  ScriptedLookup ca;
  ca.answers.push_back(Error(Errc::protocol, "renewalInfo: suggestedWindow is not an object"));
  ca.answers.push_back(window("2026-06-12T00:00:00Z", "2026-06-10T00:00:00Z"));  // reversed
  ca.answers.push_back(window("2026-06-10T00:00:00Z", "2026-06-10T00:00:00Z"));  // empty
  ca.answers.push_back(Error(Errc::network, "connection refused"));
  auto now = at("2026-06-01T00:00:00Z");
  for (int i = 0; i < 4; ++i) {
    CAPTURE(i);
    auto r = renew::refresh_ari(lineage(), "a.b", std::nullopt, now, ca, k_half);
    CHECK(r.requested);
    CHECK_FALSE(r.usable);
    CHECK_FALSE(r.state);
    CHECK(r.note.find("lifetime rule") != std::string::npos);
  }
  CHECK(ca.calls == 4);
}

TEST_CASE("explanationURL is kept and reported") {
  ScriptedLookup ca;
  auto info = window("2026-06-02T00:00:00Z", "2026-06-03T00:00:00Z");
  info.explanation_url = "https://ca.test/incident/42";
  ca.answers.push_back(info);
  auto r =
      renew::refresh_ari(lineage(), "a.b", std::nullopt, at("2026-06-01T00:00:00Z"), ca, k_half);
  CHECK(r.state->explanation_url == "https://ca.test/incident/42");
  CHECK(r.note.find("https://ca.test/incident/42") != std::string::npos);
}

TEST_CASE("the bounds on Retry-After are an hour and a week") {
  CHECK(renew::k_ari_min_retry == 1h);
  CHECK(renew::k_ari_max_retry == 24h * 7);
}

TEST_CASE("windows that cannot be about this certificate are ignored, not cached") {
  ScriptedLookup ca;
  // over before the certificate was issued: an answer about the version before
  ca.answers.push_back(window("2026-05-01T00:00:00Z", "2026-05-02T00:00:00Z"));
  // starting when the certificate has expired (absurdly far away)
  ca.answers.push_back(window("2026-08-18T00:00:00Z", "2026-08-20T00:00:00Z"));
  ca.answers.push_back(window("2099-01-01T00:00:00Z", "2099-01-02T00:00:00Z"));
  auto now = at("2026-06-01T00:00:00Z");
  for (const char* why :
       {"ended before the certificate was issued", "starts after the certificate expires",
        "starts after the certificate expires"}) {
    CAPTURE(why);
    auto r = renew::refresh_ari(lineage(), "a.b", std::nullopt, now, ca, k_half);
    CHECK(r.requested);
    CHECK_FALSE(r.usable);
    CHECK_FALSE(r.state);
    CHECK(r.note.find(why) != std::string::npos);
  }
}

TEST_CASE("the chosen moment leaves an hourly run time to land inside the window") {
  const auto& cert = lineage().cert;
  auto s = at("2026-06-10T00:00:00Z");
  auto e = at("2026-06-10T03:12:00Z");  // a 6-day certificate's window is about this wide
  CHECK(renew::choose_moment(s, e, cert, 0.0) == s);
  CHECK(renew::choose_moment(s, e, cert, 0.999999) <= e - renew::k_run_margin);
  CHECK(renew::choose_moment(s, e, cert, 0.999999) >= e - renew::k_run_margin - 1s);
  // narrower than the margin: its start
  CHECK(renew::choose_moment(s, s + 30min, cert, 0.9) == s);
  // a window running past expiry is cut at expiry
  CHECK(renew::choose_moment(cert.not_after - 10h, cert.not_after + 24h * 30, cert, 0.999999) <=
        cert.not_after - renew::k_run_margin);
}
