#include "acmed/local/environment.hpp"

#include <doctest/doctest.h>

#include <map>

using namespace acmed;
namespace fs = std::filesystem;

namespace {

local::EnvLookup lookup(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST_CASE(
    "the CA directory is $ACMED_LOCAL_CAROOT, else $XDG_DATA_HOME/acmed, else "
    "~/.local/share/acmed") {
  CHECK(*local::ca_root_dir(lookup(
            {{"ACMED_LOCAL_CAROOT", "/ca"}, {"XDG_DATA_HOME", "/xdg"}, {"HOME", "/home/a"}})) ==
        fs::path("/ca"));
  CHECK(*local::ca_root_dir(lookup({{"XDG_DATA_HOME", "/xdg"}, {"HOME", "/home/a"}})) ==
        fs::path("/xdg/acmed"));
  CHECK(*local::ca_root_dir(lookup({{"HOME", "/home/a"}})) ==
        fs::path("/home/a/.local/share/acmed"));
  // a relative XDG_DATA_HOME is invalid per the XDG spec and ignored
  CHECK(*local::ca_root_dir(lookup({{"XDG_DATA_HOME", "rel"}, {"HOME", "/home/a"}})) ==
        fs::path("/home/a/.local/share/acmed"));
  // a relative ACMED_LOCAL_CAROOT is made absolute
  CHECK(local::ca_root_dir(lookup({{"ACMED_LOCAL_CAROOT", "ca"}}))->is_absolute());
}

TEST_CASE("without HOME or ACMED_LOCAL_CAROOT the CA directory is a config error with a hint") {
  auto root = local::ca_root_dir(lookup({}));
  REQUIRE_FALSE(root.ok());
  CHECK(root.error().code == Errc::config);
  CHECK(root.error().hint.find("ACMED_LOCAL_CAROOT") != std::string::npos);
  auto env = local::detect_environment(lookup({{"ACMED_LOCAL_CAROOT", "/ca"}}));
  REQUIRE_FALSE(env.ok());
  CHECK(env.error().message.find("HOME") != std::string::npos);
}

TEST_CASE("the system store root and JAVA_HOME come from the environment; the default root is /") {
  auto env = local::detect_environment(lookup({{"HOME", "/home/a"}}));
  REQUIRE(env.ok());
  CHECK(env->system_root == fs::path("/"));
  CHECK(env->java_home.empty());
  CHECK(env->home == fs::path("/home/a"));
  CHECK(env->user_at_host.find('@') != std::string::npos);

  env = local::detect_environment(lookup(
      {{"HOME", "/home/a"}, {"ACMED_LOCAL_SYSTEM_ROOT", "/scratch"}, {"JAVA_HOME", "/opt/jdk"}}));
  REQUIRE(env.ok());
  CHECK(env->system_root == fs::path("/scratch"));
  CHECK(env->java_home == fs::path("/opt/jdk"));
}
