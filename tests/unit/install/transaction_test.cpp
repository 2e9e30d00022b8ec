#include "acmed/install/transaction.hpp"

#include "acmed/sys/fs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

using namespace acmed;
using namespace acmed::install;
namespace fs = std::filesystem;

namespace {

// A server whose config test and reload succeed or fail on demand, counting calls.
class FakeServer final : public ServerControl {
 public:
  std::string name() const override { return "fake"; }
  Status config_test() override {
    ++tests;
    if (fail_test) return Error(Errc::server, "config test failed");
    return {};
  }
  Status reload() override {
    ++reloads;
    if (fail_reload) return Error(Errc::server, "not running");
    return {};
  }
  bool fail_test = false;
  bool fail_reload = false;
  int tests = 0;
  int reloads = 0;
};

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

FileChange edit(const fs::path& path, std::string before, std::string after) {
  return FileChange{path, std::move(before), std::move(after), 0644};
}

}  // namespace

TEST_CASE("a failing config test restores content and mode and removes created files") {
  test::TempDir dir;
  auto conf = dir / "site.conf";
  REQUIRE(sys::write_file_atomic(conf, "old\n", 0640));
  FakeServer server;
  server.fail_test = true;
  Plan plan;
  plan.changes.push_back(edit(conf, "old\n", "new\n"));
  plan.changes.push_back(FileChange{dir / "sub/dir/new.conf", std::nullopt, "created\n", 0600});
  Transaction tx(server, dir / "backups");
  REQUIRE(tx.apply(plan));
  CHECK(*sys::read_file(conf) == "new\n");
  CHECK(mode_of(dir / "sub/dir/new.conf") == 0600);
  auto st = tx.test_and_reload();
  REQUIRE_FALSE(st);
  CHECK(st.error().message == "config test failed");
  CHECK(*sys::read_file(conf) == "old\n");
  CHECK(mode_of(conf) == 0640);
  CHECK_FALSE(fs::exists(dir / "sub"));  // created file and directories gone
  CHECK(server.reloads == 0);            // never reloaded with the bad config
  CHECK_FALSE(fs::exists(tx.checkpoint_dir()));
}

TEST_CASE("a transaction that is never committed rolls back in its destructor") {
  test::TempDir dir;
  auto conf = dir / "a.conf";
  REQUIRE(sys::write_file_atomic(conf, "before"));
  FakeServer server;
  {
    Transaction tx(server, dir / "backups");
    Plan plan;
    plan.changes.push_back(edit(conf, "before", "after"));
    REQUIRE(tx.apply(plan));
    REQUIRE(tx.test_and_reload());
    CHECK(*sys::read_file(conf) == "after");
  }
  CHECK(*sys::read_file(conf) == "before");
  CHECK(server.reloads == 2);  // reloaded with the new config, then again with the restored one
}

TEST_CASE("a symlinked config file is edited in place and the link is kept") {
  test::TempDir dir;
  REQUIRE(sys::make_dirs(dir / "sites-available"));
  REQUIRE(sys::make_dirs(dir / "sites-enabled"));
  REQUIRE(sys::write_file_atomic(dir / "sites-available/x", "server {}\n"));
  fs::create_symlink("../sites-available/x", dir / "sites-enabled/x");
  FakeServer server;
  Transaction tx(server, dir / "backups");
  Plan plan;
  plan.changes.push_back(edit(dir / "sites-enabled/x", "server {}\n", "server { listen 443; }\n"));
  REQUIRE(tx.apply(plan));
  CHECK(fs::is_symlink(dir / "sites-enabled/x"));
  CHECK(*sys::read_file(dir / "sites-available/x") == "server { listen 443; }\n");
  REQUIRE(tx.backups().size() == 1);
  CHECK(tx.backups()[0].path == fs::canonical(dir / "sites-available/x"));
  REQUIRE(tx.rollback());
  CHECK(fs::is_symlink(dir / "sites-enabled/x"));
  CHECK(*sys::read_file(dir / "sites-available/x") == "server {}\n");
}

TEST_CASE("a read-only file refuses the whole plan with a clear error and changes nothing") {
  test::TempDir dir;
  REQUIRE(sys::write_file_atomic(dir / "a.conf", "a", 0644));
  REQUIRE(sys::write_file_atomic(dir / "ro.conf", "ro", 0444));
  FakeServer server;
  Transaction tx(server, dir / "backups");
  Plan plan;
  plan.changes.push_back(edit(dir / "a.conf", "a", "A"));
  plan.changes.push_back(edit(dir / "ro.conf", "ro", "RO"));
  auto st = tx.apply(plan);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::io);
  CHECK(st.error().message == (dir / "ro.conf").string() + " is read-only (mode 0444)");
  CHECK(*sys::read_file(dir / "a.conf") == "a");
  CHECK(*sys::read_file(dir / "ro.conf") == "ro");
  CHECK_FALSE(fs::exists(dir / "backups"));
}

TEST_CASE("a file changed since the plan was made is a conflict and nothing is written") {
  test::TempDir dir;
  REQUIRE(sys::write_file_atomic(dir / "a.conf", "edited by someone"));
  REQUIRE(sys::write_file_atomic(dir / "exists.conf", "x"));
  FakeServer server;
  Transaction tx(server, dir / "backups");
  Plan stale;
  stale.changes.push_back(edit(dir / "a.conf", "original", "ours"));
  CHECK(tx.apply(stale).error().code == Errc::conflict);
  Plan create;
  create.changes.push_back(FileChange{dir / "exists.conf", std::nullopt, "y", 0644});
  CHECK(tx.apply(create).error().code == Errc::conflict);
  CHECK(*sys::read_file(dir / "a.conf") == "edited by someone");
  CHECK(*sys::read_file(dir / "exists.conf") == "x");
}

TEST_CASE("a failed reload restores the files and tries to reload the restored config") {
  test::TempDir dir;
  REQUIRE(sys::write_file_atomic(dir / "a.conf", "a"));
  FakeServer server;
  server.fail_reload = true;
  Transaction tx(server, dir / "backups");
  Plan plan;
  plan.changes.push_back(edit(dir / "a.conf", "a", "b"));
  REQUIRE(tx.apply(plan));
  auto st = tx.test_and_reload();
  REQUIRE_FALSE(st);
  CHECK(st.error().message == "not running");
  CHECK(*sys::read_file(dir / "a.conf") == "a");
}

TEST_CASE("execute rolls back when the post-reload check fails") {
  test::TempDir dir;
  REQUIRE(sys::write_file_atomic(dir / "a.conf", "a"));
  FakeServer server;
  Plan plan;
  plan.changes.push_back(edit(dir / "a.conf", "a", "b"));
  auto res = execute(plan, server, dir / "backups", "test",
                     [] { return Status(Error(Errc::server, "wrong certificate served")); });
  REQUIRE_FALSE(res);
  CHECK(res.error().message == "wrong certificate served");
  CHECK(*sys::read_file(dir / "a.conf") == "a");
  CHECK(server.reloads == 2);
}

TEST_CASE("an empty plan is not applied and leaves no checkpoint") {
  test::TempDir dir;
  FakeServer server;
  Plan plan;
  plan.changes.push_back(edit(dir / "a.conf", "same", "same"));
  CHECK(plan.empty());
  auto res = execute(plan, server, dir / "backups", "nothing");
  REQUIRE(res);
  CHECK(res->empty());
  CHECK(server.tests == 0);
  CHECK_FALSE(fs::exists(dir / "backups"));
}

TEST_CASE("rollback_last restores the last committed checkpoint, then the one before") {
  test::TempDir dir;
  auto conf = dir / "a.conf";
  REQUIRE(sys::write_file_atomic(conf, "v1", 0600));
  FakeServer server;
  Plan first;
  first.changes.push_back(edit(conf, "v1", "v2"));
  first.changes.push_back(FileChange{dir / "opts.conf", std::nullopt, "opts", 0644});
  REQUIRE(execute(first, server, dir / "backups", "first"));
  Plan second;
  second.changes.push_back(edit(conf, "v2", "v3"));
  REQUIRE(execute(second, server, dir / "backups", "second"));
  CHECK(*sys::read_file(conf) == "v3");

  CHECK(*last_checkpoint_server(dir / "backups") == "fake");
  auto undone = rollback_last(dir / "backups", server);
  REQUIRE(undone);
  CHECK(*undone == "second");
  CHECK(*sys::read_file(conf) == "v2");
  undone = rollback_last(dir / "backups", server);
  REQUIRE(undone);
  CHECK(*undone == "first");
  CHECK(*sys::read_file(conf) == "v1");
  CHECK(mode_of(conf) == 0600);
  CHECK_FALSE(fs::exists(dir / "opts.conf"));
  CHECK(rollback_last(dir / "backups", server).error().code == Errc::not_found);
  CHECK(last_checkpoint_server(dir / "backups").error().code == Errc::not_found);
}

TEST_CASE("rollback_last refuses when a file was edited by someone else since") {
  test::TempDir dir;
  auto conf = dir / "a.conf";
  REQUIRE(sys::write_file_atomic(conf, "v1"));
  FakeServer server;
  Plan plan;
  plan.changes.push_back(edit(conf, "v1", "v2"));
  REQUIRE(execute(plan, server, dir / "backups", "edit"));
  REQUIRE(sys::write_file_atomic(conf, "hand edit"));
  auto res = rollback_last(dir / "backups", server);
  REQUIRE_FALSE(res);
  CHECK(res.error().code == Errc::conflict);
  CHECK(*sys::read_file(conf) == "hand edit");
  REQUIRE(rollback_last(dir / "backups", server, Force::yes));
  CHECK(*sys::read_file(conf) == "v1");
}

TEST_CASE("rollback puts back owner and group of an edited file") {
  if (::geteuid() != 0) return;  // only root can give files away
  test::TempDir dir;
  auto conf = dir / "owned.conf";
  REQUIRE(sys::write_file_atomic(conf, "v1", 0640));
  REQUIRE(::chown(conf.c_str(), 1234, 5678) == 0);
  FakeServer server;
  Transaction tx(server, dir / "backups");
  Plan plan;
  plan.changes.push_back(edit(conf, "v1", "v2"));
  REQUIRE(tx.apply(plan));
  REQUIRE(::chown(conf.c_str(), 0, 0) == 0);  // someone changed it meanwhile
  REQUIRE(tx.rollback());
  struct stat st {};
  REQUIRE(::stat(conf.c_str(), &st) == 0);
  CHECK(st.st_uid == 1234u);
  CHECK(st.st_gid == 5678u);
  CHECK((st.st_mode & 07777) == 0640);
  CHECK(*sys::read_file(conf) == "v1");
}
