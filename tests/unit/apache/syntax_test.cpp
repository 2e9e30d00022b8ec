#include "plugins/apache/syntax.hpp"

#include "acmed/sys/fs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>

using namespace acmed;
using namespace acmed::plugins::apache;
namespace fs = std::filesystem;

namespace {

ConfigFile must_parse(std::string_view text) {
  auto r = parse(text, "t.conf");
  if (!r) FAIL(r.error().describe());
  return std::move(r).value();
}

const Node& first_directive(const std::vector<Node>& nodes) {
  for (const Node& n : nodes)
    if (n.is_directive() || n.is_section()) return n;
  FAIL("no directive");
  return nodes.front();
}

}  // namespace

TEST_CASE("every config file in the apache corpus parses and prints back byte for byte") {
  // Files that are not apache config syntax at all; everything else must parse.
  //  - LICENSE.txt / SOURCE.txt / README*: prose (a line starting with '<' in a licence text
  //    would be read as a section tag).
  //  - magic: mod_mime_magic's data file, read by that module, not by the config parser.
  //  - envvars: a shell script sourced by apache2ctl (we read it separately for ${APACHE_*}).
  const std::set<std::string> not_config = {"LICENSE.txt",    "SOURCE.txt", "README.md",
                                            "README.modules", "magic",      "envvars"};
  // Files apache itself rejects (checked with apache2 -t): they must fail with file:line.
  const std::map<std::string, std::string> rejected = {
      {"bad_conf_file.conf", ":1: <VirtualHost> is not closed"}};
  fs::path root = test::data_path("corpus/apache");
  int parsed = 0;
  int files = 0;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (!it->is_regular_file() || it->is_symlink()) continue;
    ++files;
    REQUIRE(files < 2000);  // bounded: the corpus has a few hundred files
    if (not_config.count(it->path().filename().string())) continue;
    auto bytes = sys::read_file(it->path());
    REQUIRE(bytes);
    auto cfg = parse(*bytes, it->path());
    INFO(it->path().string());
    if (auto bad = rejected.find(it->path().filename().string()); bad != rejected.end()) {
      REQUIRE_FALSE(cfg);
      CHECK(cfg.error().message == it->path().string() + bad->second);
      continue;
    }
    if (!cfg) FAIL(cfg.error().describe());
    CHECK(print(*cfg) == *bytes);
    ++parsed;
  }
  CHECK(parsed >= 281);  // all of them: a skipped file would lower the count
}

TEST_CASE("directive names are case-insensitive and quoted arguments are unquoted") {
  auto cfg = must_parse("servername  \"example.com\"   'a b' c\\\\d \"x\\\"y\"\n");
  const Line& l = first_directive(cfg.nodes).head;
  CHECK(l.is("ServerName"));
  CHECK(l.args() == std::vector<std::string>{"example.com", "a b", "c\\d", "x\"y"});
  CHECK(print(cfg) == "servername  \"example.com\"   'a b' c\\\\d \"x\\\"y\"\n");
}

TEST_CASE("a hash inside arguments is data, a hash at line start is a comment") {
  auto cfg = must_parse("  # a comment\nServerAdmin a#b # not a comment\n");
  REQUIRE(cfg.nodes.size() == 2);
  CHECK(cfg.nodes[0].head.kind == LineKind::comment);
  CHECK(cfg.nodes[1].head.args() == std::vector<std::string>{"a#b", "#", "not", "a", "comment"});
}

TEST_CASE("sections nest to any depth and close tags match case-insensitively") {
  std::string text =
      "<IfModule a>\n <Directory \"/x y\">\n  <Files *.php>\n   <If \"%{A} > 1\">\n"
      "    Require all denied\n   </if>\n  </FILES>\n </Directory>\n</IfModule>\n";
  auto cfg = must_parse(text);
  REQUIRE(cfg.nodes.size() == 1);
  const Node& d = cfg.nodes[0].children[0];
  CHECK(d.head.is("directory"));
  CHECK(d.head.args() == std::vector<std::string>{"/x y"});
  const Node& f = d.children[0];
  const Node& i = f.children[0];
  CHECK(i.head.is("If"));
  CHECK(i.head.args() == std::vector<std::string>{"%{A} > 1"});
  CHECK(i.children[0].head.is("require"));
  CHECK(print(cfg) == text);
}

TEST_CASE("a trailing backslash continues a directive, a comment and an empty line") {
  std::string text =
      "RewriteRule ^a \\\n    /b [L]\n# comment \\\nServerName swallowed\n"
      "Require all granted \\\n   \n\\\n\nServerAdmin x\\\r\ny\r\n";
  auto cfg = must_parse(text);
  CHECK(print(cfg) == text);
  std::vector<const Node*> lines;
  for (const Node& n : cfg.nodes)
    if (n.head.kind != LineKind::blank) lines.push_back(&n);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0]->head.args() == std::vector<std::string>{"^a", "/b", "[L]"});
  CHECK(lines[1]->head.kind == LineKind::comment);  // the comment swallows "ServerName"
  CHECK(lines[2]->head.args() == std::vector<std::string>{"all", "granted"});
  CHECK(lines[3]->head.args() == std::vector<std::string>{"xy"});
  CHECK(lines[3]->head.line_no == 9);
}

TEST_CASE("two close tags on one line close two sections") {
  std::string text =
      "<IfModule ssl>\n  <VirtualHost *:443>\n  SSLEngine on\n  </VirtualHost> </IfModule>\n";
  auto cfg = must_parse(text);
  REQUIRE(cfg.nodes.size() == 1);
  CHECK(cfg.nodes[0].head.is("IfModule"));
  CHECK(cfg.nodes[0].children[0].head.is("VirtualHost"));
  CHECK(print(cfg) == text);
}

TEST_CASE("bytes that are not UTF-8 round-trip") {
  std::string text = "# caf\xe9 \xff\xfe\nServerAdmin \"\xe9t\xe9\"\n";
  auto cfg = must_parse(text);
  CHECK(print(cfg) == text);
  CHECK(cfg.nodes[1].head.args()[0] == "\xe9t\xe9");
}

TEST_CASE("a file without a final newline and an empty file round-trip") {
  CHECK(print(must_parse("ServerName a")) == "ServerName a");
  CHECK(print(must_parse("")) == "");
  CHECK(print(must_parse("ServerName a \\")) == "ServerName a \\");
}

TEST_CASE("an unclosed section is an error naming file and the opening line") {
  auto r = parse("ServerName a\n<VirtualHost *:80>\n  DocumentRoot /x\n", "/etc/apache2/x.conf");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::config);
  CHECK(r.error().message.find("/etc/apache2/x.conf:2:") == 0);
  CHECK(r.error().message.find("<VirtualHost>") != std::string::npos);
}

TEST_CASE("a close tag that does not match is an error naming its line") {
  auto r = parse("<VirtualHost *:80>\n<Directory />\n</VirtualHost>\n", "a.conf");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("a.conf:3:") == 0);
  CHECK(r.error().message.find("line 2") != std::string::npos);
}

TEST_CASE("a close tag without any open section is an error") {
  auto r = parse("\n\n</Directory>\n", "a.conf");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("a.conf:3:") == 0);
}

TEST_CASE("a tag without its closing angle bracket is an error") {
  auto open = parse("<Directory /x\n</Directory>\n", "a.conf");
  REQUIRE_FALSE(open);
  CHECK(open.error().message.find("a.conf:1:") == 0);
  auto close = parse("<Directory /x>\n</Directory\n", "a.conf");
  REQUIRE_FALSE(close);
  CHECK(close.error().message.find("a.conf:2:") == 0);
  auto spaced = parse("<Directory /x>\n</Directory >\n", "a.conf");
  REQUIRE_FALSE(spaced);
}

TEST_CASE("garbage input gives an error or a tree, never a crash") {
  const char* inputs[] = {
      "<",          "</>",           "<>",        "<<<>>>",          "\"", "'\\",
      "\\\\\\\n\\", "<a>\n</a></a>", "</a> </b>", "<a>\n</a> </b>\n"};
  for (const char* in : inputs) {
    auto r = parse(in, "g.conf");
    if (r) CHECK(print(*r) == in);
  }
}

TEST_CASE("new lines use the file's indentation and end of line") {
  auto cfg = must_parse("<VirtualHost *:80>\r\n\tServerName a\r\n</VirtualHost>\r\n");
  CHECK(file_eol(cfg) == "\r\n");
  CHECK(indent_unit(cfg) == "\t");
  Node& vh = cfg.nodes[0];
  std::string ind = child_indent(vh, indent_unit(cfg));
  append_node(
      vh.children,
      Node{make_directive(ind, "Redirect", {"permanent", "/", "https://a/"}, "\r\n"), {}, {}},
      "\r\n");
  CHECK(print(cfg) ==
        "<VirtualHost *:80>\r\n\tServerName a\r\n\tRedirect permanent / "
        "https://a/\r\n</VirtualHost>\r\n");
}

TEST_CASE("quote_word quotes only when apache would otherwise split or unescape") {
  CHECK(quote_word("/var/www") == "/var/www");
  CHECK(quote_word("a b") == "\"a b\"");
  CHECK(quote_word("") == "\"\"");
  CHECK(quote_word("x\"y\\") == "\"x\\\"y\\\\\"");
  auto cfg = must_parse("D " + quote_word("x\"y\\ z") + "\n");
  CHECK(cfg.nodes[0].head.args() == std::vector<std::string>{"x\"y\\ z"});
}

TEST_CASE("random inputs either fail with file:line or print back byte for byte") {
  // A fixed-seed generator over the bytes that matter to the lexer: bounded and reproducible.
  const std::string alphabet = "<>/\\\"' \t\r\n#aB$_{}:*";
  std::uint32_t state = 12345;
  auto next = [&state]() {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string in;
    std::size_t len = next() % 120;
    for (std::size_t k = 0; k < len; ++k) in.push_back(alphabet[next() % alphabet.size()]);
    auto r = parse(in, "r.conf");
    if (r) {
      ++parsed;
      REQUIRE(print(*r) == in);
    } else {
      REQUIRE(r.error().message.rfind("r.conf:", 0) == 0);
    }
  }
  CHECK(parsed > 100);  // the generator does reach the success path
}

TEST_CASE("a line that starts with a continuation keeps it once, in its indentation") {
  std::string text = "\\\nServerName a\n  \\\n\\\n  ServerAlias b\n";
  auto cfg = must_parse(text);
  CHECK(print(cfg) == text);
  REQUIRE(cfg.nodes.size() == 2);
  CHECK(cfg.nodes[0].head.indent == "\\\n");
  CHECK(cfg.nodes[0].head.is("ServerName"));
  CHECK(cfg.nodes[1].head.args() == std::vector<std::string>{"b"});
}

TEST_CASE("absurdly deep nesting is an error, not a stack overflow") {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<If a>\n";
  auto r = parse(deep, "deep.conf");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("deep.conf:501:") == 0);
  std::string ok;
  for (int i = 0; i < 400; ++i) ok += "<If a>\n";
  for (int i = 0; i < 400; ++i) ok += "</If>\n";
  auto fine = parse(ok, "ok.conf");
  REQUIRE(fine);
  CHECK(print(*fine) == ok);
}
