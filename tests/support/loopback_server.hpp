// A scripted HTTP/1.1 server on 127.0.0.1 for tests of acmed's HTTP client: each request is
// answered with whatever the handler returns (raw HTTP); connections are kept alive unless the
// answer says "Connection: close"; every wait is bounded (50 ms polls that check the stop flag).
// With a Pacing, answers are trickled: `chunk` bytes every `interval` (a slow or stalling CA).
// Stops in its destructor.
#pragma once

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace acmed::test {

struct Received {
  std::string head;  // request line and header fields
  std::string body;
};

struct Pacing {
  std::size_t chunk = 0;  // 0: each answer at once
  std::chrono::milliseconds interval{0};
};

class LoopbackServer {
 public:
  using Handler = std::function<std::string(const Received&)>;

  explicit LoopbackServer(Handler handler, Pacing pacing = {})
      : m_handler(std::move(handler)), m_pacing(pacing) {
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
  // Waits `total`, in 50 ms polls that check the stop flag; false when stopping or the peer
  // hung up meanwhile.
  bool pause(int fd, std::chrono::milliseconds total) {
    for (auto left = total; left.count() > 0 && !m_stop; left -= std::chrono::milliseconds(50)) {
      pollfd p{fd, POLLIN, 0};
      const int ms = static_cast<int>(std::min<long>(left.count(), 50));
      if (::poll(&p, 1, ms) > 0) {
        char c;
        if (::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) return false;  // closed
      }
    }
    return !m_stop;
  }

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
        if (m_pacing.chunk != 0 && sent != 0 && !pause(fd, m_pacing.interval)) return;
        const std::size_t want = m_pacing.chunk != 0
                                     ? std::min(m_pacing.chunk, answer.size() - sent)
                                     : answer.size() - sent;
        ssize_t n = ::send(fd, answer.data() + sent, want, MSG_NOSIGNAL);
        if (n <= 0) return;
        sent += static_cast<std::size_t>(n);
      }
      // One connection is served at a time: an answer saying "Connection: close" ends it, so
      // that a second client (another transport) is not left waiting behind a kept-alive one.
      if (answer.substr(0, answer.find("\r\n\r\n")).find("\r\nConnection: close\r\n") !=
          std::string::npos)
        return;
    }
  }

  Handler m_handler;
  Pacing m_pacing;
  int m_listen = -1;
  int m_port = 0;
  std::thread m_thread;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_connections{0};
  std::mutex m_mutex;
  std::vector<Received> m_received;
};

inline std::string http_answer(int status, const std::string& body,
                               const std::vector<std::string>& fields = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
  for (const auto& f : fields) out += f + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return out;
}

}  // namespace acmed::test
