#include "plugins/dns-rfc2136/rfc2136.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>

using namespace acmed;
using plugins::dns_rfc2136::load_credentials;

namespace {

std::filesystem::path write(const test::TempDir& dir, const std::string& text, mode_t mode) {
  auto path = dir / "creds.ini";
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
  return path;
}

const char* k_good =
    "# certbot\n"
    "dns_rfc2136_server = 192.0.2.53\n"
    "dns_rfc2136_port = 5353\n"
    "dns_rfc2136_name = keyname.\n"
    "dns_rfc2136_secret = c2VjcmV0c2VjcmV0c2VjcmV0\n"
    "dns_rfc2136_algorithm = HMAC-SHA512\n";

}  // namespace

TEST_CASE("certbot's credentials file is read as it is") {
  test::TempDir dir;
  auto c = load_credentials(write(dir, k_good, 0600));
  REQUIRE(c);
  CHECK(c->server.address == "192.0.2.53");
  CHECK(c->server.port == 5353);
  CHECK(c->key.name == "keyname.");
  CHECK(c->key.secret == "c2VjcmV0c2VjcmV0c2VjcmV0");
  CHECK(c->key.algorithm == "hmac-sha512.");
}

TEST_CASE("a credentials file group or others may read is refused with the chmod to run") {
  test::TempDir dir;
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    auto path = write(dir, k_good, mode);
    auto c = load_credentials(path);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == Errc::config);
    CHECK(c.error().hint == "run: chmod 600 " + path.string());
  }
}

TEST_CASE("a missing file, a missing key or a bad value names the file and the key") {
  test::TempDir dir;
  auto missing = load_credentials(dir / "nope.ini");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::not_found);
  struct Case {
    std::string drop, replace, expect;
  };
  for (const Case& k :
       {Case{"dns_rfc2136_secret", "", "lacks dns_rfc2136_secret"},
        Case{"dns_rfc2136_name", "", "lacks dns_rfc2136_name"},
        Case{"dns_rfc2136_server", "", "lacks dns_rfc2136_server"},
        Case{"dns_rfc2136_server", "dns_rfc2136_server = ns1.example.com\n",
             "is not an IP address"},
        Case{"dns_rfc2136_algorithm", "dns_rfc2136_algorithm = HMAC-SHA999\n", "HMAC-SHA999"},
        Case{"dns_rfc2136_secret", "dns_rfc2136_secret = not base64!\n", "not base64"},
        Case{"dns_rfc2136_port", "dns_rfc2136_port = 99999\n", "port"}}) {
    std::string text;
    std::istringstream in(k_good);
    for (std::string line; std::getline(in, line);)
      if (line.rfind(k.drop, 0) != 0) text += line + "\n";
    text += k.replace;
    auto c = load_credentials(write(dir, text, 0600));
    REQUIRE_FALSE(c);
    CHECK_MESSAGE(c.error().message.find(k.expect) != std::string::npos, c.error().message);
  }
}

TEST_CASE("without an algorithm, certbot's default HMAC-MD5 is used") {
  test::TempDir dir;
  std::string text =
      "dns_rfc2136_server = 192.0.2.53\ndns_rfc2136_name = k\n"
      "dns_rfc2136_secret = c2VjcmV0\n";
  auto c = load_credentials(write(dir, text, 0600));
  REQUIRE(c);
  CHECK(c->key.algorithm == "hmac-md5.sig-alg.reg.int.");
  CHECK(c->server.port == 53);
}
