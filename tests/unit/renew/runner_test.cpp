#include "acmed/renew/runner.hpp"

#include "acmed/acme/messages.hpp"
#include "acmed/store/status.hpp"
#include "acmed/sys/fs.hpp"
#include "fixtures.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

using namespace acmed;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const auto k_day = std::chrono::hours(24);

// A CA stand-in: renews by writing a real new version (unless dry run), records every call.
struct FakeIssuer {
  store::Paths paths;
  std::mutex mutex;
  std::vector<std::string> calls;             // lineage names, in call order
  std::vector<renew::RenewAttempt> attempts;  // same order
  std::set<std::string> failing;              // lineages whose renewal fails
  std::function<Result<renew::RenewedCert>(const store::Lineage&)> override_fn;
  std::chrono::milliseconds delay{0};
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  std::map<std::string, int> running_by_key;
  int max_same_key = 0;

  Result<renew::RenewedCert> operator()(const store::Lineage& lineage,
                                        const renew::RenewAttempt& attempt) {
    std::string key = renew::default_serial_key(lineage);
    {
      std::lock_guard lock(mutex);
      calls.push_back(lineage.name);
      attempts.push_back(attempt);
      if (!key.empty()) max_same_key = std::max(max_same_key, ++running_by_key[key]);
    }
    int now_running = ++running;
    int seen = max_running.load();
    while (now_running > seen && !max_running.compare_exchange_weak(seen, now_running)) {
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    --running;
    {
      std::lock_guard lock(mutex);
      if (!key.empty()) --running_by_key[key];
    }
    if (override_fn) return override_fn(lineage);
    if (failing.count(lineage.name)) {
      return Error(Errc::ca_problem, "the CA refused the order for " + lineage.names.front());
    }
    auto files = test::test_ca().issue(lineage.names, test::test_now(), test::test_now() + 90 * k_day);
    renew::RenewedCert out;
    auto info = crypto::parse_certificate(files.cert);
    REQUIRE(info);
    out.cert = *info;
    out.names = lineage.names;
    if (attempt.dry_run == renew::DryRun::no) {
      store::RenewalConf conf = lineage.conf;
      conf.params = attempt.params;
      auto v = store::add_version(paths, lineage.name, files, conf);
      REQUIRE(v);
      out.version = *v;
    }
    return out;
  }
};

// Answers ARI questions from a map cert-name -> answer, counting requests.
struct FakeAri final : renew::AriLookup {
  std::function<Result<acme::RenewalInfo>(const store::Lineage&)> answer;
  std::atomic<int>* requests;
  Result<acme::RenewalInfo> renewal_info(const store::Lineage& lineage, std::string_view) override {
    ++*requests;
    return answer(lineage);
  }
};

struct Fixture {
  test::TempDir dir;
  store::Paths paths{dir / "etc", dir / "work", dir / "logs"};
  sys::FixedClock clock{test::test_now()};
  sys::RealProcessRunner processes;
  FakeIssuer issuer;
  std::vector<std::vector<std::string>> reloads;
  std::vector<std::string> log_lines;
  std::atomic<int> ari_requests{0};
  std::function<Result<acme::RenewalInfo>(const store::Lineage&)> ari_answer;
  Status reload_result;
  renew::RenewOptions options;

  Fixture() { issuer.paths = paths; }

  renew::RenewContext context() {
    renew::RenewContext ctx;
    ctx.paths = paths;
    ctx.clock = &clock;
    ctx.processes = &processes;
    ctx.uniform = [] { return 0.5; };
    ctx.renew = [this](const store::Lineage& l, const renew::RenewAttempt& a) {
      return issuer(l, a);
    };
    ctx.reload = [this](const std::vector<store::Lineage>& lineages) {
      std::vector<std::string> names;
      for (const auto& l : lineages) names.push_back(l.name);
      reloads.push_back(names);
      return reload_result;
    };
    if (ari_answer) {
      ctx.make_ari = [this] {
        auto lookup = std::make_unique<FakeAri>();
        lookup->answer = ari_answer;
        lookup->requests = &ari_requests;
        return std::unique_ptr<renew::AriLookup>(std::move(lookup));
      };
    }
    ctx.log = [this](renew::LogLevel, std::string_view text) { log_lines.emplace_back(text); };
    return ctx;
  }

  renew::RunSummary run() {
    auto summary = renew::run_renewals(options, context());
    REQUIRE_MESSAGE(summary, (summary ? "" : summary.error().describe()));
    return *summary;
  }

  // The status as `acmed certificates` shows it: the lineage's file plus the run's check time.
  store::LineageStatus status(const std::string& name) {
    auto times = store::load_check_times(paths);
    REQUIRE(times);
    auto s = store::load_status(paths, name, *times);
    REQUIRE(s);
    return *s;
  }

  std::string hook_log() { return sys::read_file(dir / "hooks.log").value_or(""); }
  // A shell command appending `word` (and the named env variables) to hooks.log.
  std::string hook(const std::string& word, const std::string& env = "") {
    std::string cmd = "printf '%s\\n' \"" + word;
    if (!env.empty()) cmd += " $" + env;
    return cmd + "\" >> '" + (dir / "hooks.log").string() + "'";
  }
};

test::LineageSpec spec_aged(std::string name, int days) {
  test::LineageSpec s;
  s.names = {std::move(name)};
  s.age = std::chrono::hours(24 * days);
  return s;
}

const test::LineageSpec k_due = spec_aged("due.test", 70);
const test::LineageSpec k_fresh = spec_aged("fresh.test", 10);

sys::TimePoint at(const char* text) {
  sys::TimePoint t;
  REQUIRE(sys::parse_rfc3339(text, t));
  return t;
}

}  // namespace

TEST_CASE("only due lineages are renewed and every lineage records its next due time") {
  Fixture f;
  test::make_lineage(f.paths, "due", k_due);
  test::make_lineage(f.paths, "fresh", k_fresh);
  auto s = f.run();
  CHECK(f.issuer.calls == std::vector<std::string>{"due"});
  CHECK(s.count(renew::Outcome::renewed) == 1);
  CHECK(s.count(renew::Outcome::not_due) == 1);
  CHECK(s.ok());
  CHECK(s.lines().front() == "checked 2, renewed 1, not due 1, failed 0");
  // the renewed lineage now points at version 2
  auto due = store::load_lineage(f.paths, "due");
  REQUIRE(due);
  CHECK(due->version == 2);
  auto st = f.status("due");
  CHECK(st.last_renewed == test::test_now());
  CHECK(st.failure_count == 0);
  CHECK(st.next_due == test::test_now() + 60 * k_day);  // a third of the new 90-day cert left
  auto fresh = f.status("fresh");
  CHECK(fresh.last_checked == test::test_now());
  CHECK_FALSE(fresh.last_renewed);
  CHECK(fresh.next_due == test::test_now() - 10 * k_day + 60 * k_day);
  CHECK(f.reloads == std::vector<std::vector<std::string>>{{"due"}});
}

TEST_CASE("renew_before_expiry in the conf makes a fresh certificate due") {
  Fixture f;
  auto spec = k_fresh;
  spec.renew_before_expiry = "100 days";
  test::make_lineage(f.paths, "fresh", spec);
  auto s = f.run();
  CHECK(s.count(renew::Outcome::renewed) == 1);
}

TEST_CASE("a bad renew_before_expiry fails that lineage only, naming the file") {
  Fixture f;
  auto spec = k_due;
  spec.renew_before_expiry = "soon";
  test::make_lineage(f.paths, "bad", spec);
  test::make_lineage(f.paths, "due", k_due);
  auto s = f.run();
  CHECK(f.issuer.calls == std::vector<std::string>{"due"});
  REQUIRE(s.count(renew::Outcome::failed) == 1);
  CHECK(s.lineages[0].reason.find("bad.conf") != std::string::npos);
  CHECK(f.status("bad").failure_count == 1);
}

TEST_CASE("a failing lineage does not stop the others and the run reports it") {
  Fixture f;
  test::make_lineage(f.paths, "a", k_due);
  test::make_lineage(f.paths, "b", k_due);
  test::make_lineage(f.paths, "c", k_due);
  f.issuer.failing = {"b"};
  auto s = f.run();
  CHECK(s.count(renew::Outcome::renewed) == 2);
  CHECK(s.count(renew::Outcome::failed) == 1);
  CHECK_FALSE(s.ok());
  auto lines = s.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[1].find("failed: b: renewal failed: the CA refused the order for due.test") !=
        std::string::npos);
  auto st = f.status("b");
  CHECK(st.failure_count == 1);
  CHECK(st.last_error.find("refused") != std::string::npos);
  // the next run tries again (no rate limit) and counts consecutive failures
  f.clock.advance(12h);
  f.run();
  CHECK(f.status("b").failure_count == 2);
  f.issuer.failing.clear();
  f.clock.advance(12h);
  auto ok = f.run();
  CHECK(ok.ok());
  CHECK(f.status("b").failure_count == 0);
  CHECK(f.status("b").last_error.empty());
}

TEST_CASE("an unloadable lineage is a failure of its own") {
  Fixture f;
  test::make_lineage(f.paths, "a", k_due);
  test::make_lineage(f.paths, "broken", k_due);
  fs::remove(f.paths.archive_dir("broken") / "cert1.pem");
  auto noauth = k_due;
  noauth.authenticator = "";
  test::make_lineage(f.paths, "noauth", noauth);
  auto s = f.run();
  CHECK(f.issuer.calls == std::vector<std::string>{"a"});
  CHECK(s.count(renew::Outcome::failed) == 2);
  CHECK(s.lineages[1].reason.find("cannot load the lineage") != std::string::npos);
  CHECK(s.lineages[2].reason.find("authenticator") != std::string::npos);
}

TEST_CASE("--cert-name picks lineages; an unknown name is an error before anything runs") {
  Fixture f;
  test::make_lineage(f.paths, "a", k_due);
  test::make_lineage(f.paths, "b", k_due);
  f.options.cert_names = {"b"};
  auto s = f.run();
  CHECK(f.issuer.calls == std::vector<std::string>{"b"});
  CHECK(s.lineages.size() == 1);
  f.options.cert_names = {"nope"};
  auto bad = renew::run_renewals(f.options, f.context());
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::not_found);
  CHECK(bad.error().message.find("nope") != std::string::npos);
}

TEST_CASE("--force-renewal renews lineages that are not due") {
  Fixture f;
  test::make_lineage(f.paths, "fresh", k_fresh);
  f.options.force = renew::ForceRenewal::yes;
  auto s = f.run();
  CHECK(s.count(renew::Outcome::renewed) == 1);
  CHECK(s.lineages[0].reason.find("version 2") != std::string::npos);
}

TEST_CASE("autorenew = False is skipped unless forced") {
  Fixture f;
  auto spec = k_due;
  spec.autorenew = false;
  test::make_lineage(f.paths, "manual", spec);
  auto s = f.run();
  CHECK(f.issuer.calls.empty());
  CHECK(s.count(renew::Outcome::skipped) == 1);
  CHECK(s.ok());
}

TEST_CASE("a rate-limited renewal backs off for Retry-After and then tries again") {
  Fixture f;
  test::make_lineage(f.paths, "a", k_due);
  int calls = 0;
  f.issuer.override_fn = [&](const store::Lineage&) -> Result<renew::RenewedCert> {
    ++calls;
    acme::Problem p;
    p.type = "urn:ietf:params:acme:error:rateLimited";
    p.detail = "too many certificates";
    return acme::problem_to_error(p, std::chrono::seconds(7200));
  };
  auto s1 = f.run();
  CHECK(calls == 1);
  CHECK(f.status("a").next_due == test::test_now() + 2h);
  f.clock.advance(1h);
  auto s2 = f.run();
  CHECK(calls == 1);  // inside the backoff: the CA is not asked
  CHECK(s2.count(renew::Outcome::failed) == 1);
  CHECK(s2.lineages[0].reason.find("backing off until") != std::string::npos);
  f.clock.advance(1h);
  f.run();
  CHECK(calls == 2);
  CHECK(f.status("a").failure_count == 2);
}

TEST_CASE("rateLimited without Retry-After backs off exponentially") {
  Fixture f;
  test::make_lineage(f.paths, "a", k_due);
  f.issuer.override_fn = [](const store::Lineage&) -> Result<renew::RenewedCert> {
    return Error(Errc::rate_limited, "slow down");
  };
  f.run();
  CHECK(f.status("a").next_due == f.clock.now() + 1h);
  f.clock.advance(1h);
  f.run();
  CHECK(f.status("a").next_due == f.clock.now() + 2h);
}

TEST_CASE("--jobs N renews N lineages at the same time") {
  Fixture f;
  for (int i = 0; i < 8; ++i) test::make_lineage(f.paths, "l" + std::to_string(i), k_due);
  f.issuer.delay = 150ms;
  f.options.jobs = 4;
  auto start = std::chrono::steady_clock::now();
  auto s = f.run();
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(s.count(renew::Outcome::renewed) == 8);
  CHECK(f.issuer.max_running == 4);
  CHECK(took < 8 * 150ms);
}

TEST_CASE("--jobs 1 renews one after another") {
  Fixture f;
  for (int i = 0; i < 3; ++i) test::make_lineage(f.paths, "l" + std::to_string(i), k_due);
  f.issuer.delay = 20ms;
  f.options.jobs = 1;
  f.run();
  CHECK(f.issuer.max_running == 1);
  CHECK(f.issuer.calls == std::vector<std::string>{"l0", "l1", "l2"});
}

TEST_CASE("standalone lineages never run at the same time, webroot ones do") {
  Fixture f;
  auto standalone = k_due;
  standalone.authenticator = "standalone";
  for (int i = 0; i < 3; ++i) test::make_lineage(f.paths, "s" + std::to_string(i), standalone);
  for (int i = 0; i < 3; ++i) test::make_lineage(f.paths, "w" + std::to_string(i), k_due);
  f.issuer.delay = 60ms;
  f.options.jobs = 6;
  auto s = f.run();
  CHECK(s.count(renew::Outcome::renewed) == 6);
  CHECK(f.issuer.max_same_key == 1);
  CHECK(f.issuer.max_running >= 2);
}

TEST_CASE("hooks: pre once before renewing, deploy per lineage with its env, post once at the end") {
  Fixture f;
  auto a = k_due;
  a.names = {"a.test", "www.a.test"};
  a.pre_hook = f.hook("pre");
  a.post_hook = f.hook("post");
  a.deploy_hook = f.hook("deploy", "RENEWED_DOMAINS");
  auto b = a;
  b.names = {"b.test"};
  test::make_lineage(f.paths, "a", a);
  test::make_lineage(f.paths, "b", b);
  auto s = f.run();
  CHECK(s.ok());
  CHECK(f.hook_log() == "pre\ndeploy a.test www.a.test\ndeploy b.test\npost\n");
}

TEST_CASE("post hooks get RENEWED_DOMAINS and FAILED_DOMAINS of the whole run") {
  Fixture f;
  auto a = k_due;
  a.names = {"a.test", "www.a.test"};
  a.post_hook = "printf '%s|%s\\n' \"$RENEWED_DOMAINS\" \"$FAILED_DOMAINS\" >> '" +
                (f.dir / "hooks.log").string() + "'";
  auto b = a;
  b.names = {"b.test"};
  test::make_lineage(f.paths, "a", a);
  test::make_lineage(f.paths, "b", b);
  f.issuer.failing = {"b"};
  f.run();
  CHECK(f.hook_log() == "a.test www.a.test|b.test\n");
}

TEST_CASE("deploy hooks see the lineage's live dir in RENEWED_LINEAGE") {
  Fixture f;
  auto a = k_due;
  a.deploy_hook = f.hook("deploy", "RENEWED_LINEAGE");
  test::make_lineage(f.paths, "a", a);
  f.run();
  CHECK(f.hook_log() == "deploy " + f.paths.live_dir("a").string() + "\n");
}

TEST_CASE("no hook runs when nothing is due") {
  Fixture f;
  auto spec = k_fresh;
  spec.pre_hook = f.hook("pre");
  spec.post_hook = f.hook("post");
  test::make_lineage(f.paths, "fresh", spec);
  fs::create_directories(f.paths.config_dir / "renewal-hooks" / "pre");
  f.run();
  CHECK(f.hook_log().empty());
}

TEST_CASE("command-line hooks replace the stored ones and are passed on to be saved") {
  Fixture f;
  auto spec = k_due;
  spec.deploy_hook = f.hook("stored");
  test::make_lineage(f.paths, "a", spec);
  f.options.deploy_hook = f.hook("cli");
  f.run();
  CHECK(f.hook_log() == "cli\n");
  REQUIRE(f.issuer.attempts.size() == 1);
  CHECK(f.issuer.attempts[0].params.deploy_hook == f.hook("cli"));
}

TEST_CASE("pre and post hooks also run when the renewal fails; deploy hooks do not") {
  Fixture f;
  auto spec = k_due;
  spec.pre_hook = f.hook("pre");
  spec.post_hook = f.hook("post");
  spec.deploy_hook = f.hook("deploy");
  test::make_lineage(f.paths, "a", spec);
  f.issuer.failing = {"a"};
  f.run();
  CHECK(f.hook_log() == "pre\npost\n");
  CHECK(f.reloads.empty());
}

TEST_CASE("a failing deploy hook is reported but the renewal still counts") {
  Fixture f;
  auto spec = k_due;
  spec.deploy_hook = "echo broken >&2; exit 3";
  test::make_lineage(f.paths, "a", spec);
  auto s = f.run();
  CHECK(s.count(renew::Outcome::renewed) == 1);
  CHECK_FALSE(s.ok());
  REQUIRE(s.hook_failures.size() == 1);
  CHECK(s.hook_failures[0].message == "exited with status 3: broken");
  auto lines = s.lines();
  CHECK(lines.back().find("hook failed: deploy-hook") != std::string::npos);
  CHECK(store::load_lineage(f.paths, "a")->version == 2);
}

TEST_CASE("the web server is reloaded once for all renewed lineages; a failed reload is reported") {
  Fixture f;
  test::make_lineage(f.paths, "a", k_due);
  test::make_lineage(f.paths, "b", k_due);
  test::make_lineage(f.paths, "c", k_fresh);
  f.reload_result = Error(Errc::server, "nginx -t failed");
  auto s = f.run();
  CHECK(f.reloads == std::vector<std::vector<std::string>>{{"a", "b"}});
  CHECK_FALSE(s.ok());
  CHECK(s.lines().back() == "  reload failed: nginx -t failed");
}

TEST_CASE("a dry run rehearses every lineage, runs pre/post hooks only, and records nothing") {
  Fixture f;
  auto spec = k_fresh;
  spec.pre_hook = f.hook("pre");
  spec.post_hook = f.hook("post");
  spec.deploy_hook = f.hook("deploy");
  test::make_lineage(f.paths, "fresh", spec);
  f.options.dry_run = renew::DryRun::yes;
  auto s = f.run();
  CHECK(s.count(renew::Outcome::renewed) == 1);
  CHECK(s.lines().front().rfind("dry run: checked 1, simulated 1", 0) == 0);
  REQUIRE(f.issuer.attempts.size() == 1);
  CHECK(f.issuer.attempts[0].dry_run == renew::DryRun::yes);
  CHECK(f.hook_log() == "pre\npost\n");
  CHECK(f.reloads.empty());
  CHECK_FALSE(fs::exists(f.paths.status_file("fresh")));
  CHECK(store::load_lineage(f.paths, "fresh")->version == 1);
}

TEST_CASE("--run-deploy-hooks runs deploy hooks in a dry run") {
  Fixture f;
  auto spec = k_fresh;
  spec.deploy_hook = f.hook("deploy");
  test::make_lineage(f.paths, "fresh", spec);
  f.options.dry_run = renew::DryRun::yes;
  f.options.run_deploy_hooks = true;
  f.run();
  CHECK(f.hook_log() == "deploy\n");
}

TEST_CASE("ARI: a window in the future keeps a lineage the lifetime rule would renew") {
  Fixture f;
  test::make_lineage(f.paths, "a", k_due);  // 20 days left of 90: due by the lifetime rule
  f.ari_answer = [](const store::Lineage&) -> Result<acme::RenewalInfo> {
    acme::RenewalInfo info;
    info.window_start = at("2026-06-05T00:00:00Z");
    info.window_end = at("2026-06-07T00:00:00Z");
    info.retry_after = 6h;
    return info;
  };
  auto s = f.run();
  CHECK(f.issuer.calls.empty());
  CHECK(s.count(renew::Outcome::not_due) == 1);
  CHECK(s.lineages[0].reason.find("ARI window") != std::string::npos);
  auto st = f.status("a");
  REQUIRE(st.ari);
  CHECK(st.ari->chosen_time == at("2026-06-05T23:25:00Z"));  // [start, end - 70 min] / 2
  CHECK(st.next_due == at("2026-06-05T23:25:00Z"));
  CHECK(f.ari_requests == 1);

  // inside Retry-After: no request at all, same decision
  f.clock.advance(2h);
  f.run();
  CHECK(f.ari_requests == 1);

  // once the chosen moment has passed: renewed, with `replaces` naming the old certificate
  f.clock.set(at("2026-06-06T00:00:01Z"));
  auto old_id = crypto::ari_cert_id(store::load_lineage(f.paths, "a")->cert);
  REQUIRE(old_id);
  auto later = f.run();
  CHECK(later.count(renew::Outcome::renewed) == 1);
  REQUIRE(f.issuer.attempts.size() == 1);
  CHECK(f.issuer.attempts[0].replaces == *old_id);
  CHECK_FALSE(f.status("a").ari);  // the answer was about the old certificate
}

TEST_CASE("ARI: a window in the past renews a certificate the lifetime rule would keep") {
  Fixture f;
  test::make_lineage(f.paths, "a", k_fresh);  // issued 2026-05-22
  f.ari_answer = [](const store::Lineage&) -> Result<acme::RenewalInfo> {
    acme::RenewalInfo info;
    info.window_start = at("2026-05-23T00:00:00Z");
    info.window_end = at("2026-05-24T00:00:00Z");
    info.explanation_url = "https://ca.test/why";
    return info;
  };
  auto s = f.run();
  CHECK(s.count(renew::Outcome::renewed) == 1);
  CHECK(std::any_of(f.log_lines.begin(), f.log_lines.end(), [](const std::string& l) {
    return l.find("https://ca.test/why") != std::string::npos;
  }));
}

TEST_CASE("ARI: a malformed answer falls back to the lifetime rule without sending replaces") {
  Fixture f;
  test::make_lineage(f.paths, "due", k_due);
  test::make_lineage(f.paths, "fresh", k_fresh);
  f.ari_answer = [](const store::Lineage&) -> Result<acme::RenewalInfo> {
    return Error(Errc::protocol, "renewalInfo is not JSON");
  };
  auto s = f.run();
  CHECK(f.issuer.calls == std::vector<std::string>{"due"});
  CHECK(f.issuer.attempts[0].replaces.empty());
  CHECK(s.count(renew::Outcome::not_due) == 1);
  CHECK(s.ok());
  // nothing cached: the next run asks again
  f.run();
  CHECK(f.ari_requests == 4);
}

TEST_CASE("a failing certificate close to expiry is reported as critical") {
  Fixture f;
  auto spec = k_due;
  spec.age = std::chrono::hours(24 * 87);  // 3 days left
  test::make_lineage(f.paths, "dying", spec);
  test::make_lineage(f.paths, "due", k_due);  // 20 days left: a warning
  f.issuer.failing = {"dying", "due"};
  auto s = f.run();
  auto lines = s.lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[1].rfind("  WARNING failed: due", 0) == 0);  // lines are in name order
  CHECK(lines[2].rfind("  CRITICAL failed: dying", 0) == 0);
  CHECK(std::any_of(f.log_lines.begin(), f.log_lines.end(), [](const std::string& l) {
    return l.find("CRITICAL: the certificate expires in 3 days") != std::string::npos;
  }));
}

TEST_CASE("an unreadable status file is ignored and replaced") {
  Fixture f;
  test::make_lineage(f.paths, "a", k_fresh);
  REQUIRE(sys::make_dirs(f.paths.status_dir()));
  REQUIRE(sys::write_file_atomic(f.paths.status_file("a"), "{not json"));
  auto s = f.run();
  CHECK(s.ok());
  CHECK(f.status("a").last_checked == test::test_now());
}

TEST_CASE("for_each_parallel visits every item exactly once") {
  std::vector<std::atomic<int>> seen(100);
  renew::for_each_parallel(seen.size(), 7, [&](std::size_t i, std::size_t worker) {
    CHECK(worker < 7);
    ++seen[i];
  });
  CHECK(std::all_of(seen.begin(), seen.end(), [](const auto& n) { return n == 1; }));
  renew::for_each_parallel(0, 3, [](std::size_t, std::size_t) { FAIL("no items"); });
}

TEST_CASE("renewing one lineage leaves another lineage's in-flight conf write alone") {
  // With --jobs N, two lineages write renewal/<name>.conf at the same time through temp files in
  // the one renewal dir; the cleanup of leftovers must only touch the lineage's own temporaries.
  Fixture f;
  test::make_lineage(f.paths, "a", k_due);
  test::make_lineage(f.paths, "b", k_due);
  auto other = f.paths.renewal_dir() / ".b.conf.acmed-tmp-inflight";
  auto own = f.paths.renewal_dir() / ".a.conf.acmed-tmp-leftover";
  REQUIRE(sys::write_file_atomic(other, "being written"));
  REQUIRE(sys::write_file_atomic(own, "left by a crash"));
  f.options.cert_names = {"a"};
  f.run();
  CHECK(fs::exists(other));
  CHECK_FALSE(fs::exists(own));
}

TEST_CASE("a due lineage whose key does not match its certificate fails; a not-due one is only checked") {
  Fixture f;
  test::make_lineage(f.paths, "due", k_due);
  test::make_lineage(f.paths, "fresh", k_fresh);
  test::make_lineage(f.paths, "ok", k_due);
  auto other_key = crypto::PrivateKey::generate({});
  REQUIRE(other_key);
  for (const char* name : {"due", "fresh"}) {
    REQUIRE(sys::write_file_atomic(f.paths.archive_dir(name) / "privkey1.pem", other_key->to_pem()));
  }
  auto s = f.run();
  CHECK(f.issuer.calls == std::vector<std::string>{"ok"});
  REQUIRE(s.lineages.size() == 3);
  CHECK(s.lineages[0].outcome == renew::Outcome::failed);
  CHECK(s.lineages[0].reason.find("cannot load the lineage") != std::string::npos);
  CHECK(s.lineages[1].outcome == renew::Outcome::not_due);
  CHECK(s.lineages[2].outcome == renew::Outcome::renewed);
}

TEST_CASE("a run over lineages that are not due rewrites no status file, only the check times") {
  Fixture f;
  test::make_lineage(f.paths, "a", k_fresh);
  test::make_lineage(f.paths, "b", k_fresh);
  f.run();  // first run: writes each status (with the certificate read) and the check times
  struct stat first {};
  REQUIRE(::stat(f.paths.status_file("a").c_str(), &first) == 0);
  std::string text = sys::read_file(f.paths.status_file("a")).value_or("");
  CHECK(text.find("\"cert\"") != std::string::npos);

  f.clock.set(test::test_now() + 12h);
  auto s = f.run();
  CHECK(s.count(renew::Outcome::not_due) == 2);
  struct stat second {};
  REQUIRE(::stat(f.paths.status_file("a").c_str(), &second) == 0);
  CHECK(second.st_ino == first.st_ino);  // not replaced
  CHECK(sys::read_file(f.paths.status_file("a")).value_or("") == text);
  // ... yet the lineage shows the second check
  CHECK(f.status("a").last_checked == test::test_now() + 12h);
  auto times = store::load_check_times(f.paths);
  REQUIRE(times);
  CHECK(times->size() == 2);
  CHECK(times->at("b") == test::test_now() + 12h);

  // a dry run records nothing
  f.clock.set(test::test_now() + 24h);
  f.options.dry_run = renew::DryRun::yes;
  f.run();
  CHECK(f.status("a").last_checked == test::test_now() + 12h);
}

TEST_CASE("the certificate read at the last check is reused only while its file is unchanged") {
  Fixture f;
  test::make_lineage(f.paths, "a", k_fresh);
  f.run();
  CHECK(f.issuer.calls.empty());
  // The cached facts are used: a tampered cache entry with the right file stamp wins ...
  auto st = store::load_status(f.paths, "a");
  REQUIRE(st);
  REQUIRE(st->cert);
  st->cert->info.not_after = test::test_now() + 2 * k_day;  // "about to expire"
  REQUIRE(store::save_status(f.paths, "a", *st));
  f.run();
  CHECK(f.issuer.calls == std::vector<std::string>{"a"});

  // ... and a certificate file that changed is read again. A failed renewal leaves the due
  // certificate in the cache; then cert1.pem is replaced by a fresh certificate: the stale
  // cache entry must not be believed.
  Fixture g;
  test::make_lineage(g.paths, "a", k_due);
  g.issuer.failing = {"a"};
  g.run();
  auto cached = store::load_status(g.paths, "a");
  REQUIRE(cached);
  REQUIRE(cached->cert);
  auto fresh = test::test_ca().issue({"example.test"}, test::test_now(), test::test_now() + 90 * k_day);
  REQUIRE(sys::write_file_atomic(g.paths.archive_dir("a") / "cert1.pem", fresh.cert, 0644));
  g.issuer.failing.clear();
  g.clock.set(test::test_now() + 25h);  // past the backoff of the failure
  auto s = g.run();
  CHECK(s.count(renew::Outcome::not_due) == 1);
  CHECK(g.issuer.calls == std::vector<std::string>{"a"});  // only the first, failed attempt
}

TEST_CASE("failed hooks run once after a run with failures, with the lineages, names and JSON") {
  Fixture f;
  auto a = k_due;
  a.names = {"a.test", "www.a.test"};
  test::make_lineage(f.paths, "a", a);
  test::make_lineage(f.paths, "b", spec_aged("b.test", 70));
  test::make_lineage(f.paths, "c", spec_aged("c.test", 70));
  f.issuer.failing = {"a", "c"};
  f.options.failed_hook =
      "printf '%s|%s\\n%s\\n' \"$FAILED_LINEAGES\" \"$FAILED_DOMAINS\" \"$ACMED_FAILURES\" >> '" +
      (f.dir / "hooks.log").string() + "'";
  auto d = f.dir / "etc" / "renewal-hooks" / "failed";
  fs::create_directories(d);
  REQUIRE(sys::write_file_atomic(
      d / "10-alert",
      "#!/bin/sh\necho \"dir $FAILED_LINEAGES\" >> '" + (f.dir / "hooks.log").string() + "'\n",
      0755));
  auto s = f.run();
  CHECK(s.count(renew::Outcome::renewed) == 1);
  REQUIRE(s.alerts.size() == 2);
  auto log = f.hook_log();
  auto first = log.substr(0, log.find('\n'));
  CHECK(first == "a c|a.test www.a.test c.test");
  auto json_line = log.substr(log.find('\n') + 1);
  json_line = json_line.substr(0, json_line.find('\n'));
  auto j = nlohmann::json::parse(json_line);
  REQUIRE(j.size() == 2);
  CHECK(j[0]["lineage"] == "a");
  CHECK(j[0]["domains"] == nlohmann::json{"a.test", "www.a.test"});
  CHECK(j[0]["error"].get<std::string>().find("the CA refused the order for a.test") !=
        std::string::npos);
  CHECK(j[0]["days_left"].get<double>() == doctest::Approx(20.0));
  CHECK(j[0]["not_after"].is_string());
  CHECK(j[0]["next_retry"] == sys::format_rfc3339(test::test_now()));
  CHECK(log.find("dir a c\n") != std::string::npos);
  CHECK(std::count(s.hook_history.begin(), s.hook_history.end(),
                   "failed-hook: " + f.options.failed_hook) == 1);
}

TEST_CASE("failed hooks do not run after a run without failures, nor in a dry run") {
  Fixture f;
  test::make_lineage(f.paths, "a", k_due);
  f.options.failed_hook = f.hook("failed");
  CHECK(f.run().alerts.empty());
  CHECK(f.hook_log().empty());
  test::make_lineage(f.paths, "b", k_due);
  f.issuer.failing = {"b"};
  f.options.dry_run = renew::DryRun::yes;
  auto s = f.run();
  CHECK(s.count(renew::Outcome::failed) == 1);
  CHECK(s.alerts.empty());
  CHECK(f.hook_log().empty());
}

TEST_CASE("a failing failed hook is reported; the renewals of the run stand") {
  Fixture f;
  test::make_lineage(f.paths, "a", k_due);
  test::make_lineage(f.paths, "b", k_due);
  f.issuer.failing = {"b"};
  f.options.failed_hook = "echo nope >&2; exit 4";
  auto s = f.run();
  CHECK(s.count(renew::Outcome::renewed) == 1);
  REQUIRE(s.hook_failures.size() == 1);
  CHECK(s.hook_failures[0].kind == renew::HookKind::failed);
  CHECK(s.lines().back() ==
        "  hook failed: failed-hook 'echo nope >&2; exit 4' exited with status 4: nope");
  CHECK(f.status("a").last_renewed);
}

TEST_CASE("a renewed lineage whose reload failed is reported to the failed hooks") {
  Fixture f;
  test::make_lineage(f.paths, "a", k_due);
  f.reload_result = Error(Errc::server, "nginx -t failed");
  f.options.failed_hook = f.hook("failed", "FAILED_LINEAGES");
  auto s = f.run();
  REQUIRE(s.alerts.size() == 1);
  CHECK(s.alerts[0].error.find("not reloaded: nginx -t failed") != std::string::npos);
  CHECK(f.hook_log() == "failed a\n");
}

TEST_CASE("a certificate that goes stale without a renewal scheduled is reported once") {
  Fixture f;
  auto manual = spec_aged("manual.test", 70);  // 20 of 90 days left: in the last third
  manual.autorenew = false;
  test::make_lineage(f.paths, "manual", manual);
  auto late = spec_aged("late.test", 70);  // renews 5 days before expiry: under a sixth left
  late.renew_before_expiry = "5 days";
  test::make_lineage(f.paths, "late", late);
  auto soon = spec_aged("soon.test", 70);  // renews 19 days before expiry: not stale
  soon.renew_before_expiry = "19 days";
  test::make_lineage(f.paths, "soon", soon);
  test::make_lineage(f.paths, "young", spec_aged("young.test", 50));  // 40 days left
  f.options.failed_hook = f.hook("stale", "FAILED_LINEAGES");
  auto s = f.run();
  CHECK(f.issuer.calls.empty());
  CHECK(s.ok());
  REQUIRE(s.alerts.size() == 2);
  CHECK(s.alerts[0].lineage == "late");
  CHECK(s.alerts[0].error.find("less than a third of its lifetime left") != std::string::npos);
  CHECK(s.alerts[1].lineage == "manual");
  CHECK(f.hook_log() == "stale late manual\n");
  f.clock.advance(12h);
  CHECK(f.run().alerts.empty());
  CHECK(f.hook_log() == "stale late manual\n");
}

TEST_CASE("every renewal attempt is recorded with its time, failed or not") {
  Fixture f;
  test::make_lineage(f.paths, "a", k_due);
  test::make_lineage(f.paths, "b", k_due);
  test::make_lineage(f.paths, "c", k_fresh);
  f.issuer.failing = {"b"};
  f.run();
  CHECK(f.status("a").last_attempt == test::test_now());
  CHECK(f.status("b").last_attempt == test::test_now());
  CHECK_FALSE(f.status("b").last_renewed);
  CHECK_FALSE(f.status("c").last_attempt);
}

TEST_CASE("the JSON summary (renew --json, version 1) says what the run did, lineage by lineage") {
  Fixture f;
  test::make_lineage(f.paths, "a", k_due);
  test::make_lineage(f.paths, "b", k_due);
  test::make_lineage(f.paths, "c", k_fresh);
  f.issuer.failing = {"b"};
  f.options.post_hook = "exit 2";
  auto j = renew::summary_json(f.run());
  CHECK(j["version"] == 1);
  CHECK(j["ok"] == false);
  CHECK(j["dry_run"] == false);
  CHECK(j["counts"] ==
        nlohmann::json{{"renewed", 1}, {"not_due", 1}, {"skipped", 0}, {"failed", 1}});
  REQUIRE(j["lineages"].size() == 3);
  CHECK(j["lineages"][0]["name"] == "a");
  CHECK(j["lineages"][0]["outcome"] == "renewed");
  CHECK(j["lineages"][1]["outcome"] == "failed");
  CHECK(j["lineages"][1]["reason"].get<std::string>().find("refused") != std::string::npos);
  CHECK(j["lineages"][1]["domains"] == nlohmann::json{"due.test"});
  CHECK(j["lineages"][2]["outcome"] == "not_due");
  CHECK(j["lineages"][2]["next_due"].is_string());
  REQUIRE(j["hook_failures"].size() == 1);
  CHECK(j["hook_failures"][0]["kind"] == "post-hook");
  CHECK(j["reload_error"].is_null());
  REQUIRE(j["alerts"].size() == 1);
  CHECK(j["alerts"][0]["lineage"] == "b");
}

TEST_CASE("a lineage the renewer reports as skipped (another fleet node has it) is not a failure") {
  Fixture f;
  test::make_lineage(f.paths, "mine", k_due);
  test::make_lineage(f.paths, "theirs", k_due);
  f.issuer.override_fn = [](const store::Lineage& l) -> Result<renew::RenewedCert> {
    renew::RenewedCert skipped;
    skipped.skipped = l.name + ": node web2 is renewing it";
    return skipped;
  };
  auto s = f.run();
  CHECK(s.ok());
  CHECK(s.count(renew::Outcome::skipped) == 2);
  REQUIRE(s.lineages.size() == 2);
  CHECK(s.lineages[1].reason == "theirs: node web2 is renewing it");
  // Nothing of it is recorded as an attempt, nothing is reloaded: the next run decides afresh.
  CHECK(f.status("theirs").failure_count == 0);
  CHECK(f.status("theirs").last_error.empty());
  CHECK(f.reloads.empty());
  f.issuer.override_fn = nullptr;
  f.clock.advance(1h);
  CHECK(f.run().count(renew::Outcome::renewed) == 2);
}
