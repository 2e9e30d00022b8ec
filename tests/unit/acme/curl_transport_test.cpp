// The libcurl transport (open_http_transport) against a small HTTP/1.1 server on 127.0.0.1 run by
// the test itself.
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

TEST_CASE("curl: an unreadable TLS client certificate or key is reported at creation") {
  TransportOptions cert;
  cert.client_cert = "/nonexistent/acmed-test/client.pem";
  auto t = open_http_transport(cert);
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().code == Errc::io);
  CHECK(t.error().message ==
        "cannot read the TLS client certificate /nonexistent/acmed-test/client.pem");
  TransportOptions key;
  key.client_cert = "/dev/null";  // readable
  key.client_key = "/nonexistent/acmed-test/client.key";
  auto k = open_http_transport(key);
  REQUIRE_FALSE(k.ok());
  CHECK(k.error().code == Errc::io);
  CHECK(k.error().message == "cannot read the TLS client key /nonexistent/acmed-test/client.key");
  TransportOptions key_only;
  key_only.client_key = "/dev/null";
  CHECK(open_http_transport(key_only).error().code == Errc::usage);
}

// --- URL policy on real connections (acme/url_policy.hpp) -----------------------------------

namespace {

UrlPolicy policy_for(const std::string& directory) {
  auto p = UrlPolicy::for_directory(directory);
  REQUIRE_MESSAGE(p.ok(), p.error().describe());
  return std::move(*p);
}

std::string port_of(const LoopbackServer& server) {
  const std::string url = server.url("");
  return url.substr(url.rfind(':') + 1);
}

}  // namespace

TEST_CASE("curl: from a public CA, a name that resolves to loopback is never connected to") {
  LoopbackServer server([](const Received&) { return http_answer(200, "{}"); });
  auto t = make_transport();
  t->set_url_policy(policy_for("https://ca.example/dir"));
  // "localhost" is a name, not an address: the check is on what it resolves to.
  for (const std::string& url : {"https://localhost:" + port_of(server) + "/acme/new-order",
                                 "https://127.0.0.1:" + port_of(server) + "/acme/new-order"}) {
    auto r = t->request(HttpMethod::post, url, {}, "{}");
    REQUIRE_FALSE_MESSAGE(r.ok(), url);
    CHECK(r.error().code == Errc::protocol);
    CHECK(r.error().message.find("a loopback address") != std::string::npos);
    CHECK(r.error().message.find(url) != std::string::npos);
  }
  CHECK(server.connections() == 0);
  CHECK(server.received().empty());
}

TEST_CASE("curl: from an https directory a plain http URL is refused before connecting") {
  LoopbackServer server([](const Received&) { return http_answer(200, "{}"); });
  auto t = make_transport();
  t->set_url_policy(policy_for("https://127.0.0.1:1/dir"));  // loopback, but https
  auto r = t->request(HttpMethod::get, server.url("/acme/x"), {}, "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::protocol);
  CHECK(r.error().message.find("https://, so every URL") != std::string::npos);
  CHECK(server.connections() == 0);
  CHECK(t->stats().requests == 0);
}

TEST_CASE("curl: an http loopback directory reaches its own origin, and only that over http") {
  LoopbackServer server([](const Received&) { return http_answer(200, "{}"); });
  LoopbackServer other([](const Received&) { return http_answer(200, "{}"); });
  auto t = make_transport();
  t->set_url_policy(policy_for(server.url("/dir")));
  auto ok = t->request(HttpMethod::get, server.url("/acme/x"), {}, "");
  REQUIRE_MESSAGE(ok.ok(), ok.error().describe());
  CHECK(ok->status == 200);
  auto refused = t->request(HttpMethod::get, other.url("/acme/x"), {}, "");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("directory's own origin") != std::string::npos);
  CHECK(other.connections() == 0);
}

// --- time bounds ------------------------------------------------------------------------------
// The bounds asserted here are ceilings far above the configured limits (the machine may be
// busy); they only fail when a limit does not apply at all.

TEST_CASE("curl: a body trickled slower than the low-speed limit is cut") {
  LoopbackServer server([](const Received&) { return http_answer(200, std::string(2000, 'x')); },
                        test::Pacing{1, std::chrono::milliseconds(200)});  // 5 bytes a second
  TransportOptions options;
  options.low_speed_time = std::chrono::seconds(2);  // the default is 10 s
  auto t = make_transport(options);
  const auto start = std::chrono::steady_clock::now();
  auto r = t->request(HttpMethod::get, server.url("/dir"), {}, "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::network);
  CHECK(r.error().message.find("too slow") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
}

TEST_CASE("curl: a server that stalls before its headers is cut by the low-speed limit too") {
  LoopbackServer server([](const Received&) { return std::string(); });
  TransportOptions options;
  options.low_speed_time = std::chrono::seconds(2);
  auto t = make_transport(options);
  auto r = t->request(HttpMethod::get, server.url("/dir"), {}, "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("too slow") != std::string::npos);
}

TEST_CASE("curl: the caller's time limit cuts a request before total_timeout") {
  LoopbackServer server([](const Received&) { return std::string(); });
  TransportOptions options;
  options.low_speed_time = std::chrono::seconds(600);  // out of the way
  auto t = make_transport(options);                    // total_timeout: 60 s
  t->set_time_limit(std::chrono::milliseconds(500));
  const auto start = std::chrono::steady_clock::now();
  auto r = t->request(HttpMethod::get, server.url("/dir"), {}, "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::network);
  CHECK(r.error().message.find("timed out") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));

  t->set_time_limit(std::chrono::milliseconds(0));  // nothing left: not even sent
  const int before = server.connections();
  auto none = t->request(HttpMethod::get, server.url("/dir"), {}, "");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message.find("no time left") != std::string::npos);
  CHECK(server.connections() == before);
}
