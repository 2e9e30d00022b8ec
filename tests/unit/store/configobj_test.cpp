#include "acmed/store/configobj.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace acmed;
using namespace acmed::store;

TEST_CASE("configobj reads keys, quoted values, lists, comments and nested sections") {
  const std::string text =
      "# leading comment\n"
      "version = 2.11.0\n"
      "plain =   spaced value   # trailing comment\n"
      "quoted = \"a, b # not a comment\"\n"
      "single = 'it \"quotes\"'\n"
      "one = /var/www/html,\n"
      "many = a, \"b c\" , d\n"
      "none = ,\n"
      "empty =\n"
      "\n"
      "[renewalparams]\n"
      "  indented = yes\n"
      "[[webroot_map]]\n"
      "a.example = /srv/a\n"
      "[other]\n"
      "x = 1\n";
  auto doc = parse_configobj(text, "t.conf");
  REQUIRE(doc);
  CHECK(doc->get("version")->str() == "2.11.0");
  CHECK(doc->get("plain")->str() == "spaced value");
  CHECK(doc->find("plain")->inline_comment == "# trailing comment");
  CHECK(doc->get("quoted")->str() == "a, b # not a comment");
  CHECK_FALSE(doc->get("quoted")->is_list);
  CHECK(doc->get("single")->str() == "it \"quotes\"");
  CHECK(*doc->get("one") == ConfValue::list({"/var/www/html"}));
  CHECK(*doc->get("many") == ConfValue::list({"a", "b c", "d"}));
  CHECK(*doc->get("none") == ConfValue::list({}));
  CHECK(*doc->get("empty") == ConfValue::scalar(""));
  CHECK(doc->find("version")->comments == std::vector<std::string>{"# leading comment"});
  const ConfSection* params = doc->section("renewalparams");
  REQUIRE(params);
  CHECK(params->get("indented")->str() == "yes");
  const ConfSection* map = params->section("webroot_map");
  REQUIRE(map);
  CHECK(map->get("a.example")->str() == "/srv/a");
  CHECK(doc->section("other")->get("x")->str() == "1");
  CHECK(doc->section("webroot_map") == nullptr);
}

TEST_CASE("configobj renders a canonical file back byte for byte") {
  const std::string text =
      "# renew_before_expiry = 30 days\n"
      "version = 2.11.0\n"
      "archive_dir = /etc/letsencrypt/archive/a.example\n"
      "\n"
      "# Options used in the renewal process\n"
      "[renewalparams]\n"
      "webroot_path = /var/www/html,\n"
      "pref_challs = http-01, dns-01\n"
      "pre_hook = \"echo a, b\" # why\n"
      "[[webroot_map]]\n"
      "a.example = /var/www/html\n"
      "# the end\n";
  auto doc = parse_configobj(text, "t.conf");
  REQUIRE(doc);
  CHECK(render_configobj(*doc) == text);
}

TEST_CASE("configobj quotes values only when they need it, and they read back the same") {
  ConfSection doc;
  const std::vector<std::string> values = {
      "",     " lead",     "trail ",       "a,b",        "x # y", "say \"hi\"",
      "it's", "both ' \"", "line1\nline2", "plain/path", "a=b",   "[x]"};
  for (std::size_t i = 0; i < values.size(); ++i) {
    doc.set("k" + std::to_string(i), ConfValue::scalar(values[i]));
  }
  doc.ensure_section("s").set("list", ConfValue::list({"a,b", "", "c"}));
  doc.ensure_section("s").set("one", ConfValue::list({"x"}));
  doc.ensure_section("s").set("weird key = [", ConfValue::scalar("v"));
  std::string text = render_configobj(doc);
  CHECK(text.find("k9 = plain/path\n") != std::string::npos);
  CHECK(text.find("k10 = a=b\n") != std::string::npos);
  CHECK(text.find("one = x,\n") != std::string::npos);
  auto back = parse_configobj(text, "t.conf");
  REQUIRE(back);
  for (std::size_t i = 0; i < values.size(); ++i) {
    CAPTURE(values[i]);
    REQUIRE(back->get("k" + std::to_string(i)));
    CHECK(*back->get("k" + std::to_string(i)) == ConfValue::scalar(values[i]));
  }
  CHECK(*back->section("s")->get("list") == ConfValue::list({"a,b", "", "c"}));
  CHECK(*back->section("s")->get("one") == ConfValue::list({"x"}));
  CHECK(back->section("s")->get("weird key = [")->str() == "v");
}

TEST_CASE("configobj reads a triple-quoted value over several lines") {
  auto doc = parse_configobj("hook = \"\"\"first\nsecond 'quoted' \"\"\" # c\nnext = 1\n", "t");
  REQUIRE(doc);
  CHECK(doc->get("hook")->str() == "first\nsecond 'quoted' ");
  CHECK(doc->find("hook")->inline_comment == "# c");
  CHECK(doc->get("next")->str() == "1");
}

TEST_CASE("configobj set replaces in place, erase removes, ensure_section appends once") {
  auto doc = parse_configobj("# c\na = 1\nb = 2\n", "t");
  REQUIRE(doc);
  doc->set("a", ConfValue::scalar("9"));
  doc->set("c", ConfValue::scalar("3"));
  CHECK(doc->erase("b"));
  CHECK_FALSE(doc->erase("b"));
  doc->ensure_section("s");
  doc->ensure_section("s");
  CHECK(doc->sections.size() == 1);
  CHECK(render_configobj(*doc) == "# c\na = 9\nc = 3\n[s]\n");
}

TEST_CASE("malformed configobj input is a config error naming file and line") {
  struct Bad {
    const char* text;
    int line;
    const char* what;
  };
  const Bad cases[] = {
      {"a = 1\njust words\n", 2, "expected 'key = value'"},
      {"a = 1\n[unclosed\n", 2, "unbalanced"},
      {"[[deep]]\n", 1, "nested"},
      {"[a]\n[[b]]\n[[[[c]]]]\n", 3, "nested"},
      {"a = 1\na = 2\n", 2, "duplicate key"},
      {"[s]\n[s]\n", 2, "duplicate section"},
      {"a = \"open\n", 1, "unclosed quote"},
      {"x = 1\na = \"\"\"open\nmore\n", 2, "unclosed triple"},
      {"a = \"q\" tail\n", 1, "unexpected text"},
      {"a = x,,y\n", 1, "empty item"},
      {"= v\n", 1, "empty key"},
      {"[]\n", 1, "empty section"},
      {"[s] junk\n", 1, "text after section"},
      {"a = \"\"\"x\"\"\" junk\n", 1, "text after closing"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto doc = parse_configobj(c.text, "/etc/letsencrypt/renewal/x.conf");
    REQUIRE_FALSE(doc);
    CHECK(doc.error().code == Errc::config);
    const std::string prefix = "/etc/letsencrypt/renewal/x.conf:" + std::to_string(c.line) + ": ";
    CHECK(doc.error().message.rfind(prefix, 0) == 0);
    CHECK(doc.error().message.find(c.what) != std::string::npos);
    CHECK_FALSE(doc.error().hint.empty());
  }
}

TEST_CASE("configobj accepts CRLF line ends and an empty file") {
  auto doc = parse_configobj("a = 1\r\n[s]\r\nb = 2\r\n", "t");
  REQUIRE(doc);
  CHECK(doc->get("a")->str() == "1");
  CHECK(doc->section("s")->get("b")->str() == "2");
  auto empty = parse_configobj("", "t");
  REQUIRE(empty);
  CHECK(empty->entries.empty());
  CHECK(render_configobj(*empty).empty());
}
