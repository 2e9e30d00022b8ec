#include "plugins/apache/config.hpp"
#include "plugins/apache/vhost.hpp"

#include "acmed/sys/fs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace acmed;
using namespace acmed::plugins::apache;
namespace fs = std::filesystem;

namespace {

fs::path multiple_vhosts() {
  return test::data_path(
      "corpus/apache/certbot-testdata/debian_apache_2_4/multiple_vhosts/apache2");
}

void write(const fs::path& p, std::string_view text) {
  REQUIRE(sys::make_dirs(p.parent_path()));
  REQUIRE(sys::write_file_atomic(p, text));
}

std::vector<std::string> loaded_names(const Config& c, const fs::path& root) {
  std::vector<std::string> out;
  for (const LoadedFile& f : c.files) out.push_back(f.path.lexically_relative(root).string());
  return out;
}

std::string vhost_file(const Config& c, std::size_t i) {
  return c.files[c.vhosts[i].ref.file].real_path.filename().string();
}

}  // namespace

TEST_CASE("a Debian layout loads in apache's order and follows sites-enabled symlinks") {
  auto cfg = load(LoadOptions{multiple_vhosts(), {}, {}, {}});
  REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().describe()));
  auto names = loaded_names(*cfg, multiple_vhosts());
  REQUIRE(names.size() >= 5);
  CHECK(names[0] == "apache2.conf");
  CHECK(names[1] == "mods-enabled/authz_svn.load");  // *.load sorted, before *.conf
  CHECK(std::find(names.begin(), names.end(), "ports.conf") != names.end());
  CHECK(names.back() == "sites-enabled/wildcard.conf");
  std::size_t certbot =
      cfg->find_file(fs::canonical(multiple_vhosts() / "sites-available/certbot.conf"));
  REQUIRE(certbot < cfg->files.size());
  CHECK(cfg->files[certbot].path == multiple_vhosts() / "sites-enabled/certbot.conf");
  // envvars gave APACHE_LOG_DIR; mod_ssl is not enabled, so the <IfModule mod_ssl.c> vhosts are not
  // active
  CHECK(cfg->vars.at("APACHE_LOG_DIR") == "/var/log/apache2");
  for (const VirtualHost& vh : cfg->vhosts) CHECK_FALSE(vh.ssl);
}

TEST_CASE("vhost selection follows ServerName, then ServerAlias with wildcards, in config order") {
  auto cfg = load(LoadOptions{multiple_vhosts(), {}, {}, {}});
  REQUIRE(cfg);
  auto pick = [&](std::string_view name) -> std::string {
    auto r = select_vhost(*cfg, name);
    return r ? vhost_file(*cfg, *r) : "none";
  };
  CHECK(pick("certbot.demo") == "certbot.conf");
  CHECK(pick("WWW.Certbot.Demo") == "certbot.conf");
  CHECK(pick("nonsym.link") == "non-symlink.conf");
  CHECK(pick("a.blue.purple.com") == "wildcard.conf");
  CHECK(pick("blue.purple.com") == "none");                      // "*." needs a label in front
  CHECK(pick("ip-172-30-0-17") == "000-default.conf");           // first of two with the same name
  CHECK(pick("duplicate.example.com") == "duplicatehttp.conf");  // not its :443 twin
  CHECK(pick("encryption-example.demo") == "encryption-example.conf");  // <Virtualhost> spelling
}

TEST_CASE("a name no vhost has gives a clear not_found naming the names that exist") {
  auto cfg = load(LoadOptions{multiple_vhosts(), {}, {}, {}});
  REQUIRE(cfg);
  auto r = select_vhost(*cfg, "example.org");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::not_found);
  CHECK(r.error().message.find("example.org") != std::string::npos);
  CHECK(r.error().message.find("certbot.demo") != std::string::npos);
  CHECK(r.error().hint.find("ServerName example.org") != std::string::npos);
}

TEST_CASE("vhosts inside a mod_macro body are never selected") {
  auto cfg = load(LoadOptions{multiple_vhosts(), {}, {}, {}});
  REQUIRE(cfg);
  bool saw_macro = false;
  for (const VirtualHost& vh : cfg->vhosts) saw_macro |= vh.in_macro;
  CHECK(saw_macro);
  CHECK_FALSE(select_vhost(*cfg, "$domain"));
}

TEST_CASE("wildcard matching is case-insensitive and anchored") {
  CHECK(name_matches("*.example.com", "a.b.EXAMPLE.com"));
  CHECK_FALSE(name_matches("*.example.com", "example.com"));
  CHECK(name_matches("www.exa?ple.com", "www.example.com"));
  CHECK_FALSE(name_matches("www.example.com", "www.example.com.evil"));
  CHECK(name_matches("*", "anything"));
  CHECK(name_matches("a*b*c", "aXXbYYc"));
  CHECK_FALSE(name_matches("a*b*c", "aXXbYY"));
}

TEST_CASE("Define and ${VAR} decide which files an Include loads; unknown variables do not break") {
  test::TempDir dir;
  write(
      dir / "apache2.conf",
      "Define SITES sites\nInclude ${SITES}-on/*.conf\nIncludeOptional ${NOPE}/x.conf\n"
      "<IfDefine SITES>\nInclude extra.conf\n</IfDefine>\n<IfDefine !SITES>\nInclude missing.conf\n"
      "</IfDefine>\n<IfModule !mod_nothing.c>\nInclude dir\n</IfModule>\n"
      "ErrorLog ${APACHE_LOG_DIR}/error.log\n");
  write(dir / "sites-on/b.conf", "<VirtualHost *:80>\nServerName b.test\n</VirtualHost>\n");
  write(dir / "sites-on/a.conf", "<VirtualHost *:80>\nServerName a.test\n</VirtualHost>\n");
  write(dir / "sites-on/.hidden.conf", "this is not loaded\n<Broken\n");
  write(dir / "extra.conf", "# extra\n");
  write(dir / "dir/z.conf", "# z\n");
  write(dir / "dir/sub/y.conf", "# y\n");
  auto cfg = load(LoadOptions{dir.path(), {}, {}, {}});
  REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().describe()));
  CHECK(loaded_names(*cfg, dir.path()) ==
        std::vector<std::string>{"apache2.conf", "sites-on/a.conf", "sites-on/b.conf", "extra.conf",
                                 "dir/sub/y.conf", "dir/z.conf"});
  REQUIRE(cfg->vhosts.size() == 2);
  CHECK(cfg->vhosts[0].server_name == "a.test");
}

TEST_CASE("a loaded file that fails to parse stops loading with file:line and the include chain") {
  test::TempDir dir;
  write(dir / "apache2.conf", "ServerName x\nIncludeOptional sites-enabled/*.conf\n");
  write(dir / "sites-available/bad.conf", "<VirtualHost *:80>\n  ServerName bad.test\n");
  REQUIRE(sys::make_dirs(dir / "sites-enabled"));
  fs::create_symlink("../sites-available/bad.conf", dir / "sites-enabled/bad.conf");
  auto cfg = load(LoadOptions{dir.path(), {}, {}, {}});
  REQUIRE_FALSE(cfg);
  CHECK(cfg.error().code == Errc::config);
  CHECK(cfg.error().message.find((dir / "sites-enabled/bad.conf").string() + ":1:") == 0);
  REQUIRE(cfg.error().context.size() == 1);
  CHECK(cfg.error().context[0] == "included from " + (dir / "apache2.conf").string() + ":2");
}

TEST_CASE("a file that is not loaded may be broken") {
  test::TempDir dir;
  write(dir / "apache2.conf", "IncludeOptional sites-enabled/*.conf\n");
  write(dir / "sites-available/bad.conf", "<VirtualHost *:80>\n");
  auto cfg = load(LoadOptions{dir.path(), {}, {}, {}});
  CHECK(cfg);
}

TEST_CASE("Include of a missing file is an error, IncludeOptional is not") {
  test::TempDir dir;
  write(dir / "apache2.conf", "IncludeOptional nothing/*.conf\nIncludeOptional none.conf\n");
  CHECK(load(LoadOptions{dir.path(), {}, {}, {}}));
  write(dir / "apache2.conf", "\nInclude none.conf\n");
  auto r = load(LoadOptions{dir.path(), {}, {}, {}});
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("none.conf") != std::string::npos);
  CHECK(r.error().context.at(0) == "at " + (dir / "apache2.conf").string() + ":2");
  write(dir / "apache2.conf", "Include nothing/*.conf\n");
  CHECK_FALSE(load(LoadOptions{dir.path(), {}, {}, {}}));
}

TEST_CASE("a file including itself is stopped at apache's depth limit") {
  test::TempDir dir;
  write(dir / "apache2.conf", "Include apache2.conf\n");
  auto r = load(LoadOptions{dir.path(), {}, {}, {}});
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("deeper than") != std::string::npos);
}

TEST_CASE("a missing main file is not_found") {
  test::TempDir dir;
  auto r = load(LoadOptions{dir.path(), {}, {}, {}});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::not_found);
}

TEST_CASE("envvars: exports with $SUFFIX expanded, other shell lines ignored") {
  auto text = *sys::read_file(test::data_path("corpus/apache/debian-apache2-2.4/envvars"));
  auto vars = parse_envvars(text, "/etc/apache2");
  CHECK(vars.at("APACHE_LOG_DIR") == "/var/log/apache2");
  CHECK(vars.at("APACHE_PID_FILE") == "/var/run/apache2/apache2.pid");
  CHECK(vars.count("SUFFIX") == 0);
  auto second = parse_envvars(text, "/etc/apache2-two");
  CHECK(second.at("APACHE_LOG_DIR") == "/var/log/apache2-two");
  auto quoted = parse_envvars("export A=\"x y\"\n  export B=${A}/$A/$NONE.\nC=1\n", "/r");
  CHECK(quoted.at("A") == "x y");
  CHECK(quoted.at("B") == "x y/x y/.");
  CHECK(quoted.count("C") == 0);
}

TEST_CASE("resolve_vars substitutes known names and leaves unknown ones") {
  std::map<std::string, std::string> vars = {{"A", "1"}};
  CHECK(resolve_vars("${A}/${B}/${A", vars) == "1/${B}/${A");
  CHECK(resolve_vars("$A ${}", vars) == "$A ${}");
}

TEST_CASE("apache2ctl dumps are parsed and compared with what acmed loaded") {
  test::TempDir dir;
  write(dir / "apache2.conf", "Include sites/*.conf\n");
  write(dir / "sites/a.conf", "<VirtualHost *:80>\nServerName a\n</VirtualHost>\n");
  auto cfg = load(LoadOptions{dir.path(), {}, {}, {}});
  REQUIRE(cfg);
  std::string root = dir.path().string();
  std::string includes = "Included configuration files:\n  (*) " + root +
                         "/apache2.conf\n    (1) " + root +
                         "/sites/a.confAH00558: apache2: Could not reliably determine\n";
  auto files = parse_dump_includes(includes);
  REQUIRE(files.size() == 2);
  CHECK(files[1] == dir / "sites/a.conf");
  CHECK(compare_includes(*cfg, files));
  files.push_back(dir / "sites/other.conf");
  auto diff = compare_includes(*cfg, files);
  REQUIRE_FALSE(diff);
  CHECK(diff.error().message.find("other.conf") != std::string::npos);

  std::string s = "VirtualHost configuration:\n*:80                   a (" + root +
                  "/sites/a.conf:1)\nServerRoot: \"" + root + "\"\n";
  CHECK(parse_dump_vhosts(s) == std::set<std::string>{root + "/sites/a.conf:1"});
  CHECK(compare_vhosts(*cfg, parse_dump_vhosts(s)));
  CHECK_FALSE(compare_vhosts(*cfg, {}));
  CHECK_FALSE(compare_vhosts(*cfg, {root + "/sites/a.conf:1", "/elsewhere/b.conf:3"}));
}

TEST_CASE("address ports") {
  CHECK(address_port("*:80") == "80");
  CHECK(address_port("[::1]:443") == "443");
  CHECK(address_port("[::1]") == "");
  CHECK(address_port("*") == "");
}
