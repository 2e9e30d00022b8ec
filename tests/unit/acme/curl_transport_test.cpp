// The libcurl transport (open_http_transport) against a small HTTP/1.1 server on 127.0.0.1 run by the test itself.
#include "acmed/acme/transport.hpp"

#include "support/loopback_server.hpp"

#include <doctest/doctest.h>

using namespace acmed;
using namespace acmed::acme;
using test::http_answer;
using test::LoopbackServer;
using test::Received;

namespace {

std::unique_ptr<Transport> make_transport(TransportOptions options = {}) {
  auto t = open_http_transport(std::move(options));
  REQUIRE_MESSAGE(t.ok(), t.error().describe());
  return std::move(*t);
}

}  // namespace

TEST_CASE("curl: the answer's status, headers (repeated Link too) and body come back") {
  LoopbackServer server([](const Received&) {
    return http_answer(
        200, "{\"ok\":true}",
        {"Content-Type: application/json", "Replay-Nonce: abc",
         "Link: <https://ca/a>;rel=\"alternate\"", "Link: <https://ca/b>;rel=\"alternate\""});
  });
  auto t = make_transport();
  auto r = t->request(HttpMethod::get, server.url("/dir"), {}, "");
  REQUIRE_MESSAGE(r.ok(), r.error().describe());
  CHECK(r->status == 200);
  CHECK(r->body == "{\"ok\":true}");
  CHECK(r->headers.get("replay-nonce") == "abc");
  CHECK(r->headers.get_all("Link").size() == 2);
  auto got = server.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].head.rfind("GET /dir HTTP/1.1", 0) == 0);
  CHECK(got[0].head.find("User-Agent: acmed/" ACMED_VERSION) != std::string::npos);
  CHECK(t->stats().requests == 1);
}

TEST_CASE("curl: one connection is kept alive for consecutive requests of every method") {
  LoopbackServer server(
      [](const Received&) { return http_answer(200, "x", {"Content-Type: text/plain"}); });
  auto t = make_transport();
  HttpHeaders jose;
  jose.add("Content-Type", "application/jose+json");
  REQUIRE(t->request(HttpMethod::head, server.url("/nonce"), {}, "").ok());
  REQUIRE(t->request(HttpMethod::post, server.url("/order"), jose, "{\"a\":1}").ok());
  REQUIRE(t->request(HttpMethod::post, server.url("/order"), jose, "").ok());
  REQUIRE(t->request(HttpMethod::get, server.url("/dir"), {}, "").ok());
  CHECK(server.connections() == 1);
  auto got = server.received();
  REQUIRE(got.size() == 4);
  CHECK(got[0].head.rfind("HEAD /nonce", 0) == 0);
  CHECK(got[1].head.rfind("POST /order", 0) == 0);
  CHECK(got[1].head.find("Content-Type: application/jose+json") != std::string::npos);
  CHECK(got[1].body == "{\"a\":1}");
  CHECK(got[2].head.find("Content-Length: 0") != std::string::npos);
  CHECK(got[3].head.rfind("GET /dir", 0) == 0);
}

TEST_CASE("curl: redirects are returned as they are, never followed") {
  LoopbackServer server([](const Received&) {
    return http_answer(301, "", {"Location: http://127.0.0.1:1/elsewhere"});
  });
  auto t = make_transport();
  auto r = t->request(HttpMethod::get, server.url("/dir"), {}, "");
  REQUIRE(r.ok());
  CHECK(r->status == 301);
  CHECK(server.received().size() == 1);
}

TEST_CASE("curl: a JSON answer over the JSON cap is cut off as a network error") {
  LoopbackServer server([](const Received& r) {
    const bool json = r.head.find("/json") != std::string::npos;
    return http_answer(200, std::string(4000, 'a'),
                       {json ? "Content-Type: application/json" : "Content-Type: text/plain"});
  });
  TransportOptions options;
  options.max_json_body = 1000;
  options.max_body = 5000;
  auto t = make_transport(options);
  auto r = t->request(HttpMethod::get, server.url("/json"), {}, "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::network);
  CHECK(r.error().message.find("larger than 1000 bytes") != std::string::npos);
  CHECK(r.error().message.find(server.url("/json")) != std::string::npos);
  auto pem = t->request(HttpMethod::get, server.url("/pem"), {}, "");
  REQUIRE_MESSAGE(pem.ok(), pem.error().describe());
  CHECK(pem->body.size() == 4000);
  options.max_body = 3000;
  auto small = make_transport(options);
  CHECK_FALSE(small->request(HttpMethod::get, server.url("/pem"), {}, "").ok());
}

TEST_CASE("curl: a server that never answers hits the total timeout") {
  LoopbackServer server([](const Received&) { return std::string(); });
  TransportOptions options;
  options.total_timeout = std::chrono::milliseconds(300);
  auto t = make_transport(options);
  const auto start = std::chrono::steady_clock::now();
  auto r = t->request(HttpMethod::get, server.url("/slow"), {}, "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::network);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("curl: a refused connection is a network error naming the URL") {
  std::string url;
  {
    LoopbackServer server([](const Received&) { return std::string(); });
    url = server.url("/dir");
  }  // closed: nothing listens on that port any more
  auto t = make_transport();
  auto r = t->request(HttpMethod::get, url, {}, "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::network);
  CHECK(r.error().message.find(url) != std::string::npos);
}

TEST_CASE("curl: plain http to a non-loopback host is refused before connecting") {
  auto t = make_transport();
  auto r = t->request(HttpMethod::get, "http://example.com/dir", {}, "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::protocol);
  CHECK(t->stats().requests == 0);
}

TEST_CASE("curl: an unreadable CA bundle is reported when the transport is created") {
  TransportOptions options;
  options.ca_bundle = "/nonexistent/acmed-test/ca.pem";
  auto t = open_http_transport(options);
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().code == Errc::io);
  CHECK(t.error().message.find("/nonexistent/acmed-test/ca.pem") != std::string::npos);
}
