// A simulated month of the hourly timer (systemd/acmed.timer) over 6-day certificates: 720 runs
// of the real runner with an injected clock, ARI answered over HTTP by the scripted directory
// with a window about 3.2 hours wide (as for Let's Encrypt's `shortlived`), renewals issuing real
// 6-day certificates into the real store. Every renewal must land inside its certificate's
// window; none may be missed (no certificate expires, every window that closed was used) or
// doubled (each certificate is replaced exactly once).
#include "acmed/renew/reissue.hpp"
#include "acmed/renew/runner.hpp"
#include "acmed/store/lineage.hpp"
#include "ari_server.hpp"
#include "fixtures.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <map>
#include <mutex>
#include <random>

using namespace acmed;
using namespace std::chrono_literals;

namespace {

constexpr auto k_lifetime = std::chrono::hours(24 * 6);
// Centred two thirds into the lifetime, 1.6 hours either side.
constexpr auto k_centre = std::chrono::hours(24 * 4);
constexpr auto k_half_width = std::chrono::minutes(96);

struct Window {
  sys::TimePoint start, end;
};

struct Month {
  test::TempDir dir;
  store::Paths paths{dir / "etc", dir / "work", dir / "logs"};
  sys::FixedClock clock{test::test_now()};
  sys::RealProcessRunner processes;
  test::AriDirectoryServer ca;
  std::mutex mutex;
  std::map<std::string, Window> windows;                         // cert id -> its window
  std::map<std::string, sys::TimePoint> expiry;                  // cert id -> not_after
  std::map<std::string, int> replaced;                           // cert id -> times renewed
  std::vector<std::pair<std::string, sys::TimePoint>> renewals;  // old cert id, when
  std::mt19937_64 rng{20261201};

  void remember(const crypto::CertInfo& cert) {
    auto id = crypto::ari_cert_id(cert);
    REQUIRE(id);
    std::lock_guard lock(mutex);
    windows[*id] = {cert.not_before + k_centre - k_half_width,
                    cert.not_before + k_centre + k_half_width};
    expiry[*id] = cert.not_after;
  }

  Month() {
    test::LineageSpec spec;
    spec.age = 24h * 2;  // half-way through its first days
    spec.lifetime = k_lifetime;
    spec.server = ca.directory_url();
    test::make_lineage(paths, "short", spec);
    remember(store::load_lineage(paths, "short")->cert);
    ca.answer = [this](const std::string& id) {
      std::lock_guard lock(mutex);
      auto it = windows.find(id);
      if (it == windows.end()) return test::acme_problem(404, "malformed");
      nlohmann::json doc{{"suggestedWindow",
                          {{"start", sys::format_rfc3339(it->second.start)},
                           {"end", sys::format_rfc3339(it->second.end)}}}};
      return test::HttpAnswer{200, doc.dump(), {"Retry-After: 21600"}};
    };
  }

  renew::RunSummary run() {
    renew::RenewContext ctx;
    ctx.paths = paths;
    ctx.clock = &clock;
    ctx.processes = &processes;
    ctx.uniform = [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); };
    ctx.make_ari = [this] { return renew::make_client_ari_lookup({}, {}, ""); };
    ctx.renew = [this](const store::Lineage& l,
                       const renew::RenewAttempt& a) -> Result<renew::RenewedCert> {
      auto old_id = crypto::ari_cert_id(l.cert);
      REQUIRE(old_id);
      CHECK(a.replaces == *old_id);  // every renewal came from the ARI window
      sys::TimePoint nb = std::chrono::floor<std::chrono::seconds>(clock.now());
      auto files = test::test_ca().issue(l.names, nb, nb + k_lifetime);
      ACMED_TRY(int version, store::add_version(paths, l.name, files, l.conf));
      renew::RenewedCert out;
      ACMED_TRY(out.cert, crypto::parse_certificate(files.cert));
      out.names = l.names;
      out.version = version;
      remember(out.cert);
      std::lock_guard lock(mutex);
      renewals.emplace_back(*old_id, clock.now());
      ++replaced[*old_id];
      return out;
    };
    auto s = renew::run_renewals({}, ctx);
    REQUIRE(s);
    return *s;
  }
};

}  // namespace

TEST_CASE("a month of hourly runs renews every 6-day certificate inside its window, once") {
  Month m;
  const sys::TimePoint start = test::test_now();
  const int runs = 24 * 30;
  int runs_with_requests = 0;
  std::size_t requests_before = 0;
  for (int i = 0; i < runs; ++i) {
    // The timer: on the hour plus a delay fixed for this machine (FixedRandomDelay), plus up to
    // a minute for the service to start.
    auto jitter = std::chrono::seconds(std::uniform_int_distribution<int>(0, 59)(m.rng));
    m.clock.set(start + std::chrono::hours(i) + 37min + jitter);
    auto s = m.run();
    REQUIRE(s.lineages.size() == 1);
    CHECK_MESSAGE(s.ok(), s.lines().back());
    // never without a valid certificate
    auto lin = store::load_lineage(m.paths, "short");
    REQUIRE(lin);
    CHECK(m.clock.now() < lin->cert.not_after);
    std::size_t requests = m.ca.paths().size();
    runs_with_requests += requests > requests_before;
    requests_before = requests;
  }

  // Inside the window, each certificate at most once.
  for (const auto& [id, when] : m.renewals) {
    CAPTURE(id);
    const Window& w = m.windows.at(id);
    CHECK(when >= w.start);
    CHECK(when <= w.end);
  }
  for (const auto& [id, n] : m.replaced) CHECK(n == 1);
  // None missed: every certificate whose window closed before the last run was replaced.
  const sys::TimePoint last = m.clock.now();
  int closed = 0;
  for (const auto& [id, w] : m.windows) {
    if (w.end >= last) continue;
    ++closed;
    CHECK_MESSAGE(m.replaced.count(id) == 1, id);
  }
  // 30 days of 4-day spacing (the first one 2 days in): seven or eight renewals.
  CHECK(m.renewals.size() == static_cast<std::size_t>(closed));
  CHECK(m.renewals.size() >= 7);
  CHECK(m.renewals.size() <= 8);
  // Most runs send nothing at all: ARI is asked every 6 hours (Retry-After) and after a renewal.
  CHECK(runs_with_requests <= runs / 6 + static_cast<int>(m.renewals.size()) + 1);
  CHECK(m.ca.ari_requests() <= static_cast<std::size_t>(runs / 6) + m.renewals.size() + 1);
}
