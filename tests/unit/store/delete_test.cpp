// Deleting a lineage is all or nothing: a crash at any step leaves the whole lineage or none of
// it, and what an interrupted delete left behind is finished by the next one.
#include "acmed/store/delete.hpp"

#include "acmed/store/lock.hpp"
#include "store_test_util.hpp"
#include "support/child_process.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <string>

using namespace acmed;
using namespace acmed::store;
using namespace acmed::store::testing;

namespace {

void make_lineage(const test::TempDir& scratch, const Paths& p, const std::string& name) {
  REQUIRE(
      create_lineage(p, name, make_cert(scratch.path(), name, {"DNS:" + name}), webroot_conf()));
}

bool nothing_left_of(const Paths& p, const std::string& name) {
  return !lineage_exists(p, name) && !fs::exists(delete_staging_dir(p) / name);
}

}  // namespace

TEST_CASE("delete removes live, archive and renewal conf of one lineage and keeps the others") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  make_lineage(scratch, p, "a.example");
  make_lineage(scratch, p, "b.example");
  REQUIRE(delete_lineage(p, "a.example"));
  CHECK(nothing_left_of(p, "a.example"));
  CHECK(*lineage_names(p) == std::vector<std::string>{"b.example"});
  CHECK(load_lineage(p, "b.example"));
}

TEST_CASE("delete of an unknown or malformed name changes nothing") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  make_lineage(scratch, p, "a.example");
  auto missing = delete_lineage(p, "nope.example");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::not_found);
  auto bad = delete_lineage(p, "../a.example");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::invalid_input);
  CHECK(load_lineage(p, "a.example"));
}

TEST_CASE("a crash before any step of a delete leaves the lineage whole or gone, never half") {
  for (DeleteStep crash : {DeleteStep::stage_conf, DeleteStep::stage_live,
                           DeleteStep::stage_archive, DeleteStep::remove, DeleteStep::done}) {
    CAPTURE(static_cast<int>(crash));
    test::TempDir scratch, root;
    Paths p = paths_in(root);
    make_lineage(scratch, p, "a.example");
    make_lineage(scratch, p, "b.example");
    auto crashed = delete_lineage(p, "a.example", [&](DeleteStep s) -> Status {
      if (s == crash) return Error(Errc::internal, "crash");
      return {};
    });
    REQUIRE_FALSE(crashed);
    auto names = lineage_names(p);
    REQUIRE(names);
    if (crash == DeleteStep::stage_conf) {
      // Nothing moved yet: the lineage is whole and loads.
      CHECK(load_lineage(p, "a.example"));
    } else {
      // The conf is gone: no lineage, whatever dirs are still in place.
      CHECK(*names == std::vector<std::string>{"b.example"});
    }
    // The next run finishes it (or, before the conf moved, only removes the empty staging dir).
    REQUIRE(finish_interrupted_deletes(p));
    CHECK_FALSE(fs::exists(delete_staging_dir(p) / "a.example"));
    if (crash == DeleteStep::stage_conf) {
      CHECK(load_lineage(p, "a.example"));
    } else {
      CHECK(nothing_left_of(p, "a.example"));
    }
    CHECK(load_lineage(p, "b.example"));
  }
}

TEST_CASE("an interrupted delete does not take the dirs of a lineage created since") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  make_lineage(scratch, p, "a.example");
  REQUIRE_FALSE(delete_lineage(p, "a.example", [](DeleteStep s) -> Status {
    return s == DeleteStep::remove ? Status(Error(Errc::internal, "crash")) : Status();
  }));
  make_lineage(scratch, p, "a.example");  // everything had moved: the name is free again
  REQUIRE(finish_interrupted_deletes(p));
  CHECK(load_lineage(p, "a.example"));
}

TEST_CASE("delete while another process holds the store lock is Errc::locked and changes nothing") {
  test::TempDir scratch, root;
  Paths p = paths_in(root);
  make_lineage(scratch, p, "a.example");
  int ready[2], release[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(release) == 0);
  pid_t holder = test::in_child([&] {
    auto lock = sys::DirLock::acquire(p.config_dir);
    char c = lock ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1) return false;
    return ::read(release[0], &c, 1) == 1 && lock;
  });
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  REQUIRE(c == 'y');
  auto locked = delete_lineage(p, "a.example");
  CHECK(::write(release[1], "x", 1) == 1);
  CHECK(test::exit_code(holder) == 0);
  REQUIRE_FALSE(locked);
  CHECK(locked.error().code == Errc::locked);
  CHECK(load_lineage(p, "a.example"));
  for (int fd : {ready[0], ready[1], release[0], release[1]}) ::close(fd);
}
