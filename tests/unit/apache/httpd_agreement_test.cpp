// The rare shapes where acmed's apache reader must agree with httpd (issue 14, "Config parsers:
// agree with the servers"). Each case is given to the real `apache2 -t` and to acmed's loader,
// and both must accept it or both refuse it; acmed's tree and message are checked too.
#include "plugins/apache/config.hpp"
#include "plugins/apache/installer.hpp"
#include "plugins/apache/syntax.hpp"

#include "acmed/sys/fs.hpp"
#include "acmed/sys/process.hpp"
#include "fixture.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace acmed;
using namespace acmed::plugins::apache;
namespace fs = std::filesystem;

namespace {

// A config apache2 -t can check on its own: an MPM, a Listen, logs in the temp dir.
std::string base(const fs::path& dir) {
  return "ServerRoot /etc/apache2\n"
         "PidFile " +
         (dir / "pid").string() +
         "\n"
         "ErrorLog " +
         (dir / "error.log").string() +
         "\n"
         "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n"
         "LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n"
         "ServerName localhost\n"
         "Listen 127.0.0.1:18999\n";
}
constexpr int k_base_lines = 7;

struct Verdicts {
  bool apache_ok = false;
  std::string apache_out;
  Result<Config> acmed = Error(Errc::internal, "not run");
};

Verdicts judge(const test::TempDir& dir, const std::string& tail) {
  fs::path file = dir / "t.conf";
  REQUIRE(sys::write_file_atomic(file, base(dir.path()) + tail));
  Verdicts v;
  auto res = sys::run_process({"apache2", "-t", "-f", file.string()});
  REQUIRE_MESSAGE(res.ok(), "apache2 must be installed for this test");
  v.apache_ok = res->exit_code == 0;
  v.apache_out = res->out + res->err;
  v.acmed = load(LoadOptions{dir.path(), file, {{"X", "1"}}, {}});
  return v;
}

std::string line(int n) {
  return ":" + std::to_string(k_base_lines + n) + ":";
}

}  // namespace

TEST_CASE(
    "httpd agreement: a true conditional section open at end of file is closed, with a warning") {
  test::TempDir dir;
  for (const char* tail :
       {"<IfModule mpm_event_module>\nServerAdmin a@b.test\n",
        "<IfDefine !NOPE>\nServerAdmin a@b.test\n",
        "<IfModule mpm_event_module>\n<IfDefine !NOPE>\nServerAdmin a@b.test\n"}) {
    CAPTURE(tail);
    auto v = judge(dir, tail);
    CHECK_MESSAGE(v.apache_ok, v.apache_out);
    REQUIRE_MESSAGE(v.acmed, (v.acmed ? "" : v.acmed.error().describe()));
    REQUIRE_FALSE(v.acmed->warnings.empty());
    CHECK(v.acmed->warnings[0].find("is not closed; read as closed at the end of the file") !=
          std::string::npos);
    CHECK(print(v.acmed->files[0].tree) == *sys::read_file(dir / "t.conf"));
  }
}

TEST_CASE("httpd agreement: a false conditional section open at end of file is an error") {
  test::TempDir dir;
  auto v = judge(dir, "<IfModule nope_module>\nServerAdmin a@b.test\n");
  CHECK_FALSE(v.apache_ok);
  CHECK(v.apache_out.find("Expected </IfModule> before end of configuration") != std::string::npos);
  REQUIRE_FALSE(v.acmed);
  CHECK(v.acmed.error().message.find(
            line(1) + " Expected </IfModule> before end of configuration") != std::string::npos);
}

TEST_CASE("httpd agreement: any other section open at end of file is an error") {
  test::TempDir dir;
  auto v = judge(dir, "<Directory /tmp>\nRequire all granted\n");
  CHECK_FALSE(v.apache_ok);
  REQUIRE_FALSE(v.acmed);
  CHECK(v.acmed.error().message.find(line(1) + " <Directory> is not closed") != std::string::npos);
}

TEST_CASE(
    "httpd agreement: <Name without arguments and '>' needs arguments; with arguments it needs "
    "'>'") {
  test::TempDir dir;
  auto bare = judge(dir, "<IfModule\nServerAdmin a@b.test\n</IfModule>\n");
  CHECK_FALSE(bare.apache_ok);
  CHECK(bare.apache_out.find("<IfModule> directive requires additional arguments") !=
        std::string::npos);
  REQUIRE_FALSE(bare.acmed);
  CHECK(bare.acmed.error().message.find(
            line(1) + " <IfModule> directive requires additional arguments") != std::string::npos);
  auto dir_bare = judge(dir, "<Directory\nRequire all granted\n</Directory>\n");
  CHECK_FALSE(dir_bare.apache_ok);
  REQUIRE_FALSE(dir_bare.acmed);
  CHECK(dir_bare.acmed.error().message.find(
            "<Directory> directive requires additional arguments") != std::string::npos);
  auto open = judge(dir, "<IfModule mpm_event_module\nServerAdmin a@b.test\n</IfModule>\n");
  CHECK_FALSE(open.apache_ok);
  CHECK(open.apache_out.find("missing closing '>'") != std::string::npos);
  REQUIRE_FALSE(open.acmed);
  CHECK(open.acmed.error().message.find("<IfModule> directive missing closing '>'") !=
        std::string::npos);
}

TEST_CASE("httpd agreement: text after a close tag is ignored, a second close tag included") {
  test::TempDir dir;
  auto comment = judge(dir, "<Directory /tmp>\nRequire all granted\n</Directory> # note\n");
  CHECK_MESSAGE(comment.apache_ok, comment.apache_out);
  REQUIRE(comment.acmed);
  // "</Directory> </VirtualHost>": httpd ignores the second tag, so the vhost is never closed.
  auto two = judge(dir,
                   "<VirtualHost 127.0.0.1:18999>\n<Directory /tmp>\nRequire all granted\n"
                   "</Directory> </VirtualHost>\n");
  CHECK_FALSE(two.apache_ok);
  CHECK(two.apache_out.find("<VirtualHost> was not closed") != std::string::npos);
  REQUIRE_FALSE(two.acmed);
  CHECK(two.acmed.error().message.find(line(1) + " <VirtualHost> is not closed") !=
        std::string::npos);
  // The same after a conditional section httpd skips.
  auto skipped = judge(dir, "<IfModule nope_module>\nServerAdmin a@b.test\n</IfModule> # note\n");
  CHECK_MESSAGE(skipped.apache_ok, skipped.apache_out);
  CHECK(skipped.acmed);
}

TEST_CASE("httpd agreement: a conditional section httpd reads ends only at a bare close tag") {
  test::TempDir dir;
  for (const char* tail :
       {"<IfModule mpm_event_module>\nServerAdmin a@b.test\n</IfModule> # note\n",
        "<IfModule mpm_event_module>\n<IfModule mpm_event_module>\nServerAdmin a@b.test\n"
        "</IfModule> </IfModule>\n"}) {
    CAPTURE(tail);
    auto v = judge(dir, tail);
    CHECK_FALSE(v.apache_ok);
    CHECK(v.apache_out.find("</IfModule> without matching <IfModule> section") !=
          std::string::npos);
    REQUIRE_FALSE(v.acmed);
    CHECK(v.acmed.error().message.find("</IfModule> without matching <IfModule> section") !=
          std::string::npos);
  }
  auto indented =
      judge(dir, "<IfModule mpm_event_module>\nServerAdmin a@b.test\n  </ifmodule>  \n");
  CHECK_MESSAGE(indented.apache_ok, indented.apache_out);
  CHECK(indented.acmed);
}

TEST_CASE("httpd agreement: a NUL byte ends an apache line, and that line does not continue") {
  test::TempDir dir;
  std::string nul = std::string("ServerAdmin a@b.test") + '\0' + "junk here\n";
  auto v = judge(dir, nul);
  CHECK_MESSAGE(v.apache_ok, v.apache_out);
  REQUIRE(v.acmed);
  const auto& nodes = v.acmed->files[0].tree.nodes;
  const Node& last = nodes.back();
  CHECK(last.head.is("ServerAdmin"));
  CHECK(last.head.args() == std::vector<std::string>{"a@b.test"});
  CHECK(print(v.acmed->files[0].tree) == *sys::read_file(dir / "t.conf"));
  // A backslash after the NUL does not continue the line: the next line stands alone, and
  // httpd then refuses "ServerAdmin" without its argument.
  std::string cont = std::string("ServerAdmin a@b.test") + '\0' + "junk \\\nServerAdmin\n";
  auto c = judge(dir, cont);
  CHECK_FALSE(c.apache_ok);
  CHECK(c.apache_out.find("line " + std::to_string(k_base_lines + 2)) != std::string::npos);
  REQUIRE(c.acmed);  // acmed does not check argument counts; it must see two lines
  const auto& cn = c.acmed->files[0].tree.nodes;
  REQUIRE(cn.size() >= 2);
  CHECK(cn[cn.size() - 2].head.args() == std::vector<std::string>{"a@b.test"});
  CHECK(cn.back().head.is("ServerAdmin"));
  CHECK(cn.back().head.args().empty());
  CHECK(cn.back().head.line_no == k_base_lines + 2);
  CHECK(print(c.acmed->files[0].tree) == *sys::read_file(dir / "t.conf"));
}

TEST_CASE("a directive writer refuses a value with CR or LF") {
  CHECK(writable_value("/etc/letsencrypt/live/a/fullchain.pem"));
  CHECK_FALSE(writable_value("/tmp/a\nInclude /etc/shadow"));
  CHECK_FALSE(writable_value("/tmp/a\rb"));
}

TEST_CASE("appending after a conditional section closed at end of file writes its close tag") {
  auto cfg = parse("<IfModule x>\nA b\n", "t.conf");
  REQUIRE(cfg);
  append_node(cfg->nodes, Node{make_directive("", "C", {"d"}), {}, {}}, "\n");
  CHECK(print(*cfg) == "<IfModule x>\nA b\n</IfModule>\nC d\n");
  auto reparsed = parse(print(*cfg), "t.conf");
  REQUIRE(reparsed);
  CHECK(reparsed->warnings.empty());
}

TEST_CASE("a deploy whose certificate path holds a line break is refused and plans nothing") {
  test::TempDir dir;
  fs::path root = test::make_debian_tree(dir.path(), 18080, 18443);
  auto cfg = load(LoadOptions{root, {}, {}, {}});
  REQUIRE(cfg);
  Options o;
  o.server_root = root;
  o.http01_port = "18080";
  o.https_port = "18443";
  o.config_dir = dir / "le";
  install::DeployRequest req;
  req.names = {"example.test"};
  req.fullchain_path = dir / "le/live/example.test\nInclude /etc/shadow/fullchain.pem";
  req.key_path = dir / "le/live/example.test/privkey.pem";
  std::vector<std::string> names = {"example.test"};
  auto plan = plan_changes(*cfg, o, names, &req, {});
  REQUIRE_FALSE(plan);
  CHECK(plan.error().code == Errc::invalid_input);
  CHECK(plan.error().message.find("\\nInclude /etc/shadow") != std::string::npos);
  CHECK(plan.error().message.find("line break") != std::string::npos);
}
