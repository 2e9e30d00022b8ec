// ApacheControl and the cross-check through an injected process runner: no apache needed.
#include "plugins/apache/apache.hpp"
#include "plugins/apache/installer.hpp"

#include "fixture.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <functional>

using namespace acmed;
using namespace acmed::plugins::apache;
namespace fs = std::filesystem;

namespace {

// Answers each argv with a canned result and records what ran and with which environment.
class FakeRunner final : public sys::ProcessRunner {
 public:
  std::function<sys::ProcessResult(const std::vector<std::string>&)> answer;
  std::vector<std::vector<std::string>> calls;
  std::map<std::string, std::string> last_env;
  Result<sys::ProcessResult> run(const std::vector<std::string>& argv,
                                 const sys::ProcessOptions& options) override {
    calls.push_back(argv);
    last_env = options.extra_env;
    return answer(argv);
  }
};

sys::ProcessResult result(int code, std::string out, std::string err = {}) {
  sys::ProcessResult r;
  r.exit_code = code;
  r.out = std::move(out);
  r.err = std::move(err);
  return r;
}

}  // namespace

TEST_CASE("apache2ctl runs with APACHE_CONFDIR naming the server root") {
  FakeRunner runner;
  runner.answer = [](const auto&) { return result(0, "Syntax OK\n"); };
  Options o;
  o.server_root = "/srv/apache2";
  o.ctl = "/usr/sbin/apache2ctl";
  ApacheControl control(o, runner);
  REQUIRE(control.config_test());
  REQUIRE(runner.calls.size() == 1);
  CHECK(runner.calls[0] == std::vector<std::string>{"/usr/sbin/apache2ctl", "configtest"});
  CHECK(runner.last_env.at("APACHE_CONFDIR") == "/srv/apache2");
}

TEST_CASE("a failing configtest is Errc::server with apache's message") {
  FakeRunner runner;
  runner.answer = [](const auto&) {
    return result(1, "",
                  "AH00526: Syntax error on line 3 of /x/y.conf:\nInvalid command 'Bogus'\n");
  };
  ApacheControl control(Options{}, runner);
  auto st = control.config_test();
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::server);
  CHECK(st.error().message.find("Invalid command 'Bogus'") != std::string::npos);
}

TEST_CASE("reload refuses when the PidFile names no running process and never runs graceful") {
  test::TempDir dir;
  FakeRunner runner;
  std::string pidfile = (dir / "apache2.pid").string();
  runner.answer = [&](const auto&) {
    return result(0, "VirtualHost configuration:\nPidFile: \"" + pidfile + "\"\n");
  };
  ApacheControl control(Options{}, runner);
  auto st = control.reload();
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("not running") != std::string::npos);
  for (const auto& c : runner.calls) CHECK(c.back() != "graceful");
}

TEST_CASE("a config apache rejects as it stands is reported before anything is planned") {
  test::TempDir dir;
  fs::path root = test::make_debian_tree(dir.path(), 18080, 18443);
  FakeRunner runner;
  runner.answer = [](const auto&) { return result(1, "", "AH00526: Syntax error\n"); };
  Options o;
  o.server_root = root;
  ApacheControl control(o, runner);
  auto cfg = load_checked(o, control);
  REQUIRE_FALSE(cfg);
  CHECK(cfg.error().code == Errc::server);
  CHECK(cfg.error().message.find("before acmed changed anything") != std::string::npos);
}

TEST_CASE("a file apache loads that acmed did not see stops the plan") {
  test::TempDir dir;
  fs::path root = test::make_debian_tree(dir.path(), 18080, 18443);
  FakeRunner runner;
  std::string r = root.string();
  runner.answer = [&](const std::vector<std::string>& argv) {
    if (argv.back() == "DUMP_INCLUDES")
      return result(0, "Included configuration files:\n  (*) " + r +
                           "/apache2.conf\n    (9) /etc/hidden.conf\n");
    return result(0, "VirtualHost configuration:\n");
  };
  Options o;
  o.server_root = root;
  ApacheControl control(o, runner);
  auto cfg = load_checked(o, control);
  REQUIRE_FALSE(cfg);
  CHECK(cfg.error().code == Errc::config);
  CHECK(cfg.error().message.find("/etc/hidden.conf") != std::string::npos);
}

TEST_CASE(
    "the installer's dry-run diff shows the new files, the edit and the links, changing nothing") {
  test::TempDir dir;
  fs::path root = test::make_debian_tree(dir.path(), 18080, 18443);
  FakeRunner runner;
  runner.answer = [](const auto&) { return result(0, ""); };
  Options o;
  o.server_root = root;
  o.http01_port = "18080";
  o.https_port = "18443";
  o.config_dir = dir / "le";
  o.cross_check = CrossCheck::no;
  auto installer = make_installer(o, runner);
  install::DeployRequest req;
  req.names = {"example.test"};
  req.fullchain_path = dir / "le/live/example.test/fullchain.pem";
  req.key_path = dir / "le/live/example.test/privkey.pem";
  req.enhancements = {install::Enhancement::redirect};
  auto plan = installer->plan_deploy(req);
  REQUIRE_MESSAGE(plan, (plan ? "" : plan.error().describe()));
  std::string d = install::diff(*plan);
  CHECK(d.find("+++ " + (root / "sites-available/example-le-ssl.conf").string()) !=
        std::string::npos);
  CHECK(d.find("--- " + (root / "sites-available/example.conf").string()) != std::string::npos);
  CHECK(d.find("new symlink " + (root / "mods-enabled/ssl.load").string()) != std::string::npos);
  CHECK_FALSE(fs::exists(root / "sites-available/example-le-ssl.conf"));
  CHECK(runner.calls.empty());  // planning runs nothing when the cross-check is off
}

TEST_CASE("checkpoints remember which apache to reload on rollback") {
  FakeRunner runner;
  runner.answer = [](const auto&) { return result(0, ""); };
  Options o;
  o.server_root = "/srv/apache2";
  o.ctl = "/opt/bin/apachectl";
  auto installer = make_installer(o, runner);
  auto s = installer->settings();
  CHECK(s.at("server_root") == "/srv/apache2");
  CHECK(s.at("ctl") == "/opt/bin/apachectl");
}

TEST_CASE("the plugin error rule: an unsupported type is internal, an unsafe token protocol") {
  test::TempDir dir;
  fs::path root = test::make_debian_tree(dir.path(), 18080, 18443);
  auto files = [&] {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root))
      out[e.path().string()] = e.is_regular_file() ? *sys::read_file(e.path()) : "";
    return out;
  };
  auto before = files();
  Options options;
  options.server_root = root;
  options.http01_port = "18080";
  options.config_dir = dir / "le";
  options.work_dir = dir / "work";
  FakeRunner runner;
  runner.answer = [](const std::vector<std::string>&) { return result(0, ""); };
  auto auth = make_authenticator(options, runner);
  std::vector<challenge::Task> dns{{"example.test", "dns", "dns-01", "t", "t.x", ""}};
  auto st = auth->perform(dns);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::internal);
  CHECK(st.error().message.find("dns-01") != std::string::npos);
  auth->cleanup(dns);
  std::vector<challenge::Task> bad{{"example.test", "dns", "http-01", "a\"b", "a\"b.x", ""}};
  auto st2 = auth->perform(bad);
  REQUIRE_FALSE(st2);
  CHECK(st2.error().code == Errc::protocol);
  auth->cleanup(bad);
  CHECK(runner.calls.empty());
  CHECK(files() == before);
  CHECK_FALSE(fs::exists(dir / "work/http_challenges"));
}
