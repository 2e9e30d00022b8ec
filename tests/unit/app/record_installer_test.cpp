// record_installer rewrites a renewal conf under the store lock: another process writing the same
// conf at the same time loses nothing, and neither does it.
#include "acmed/app/install.hpp"
#include "acmed/store/lock.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"
#include "unit/renew/fixtures.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

using namespace acmed;

using test::exit_code;
using test::in_child;

TEST_CASE("recording the installer while another process rewrites the renewal conf loses nothing") {
  test::TempDir dir;
  store::Paths paths{dir / "etc", dir / "work", dir / "logs"};
  test::LineageSpec spec;
  spec.names = {"a.test"};
  test::make_lineage(paths, "a.test", spec);
  constexpr int k_rounds = 40;

  pid_t installer = in_child([&] {
    for (int i = 0; i < k_rounds; ++i) {
      app::IssueOptions o;
      o.use_plugin["nginx"] = true;
      o.plugin_flags = {{"nginx_ctl", "/opt/nginx-" + std::to_string(i)}};
      if (!app::record_installer(paths, "a.test", o)) return false;
    }
    return true;
  });
  pid_t other = in_child([&] {
    for (int i = 0; i < k_rounds; ++i) {
      Status done = store::update_renewal_conf(
          paths, "a.test",
          [&](store::RenewalConf& conf) -> Status {
            conf.params.settings.text["other_" + std::to_string(i)] = "kept";
            return {};
          },
          sys::LockWait::yes);
      if (!done) return false;
    }
    return true;
  });
  CHECK(exit_code(installer) == 0);
  CHECK(exit_code(other) == 0);

  auto conf = store::read_renewal_conf(paths, "a.test");
  REQUIRE(conf);
  CHECK(conf->params.installer == "nginx");
  CHECK(conf->params.settings.get("nginx_ctl") == "/opt/nginx-" + std::to_string(k_rounds - 1));
  int lost = 0;
  for (int i = 0; i < k_rounds; ++i) {
    lost += conf->params.settings.get("other_" + std::to_string(i)) != "kept";
  }
  CHECK(lost == 0);
  CHECK(conf->params.authenticator == "webroot");
}

TEST_CASE(
    "an installer recorded while a renewal holds the store lock waits and keeps both changes") {
  // The race of `acmed install` against a renewal run: the run has read the renewal conf and will
  // write it back; recording the installer in between, unlocked, would be overwritten.
  test::TempDir dir;
  store::Paths paths{dir / "etc", dir / "work", dir / "logs"};
  test::LineageSpec spec;
  spec.names = {"a.test"};
  test::make_lineage(paths, "a.test", spec);
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t renewal = in_child([&] {
    auto lock = store::StoreLock::acquire(paths);
    auto conf =
        lock ? store::read_renewal_conf(paths, "a.test") : Result<store::RenewalConf>(lock.error());
    char c = conf ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1 || !conf) return false;
    ::usleep(400'000);  // the installer is recorded meanwhile
    conf->params.settings.text["renewed_by"] = "the run";
    return bool(store::save_renewal_conf(paths, "a.test", *conf));
  });
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  REQUIRE(c == 'y');

  app::IssueOptions o;
  o.use_plugin["nginx"] = true;
  o.plugin_flags = {{"nginx_ctl", "/opt/nginx"}};
  CHECK(app::record_installer(paths, "a.test", o));
  CHECK(exit_code(renewal) == 0);
  for (int fd : ready) ::close(fd);

  auto conf = store::read_renewal_conf(paths, "a.test");
  REQUIRE(conf);
  CHECK(conf->params.settings.get("renewed_by") == "the run");
  CHECK(conf->params.installer == "nginx");
  CHECK(conf->params.settings.get("nginx_ctl") == "/opt/nginx");
}
