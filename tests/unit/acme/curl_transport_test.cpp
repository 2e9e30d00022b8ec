// The libcurl transport (open_http_transport) against a small HTTP/1.1 server on 127.0.0.1 run by the test itself.
#include "acmed/acme/transport.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

using namespace acmed;
using namespace acmed::acme;

namespace {

struct Received {
  std::string head;  // request line and header fields
  std::string body;
};

// Serves one scripted answer per request, keeping connections alive. Stops in its destructor.
class LoopbackServer {
 public:
  using Handler = std::function<std::string(const Received&)>;

  explicit LoopbackServer(Handler handler) : m_handler(std::move(handler)) {
    m_listen = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(m_listen >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(m_listen, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(m_listen, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    m_port = ntohs(addr.sin_port);
    REQUIRE(::listen(m_listen, 8) == 0);
    m_thread = std::thread([this] { run(); });
  }
  ~LoopbackServer() {
    m_stop = true;
    m_thread.join();
    ::close(m_listen);
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(m_port) + path;
  }
  int connections() const { return m_connections; }
  std::vector<Received> received() {
    std::lock_guard lock(m_mutex);
    return m_received;
  }

 private:
  // Bounded: every wait is a 50 ms poll that checks the stop flag.
  bool wait_readable(int fd) {
    while (!m_stop) {
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, 50);
      if (r > 0) return true;
      if (r < 0) return false;
    }
    return false;
  }

  void run() {
    while (wait_readable(m_listen)) {
      int fd = ::accept(m_listen, nullptr, nullptr);
      if (fd < 0) continue;
      ++m_connections;
      serve(fd);
      ::close(fd);
    }
  }

  void serve(int fd) {
    std::string buffer;
    while (true) {
      auto end = buffer.find("\r\n\r\n");
      while (end == std::string::npos) {
        if (!wait_readable(fd)) return;
        char chunk[4096];
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(n));
        end = buffer.find("\r\n\r\n");
      }
      Received r;
      r.head = buffer.substr(0, end);
      buffer.erase(0, end + 4);
      std::size_t length = 0;
      auto cl = r.head.find("Content-Length: ");
      if (cl != std::string::npos) length = std::stoul(r.head.substr(cl + 16));
      while (buffer.size() < length) {
        if (!wait_readable(fd)) return;
        char chunk[4096];
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
      r.body = buffer.substr(0, length);
      buffer.erase(0, length);
      {
        std::lock_guard lock(m_mutex);
        m_received.push_back(r);
      }
      std::string answer = m_handler(r);
      if (answer.empty()) {  // "hang": say nothing until the client gives up
        while (wait_readable(fd)) {
          char c;
          if (::read(fd, &c, 1) <= 0) return;
        }
        return;
      }
      std::size_t sent = 0;
      while (sent < answer.size()) {
        ssize_t n = ::send(fd, answer.data() + sent, answer.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return;
        sent += static_cast<std::size_t>(n);
      }
    }
  }

  Handler m_handler;
  int m_listen = -1;
  int m_port = 0;
  std::thread m_thread;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_connections{0};
  std::mutex m_mutex;
  std::vector<Received> m_received;
};

std::string http_answer(int status, const std::string& body,
                        const std::vector<std::string>& fields = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
  for (const auto& f : fields) out += f + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return out;
}

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
