// Renewal through the production path (run_renewals -> reissue_with -> issue -> acme::Client
// over libcurl) against the scripted ACME CA of ari_server.hpp, answering each fault that real
// CAs have shown: `replaces` refused with every status and problem type, ARI windows that cannot
// be about the certificate, Retry-After of seconds and of months, a moved renewalInfo URL,
// orders that stay "processing", a 404 on the certificate right after finalize, 503s, profiles
// the CA refuses, and orders with more names than the profile takes.
#include "acmed/renew/profiles.hpp"
#include "acmed/renew/reissue.hpp"
#include "acmed/renew/runner.hpp"
#include "acmed/store/account.hpp"
#include "acmed/store/lineage.hpp"
#include "acmed/store/status.hpp"
#include "acmed/sys/fs.hpp"
#include "ari_server.hpp"
#include "fixtures.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <mutex>

using namespace acmed;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Only pretends to wait: time moves by what was slept. Records every wait.
// The run's clock plus every pretended wait: the client's "now" moves with the test's clock
// (the issued certificate's validity is checked against it).
class FakeSleeper final : public acme::Sleeper {
 public:
  explicit FakeSleeper(const sys::Clock& base) : m_base(base) {}
  sys::TimePoint now() const override {
    std::lock_guard lock(m_mutex);
    return m_base.now() + m_slept;
  }
  void sleep(std::chrono::milliseconds d) override {
    std::lock_guard lock(m_mutex);
    m_slept += d;
    m_waits.push_back(d);
  }
  std::vector<std::chrono::milliseconds> waits() const {
    std::lock_guard lock(m_mutex);
    return m_waits;
  }
  std::chrono::milliseconds total() const {
    std::chrono::milliseconds t{0};
    for (auto w : waits()) t += w;
    return t;
  }

 private:
  const sys::Clock& m_base;
  mutable std::mutex m_mutex;
  std::chrono::milliseconds m_slept{0};
  std::vector<std::chrono::milliseconds> m_waits;
};

// The orders here need no challenge (the CA's authorizations are already valid).
class NoChallenges final : public challenge::Authenticator {
 public:
  std::string name() const override { return "none"; }
  std::vector<std::string> supported_types() const override { return {"http-01"}; }
  Status perform(std::span<const challenge::Task>) override { return {}; }
  void cleanup(std::span<const challenge::Task>) noexcept override {}
};

std::string window_json(sys::TimePoint start, sys::TimePoint end) {
  return json{{"suggestedWindow",
               {{"start", sys::format_rfc3339(start)}, {"end", sys::format_rfc3339(end)}}}}
      .dump();
}

struct CaRun {
  test::TempDir dir;
  store::Paths paths{dir / "etc", dir / "work", dir / "logs"};
  // Real time (truncated to seconds): the CA's certificates must be valid now.
  sys::FixedClock clock{std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())};
  sys::RealProcessRunner processes;
  test::AriDirectoryServer ca;
  std::shared_ptr<FakeSleeper> sleeper = std::make_shared<FakeSleeper>(clock);
  acme::ClientOptions client;
  std::string account_id;
  std::string server_override;
  std::mutex log_mutex;
  std::vector<std::string> log;

  CaRun() {
    ca.now = [this] { return clock.now(); };
    client.sleeper = sleeper;
    client.max_transient_retries = 2;
    client.log = [this](acme::LogLevel, std::string_view text) {
      std::lock_guard lock(log_mutex);
      log.emplace_back(text);
    };
    auto key = crypto::PrivateKey::generate({});
    REQUIRE(key);
    auto id = store::save_account(paths, ca.directory_url(), *key, ca.base() + "/acct/1",
                                  json{{"status", "valid"}}, clock.now());
    REQUIRE(id);
    account_id = *id;
  }

  // A lineage from the test CA, issued `age` ago, valid for `lifetime`, renewing at this CA.
  void lineage(const std::string& name, std::chrono::hours age, std::chrono::hours lifetime,
               std::vector<std::string> names = {"example.test"}, std::string profile = {}) {
    test::LineageSpec spec;
    spec.names = std::move(names);
    spec.age = age;
    spec.lifetime = lifetime;
    spec.now = clock.now();
    spec.server = ca.directory_url();
    spec.account = account_id;
    spec.preferred_profile = std::move(profile);
    test::make_lineage(paths, name, spec);
  }

  std::string cert_id(const std::string& name) {
    auto lin = store::load_lineage(paths, name);
    REQUIRE(lin);
    auto id = crypto::ari_cert_id(lin->cert);
    REQUIRE(id);
    return *id;
  }

  renew::RunSummary run() {
    renew::RenewContext ctx;
    ctx.paths = paths;
    ctx.clock = &clock;
    ctx.processes = &processes;
    ctx.uniform = [] { return 0.5; };
    ctx.make_ari = [this] { return renew::make_client_ari_lookup({}, client, server_override); };
    renew::ReissueSettings settings;
    settings.paths = paths;
    settings.server_override = server_override;
    settings.client = client;
    ctx.renew = renew::reissue_with(
        settings,
        [](const store::Lineage&,
           const store::RenewalParams&) -> Result<std::unique_ptr<challenge::Authenticator>> {
          return std::unique_ptr<challenge::Authenticator>(std::make_unique<NoChallenges>());
        });
    ctx.log = [this](renew::LogLevel, std::string_view text) {
      std::lock_guard lock(log_mutex);
      log.emplace_back(text);
    };
    auto s = renew::run_renewals({}, ctx);
    REQUIRE(s);
    return *s;
  }

  bool logged(const std::string& part) {
    std::lock_guard lock(log_mutex);
    for (const auto& l : log)
      if (l.find(part) != std::string::npos) return true;
    return false;
  }

  store::LineageStatus status(const std::string& name) {
    auto st = store::load_status(paths, name);
    REQUIRE(st);
    return *st;
  }

  int version(const std::string& name) {
    auto lin = store::load_lineage(paths, name);
    REQUIRE(lin);
    return lin->version;
  }

  // ARI says: renew now (a window that opened after the certificate was issued and has passed).
  void ari_renew_now(std::chrono::hours age) {
    sys::TimePoint issued = clock.now() - age;
    ca.answer = [issued](const std::string&) {
      return test::HttpAnswer{200, window_json(issued + 1h, issued + 2h), {}};
    };
  }

  std::string failure_reason(const renew::RunSummary& s) {
    for (const auto& l : s.lineages)
      if (l.outcome == renew::Outcome::failed) return l.reason;
    return {};
  }
};

}  // namespace

TEST_CASE("a refused `replaces` is dropped for one more order, whatever status or type says so") {
  const std::vector<std::pair<int, std::string>> refusals = {
      {409, "alreadyReplaced"}, {403, "unauthorized"}, {400, "malformed"},
      {409, "conflict"},        {404, "about:blank"},  {403, ""}};
  for (const auto& [status, type] : refusals) {
    CAPTURE(status);
    CAPTURE(type);
    CaRun r;
    r.lineage("a", 24h * 3, 24h * 90);
    std::string old_id = r.cert_id("a");
    r.ari_renew_now(24h * 3);
    r.ca.new_order = [&, status = status, type = type](const json& payload, int) {
      if (!payload.contains("replaces")) return test::HttpAnswer{201, "", {}};
      if (type.empty()) return test::HttpAnswer{status, "forbidden", {"Content-Type: text/plain"}};
      if (type == "about:blank")
        return test::HttpAnswer{status,
                                json{{"type", "about:blank"}, {"status", status}}.dump(),
                                {"Content-Type: application/problem+json"}};
      return test::acme_problem(status, type);
    };
    auto s = r.run();
    CHECK_MESSAGE(s.count(renew::Outcome::renewed) == 1, r.failure_reason(s));
    auto orders = r.ca.orders();
    REQUIRE(orders.size() == 2);
    CHECK(orders[0]["replaces"] == old_id);
    CHECK_FALSE(orders[1].contains("replaces"));
    CHECK(r.logged("refused `replaces`"));
    CHECK(r.version("a") == 2);
  }
}

TEST_CASE("a refused `replaces` is remembered: a failed renewal's next attempt goes without it") {
  CaRun r;
  r.lineage("a", 24h * 3, 24h * 90);
  std::string old_id = r.cert_id("a");
  r.ari_renew_now(24h * 3);
  r.ca.new_order = [](const json& payload, int) {
    return payload.contains("replaces") ? test::acme_problem(403, "unauthorized")
                                        : test::HttpAnswer{201, "", {}};
  };
  r.ca.poll_503s = 1000;  // the order without `replaces` goes through, then the CA breaks
  r.ca.processing_polls = 1;
  auto s = r.run();
  CHECK(s.count(renew::Outcome::failed) == 1);
  CHECK(r.status("a").replaces_refused == old_id);

  r.ca.poll_503s = 0;
  r.clock.advance(1h);
  s = r.run();
  CHECK_MESSAGE(s.count(renew::Outcome::renewed) == 1, r.failure_reason(s));
  auto orders = r.ca.orders();
  REQUIRE(orders.size() == 3);
  CHECK(orders[0].contains("replaces"));
  CHECK_FALSE(orders[1].contains("replaces"));
  CHECK_FALSE(orders[2].contains("replaces"));    // not even tried again
  CHECK(r.status("a").replaces_refused.empty());  // the new certificate starts clean
}

TEST_CASE("a rate limit on an order with `replaces` is not mistaken for a refusal") {
  CaRun r;
  r.lineage("a", 24h * 3, 24h * 90);
  r.ari_renew_now(24h * 3);
  r.ca.new_order = [](const json&, int) { return test::acme_problem(429, "rateLimited"); };
  auto s = r.run();
  CHECK(s.count(renew::Outcome::failed) == 1);
  CHECK(r.ca.orders().size() == 1);
  CHECK(r.status("a").replaces_refused.empty());
}

TEST_CASE("`replaces` goes only to the CA and from the account that got the certificate") {
  CaRun r;
  r.lineage("a", 24h * 3, 24h * 90);
  auto lin = store::load_lineage(r.paths, "a");
  REQUIRE(lin);
  renew::IssueRequest req;
  req.server = r.ca.directory_url();
  req.account.account_id = r.account_id;
  CHECK(renew::replaces_problem(*lin, req, r.paths).empty());

  renew::IssueRequest other_server = req;
  other_server.server = "https://127.0.0.1:1/other";
  CHECK(renew::replaces_problem(*lin, other_server, r.paths).find("not to the CA") !=
        std::string::npos);
  renew::IssueRequest other_account = req;
  other_account.account.account_id = "feedfacefeedface";
  CHECK(renew::replaces_problem(*lin, other_account, r.paths).find("account") != std::string::npos);

  // A certificate whose chain is another CA's: its AKI does not name that issuer.
  test::TestCa stranger;
  auto files = stranger.issue({"x.test"}, r.clock.now() - 1h, r.clock.now() + 24h);
  auto chain_path = std::filesystem::canonical(r.paths.live_dir("a") / "chain.pem");
  REQUIRE(sys::write_file_atomic(chain_path, files.chain, 0644));
  CHECK(renew::replaces_problem(*lin, req, r.paths).find("authority key identifier") !=
        std::string::npos);

  // Through the runner: the renewal goes to --server elsewhere, so no `replaces` is sent.
  CaRun o;
  o.lineage("a", 24h * 3, 24h * 90);
  o.ari_renew_now(24h * 3);
  test::AriDirectoryServer elsewhere;
  elsewhere.answer = o.ca.answer;
  o.server_override = elsewhere.directory_url();
  auto key = crypto::PrivateKey::generate({});
  REQUIRE(key);
  REQUIRE(store::save_account(o.paths, elsewhere.directory_url(), *key,
                              elsewhere.base() + "/acct/9", json{{"status", "valid"}},
                              o.clock.now()));
  auto s = o.run();
  CHECK_MESSAGE(s.count(renew::Outcome::renewed) == 1, o.failure_reason(s));
  CHECK(o.ca.orders().empty());
  REQUIRE(elsewhere.orders().size() == 1);
  CHECK_FALSE(elsewhere.orders()[0].contains("replaces"));
}

TEST_CASE("ARI windows that cannot be about the certificate fall back to the lifetime rule") {
  struct Case {
    const char* what;
    std::chrono::hours start_after_issue, end_after_issue;
  };
  // The lineage: a 90-day certificate issued 10 days ago (lifetime rule: due at day 60).
  const std::vector<Case> cases = {
      {"ended before the certificate was issued", -24h * 20, -24h * 19},
      {"inverted", 24h * 40, 24h * 30},
      {"empty", 24h * 40, 24h * 40},
      {"starting after expiry", 24h * 365 * 5, 24h * 365 * 6},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    CaRun r;
    r.lineage("a", 24h * 10, 24h * 90);
    sys::TimePoint issued = r.clock.now() - 24h * 10;
    r.ca.answer = [&](const std::string&) {
      return test::HttpAnswer{
          200, window_json(issued + c.start_after_issue, issued + c.end_after_issue), {}};
    };
    auto s = r.run();
    REQUIRE(s.lineages.size() == 1);
    CHECK(s.lineages[0].outcome == renew::Outcome::not_due);
    CHECK(s.lineages[0].next_due == issued + 24h * 60);
    CHECK(r.ca.orders().empty());
    CHECK_FALSE(r.status("a").ari);  // not cached: asked again next run
  }
  // A window that opened after issuance and has passed means renew now (RFC 9773 section 4.2).
  CaRun r;
  r.lineage("a", 24h * 10, 24h * 90);
  r.ari_renew_now(24h * 10);
  CHECK(r.run().count(renew::Outcome::renewed) == 1);
}

TEST_CASE("an ARI fetch that fails is a warning and the lifetime rule keeps renewing") {
  CaRun r;
  r.client.max_transient_retries = 0;
  r.lineage("due", 24h * 70, 24h * 90);
  r.lineage("fresh", 24h * 5, 24h * 90);
  r.ca.answer = [](const std::string&) { return test::acme_problem(503, "serverInternal"); };
  auto s = r.run();
  CHECK(s.count(renew::Outcome::renewed) == 1);
  CHECK(s.count(renew::Outcome::not_due) == 1);
  CHECK(r.logged("ARI unavailable"));
  CHECK(r.ca.orders().size() == 1);
  CHECK_FALSE(r.ca.orders()[0].contains("replaces"));
}

TEST_CASE("Retry-After on renewalInfo is clamped to [1 hour, 7 days]") {
  const std::vector<std::pair<std::string, std::chrono::seconds>> cases = {
      {"5", 1h}, {"86400", 24h}, {"15552000", 24h * 7}};  // 5 s, a day, six months
  for (const auto& [header, expect] : cases) {
    CAPTURE(header);
    CaRun r;
    r.lineage("a", 24h * 10, 24h * 90);
    sys::TimePoint issued = r.clock.now() - 24h * 10;
    r.ca.answer = [&, header = header](const std::string&) {
      return test::HttpAnswer{
          200, window_json(issued + 24h * 55, issued + 24h * 57), {"Retry-After: " + header}};
    };
    r.run();
    auto st = r.status("a");
    REQUIRE(st.ari);
    CHECK(*st.ari->retry_after_until == r.clock.now() + expect);
    r.clock.advance(expect - 1s);
    r.run();
    CHECK(r.ca.ari_requests() == 1);
    r.clock.advance(2s);
    r.run();
    CHECK(r.ca.ari_requests() == 2);
  }
}

TEST_CASE("the directory is fetched every run: a moved renewalInfo URL is followed") {
  CaRun r;
  r.lineage("a", 24h * 10, 24h * 90);
  sys::TimePoint issued = r.clock.now() - 24h * 10;
  r.ca.answer = [&](const std::string&) {
    return test::HttpAnswer{
        200, window_json(issued + 24h * 55, issued + 24h * 57), {"Retry-After: 3600"}};
  };
  r.run();
  CHECK(r.ca.count("/ari/") == 1);
  r.ca.ari_path = "/v2/renewal-info/";
  r.clock.advance(1h);
  r.run();
  CHECK(r.ca.count("/ari/") == 1);
  CHECK(r.ca.count("/v2/renewal-info/") == 1);
  CHECK(r.ca.count("/dir") == 2);
  CHECK(r.status("a").ari);
}

TEST_CASE("an expired certificate renews at once, without ARI and without `replaces`") {
  CaRun r;
  r.lineage("a", 24h * 8, 24h * 6);        // expired two days ago
  r.ca.answer = [&](const std::string&) {  // a CA that would say "later"
    return test::HttpAnswer{200, window_json(r.clock.now() + 24h, r.clock.now() + 48h), {}};
  };
  auto s = r.run();
  CHECK_MESSAGE(s.count(renew::Outcome::renewed) == 1, r.failure_reason(s));
  CHECK(r.ca.ari_requests() == 0);
  REQUIRE(r.ca.orders().size() == 1);
  CHECK_FALSE(r.ca.orders()[0].contains("replaces"));
}

TEST_CASE("a processing order is polled as its Retry-After says, within the bounds") {
  CaRun r;
  r.lineage("a", 24h * 70, 24h * 90);
  r.ca.processing_polls = 3;
  r.ca.processing_retry_after = "7";
  auto s = r.run();
  CHECK_MESSAGE(s.count(renew::Outcome::renewed) == 1, r.failure_reason(s));
  auto waits = r.sleeper->waits();
  REQUIRE(waits.size() >= 3);
  CHECK(std::count(waits.begin(), waits.end(), std::chrono::milliseconds(7000)) == 3);
}

TEST_CASE("an order that never leaves processing fails within the poll timeout") {
  CaRun r;
  r.client.poll.timeout = 20s;
  r.lineage("a", 24h * 70, 24h * 90);
  r.ca.processing_polls = 1'000'000;
  r.ca.processing_retry_after = "5";
  auto s = r.run();
  CHECK(s.count(renew::Outcome::failed) == 1);
  CHECK(r.failure_reason(s).find("timed out") != std::string::npos);
  CHECK(r.sleeper->total() <= 20s);
  CHECK(r.version("a") == 1);
}

TEST_CASE("a 404 on the certificate right after finalize is retried, for a bounded time") {
  CaRun r;
  r.lineage("a", 24h * 70, 24h * 90);
  r.ca.cert_404s = 2;
  auto s = r.run();
  CHECK_MESSAGE(s.count(renew::Outcome::renewed) == 1, r.failure_reason(s));
  CHECK(r.ca.count("/cert/") == 3);

  CaRun never;
  never.client.poll.certificate_grace = 10s;
  never.lineage("a", 24h * 70, 24h * 90);
  never.ca.cert_404s = 1'000'000;
  s = never.run();
  CHECK(s.count(renew::Outcome::failed) == 1);
  CHECK(never.sleeper->total() <= 10s);
  CHECK(never.ca.count("/cert/") >= 3);
  CHECK(never.version("a") == 1);
}

TEST_CASE("503 while polling is retried with growing backoff") {
  CaRun r;
  r.lineage("a", 24h * 70, 24h * 90);
  r.ca.processing_polls = 1;
  r.ca.poll_503s = 2;
  auto s = r.run();
  CHECK_MESSAGE(s.count(renew::Outcome::renewed) == 1, r.failure_reason(s));
  auto waits = r.sleeper->waits();
  CHECK(std::count(waits.begin(), waits.end(), 500ms) == 1);
  CHECK(std::count(waits.begin(), waits.end(), 1000ms) == 1);
}

TEST_CASE("invalidProfile: a preferred profile falls back, and the lineage keeps asking for it") {
  CaRun r;
  r.ca.profiles = {"classic", "shortlived"};
  r.lineage("a", 24h * 70, 24h * 90, {"example.test"}, "shortlived");
  r.ca.new_order = [](const json& payload, int) {
    return payload.contains("profile") ? test::acme_problem(400, "invalidProfile")
                                       : test::HttpAnswer{201, "", {}};
  };
  auto s = r.run();
  CHECK_MESSAGE(s.count(renew::Outcome::renewed) == 1, r.failure_reason(s));
  auto orders = r.ca.orders();
  REQUIRE(orders.size() == 2);
  CHECK(orders[0]["profile"] == "shortlived");
  CHECK_FALSE(orders[1].contains("profile"));
  CHECK(r.logged("refused the profile 'shortlived'"));
  auto conf = store::read_renewal_conf(r.paths, "a");
  REQUIRE(conf);
  CHECK(conf->params.preferred_profile == "shortlived");
}

TEST_CASE("the profile is stored per lineage and sent again on renewal") {
  CaRun r;
  r.ca.profiles = {"classic", "tlsserver"};
  r.lineage("a", 24h * 70, 24h * 90, {"example.test"}, "tlsserver");
  REQUIRE(r.run().count(renew::Outcome::renewed) == 1);
  r.clock.advance(24h * 100);  // the new certificate (6 days at this CA) is long expired
  REQUIRE(r.run().count(renew::Outcome::renewed) == 1);
  auto orders = r.ca.orders();
  REQUIRE(orders.size() == 2);
  CHECK(orders[0]["profile"] == "tlsserver");
  CHECK(orders[1]["profile"] == "tlsserver");
  CHECK(store::read_renewal_conf(r.paths, "a")->params.preferred_profile == "tlsserver");
}

TEST_CASE("invalidProfile with --required-profile is a clear error and nothing changes") {
  CaRun r;
  r.ca.profiles = {"shortlived"};
  r.lineage("a", 24h * 70, 24h * 90);
  auto conf = store::read_renewal_conf(r.paths, "a");
  REQUIRE(conf);
  conf->params.required_profile = "shortlived";
  REQUIRE(store::save_renewal_conf(r.paths, "a", *conf));
  r.ca.new_order = [](const json&, int) { return test::acme_problem(400, "invalidProfile"); };
  auto s = r.run();
  CHECK(s.count(renew::Outcome::failed) == 1);
  CHECK(r.failure_reason(s).find("refused the profile 'shortlived'") != std::string::npos);
  CHECK(r.ca.orders().size() == 1);
  CHECK(r.version("a") == 1);
}

TEST_CASE("an order with more names than its profile allows is refused before any request") {
  CaRun r;
  std::vector<std::string> names;
  for (int i = 0; i < 26; ++i) names.push_back("n" + std::to_string(i) + ".example.test");
  r.lineage("a", 24h * 70, 24h * 90, names, "shortlived");
  r.ca.with_ari = false;
  auto before = r.ca.paths().size();
  auto s = r.run();
  CHECK(s.count(renew::Outcome::failed) == 1);
  CHECK(r.failure_reason(s).find("at most 25 names") != std::string::npos);
  // the ARI check asked the directory; the issuance sent nothing
  CHECK(r.ca.orders().empty());
  CHECK(r.ca.count("/nonce") == 0);
  CHECK(r.ca.paths().size() - before <= 1);
}

TEST_CASE("profile rules: name limits, and IP addresses at Let's Encrypt need shortlived") {
  auto ids = [](std::vector<std::string> names) {
    std::vector<util::Identifier> out;
    for (auto& n : names) out.push_back(*util::parse_identifier(n));
    return out;
  };
  const std::string le = "https://acme-v02.api.letsencrypt.org/directory";
  const std::string staging = "https://acme-staging-v02.api.letsencrypt.org/directory";
  CHECK(renew::is_lets_encrypt(le));
  CHECK(renew::is_lets_encrypt(staging));
  CHECK_FALSE(renew::is_lets_encrypt("https://acme-v02.api.letsencrypt.org.evil.test/dir"));
  CHECK(renew::profile_name_limit("shortlived") == 25u);
  CHECK(renew::profile_name_limit("tlsserver") == 25u);
  CHECK(renew::profile_name_limit("classic") == 100u);
  CHECK_FALSE(renew::profile_name_limit("custom"));

  auto ip = renew::choose_profile(le, ids({"example.com", "192.0.2.1"}), "", "");
  REQUIRE(ip);
  CHECK(ip->preferred == "shortlived");
  CHECK(ip->note.find("IP addresses only under the 'shortlived'") != std::string::npos);
  auto over = renew::choose_profile(staging, ids({"192.0.2.1"}), "classic", "");
  REQUIRE(over);
  CHECK(over->preferred == "shortlived");
  CHECK(over->note.find("instead of 'classic'") != std::string::npos);
  auto conflict = renew::choose_profile(le, ids({"192.0.2.1"}), "", "tlsserver");
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().code == Errc::usage);
  auto elsewhere = renew::choose_profile("https://127.0.0.1:14000/dir", ids({"192.0.2.1"}), "", "");
  REQUIRE(elsewhere);
  CHECK(elsewhere->preferred.empty());
  CHECK(elsewhere->note.empty());

  std::vector<std::string> many;
  for (int i = 0; i < 26; ++i) many.push_back("n" + std::to_string(i) + ".example.com");
  auto too_many = renew::choose_profile(le, ids(many), "", "tlsserver");
  REQUIRE_FALSE(too_many);
  CHECK(too_many.error().message.find("'tlsserver' profile allows at most 25 names") !=
        std::string::npos);
  many.pop_back();
  CHECK(renew::choose_profile(le, ids(many), "", "tlsserver"));
  CHECK(renew::choose_profile(le, ids(many), "classic", ""));
}
