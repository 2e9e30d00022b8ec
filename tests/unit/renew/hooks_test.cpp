#include "acmed/renew/hooks.hpp"

#include "acmed/sys/fs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

using namespace acmed;
namespace fs = std::filesystem;

namespace {

struct Hooks {
  test::TempDir dir;
  sys::RealProcessRunner processes;
  std::vector<std::string> warnings;
  renew::HookRunner runner{dir.path(), processes,
                           [this](renew::HookLogLevel level, std::string_view text) {
                             if (level == renew::HookLogLevel::warning) warnings.emplace_back(text);
                           }};

  fs::path log_path() const { return dir / "log"; }
  std::string log() const { return sys::read_file(log_path()).value_or(""); }
  std::string append(const std::string& text) const {
    return "echo \"" + text + "\" >> '" + log_path().string() + "'";
  }
  // An executable script in renewal-hooks/<kind>/<name>.
  void script(const std::string& kind, const std::string& name, const std::string& body,
              mode_t mode = 0755) {
    auto d = dir / "renewal-hooks" / kind;
    fs::create_directories(d);
    REQUIRE(sys::write_file_atomic(d / name, "#!/bin/sh\n" + body + "\n", mode));
  }
};

}  // namespace

TEST_CASE("each distinct pre hook runs once; directory pre hooks run once, first") {
  Hooks h;
  h.script("pre", "10-first", h.append("dir-pre"));
  h.runner.run_pre(h.append("pre-a"));
  h.runner.run_pre(h.append("pre-a"));
  h.runner.run_pre(h.append("pre-b"));
  h.runner.run_pre("");
  CHECK(h.log() == "dir-pre\npre-a\npre-b\n");
}

TEST_CASE("post hooks run once at the end in first-seen order, then the directory ones") {
  Hooks h;
  h.script("post", "a", h.append("dir-post"));
  h.runner.add_post(h.append("post-1"));
  h.runner.add_post(h.append("post-2"));
  h.runner.add_post(h.append("post-1"));
  CHECK(h.log().empty());
  h.runner.run_post();
  h.runner.run_post();
  CHECK(h.log() == "post-1\npost-2\ndir-post\n");
}

TEST_CASE("deploy hooks get RENEWED_LINEAGE and RENEWED_DOMAINS, the directory ones too") {
  Hooks h;
  h.script("deploy", "z", h.append("dir $RENEWED_LINEAGE|$RENEWED_DOMAINS"));
  h.runner.run_deploy(h.append("cmd $RENEWED_LINEAGE|$RENEWED_DOMAINS"), "/etc/le/live/a",
                      {"a.test", "www.a.test"});
  CHECK(h.log() == "cmd /etc/le/live/a|a.test www.a.test\ndir /etc/le/live/a|a.test www.a.test\n");
}

TEST_CASE("directory hooks run in name order; non-executable files and directories are skipped") {
  Hooks h;
  h.script("deploy", "20-b", h.append("b"));
  h.script("deploy", "10-a", h.append("a"));
  h.script("deploy", "15-not-exec", h.append("never"), 0644);
  fs::create_directories(h.dir / "renewal-hooks" / "deploy" / "12-dir");
  auto found = renew::directory_hooks(h.dir / "renewal-hooks" / "deploy");
  REQUIRE(found.size() == 2);
  h.runner.run_deploy("", "/live/x", {"x.test"});
  CHECK(h.log() == "a\nb\n");
  CHECK(renew::directory_hooks(h.dir / "missing").empty());
}

TEST_CASE("a failing hook is reported with its status and stderr and does not stop the others") {
  Hooks h;
  h.runner.run_pre("echo 'cannot stop nginx' >&2; exit 4");
  h.runner.add_post(h.append("post"));
  h.runner.run_post();
  REQUIRE(h.runner.failures().size() == 1);
  CHECK(h.runner.failures()[0].kind == renew::HookKind::pre);
  CHECK(h.runner.failures()[0].message == "exited with status 4: cannot stop nginx");
  CHECK(h.log() == "post\n");
  REQUIRE(h.warnings.size() == 1);
  CHECK(h.warnings[0].find("pre-hook") != std::string::npos);
}

TEST_CASE("names reach deploy hooks only through the environment, never as shell text") {
  Hooks h;
  auto marker = h.dir / "pwned";
  // a hostile "name" (it cannot come from a valid certificate, but the rule must not depend on it)
  std::string evil = "$(touch " + marker.string() + ")";
  h.runner.run_deploy("printf '%s' \"$RENEWED_DOMAINS\" > '" + h.log_path().string() + "'",
                      "/live/x", {evil});
  CHECK_FALSE(fs::exists(marker));
  CHECK(h.log() == evil);
}

TEST_CASE("directory hooks can be switched off") {
  Hooks h;
  h.script("pre", "a", h.append("dir-pre"));
  renew::HookRunner off(h.dir.path(), h.processes, nullptr, false);
  off.run_pre(h.append("pre"));
  CHECK(h.log() == "pre\n");
}

TEST_CASE("the history lists what ran, in order") {
  Hooks h;
  h.runner.run_pre("true");
  h.runner.run_deploy("true", "/l", {"a"});
  h.runner.add_post("true");
  h.runner.run_post();
  CHECK(h.runner.history() ==
        std::vector<std::string>{"pre-hook: true", "deploy-hook: true", "post-hook: true"});
}
