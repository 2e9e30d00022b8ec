// Symlinks on the way to the challenge directory (issue 14, item 5): acmed runs as root, the
// webroot may belong to someone else. A link is followed only when it and its target are owned
// by root or the user running acmed and the target is not writable by others.
#include "plugins/webroot/webroot.hpp"

#include "acmed/sys/fs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

using namespace acmed;
using plugins::webroot::WebrootAuthenticator;
namespace fs = std::filesystem;

namespace {

constexpr uid_t k_other_uid = 65534;  // "nobody": neither root nor the user running the tests

challenge::Task task(std::string name, std::string token) {
  return {name, "dns", "http-01", token, token + ".thumb", ""};
}

std::size_t entries(const fs::path& dir) {
  std::size_t n = 0;
  for (auto it = fs::directory_iterator(dir); it != fs::directory_iterator(); ++it) ++n;
  return n;
}

// Planting a link that belongs to another user needs root (lchown); CI runs as root.
void require_root() {
  REQUIRE_MESSAGE(::geteuid() == 0, "this test plants files owned by another user: run it as root");
}

void lchown_to(const fs::path& p, uid_t uid) {
  REQUIRE(::lchown(p.c_str(), uid, uid) == 0);
}

}  // namespace

TEST_CASE(
    "a .well-known link planted by another user towards a system directory is refused, nothing "
    "written there") {
  require_root();
  test::TempDir dir;
  fs::create_directories(dir / "www");
  fs::create_directories(dir / "etc");  // stands for /etc: root-owned, 0755
  ::chmod((dir / "etc").c_str(), 0755);
  fs::create_directory_symlink(dir / "etc", dir / "www/.well-known");
  lchown_to(dir / "www/.well-known", k_other_uid);
  WebrootAuthenticator auth({{"a.example", dir / "www"}});
  std::vector<challenge::Task> tasks{task("a.example", "tok1")};
  auto st = auth.perform(tasks);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::config);
  CHECK(st.error().message.find((dir / "www/.well-known").string()) != std::string::npos);
  CHECK(st.error().message.find("uid 65534") != std::string::npos);
  auth.cleanup(tasks);
  CHECK(entries(dir / "etc") == 0);
  CHECK(fs::is_symlink(dir / "www/.well-known"));  // the user's link is left as it was
}

TEST_CASE("an acme-challenge link planted by another user is refused, naming that link") {
  require_root();
  test::TempDir dir;
  fs::create_directories(dir / "www/.well-known");
  fs::create_directories(dir / "etc");
  fs::create_directory_symlink(dir / "etc", dir / "www/.well-known/acme-challenge");
  lchown_to(dir / "www/.well-known/acme-challenge", k_other_uid);
  WebrootAuthenticator auth({{"a.example", dir / "www"}});
  std::vector<challenge::Task> tasks{task("a.example", "tok1")};
  auto st = auth.perform(tasks);
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find((dir / "www/.well-known/acme-challenge").string()) !=
        std::string::npos);
  auth.cleanup(tasks);
  CHECK(entries(dir / "etc") == 0);
  CHECK(fs::exists(dir / "www/.well-known"));  // existed before: kept
}

TEST_CASE("a shared .well-known owned by root is followed; cleanup removes only what acmed made") {
  test::TempDir dir;
  fs::create_directories(dir / "www");
  fs::create_directories(dir / "shared/.well-known");
  ::chmod((dir / "shared/.well-known").c_str(), 0755);
  fs::create_directory_symlink(dir / "shared/.well-known", dir / "www/.well-known");
  WebrootAuthenticator auth({{"a.example", dir / "www"}});
  std::vector<challenge::Task> tasks{task("a.example", "tok_shared")};
  REQUIRE(auth.perform(tasks));
  auto file = dir / "shared/.well-known/acme-challenge/tok_shared";
  CHECK(*sys::read_file(file) == "tok_shared.thumb");
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  CHECK(entries(dir / "shared/.well-known/acme-challenge") == 1);  // no temp file left
  auth.cleanup(tasks);
  CHECK_FALSE(fs::exists(dir / "shared/.well-known/acme-challenge"));
  CHECK(fs::is_directory(dir / "shared/.well-known"));
  CHECK(fs::is_symlink(dir / "www/.well-known"));
}

TEST_CASE("a relative acme-challenge link owned by root to a trusted directory is followed") {
  test::TempDir dir;
  fs::create_directories(dir / "www/.well-known");
  fs::create_directories(dir / "www/challenges");
  ::chmod((dir / "www/challenges").c_str(), 0755);
  fs::create_directory_symlink("../challenges", dir / "www/.well-known/acme-challenge");
  WebrootAuthenticator auth({{"a.example", dir / "www"}});
  std::vector<challenge::Task> tasks{task("a.example", "tok_rel")};
  REQUIRE(auth.perform(tasks));
  CHECK(*sys::read_file(dir / "www/challenges/tok_rel") == "tok_rel.thumb");
  auth.cleanup(tasks);
  CHECK_FALSE(fs::exists(dir / "www/challenges/tok_rel"));
  CHECK(fs::is_directory(dir / "www/challenges"));  // not acmed's: kept
}

TEST_CASE("a trusted link to a directory writable by others is refused") {
  test::TempDir dir;
  fs::create_directories(dir / "www");
  fs::create_directories(dir / "open");
  REQUIRE(::chmod((dir / "open").c_str(), 0777) == 0);
  fs::create_directory_symlink(dir / "open", dir / "www/.well-known");
  WebrootAuthenticator auth({{"a.example", dir / "www"}});
  std::vector<challenge::Task> tasks{task("a.example", "tok1")};
  auto st = auth.perform(tasks);
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("writable by others") != std::string::npos);
  CHECK(st.error().message.find((dir / "www/.well-known").string()) != std::string::npos);
  auth.cleanup(tasks);
  CHECK(entries(dir / "open") == 0);
}

TEST_CASE("a trusted link to a directory another user owns is refused") {
  require_root();
  test::TempDir dir;
  fs::create_directories(dir / "www/.well-known");
  fs::create_directories(dir / "theirs");
  REQUIRE(::chown((dir / "theirs").c_str(), k_other_uid, k_other_uid) == 0);
  fs::create_directory_symlink(dir / "theirs", dir / "www/.well-known/acme-challenge");
  WebrootAuthenticator auth({{"a.example", dir / "www"}});
  std::vector<challenge::Task> tasks{task("a.example", "tok1")};
  auto st = auth.perform(tasks);
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("its target") != std::string::npos);
  CHECK(st.error().message.find("uid 65534") != std::string::npos);
  auth.cleanup(tasks);
  CHECK(entries(dir / "theirs") == 0);
}

TEST_CASE("a token name planted as a symlink is replaced, not written through") {
  test::TempDir dir;
  fs::create_directories(dir / "www/.well-known/acme-challenge");
  fs::create_directories(dir / "etc");
  REQUIRE(sys::write_file_atomic(dir / "etc/passwd", "root:x:0:0\n"));
  fs::create_symlink(dir / "etc/passwd", dir / "www/.well-known/acme-challenge/tok1");
  WebrootAuthenticator auth({{"a.example", dir / "www"}});
  std::vector<challenge::Task> tasks{task("a.example", "tok1")};
  REQUIRE(auth.perform(tasks));
  CHECK(*sys::read_file(dir / "etc/passwd") == "root:x:0:0\n");
  CHECK_FALSE(fs::is_symlink(dir / "www/.well-known/acme-challenge/tok1"));
  auth.cleanup(tasks);
  CHECK(*sys::read_file(dir / "etc/passwd") == "root:x:0:0\n");
}

TEST_CASE("a .well-known that is a file, or a link to a file, is refused") {
  test::TempDir dir;
  fs::create_directories(dir / "www");
  REQUIRE(sys::write_file_atomic(dir / "www/.well-known", "x"));
  WebrootAuthenticator auth({{"a.example", dir / "www"}});
  std::vector<challenge::Task> tasks{task("a.example", "tok1")};
  auto st = auth.perform(tasks);
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("not a directory") != std::string::npos);
  auth.cleanup(tasks);

  fs::create_directories(dir / "www2");
  REQUIRE(sys::write_file_atomic(dir / "target", "x"));
  fs::create_symlink(dir / "target", dir / "www2/.well-known");
  WebrootAuthenticator auth2({{"a.example", dir / "www2"}});
  auto st2 = auth2.perform(tasks);
  REQUIRE_FALSE(st2);
  CHECK(st2.error().message.find("cannot be opened as a directory") != std::string::npos);
  CHECK(*sys::read_file(dir / "target") == "x");
}
