// ARI through the real acme::Client and the libcurl transport, against a scripted directory on
// loopback: windows in the past and the future, Retry-After, a CA without renewalInfo, and
// malformed answers (which must fall back to the lifetime rule, not crash).
#include "acmed/renew/reissue.hpp"
#include "acmed/renew/runner.hpp"
#include "acmed/store/status.hpp"
#include "ari_server.hpp"
#include "fixtures.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <mutex>

using namespace acmed;
using namespace std::chrono_literals;

namespace {

struct AriRun {
  test::TempDir dir;
  store::Paths paths{dir / "etc", dir / "work", dir / "logs"};
  sys::FixedClock clock{test::test_now()};
  sys::RealProcessRunner processes;
  test::AriDirectoryServer ca;
  std::mutex mutex;
  std::vector<renew::RenewAttempt> attempts;

  renew::RunSummary run() {
    renew::RenewContext ctx;
    ctx.paths = paths;
    ctx.clock = &clock;
    ctx.processes = &processes;
    ctx.uniform = [] { return 0.5; };
    acme::ClientOptions client;
    client.max_transient_retries = 0;
    ctx.make_ari = [this, client] {
      return renew::make_client_ari_lookup({}, client, ca.directory_url());
    };
    ctx.renew = [this](const store::Lineage& l,
                       const renew::RenewAttempt& a) -> Result<renew::RenewedCert> {
      std::lock_guard lock(mutex);
      attempts.push_back(a);
      renew::RenewedCert r;
      r.cert = l.cert;
      r.names = l.names;
      return r;
    };
    auto s = renew::run_renewals({}, ctx);
    REQUIRE(s);
    return *s;
  }
};

std::string window_json(const char* start, const char* end) {
  return std::string("{\"suggestedWindow\":{\"start\":\"") + start + "\",\"end\":\"" + end +
         "\"},\"explanationURL\":\"https://ca.test/why\"}";
}

test::LineageSpec aged(int days) {
  test::LineageSpec s;
  s.age = std::chrono::hours(24 * days);
  return s;
}

}  // namespace

TEST_CASE("ARI over HTTP: a window that passed since issuance renews now and sends replaces") {
  AriRun r;
  test::make_lineage(r.paths, "a", aged(5));  // the lifetime rule would wait 55 more days
  auto id = crypto::ari_cert_id(store::load_lineage(r.paths, "a")->cert);
  REQUIRE(id);
  r.ca.answer = [](const std::string&) {  // issued 2026-05-27
    return test::HttpAnswer{200, window_json("2026-05-28T00:00:00Z", "2026-05-29T00:00:00Z"), {}};
  };
  auto s = r.run();
  CHECK(s.count(renew::Outcome::renewed) == 1);
  REQUIRE(r.attempts.size() == 1);
  CHECK(r.attempts[0].replaces == *id);
  CHECK(r.ca.paths() == std::vector<std::string>{"/dir", "/ari/" + *id});
}

TEST_CASE("ARI over HTTP: a future window waits, and Retry-After keeps the next run offline") {
  AriRun r;
  test::make_lineage(r.paths, "a", aged(70));  // due by the lifetime rule
  r.ca.answer = [](const std::string&) {
    return test::HttpAnswer{200, window_json("2026-06-10T00:00:00Z", "2026-06-12T00:00:00Z"),
                            {"Retry-After: 21600"}};
  };
  auto s = r.run();
  CHECK(s.count(renew::Outcome::not_due) == 1);
  CHECK(r.attempts.empty());
  auto st = store::load_status(r.paths, "a");
  REQUIRE(st);
  REQUIRE(st->ari);
  CHECK(st->ari->retry_after_until == test::test_now() + 6h);
  CHECK(st->ari->chosen_time == test::test_now() + 24h * 10 - renew::k_run_margin / 2);
  CHECK(st->ari->explanation_url == "https://ca.test/why");
  auto sent = r.ca.paths().size();

  r.clock.advance(5h);
  r.run();
  CHECK(r.ca.paths().size() == sent);  // no request at all, not even the directory
  CHECK(r.attempts.empty());

  r.clock.advance(2h);  // Retry-After over: asked again, same window, same moment
  r.run();
  CHECK(r.ca.ari_requests() == 2);
  CHECK(store::load_status(r.paths, "a")->ari->chosen_time ==
        test::test_now() + 24h * 10 - renew::k_run_margin / 2);
}

TEST_CASE("ARI over HTTP: a CA without renewalInfo is remembered and the lifetime rule decides") {
  AriRun r;
  r.ca.with_ari = false;
  test::make_lineage(r.paths, "due", aged(70));
  test::make_lineage(r.paths, "fresh", aged(5));
  auto s = r.run();
  CHECK(s.count(renew::Outcome::renewed) == 1);
  CHECK(s.count(renew::Outcome::not_due) == 1);
  REQUIRE(r.attempts.size() == 1);
  CHECK(r.attempts[0].replaces.empty());
  // (the fake renewal kept the same certificate, whose cached answer was dropped on renewal:
  // only the lineage that was not renewed shows the cache)
  std::filesystem::remove(r.paths.renewal_conf("due"));
  auto sent = r.ca.paths().size();
  r.clock.advance(1h);
  r.run();
  CHECK(r.ca.paths().size() == sent);
}

TEST_CASE("ARI over HTTP: malformed answers fall back to the lifetime rule") {
  const std::vector<test::HttpAnswer> bad = {
      {200, "not json", {}},
      {200, "{}", {}},
      {200, "{\"suggestedWindow\":{\"start\":\"yesterday\",\"end\":\"tomorrow\"}}", {}},
      {200, window_json("2026-06-12T00:00:00Z", "2026-06-10T00:00:00Z"), {}},
      {200, "{\"suggestedWindow\":[]}", {}},
      {500, "{\"type\":\"urn:ietf:params:acme:error:serverInternal\"}", {}},
      {200, window_json("2026-05-28T00:00:00Z", "2026-05-29T00:00:00Z"), {"Retry-After: soon"}},
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    CAPTURE(i);
    AriRun r;
    test::make_lineage(r.paths, "due", aged(70));
    test::make_lineage(r.paths, "fresh", aged(5));
    r.ca.answer = [&](const std::string&) { return bad[i]; };
    auto s = r.run();
    if (i + 1 == bad.size()) {
      // a good window with a bad Retry-After: the window is used, the default interval applies
      CHECK(s.count(renew::Outcome::renewed) == 2);
      continue;
    }
    CHECK(s.count(renew::Outcome::renewed) == 1);
    CHECK(s.count(renew::Outcome::not_due) == 1);
    CHECK(s.ok());
    REQUIRE(r.attempts.size() == 1);
    CHECK(r.attempts[0].replaces.empty());
  }
}
