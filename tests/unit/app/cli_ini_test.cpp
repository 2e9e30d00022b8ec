// certbot's cli.ini syntax (app::parse_cli_ini) and where acmed looks for it by default.
#include "acmed/app/cli_ini.hpp"

#include <doctest/doctest.h>

using namespace acmed;
using namespace acmed::app;

TEST_CASE("cli.ini: key = value, key: value, bare keys, comments, sections, quotes") {
  auto entries = parse_cli_ini(
      "# a comment\n"
      "; another\n"
      "\n"
      "[defaults]\n"
      "rsa-key-size = 4096\n"
      "email: admin@example.com   # inline comment\n"
      "agree-tos\n"
      "server \"https://acme.example/dir\"\n"
      "  webroot-path = '/var/www/a b'  \r\n"
      "domains = a.example, b.example");
  REQUIRE(entries);
  REQUIRE(entries->size() == 6);
  auto at = [&](std::size_t i) { return (*entries)[i]; };
  CHECK(at(0).key == "rsa-key-size");
  CHECK(at(0).value == "4096");
  CHECK(at(0).line == 5);
  CHECK(at(1).key == "email");
  CHECK(at(1).value == "admin@example.com");
  CHECK(at(2).key == "agree-tos");
  CHECK(at(2).value == "true");
  CHECK(at(3).value == "https://acme.example/dir");
  CHECK(at(4).value == "/var/www/a b");
  CHECK(at(5).value == "a.example, b.example");
  CHECK(at(5).line == 10);
}

TEST_CASE("cli.ini: a malformed line is Errc::config naming its line") {
  for (const char* text : {"ok = 1\n= value\n", "ok = 1\n--server = x\n", "ok = 1\nkey =\n",
                           "ok = 1\nkey = \"open\n", "ok = 1\n[section\n", "ok = 1\nkey@x = 1\n"}) {
    CAPTURE(text);
    auto r = parse_cli_ini(text);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::config);
    CHECK(r.error().message.rfind("line 2: ", 0) == 0);
  }
}

TEST_CASE("cli.ini: an empty file has no entries") {
  auto r = parse_cli_ini("");
  REQUIRE(r);
  CHECK(r->empty());
}

TEST_CASE("the default cli.ini: /etc/letsencrypt for root, else XDG_CONFIG_HOME or ~/.config") {
  CHECK(default_cli_ini(true, "/x", "/home/u") == "/etc/letsencrypt/cli.ini");
  CHECK(default_cli_ini(false, "/x", "/home/u") == "/x/letsencrypt/cli.ini");
  CHECK(default_cli_ini(false, nullptr, "/home/u") == "/home/u/.config/letsencrypt/cli.ini");
  CHECK(default_cli_ini(false, "", "/home/u") == "/home/u/.config/letsencrypt/cli.ini");
}

TEST_CASE("certbot-only keys are known; acmed's are not among them") {
  CHECK(certbot_only_key("text"));
  CHECK(certbot_only_key("max-log-backups"));
  CHECK_FALSE(certbot_only_key("rsa-key-size"));
  CHECK_FALSE(certbot_only_key("frobnicate"));
  // What Debian's certbot package writes into /etc/letsencrypt/cli.ini: ignored silently.
  CHECK(certbot_only_key("preconfigured-renewal"));
  CHECK(certbot_package_key("preconfigured-renewal"));
  CHECK(certbot_package_key("max-log-backups"));
  CHECK_FALSE(certbot_package_key("text"));
}
