// The store owns its lock: every write takes it, a read-modify-write of a renewal conf holds it
// across both, and holding it again inside one process is free.
#include "acmed/store/lock.hpp"
#include "store_test_util.hpp"
#include "support/child_process.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <string>

using namespace acmed;
using namespace acmed::store;
using namespace acmed::store::testing;

using test::exit_code;
using test::in_child;

TEST_CASE("two processes rewriting one renewal conf at once lose no update") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  REQUIRE(create_lineage(p, "a.example", make_cert(scratch.path(), "v1", {"DNS:a.example"}),
                         webroot_conf()));
  constexpr int k_rounds = 60;
  auto writer = [&](const std::string& who) {
    return in_child([&] {
      for (int i = 0; i < k_rounds; ++i) {
        Status done = update_renewal_conf(
            p, "a.example",
            [&](RenewalConf& conf) -> Status {
              conf.params.settings.text[who + "_" + std::to_string(i)] = "x";
              return {};
            },
            sys::LockWait::yes);
        if (!done) return false;
      }
      return true;
    });
  };
  pid_t a = writer("first");
  pid_t b = writer("second");
  CHECK(exit_code(a) == 0);
  CHECK(exit_code(b) == 0);
  auto conf = read_renewal_conf(p, "a.example");
  REQUIRE(conf);
  int lost = 0;
  for (const char* who : {"first", "second"}) {
    for (int i = 0; i < k_rounds; ++i) {
      lost += conf->params.settings.get(std::string(who) + "_" + std::to_string(i)).empty();
    }
  }
  CHECK(lost == 0);
  CHECK(conf->params.authenticator == "webroot");  // the rest of the conf survives every round
}

TEST_CASE(
    "a store write while another process holds the lock fails with 'locked' and writes nothing") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  REQUIRE(create_lineage(p, "a.example", make_cert(scratch.path(), "v1", {"DNS:a.example"}),
                         webroot_conf()));
  auto before = sys::read_file(p.renewal_conf("a.example"));
  REQUIRE(before);
  int ready[2], release[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(release) == 0);
  pid_t holder = in_child([&] {
    auto lock = sys::DirLock::acquire(p.config_dir);
    char c = lock ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1) return false;
    return ::read(release[0], &c, 1) == 1 && lock;  // hold until told
  });
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  REQUIRE(c == 'y');

  auto conf = read_renewal_conf(p, "a.example");
  REQUIRE(conf);
  conf->params.installer = "nginx";
  auto saved = save_renewal_conf(p, "a.example", *conf);
  auto updated = update_renewal_conf(p, "a.example", [](RenewalConf& c2) -> Status {
    c2.params.installer = "apache";
    return {};
  });
  auto created = create_lineage(p, "b.example", make_cert(scratch.path(), "b", {"DNS:b.example"}),
                                webroot_conf());
  CHECK(::write(release[1], "x", 1) == 1);
  CHECK(exit_code(holder) == 0);
  for (const Status& st : {saved, updated, created ? Status{} : Status(created.error())}) {
    REQUIRE_FALSE(st);
    CHECK(st.error().code == Errc::locked);
  }
  CHECK(*sys::read_file(p.renewal_conf("a.example")) == *before);
  CHECK_FALSE(lineage_exists(p, "b.example"));
  for (int fd : {ready[0], ready[1], release[0], release[1]}) ::close(fd);
}

TEST_CASE("inside one process the store lock is shared: a holder can write and release it") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  {
    auto outer = StoreLock::acquire(p);
    REQUIRE(outer);
    CHECK(StoreLock::held(p));
    auto inner = StoreLock::acquire(p);  // what every store write does
    REQUIRE(inner);
    REQUIRE(create_lineage(p, "a.example", make_cert(scratch.path(), "v1", {"DNS:a.example"}),
                           webroot_conf()));
    CHECK(StoreLock::held(p));
  }
  CHECK_FALSE(StoreLock::held(p));
  // Released for other processes too.
  pid_t other = in_child([&] { return bool(sys::DirLock::acquire(p.config_dir)); });
  CHECK(exit_code(other) == 0);
}
