#include "plugins/webroot/webroot.hpp"

#include "acmed/sys/fs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

using namespace acmed;
using plugins::webroot::WebrootAuthenticator;
namespace fs = std::filesystem;

namespace {
challenge::Task task(std::string name, std::string token) {
  return {name, "dns", "http-01", token, token + ".thumb", ""};
}
}  // namespace

TEST_CASE("each -d name belongs to the last -w before it, as in certbot") {
  auto map = plugins::webroot::map_from_arguments(
      {{"w", "/srv/a"}, {"d", "a.example"}, {"d", "www.a.example"}, {"w", "/srv/b"}, {"d", "b.example"}});
  REQUIRE(map);
  CHECK(map->at("a.example") == "/srv/a");
  CHECK(map->at("www.a.example") == "/srv/a");
  CHECK(map->at("b.example") == "/srv/b");
}

TEST_CASE("names given before the first -w take that -w; no -w at all is a usage error") {
  auto map = plugins::webroot::map_from_arguments({{"d", "a.example"}, {"w", "/srv/a"}});
  REQUIRE(map);
  CHECK(map->at("a.example") == "/srv/a");
  auto none = plugins::webroot::map_from_arguments({{"d", "a.example"}});
  REQUIRE_FALSE(none);
  CHECK(none.error().code == Errc::usage);
}

TEST_CASE("webroot writes the key authorization world-readable and removes all it created") {
  test::TempDir dir;
  fs::create_directories(dir / "www");
  WebrootAuthenticator auth({{"a.example", dir / "www"}});
  std::vector<challenge::Task> tasks{task("a.example", "tok_EN-1")};
  REQUIRE(auth.perform(tasks));
  auto file = dir / "www/.well-known/acme-challenge/tok_EN-1";
  CHECK(*sys::read_file(file) == "tok_EN-1.thumb");
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  auth.cleanup(tasks);
  CHECK_FALSE(fs::exists(dir / "www/.well-known"));
  CHECK(fs::exists(dir / "www"));
}

TEST_CASE("webroot keeps a .well-known directory that existed before") {
  test::TempDir dir;
  fs::create_directories(dir / "www/.well-known/other");
  WebrootAuthenticator auth({{"a.example", dir / "www"}});
  std::vector<challenge::Task> tasks{task("a.example", "t1")};
  REQUIRE(auth.perform(tasks));
  auth.cleanup(tasks);
  CHECK(fs::exists(dir / "www/.well-known/other"));
  CHECK_FALSE(fs::exists(dir / "www/.well-known/acme-challenge"));
}

TEST_CASE("webroot refuses a token that could escape the challenge directory") {
  test::TempDir dir;
  fs::create_directories(dir / "www");
  WebrootAuthenticator auth({{"a.example", dir / "www"}});
  std::vector<challenge::Task> tasks{task("a.example", "../../evil")};
  auto st = auth.perform(tasks);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::protocol);
  auth.cleanup(tasks);
  CHECK_FALSE(fs::exists(dir / "evil"));
}

TEST_CASE("webroot reports a name without a webroot and a missing directory") {
  test::TempDir dir;
  WebrootAuthenticator auth({{"a.example", dir / "missing"}});
  std::vector<challenge::Task> other{task("b.example", "t")};
  auto st = auth.perform(other);
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("b.example") != std::string::npos);
  std::vector<challenge::Task> missing{task("a.example", "t")};
  auto st2 = auth.perform(missing);
  REQUIRE_FALSE(st2);
  CHECK(st2.error().message.find("not a directory") != std::string::npos);
}

TEST_CASE("the plugin error rule: an unsupported challenge type is internal, nothing is written") {
  test::TempDir dir;
  fs::create_directories(dir / "www");
  WebrootAuthenticator auth({{"a.example", dir / "www"}});
  std::vector<challenge::Task> tasks{{"a.example", "dns", "dns-01", "t", "t.x", ""}};
  auto st = auth.perform(tasks);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::internal);
  auth.cleanup(tasks);
  CHECK_FALSE(fs::exists(dir / "www/.well-known"));
}
