#include "plugins/manual/manual.hpp"

#include <doctest/doctest.h>

using namespace acmed;
namespace manual = plugins::manual;

namespace {

struct Call {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
};

class RecordingRunner final : public sys::ProcessRunner {
 public:
  std::vector<Call> calls;
  sys::ProcessResult next{0, "hook output\n", "", false};
  Result<sys::ProcessResult> run(const std::vector<std::string>& argv,
                                 const sys::ProcessOptions& options) override {
    calls.push_back(Call{argv, options.extra_env});
    return next;
  }
};

challenge::Task http_task(std::string name, std::string token) {
  challenge::Task t;
  t.identifier = std::move(name);
  t.identifier_type = "dns";
  t.type = "http-01";
  t.token = std::move(token);
  t.key_authorization = t.token + ".thumb";
  return t;
}

}  // namespace

TEST_CASE("-n without an auth hook is a usage error; so is a cleanup hook alone") {
  RecordingRunner runner;
  manual::Options o;
  auto r = manual::make_authenticator(o, runner);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::usage);
  o.cleanup_hook = "true";
  o.interactive = manual::Interactive::yes;
  auto c = manual::make_authenticator(o, runner);
  REQUIRE_FALSE(c);
  CHECK(c.error().code == Errc::usage);
}

TEST_CASE("http-01 hooks get certbot's environment; CA data never reaches the command line") {
  RecordingRunner runner;
  manual::Options o;
  o.auth_hook = "/usr/local/bin/auth --flag";
  o.cleanup_hook = "/usr/local/bin/clean";
  auto auth = manual::make_authenticator(o, runner);
  REQUIRE(auth);
  std::vector<challenge::Task> tasks{http_task("a.example", "tok1"),
                                     http_task("b.example", "tok2")};
  REQUIRE((*auth)->perform(tasks));
  (*auth)->cleanup(tasks);
  REQUIRE(runner.calls.size() == 4);
  CHECK(runner.calls[0].argv ==
        std::vector<std::string>{"/bin/sh", "-c", "/usr/local/bin/auth --flag"});
  auto& e0 = runner.calls[0].env;
  CHECK(e0["CERTBOT_DOMAIN"] == "a.example");
  CHECK(e0["CERTBOT_VALIDATION"] == "tok1.thumb");
  CHECK(e0["CERTBOT_TOKEN"] == "tok1");
  CHECK(e0["CERTBOT_REMAINING_CHALLENGES"] == "1");
  CHECK(e0["CERTBOT_ALL_DOMAINS"] == "a.example,b.example");
  CHECK(runner.calls[1].env["CERTBOT_REMAINING_CHALLENGES"] == "0");
  CHECK(runner.calls[2].argv[2] == "/usr/local/bin/clean");
  CHECK(runner.calls[2].env["CERTBOT_AUTH_OUTPUT"] == "hook output");
  CHECK(runner.calls[2].env["CERTBOT_DOMAIN"] == "a.example");
  for (const Call& c : runner.calls)
    for (const std::string& arg : c.argv) CHECK(arg.find("tok") == std::string::npos);
}

TEST_CASE("a failing, timed-out or non-executable hook is an error naming the hook and domain") {
  struct Case {
    sys::ProcessResult result;
    std::string expect;
  };
  for (const Case& k : {Case{{3, "", "no zone\n", false}, "failed (exit 3): no zone"},
                        Case{{-1, "", "", true}, "did not finish within"},
                        Case{{126, "", "sh: 1: /x: Permission denied\n", false}, "not executable"},
                        Case{{127, "", "sh: 1: /x: not found\n", false}, "not found"}}) {
    RecordingRunner runner;
    runner.next = k.result;
    manual::Options o;
    o.auth_hook = "/x";
    auto auth = manual::make_authenticator(o, runner);
    REQUIRE(auth);
    std::vector<challenge::Task> tasks{http_task("a.example", "tok1")};
    auto r = (*auth)->perform(tasks);
    REQUIRE_FALSE(r);
    CHECK_MESSAGE(r.error().message.find(k.expect) != std::string::npos, r.error().message);
    CHECK(r.error().message.find("a.example") != std::string::npos);
    CHECK(r.error().message.find("'/x'") != std::string::npos);
  }
}

TEST_CASE("without hooks on a terminal the file to create is shown and Enter awaited") {
  RecordingRunner runner;
  manual::Options o;
  o.interactive = manual::Interactive::yes;
  std::string shown;
  int waited = 0;
  o.show = [&](const std::string& text) { shown += text; };
  o.wait_for_enter = [&] {
    ++waited;
    return true;
  };
  auto auth = manual::make_authenticator(o, runner);
  REQUIRE(auth);
  std::vector<challenge::Task> tasks{http_task("a.example", "tok1")};
  REQUIRE((*auth)->perform(tasks));
  CHECK(waited == 1);
  CHECK(shown.find("http://a.example/.well-known/acme-challenge/tok1") != std::string::npos);
  CHECK(shown.find("tok1.thumb") != std::string::npos);
  CHECK(runner.calls.empty());
}
