#include "acmed/acme/messages.hpp"
#include "acmed/acme/transport.hpp"

#include <doctest/doctest.h>

using namespace acmed;
using namespace acmed::acme;
using nlohmann::json;
using std::chrono::seconds;

TEST_CASE("a directory with every optional member is read completely") {
  json j = json::parse(R"({
    "newNonce": "https://ca/nonce", "newAccount": "https://ca/acct", "newOrder": "https://ca/order",
    "revokeCert": "https://ca/revoke", "keyChange": "https://ca/key", "renewalInfo": "https://ca/ari",
    "meta": {"termsOfService": "https://ca/tos", "website": "https://ca",
             "caaIdentities": ["ca.example"], "externalAccountRequired": true,
             "profiles": {"classic": "90 days", "tlsserver": "for servers"}}})");
  auto d = Directory::from_json(j, "https://ca/dir");
  REQUIRE(d.ok());
  CHECK(d->new_nonce == "https://ca/nonce");
  CHECK(d->renewal_info == "https://ca/ari");
  CHECK(d->meta.terms_of_service == "https://ca/tos");
  CHECK(d->meta.caa_identities == std::vector<std::string>{"ca.example"});
  CHECK(d->meta.external_account_required);
  CHECK(d->meta.profiles.size() == 2);
  CHECK(d->meta.profiles.at("tlsserver") == "for servers");
}

TEST_CASE("JSON that lacks the required directory URLs is not an ACME directory") {
  for (const char* text :
       {R"({"newNonce": "https://ca/n", "newAccount": "https://ca/a"})",
        R"({"newNonce": 1, "newAccount": "x", "newOrder": "y"})", R"([1,2])", R"("directory")"}) {
    auto d = Directory::from_json(json::parse(text), "https://ca/dir");
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().code == Errc::protocol);
    CHECK(d.error().message == "https://ca/dir is not an ACME directory");
  }
}

TEST_CASE("a directory whose meta has members of the wrong type is a protocol error") {
  json j{{"newNonce", "a"},
         {"newAccount", "b"},
         {"newOrder", "c"},
         {"meta", {{"caaIdentities", "ca.example"}}}};
  auto d = Directory::from_json(j, "https://ca/dir");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == Errc::protocol);
  CHECK(d.error().message.find("caaIdentities") != std::string::npos);
}

TEST_CASE("orders, authorizations and challenges of the wrong shape are errors, not crashes") {
  CHECK(Order::from_json(json{{"status", 5}}, "https://ca/o").error().code == Errc::protocol);
  CHECK(Order::from_json(json::array(), "https://ca/o").error().code == Errc::protocol);
  json order{{"status", "pending"},
             {"identifiers", "example.com"},
             {"authorizations", json::array()},
             {"finalize", "https://ca/f"}};
  CHECK(Order::from_json(order, "https://ca/o").error().code == Errc::protocol);
  json authz{{"status", "pending"},
             {"identifier", {{"type", "dns"}, {"value", "example.com"}}},
             {"challenges", json::array({{{"type", "http-01"}, {"status", "pending"}}})}};
  auto a = Authorization::from_json(authz, "https://ca/a");
  REQUIRE_FALSE(a.ok());
  CHECK(a.error().message.find("\"url\"") != std::string::npos);
  authz["challenges"] = "none";
  CHECK(Authorization::from_json(authz, "https://ca/a").error().code == Errc::protocol);
  CHECK(Account::from_json(json{{"status", true}}, "https://ca/acct/1").error().code ==
        Errc::protocol);
}

TEST_CASE("a rateLimited problem becomes rate_limited and carries Retry-After") {
  json doc{{"type", "urn:ietf:params:acme:error:rateLimited"},
           {"detail", "too many certificates for example.com"},
           {"status", 429}};
  Error e = problem_to_error(*Problem::from_json(doc), seconds(3600));
  CHECK(e.code == Errc::rate_limited);
  CHECK(e.message.find("too many certificates") != std::string::npos);
  CHECK(e.hint.find("3600 seconds") != std::string::npos);
  REQUIRE(retry_after(e).has_value());
  CHECK(*retry_after(e) == seconds(3600));
  CHECK(e.problem->at("type") == doc["type"]);
}

TEST_CASE("subproblems are rendered with the identifier each one is about") {
  json doc = json::parse(R"({
    "type": "urn:ietf:params:acme:error:rejectedIdentifier",
    "detail": "some names were refused",
    "subproblems": [
      {"type": "urn:ietf:params:acme:error:rejectedIdentifier", "detail": "blocked by policy",
       "identifier": {"type": "dns", "value": "bank.example"}},
      {"type": "urn:ietf:params:acme:error:caa", "detail": "CAA forbids issuance",
       "identifier": {"type": "dns", "value": "shop.example"}}]})");
  Error e = problem_to_error(*Problem::from_json(doc));
  CHECK(e.code == Errc::ca_problem);
  CHECK(e.message.find("bank.example: blocked by policy") != std::string::npos);
  CHECK(e.message.find("shop.example: CAA forbids issuance") != std::string::npos);
  CHECK(e.hint.find("remove it") != std::string::npos);
  CHECK_FALSE(retry_after(e).has_value());
}

TEST_CASE("common problem types get a hint saying what to do next") {
  auto hint = [](const std::string& type) {
    json doc{{"type", "urn:ietf:params:acme:error:" + type}, {"detail", "x"}};
    return problem_to_error(*Problem::from_json(doc)).hint;
  };
  CHECK(hint("unauthorized").find("port 80") != std::string::npos);
  CHECK(hint("connection").find("port 80") != std::string::npos);
  CHECK(hint("incorrectResponse").find("points") != std::string::npos);
  CHECK(hint("dns").find("DNS records") != std::string::npos);
  CHECK(hint("caa").find("CAA") != std::string::npos);
  CHECK(hint("externalAccountRequired").find("--eab-kid") != std::string::npos);
  CHECK(hint("badCSR").find("key type") != std::string::npos);
  json uar{{"type", "urn:ietf:params:acme:error:userActionRequired"},
           {"instance", "https://ca/tos-v2"}};
  CHECK(problem_to_error(*Problem::from_json(uar)).hint.find("https://ca/tos-v2") !=
        std::string::npos);
  CHECK(problem_to_error(*Problem::from_json(uar)).code == Errc::ca_problem);
  json nonce{{"type", "urn:ietf:params:acme:error:badNonce"}};
  CHECK(problem_to_error(*Problem::from_json(nonce)).code == Errc::bad_nonce);
}

TEST_CASE("Retry-After is read as seconds or as an HTTP date") {
  using namespace std::chrono;
  const sys_seconds now = sys_days{year{2026} / 11 / 26} + hours(12);
  CHECK(parse_retry_after("120", now) == seconds(120));
  CHECK(parse_retry_after(" 0 ", now) == seconds(0));
  CHECK(parse_retry_after("Thu, 26 Nov 2026 12:01:30 GMT", now) == seconds(90));
  CHECK(parse_retry_after("Thu, 26 Nov 2026 11:00:00 GMT", now) == seconds(0));
  CHECK_FALSE(parse_retry_after("-5", now).has_value());
  CHECK_FALSE(parse_retry_after("12abc", now).has_value());
  CHECK_FALSE(parse_retry_after("tomorrow", now).has_value());
  CHECK_FALSE(parse_retry_after("", now).has_value());
}

TEST_CASE("Link fields are split into targets by relation type") {
  std::vector<std::string> fields{
      "<https://ca/dir>;rel=\"index\"",
      "<https://ca/cert/1/1>;rel=\"alternate\", <https://ca/cert/1/2>; rel=alternate",
      "<https://ca/x>;rel=\"up alternate\""};
  CHECK(link_targets(fields, "alternate") ==
        std::vector<std::string>{"https://ca/cert/1/1", "https://ca/cert/1/2", "https://ca/x"});
  CHECK(link_targets(fields, "index") == std::vector<std::string>{"https://ca/dir"});
  CHECK(link_targets({"garbage", "<unterminated"}, "alternate").empty());
}

TEST_CASE("relative Location and Link targets resolve against the request URL") {
  CHECK(resolve_url("https://ca/acme/order", "/acme/order/7") == "https://ca/acme/order/7");
  CHECK(resolve_url("https://ca/acme/cert/1", "1/alt") == "https://ca/acme/cert/1/alt");
  CHECK(resolve_url("https://ca/a", "https://other/b") == "https://other/b");
}

TEST_CASE("header lookup ignores case and keeps repeated fields") {
  HttpHeaders h;
  h.add("Link", "<a>;rel=alternate");
  h.add("replay-nonce", "abc");
  h.add("LINK", "<b>;rel=alternate");
  CHECK(h.get("Replay-Nonce") == "abc");
  CHECK(h.get_all("link") == std::vector<std::string>{"<a>;rel=alternate", "<b>;rel=alternate"});
  CHECK_FALSE(h.get("Location").has_value());
}

TEST_CASE("a Retry-After beyond a year is cut to a year") {
  using namespace std::chrono;
  const sys_seconds now = sys_days{year{2026} / 11 / 26};
  CHECK(parse_retry_after("9223372036854775807", now) == seconds(365LL * 24 * 3600));
  CHECK(parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT", now) == seconds(365LL * 24 * 3600));
}
