#include "acmed/doctor/doctor.hpp"

#include <doctest/doctest.h>

#include <map>

using namespace acmed;

namespace {

// A fake DNS for CAA: name -> records.
std::function<std::vector<std::string>(const std::string&)> zone(
    std::map<std::string, std::vector<std::string>> records, std::vector<std::string>* asked) {
  return [records = std::move(records), asked](const std::string& name) {
    if (asked) asked->push_back(name);
    auto it = records.find(name);
    return it == records.end() ? std::vector<std::string>{} : it->second;
  };
}

const std::vector<std::string> k_le{"letsencrypt.org"};

}  // namespace

TEST_CASE("CAA: no records anywhere up the tree permits every CA; the climb stops at the TLD") {
  std::vector<std::string> asked;
  auto v = doctor::check_caa("a.b.example.com", k_le, zone({}, &asked));
  CHECK(v.permitted);
  CHECK(v.where.empty());
  CHECK(asked ==
        std::vector<std::string>{"a.b.example.com", "b.example.com", "example.com", "com"});
}

TEST_CASE("CAA: the closest RRset applies, and only issue names count") {
  auto z = zone(
      {{"example.com", {"0 issue sectigo.com"}},
       {"b.example.com",
        {"0 issue letsencrypt.org; validationmethods=dns-01", "0 iodef mailto:x@example.com"}}},
      nullptr);
  auto v = doctor::check_caa("a.b.example.com", k_le, z);
  CHECK(v.permitted);
  CHECK(v.where == "b.example.com");
  auto w = doctor::check_caa("c.example.com", k_le, z);
  CHECK_FALSE(w.permitted);
  CHECK(w.where == "example.com");
  CHECK(w.records == std::vector<std::string>{"0 issue sectigo.com"});
}

TEST_CASE("CAA: issuewild governs wildcards; an empty issue value forbids every CA") {
  auto z = zone({{"example.com", {"0 issue letsencrypt.org", "0 issuewild ;"}}}, nullptr);
  CHECK(doctor::check_caa("www.example.com", k_le, z).permitted);
  CHECK_FALSE(doctor::check_caa("*.example.com", k_le, z).permitted);
  auto only_iodef = zone({{"example.com", {"0 iodef mailto:a@example.com"}}}, nullptr);
  CHECK(doctor::check_caa("example.com", k_le, only_iodef).permitted);
  auto none = zone({{"example.com", {"0 issue ;"}}}, nullptr);
  CHECK_FALSE(doctor::check_caa("example.com", k_le, none).permitted);
  CHECK_FALSE(
      doctor::check_caa("example.com", {}, zone({{"example.com", {"0 issue x.org"}}}, nullptr))
          .permitted);
  CHECK(doctor::check_caa("example.com", {"LetsEncrypt.org"},
                          zone({{"example.com", {"0 issue LETSENCRYPT.ORG"}}}, nullptr))
            .permitted);
}

TEST_CASE("the CAA identity of well-known ACME servers") {
  CHECK(doctor::caa_domain_of("https://acme-v02.api.letsencrypt.org/directory") ==
        "letsencrypt.org");
  CHECK(doctor::caa_domain_of("https://acme-staging-v02.api.letsencrypt.org/directory") ==
        "letsencrypt.org");
  CHECK(doctor::caa_domain_of("https://127.0.0.1:14000/dir").empty());
}

TEST_CASE("HTTP responses: status, Location, HSTS and body; garbage is status 0") {
  auto h = doctor::parse_http_response(
      "HTTP/1.1 301 Moved Permanently\r\nServer: nginx\r\nlocation: https://a.test/x\r\n"
      "Strict-Transport-Security:  max-age=63072000 \r\n\r\n<html>");
  CHECK(h.status == 301);
  CHECK(h.location == "https://a.test/x");
  CHECK(h.hsts == "max-age=63072000");
  CHECK(h.body == "<html>");
  CHECK(doctor::parse_http_response("").status == 0);
  CHECK(doctor::parse_http_response("SSH-2.0-OpenSSH\r\n\r\n").status == 0);
  CHECK(doctor::parse_http_response("HTTP/1.0 \r\n").status == 0);
}

TEST_CASE("the JSON of the findings is versioned and keeps every field") {
  std::vector<doctor::Finding> f{
      {"tls.chain", "a.test", doctor::Level::fail, "no chain", "serve fullchain.pem"}};
  auto j = doctor::findings_json(f);
  CHECK(j["version"] == 1);
  REQUIRE(j["checks"].size() == 1);
  CHECK(j["checks"][0] == nlohmann::json{{"id", "tls.chain"},
                                         {"name", "a.test"},
                                         {"status", "fail"},
                                         {"detail", "no chain"},
                                         {"fix", "serve fullchain.pem"}});
}

TEST_CASE("stapling: only an uncommented `on` counts, nginx's and apache's spelling") {
  CHECK(doctor::stapling_enabled("server {\n  ssl_stapling on;\n}"));
  CHECK(doctor::stapling_enabled("\tSSLUseStapling On\n"));
  CHECK(doctor::stapling_enabled("ssl_stapling   on ;"));
  CHECK_FALSE(doctor::stapling_enabled("# ssl_stapling on;\nssl_stapling off;"));
  CHECK_FALSE(doctor::stapling_enabled("ssl_stapling_verify on;"));
  CHECK_FALSE(doctor::stapling_enabled("  ssl_protocols TLSv1.2; # ssl_stapling on"));
  CHECK_FALSE(doctor::stapling_enabled(""));
}

TEST_CASE("expiry: warn inside the last third, fail there when renewal fails, fail when expired") {
  using namespace std::chrono_literals;
  sys::TimePoint nb{};
  sys::TimePoint na = nb + 90 * 24h;
  CHECK(doctor::expiry_level(nb, na, false, nb + 50 * 24h) == doctor::Level::ok);
  CHECK(doctor::expiry_level(nb, na, true, nb + 50 * 24h) == doctor::Level::ok);
  CHECK(doctor::expiry_level(nb, na, false, nb + 61 * 24h) == doctor::Level::warn);
  CHECK(doctor::expiry_level(nb, na, true, nb + 61 * 24h) == doctor::Level::fail);
  CHECK(doctor::expiry_level(nb, na, false, na) == doctor::Level::fail);
  // a 6-day certificate: the window is its last two days
  sys::TimePoint short_na = nb + 6 * 24h;
  CHECK(doctor::expiry_level(nb, short_na, false, nb + 3 * 24h) == doctor::Level::ok);
  CHECK(doctor::expiry_level(nb, short_na, false, nb + 5 * 24h) == doctor::Level::warn);
}
