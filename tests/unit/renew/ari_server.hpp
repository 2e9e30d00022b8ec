// A scripted ACME directory for ARI tests (Pebble has no renewalInfo): plain HTTP on 127.0.0.1,
// one request per connection. GET /dir answers a directory whose renewalInfo points back here
// (or none, with_ari = false); GET /ari/<cert id> answers whatever `answer` returns.
#pragma once

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace acmed::test {

struct HttpAnswer {
  int status = 200;
  std::string body;
  std::vector<std::string> headers;  // "Retry-After: 3600"
};

class AriDirectoryServer {
 public:
  std::function<HttpAnswer(const std::string& cert_id)> answer;
  bool with_ari = true;

  AriDirectoryServer() {
    m_listen = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(m_listen >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(m_listen, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(m_listen, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    m_port = ntohs(addr.sin_port);
    REQUIRE(::listen(m_listen, 16) == 0);
    m_thread = std::thread([this] { run(); });
  }
  ~AriDirectoryServer() {
    m_stop = true;
    m_thread.join();
    ::close(m_listen);
  }
  AriDirectoryServer(const AriDirectoryServer&) = delete;
  AriDirectoryServer& operator=(const AriDirectoryServer&) = delete;

  std::string base() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  std::string directory_url() const { return base() + "/dir"; }
  // Request targets received so far ("/dir", "/ari/xyz").
  std::vector<std::string> paths() {
    std::lock_guard lock(m_mutex);
    return m_paths;
  }
  std::size_t ari_requests() {
    std::size_t n = 0;
    for (const auto& p : paths()) n += p.rfind("/ari/", 0) == 0;
    return n;
  }

 private:
  bool readable(int fd) {
    for (int i = 0; i < 200 && !m_stop; ++i) {  // at most 10 s per wait
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, 50);
      if (r > 0) return true;
      if (r < 0) return false;
    }
    return false;
  }

  void run() {
    while (!m_stop) {
      pollfd p{m_listen, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept(m_listen, nullptr, nullptr);
      if (fd < 0) continue;
      serve(fd);
      ::close(fd);
    }
  }

  void serve(int fd) {
    std::string request;
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
      if (!readable(fd)) return;
      char buf[4096];
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) return;
      request.append(buf, static_cast<std::size_t>(n));
    }
    auto sp1 = request.find(' ');
    auto sp2 = request.find(' ', sp1 + 1);
    std::string path = request.substr(sp1 + 1, sp2 - sp1 - 1);
    {
      std::lock_guard lock(m_mutex);
      m_paths.push_back(path);
    }
    HttpAnswer a;
    if (path == "/dir") {
      std::string b = base();
      a.body = "{\"newNonce\":\"" + b + "/nonce\",\"newAccount\":\"" + b +
               "/account\",\"newOrder\":\"" + b + "/order\"" +
               (with_ari ? ",\"renewalInfo\":\"" + b + "/ari/\"" : std::string()) + "}";
    } else if (path.rfind("/ari/", 0) == 0 && answer) {
      a = answer(path.substr(5));
    } else {
      a.status = 404;
      a.body = "{\"type\":\"about:blank\"}";
    }
    std::string out = "HTTP/1.1 " + std::to_string(a.status) + " X\r\nContent-Type: application/json\r\n";
    for (const auto& h : a.headers) out += h + "\r\n";
    out += "Content-Length: " + std::to_string(a.body.size()) + "\r\nConnection: close\r\n\r\n" + a.body;
    std::size_t sent = 0;
    while (sent < out.size()) {
      ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  }

  int m_listen = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
  std::mutex m_mutex;
  std::vector<std::string> m_paths;
};

}  // namespace acmed::test
