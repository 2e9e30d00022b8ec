// Symlink changes (LinkChange): the a2ensite/a2enmod links the apache installer plans.
#include "acmed/install/transaction.hpp"

#include "acmed/sys/fs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace acmed;
using namespace acmed::install;
namespace fs = std::filesystem;

namespace {

class OkServer final : public ServerControl {
 public:
  std::string name() const override { return "ok"; }
  Status config_test() override {
    return fail_test ? Status(Error(Errc::server, "bad")) : Status();
  }
  Status reload() override { return {}; }
  bool fail_test = false;
};

}  // namespace

TEST_CASE("a planned symlink is created relative, shown in the diff, and removed by rollback") {
  test::TempDir dir;
  REQUIRE(sys::make_dirs(dir / "sites-available"));
  REQUIRE(sys::write_file_atomic(dir / "sites-available/a.conf", "x\n"));
  REQUIRE(sys::make_dirs(dir / "sites-enabled"));
  Plan plan;
  plan.links.push_back(LinkChange{dir / "sites-enabled/a.conf", "../sites-available/a.conf"});
  CHECK_FALSE(plan.empty());
  CHECK(diff(plan).find("new symlink " + (dir / "sites-enabled/a.conf").string() +
                        " -> ../sites-available/a.conf") != std::string::npos);
  OkServer server;
  server.fail_test = true;
  Transaction tx(server, dir / "backups");
  REQUIRE(tx.apply(plan));
  CHECK(fs::read_symlink(dir / "sites-enabled/a.conf") == "../sites-available/a.conf");
  CHECK_FALSE(tx.test_and_reload());
  CHECK_FALSE(fs::exists(fs::symlink_status(dir / "sites-enabled/a.conf")));
  CHECK(*sys::read_file(dir / "sites-available/a.conf") == "x\n");  // the target is untouched
}

TEST_CASE("an existing identical link is left alone; anything else at the path is a conflict") {
  test::TempDir dir;
  REQUIRE(sys::make_dirs(dir / "en"));
  fs::create_symlink("../av/a", dir / "en/a");
  REQUIRE(sys::write_file_atomic(dir / "en/b", "user file"));
  OkServer server;
  Plan same;
  same.links.push_back(LinkChange{dir / "en/a", "../av/a"});
  Transaction tx(server, dir / "backups");
  REQUIRE(tx.apply(same));
  CHECK(tx.backups().empty());
  Plan other;
  other.links.push_back(LinkChange{dir / "en/b", "../av/b"});
  auto st = tx.apply(other);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::conflict);
  CHECK(*sys::read_file(dir / "en/b") == "user file");
}

TEST_CASE("acmed rollback removes the links a committed checkpoint created") {
  test::TempDir dir;
  REQUIRE(sys::make_dirs(dir / "mods-enabled"));
  OkServer server;
  Plan plan;
  plan.changes.push_back(FileChange{dir / "opts.conf", std::nullopt, "o\n", 0644});
  plan.links.push_back(LinkChange{dir / "mods-enabled/ssl.load", "../mods-available/ssl.load"});
  auto cp = execute(plan, server, dir / "backups", "deploy");
  REQUIRE(cp);
  CHECK(fs::is_symlink(dir / "mods-enabled/ssl.load"));
  auto rb = rollback_last(dir / "backups", server);
  REQUIRE_MESSAGE(rb, (rb ? "" : rb.error().describe()));
  CHECK_FALSE(fs::exists(fs::symlink_status(dir / "mods-enabled/ssl.load")));
  CHECK_FALSE(fs::exists(dir / "opts.conf"));
}

TEST_CASE("acmed rollback refuses when a link it created now points elsewhere") {
  test::TempDir dir;
  REQUIRE(sys::make_dirs(dir / "en"));
  OkServer server;
  Plan plan;
  plan.links.push_back(LinkChange{dir / "en/x", "../av/x"});
  REQUIRE(execute(plan, server, dir / "backups", "deploy"));
  REQUIRE(sys::replace_symlink(dir / "en/x", "../elsewhere"));
  auto rb = rollback_last(dir / "backups", server);
  REQUIRE_FALSE(rb);
  CHECK(rb.error().code == Errc::conflict);
  CHECK(fs::read_symlink(dir / "en/x") == "../elsewhere");
}
