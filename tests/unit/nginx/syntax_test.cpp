#include "plugins/nginx/syntax.hpp"
#include "plugins/nginx/config.hpp"

#include "acmed/sys/fs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace acmed;
using namespace acmed::plugins::nginx;
namespace fs = std::filesystem;

namespace {

SyntaxTree must_parse(std::string_view text) {
  auto tree = parse(text, "test.conf");
  REQUIRE_MESSAGE(tree.ok(), (tree.ok() ? "" : tree.error().describe()));
  return std::move(tree).value();
}

std::string parse_error(std::string_view text) {
  auto tree = parse(text, "test.conf");
  REQUIRE_FALSE(tree.ok());
  CHECK(tree.error().code == Errc::config);
  return tree.error().message;
}

}  // namespace

TEST_CASE("every corpus file parses and prints back byte for byte, broken.conf fails with a line") {
  fs::path root = test::data_path("corpus/nginx");
  REQUIRE(fs::is_directory(root));
  int parsed = 0;
  bool saw_broken = false;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    auto name = entry.path().filename().string();
    if (name.rfind("LICENSE", 0) == 0 || name == "README.md" || name == "SOURCE.txt") continue;
    // An INI file for the naxsi web UI that ships next to nginx's files; nginx never loads it.
    if (name == "naxsi-ui.conf.1.4.1") continue;
    auto text = sys::read_file(entry.path());
    REQUIRE(text.ok());
    auto tree = parse(*text, entry.path().string());
    if (name == "broken.conf") {
      saw_broken = true;
      REQUIRE_FALSE(tree.ok());
      CHECK(tree.error().message.find(entry.path().string() + ":13:") != std::string::npos);
      continue;
    }
    INFO(entry.path().string());
    CHECK_MESSAGE(tree.ok(), (tree.ok() ? "" : tree.error().describe()));
    if (!tree.ok()) continue;
    CHECK(print(*tree) == *text);
    ++parsed;
  }
  CHECK(saw_broken);
  CHECK(parsed > 150);
}

TEST_CASE("words, quotes, escapes and variables are read as nginx reads them") {
  auto tree = must_parse(
      "add_header X 'a b' \"c\\\"d\" e\\ f;\n"
      "set $x ${host}foo;\n"
      "return 200 a}b#c;\n"
      "if ($a = \"b\") { }\n");
  REQUIRE(tree.nodes.size() == 4);
  const Node& h = tree.nodes[0];
  REQUIRE(h.arg_count() == 4);
  CHECK(h.arg(1) == "a b");
  CHECK(h.arg(2) == "c\"d");
  CHECK(h.words[3].raw == "\"c\\\"d\"");
  CHECK(h.arg(3) == "e\\ f");
  CHECK(tree.nodes[1].arg(1) == "${host}foo");
  CHECK(tree.nodes[2].arg(1) == "a}b#c");  // '}' and '#' inside a word are ordinary
  const Node& i = tree.nodes[3];
  CHECK(i.kind == NodeKind::block);
  REQUIRE(i.arg_count() == 4);
  CHECK(i.arg(0) == "($a");
  CHECK(i.arg(2) == "b");
  CHECK(i.arg(3) == ")");
}

TEST_CASE("comments between words and after terminators are kept where they were") {
  std::string text = "server { # open\n  listen 80 # port\n    default_server; # trailing\n}#end\n";
  auto tree = must_parse(text);
  CHECK(print(tree) == text);
  const Node& server = tree.nodes[0];
  CHECK(server.after == "#end");
  REQUIRE(server.children.size() == 1);
  const Node& listen = server.children[0];
  CHECK(listen.before == " # open\n  ");
  CHECK(listen.arg(1) == "default_server");
  CHECK(listen.after == " # trailing");
  CHECK(listen.line == 2);
}

TEST_CASE("Latin-1 bytes, CRLF line ends and a missing final newline round-trip") {
  std::string text = "# caf\xe9\r\nuser www-data;\r\nhttp { }";
  CHECK(print(must_parse(text)) == text);
  CHECK(print(must_parse("")) == "");
  CHECK(print(must_parse("  \n# only a comment")) == "  \n# only a comment");
}

TEST_CASE("a Lua block body is kept verbatim, braces in strings and comments included") {
  std::string text =
      "location / {\n  content_by_lua_block {\n    local t = { a = \"}\" } -- }\n"
      "    ngx.say([[ } ]])\n  }\n  return 200;\n}\n";
  auto tree = must_parse(text);
  CHECK(print(tree) == text);
  const Node& loc = tree.nodes[0];
  REQUIRE(loc.children.size() == 2);
  CHECK(loc.children[0].kind == NodeKind::verbatim);
  CHECK(loc.children[1].name() == "return");
}

TEST_CASE("map, types and geo bodies parse as nginx reads them and round-trip") {
  std::string text =
      "map $uri $new { default 0; ~^/a(?<x>.*)$ \"/b$x\"; hostnames; }\n"
      "types { text/html html htm; }\ngeo $lb { default 0; 10.0.0.0/8 1; }\n";
  CHECK(print(must_parse(text)) == text);
}

TEST_CASE("syntax errors name the line and never crash") {
  CHECK(parse_error("a;\n}\n") == "test.conf:2: unexpected \"}\"");
  CHECK(parse_error("http {\n a;\n") ==
        "test.conf:3: unexpected end of file, expecting \"}\" (block opened at line 1)");
  CHECK(parse_error("a b") == "test.conf:1: unexpected end of file, expecting \";\" or \"}\"");
  CHECK(parse_error("\n;") == "test.conf:2: unexpected \";\"");
  CHECK(parse_error("a \"b\"c;") == "test.conf:1: unexpected \"c\"");
  CHECK(parse_error("a \"b\n\nc") == "test.conf:1: unexpected end of file in a quoted string");
  CHECK(parse_error("a b }") == "test.conf:1: unexpected \"}\"");
  CHECK(parse_error("x_by_lua_block {\n {") ==
        "test.conf:1: unexpected end of file in the Lua block opened here");
  CHECK(parse_error("a\\") == "test.conf:1: unexpected end of file, expecting \";\" or \"}\"");
  std::string deep;
  for (int i = 0; i < 500; ++i) deep += "a {";
  CHECK(parse_error(deep).find("nested too deeply") != std::string::npos);
}

TEST_CASE("quote_word writes values nginx reads back unchanged") {
  CHECK(quote_word("/etc/acmed/live/a.com/fullchain.pem") == "/etc/acmed/live/a.com/fullchain.pem");
  auto w = quote_word("a \"b\";{c}");
  auto tree = must_parse("x " + w + ";");
  CHECK(tree.nodes[0].arg(0) == "a \"b\";{c}");
}

TEST_CASE("includes are followed relative to the server root, through globs and symlinks") {
  test::TempDir dir;
  auto root = dir / "nginx";
  REQUIRE(sys::make_dirs(root / "sites-available"));
  REQUIRE(sys::make_dirs(root / "sites-enabled"));
  REQUIRE(sys::make_dirs(root / "conf.d"));
  REQUIRE(sys::write_file_atomic(root / "nginx.conf",
                                 "events {}\nhttp {\n  include conf.d/*.conf;\n"
                                 "  include sites-enabled/*;\n  include mime.types;\n}\n"));
  REQUIRE(sys::write_file_atomic(root / "mime.types", "types { text/html html; }\n"));
  REQUIRE(sys::write_file_atomic(root / "sites-available/site", "server { listen 80; }\n"));
  fs::create_symlink("../sites-available/site", root / "sites-enabled/site");
  auto config = Config::load(root / "nginx.conf");
  REQUIRE_MESSAGE(config.ok(), (config.ok() ? "" : config.error().describe()));
  REQUIRE(config->file_count() == 3);  // conf.d/*.conf matches nothing: fine, as in nginx
  const ConfigFile& site = config->file(1);
  CHECK(site.path == root / "sites-enabled/site");
  CHECK(site.real_path == fs::canonical(root / "sites-available/site"));
  CHECK(site.context == std::vector<std::string>{"http"});
  CHECK(site.included_from == (root / "nginx.conf").string() + ":4");
  int servers = 0;
  config->walk([&](DirectiveRef ref, const std::vector<std::string>& ctx) {
    if (ref.node->name() == "server" && ctx == std::vector<std::string>{"http"}) ++servers;
  });
  CHECK(servers == 1);
}

TEST_CASE(
    "a file that fails to parse anywhere in the include graph stops the load with file:line") {
  test::TempDir dir;
  REQUIRE(sys::write_file_atomic(dir / "nginx.conf", "http {\n  include bad.conf;\n}\n"));
  REQUIRE(sys::write_file_atomic(dir / "bad.conf", "server {\n  listen 80\n}\n"));
  auto config = Config::load(dir / "nginx.conf");
  REQUIRE_FALSE(config.ok());
  CHECK(config.error().message == (dir / "bad.conf").string() + ":3: unexpected \"}\"");
  CHECK(config.error().describe().find("nginx.conf:2") != std::string::npos);
}

TEST_CASE("a missing plain include and an include cycle are errors, not crashes") {
  test::TempDir dir;
  REQUIRE(sys::write_file_atomic(dir / "nginx.conf", "include missing.conf;\n"));
  auto missing = Config::load(dir / "nginx.conf");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("missing.conf") != std::string::npos);
  REQUIRE(sys::write_file_atomic(dir / "nginx.conf", "include a.conf;\n"));
  REQUIRE(sys::write_file_atomic(dir / "a.conf", "include nginx.conf;\n"));
  auto cycle = Config::load(dir / "nginx.conf");
  REQUIRE_FALSE(cycle.ok());
  CHECK(cycle.error().message.find("include cycle") != std::string::npos);
}

TEST_CASE("the nginx -T file list is parsed from the dump") {
  auto files = files_in_dump(
      "nginx: the configuration file /x/nginx.conf syntax is ok\n"
      "# configuration file /x/nginx.conf:\nhttp {}\n\n# configuration file /x/a b.conf:\n");
  CHECK(files == std::vector<std::string>{"/x/nginx.conf", "/x/a b.conf"});
}

TEST_CASE("truncated corpus files and random bytes never crash the parser and round-trip when ok") {
  fs::path root = test::data_path("corpus/nginx");
  int checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    auto text = sys::read_file(entry.path());
    REQUIRE(text.ok());
    for (int cut = 1; cut <= 16; ++cut) {  // 16 cut points per file, bounded
      std::string_view prefix = std::string_view(*text).substr(0, text->size() * cut / 17);
      auto tree = parse(prefix, "cut.conf");
      if (tree.ok()) {
        CHECK(print(*tree) == prefix);
      } else {
        CHECK(tree.error().message.rfind("cut.conf:", 0) == 0);
      }
      ++checked;
    }
  }
  CHECK(checked > 2000);
  std::uint32_t state = 12345;  // fixed seed: the same inputs every run
  const std::string alphabet = "ab $#{};'\"\\\n\t()_-~";
  for (int i = 0; i < 3000; ++i) {
    std::string input;
    std::size_t len = (state >> 8) % 64;
    for (std::size_t k = 0; k < len; ++k) {
      state = state * 1664525u + 1013904223u;
      input += alphabet[(state >> 16) % alphabet.size()];
    }
    state = state * 1664525u + 1013904223u;
    auto tree = parse(input, "rnd.conf");
    if (tree.ok()) CHECK(print(*tree) == input);
  }
}
