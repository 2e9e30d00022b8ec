// What `renew` decides around the runner: which options it refuses, one reload per web server
// the renewed lineages name, and what a summary means for the exit status.
#include "acmed/app/renew.hpp"
#include "acmed/app/plugins.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace acmed;

namespace {

class RecordingRunner final : public sys::ProcessRunner {
 public:
  Result<sys::ProcessResult> run(const std::vector<std::string>& argv,
                                 const sys::ProcessOptions&) override {
    calls.push_back(argv);
    sys::ProcessResult r;
    r.exit_code = fail_program == argv.front() ? 1 : 0;  // the default (-1) means "not run"
    return r;
  }
  std::vector<std::vector<std::string>> calls;
  std::string fail_program;
  int count(const std::string& word) const {
    return static_cast<int>(std::count_if(calls.begin(), calls.end(), [&](const auto& argv) {
      return std::find(argv.begin(), argv.end(), word) != argv.end();
    }));
  }
};

store::Lineage renewed(const std::string& name, const std::string& installer,
                       const plugins::GivenFlags& flags) {
  store::Lineage l;
  l.name = name;
  l.conf.params.authenticator = "webroot";
  if (const plugins::Plugin* p = plugins::find_plugin(installer)) {
    auto settings = plugins::settings_from_flags(*p, flags);
    REQUIRE(settings);
    app::record_installer(l.conf.params, *p, *settings);
  }
  return l;
}

}  // namespace

TEST_CASE("after a renewal each web server the lineages name is tested and reloaded once") {
  RecordingRunner runner;
  plugins::Environment env{"/tmp/acmed-unused", "/tmp/acmed-unused", &runner, false, {}};
  std::vector<store::Lineage> done = {
      renewed("a.test", "nginx", {{"nginx_server_root", "/srv/one"}}),
      renewed("b.test", "nginx", {{"nginx_server_root", "/srv/one"}}),
      renewed("c.test", "nginx", {{"nginx_server_root", "/srv/two"}, {"nginx_ctl", "/opt/nginx"}}),
      renewed("d.test", "", {}),
  };
  std::vector<std::string> said;
  auto log = [&](renew::LogLevel, std::string_view text) { said.emplace_back(text); };
  REQUIRE(app::reload_installers(done, env, log));
  CHECK(runner.count("-t") == 2);
  CHECK(runner.count("reload") == 2);
  CHECK(runner.count("/srv/one/nginx.conf") == 2);  // test + reload of the shared root
  CHECK(runner.count("/srv/two/nginx.conf") == 2);
  bool used_ctl = std::any_of(runner.calls.begin(), runner.calls.end(),
                              [](const auto& argv) { return argv.front() == "/opt/nginx"; });
  CHECK(used_ctl);
  CHECK(std::count(said.begin(), said.end(), "reloaded nginx") == 2);
}

TEST_CASE("a web server that fails its test after renewal is reported, the others still reload") {
  RecordingRunner runner;
  runner.fail_program = "/opt/broken-nginx";
  plugins::Environment env{"/tmp/acmed-unused", "/tmp/acmed-unused", &runner, false, {}};
  std::vector<store::Lineage> done = {
      renewed("a.test", "nginx", {{"nginx_ctl", "/opt/broken-nginx"}}),
      renewed("b.test", "nginx", {{"nginx_server_root", "/srv/ok"}}),
  };
  auto st = app::reload_installers(done, env, nullptr);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::server);
  CHECK(st.error().message.find("nginx") != std::string::npos);
  CHECK(runner.count("reload") == 1);  // the healthy one
}

TEST_CASE("renew refuses -d and a plugin choice: each lineage renews with its own") {
  app::IssueOptions with_names;
  with_names.domains = {"a.test"};
  CHECK(app::check_renew_options(with_names).error().code == Errc::usage);
  app::IssueOptions with_plugin;
  with_plugin.use_plugin["standalone"] = true;
  CHECK(app::check_renew_options(with_plugin).error().code == Errc::usage);
  CHECK(app::check_renew_options(app::IssueOptions{}));
}

TEST_CASE("a run with failures is an error that says how many failed") {
  renew::RunSummary summary;
  summary.lineages.resize(3);
  CHECK(app::summary_status(summary, "log"));
  summary.lineages[1].outcome = renew::Outcome::failed;
  auto failed = app::summary_status(summary, "the log");
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code == Errc::ca_problem);
  CHECK(failed.error().message.rfind("1 of 3", 0) == 0);
  summary.lineages[1].outcome = renew::Outcome::renewed;
  summary.reload_error = "nginx: no";
  auto reload = app::summary_status(summary, "the log");
  REQUIRE_FALSE(reload);
  CHECK(reload.error().code == Errc::server);
}
