#include "plugins/standalone/standalone.hpp"
#include "plugins/standalone/listen.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace acmed::plugins::standalone {

namespace {

constexpr std::size_t k_max_request = 8192;
constexpr auto k_client_timeout = std::chrono::seconds(10);
constexpr std::size_t k_max_clients = 64;

struct Client {
  int fd;
  std::string in;
  std::string out;
  std::chrono::steady_clock::time_point deadline;
};

}  // namespace

StandaloneAuthenticator::~StandaloneAuthenticator() { cleanup({}); }

int StandaloneAuthenticator::bound_port() const {
  if (m_listen_fd < 0) return 0;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

Status StandaloneAuthenticator::start() {
  ACMED_TRY(m_listen_fd, listen_socket(m_options.address, m_options.port, "--http-01-address"));
  if (::pipe2(m_wake_pipe, O_CLOEXEC) != 0) {
    ::close(m_listen_fd);
    m_listen_fd = -1;
    return Error(Errc::io, std::string("cannot create pipe: ") + std::strerror(errno));
  }
  m_thread = std::thread([this] { serve(); });
  return {};
}

Status StandaloneAuthenticator::perform(std::span<const challenge::Task> tasks) {
  std::vector<challenge::Task> tls;
  bool http = false;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& task : tasks) {
      if (task.type == "tls-alpn-01") {
        tls.push_back(task);
        continue;
      }
      if (task.type != "http-01") {
        return Error(Errc::internal, "standalone cannot answer a " + task.type + " challenge");
      }
      http = true;
      if (!challenge::token_is_safe(task.token)) {
        return Error(Errc::protocol, "the CA sent an unsafe challenge token for " + task.identifier);
      }
      m_responses["/.well-known/acme-challenge/" + task.token] = task.key_authorization;
    }
  }
  if (!tls.empty())
    ACMED_CHECK(m_tls.start(tls, m_options.tls_alpn_address, m_options.tls_alpn_port));
  if (http && m_listen_fd < 0) return start();
  return {};
}

void StandaloneAuthenticator::cleanup(std::span<const challenge::Task>) noexcept {
  if (m_thread.joinable()) {
    char c = 'x';
    [[maybe_unused]] auto n = ::write(m_wake_pipe[1], &c, 1);
    m_thread.join();
  }
  for (int* fd : {&m_listen_fd, &m_wake_pipe[0], &m_wake_pipe[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  m_tls.stop();
  std::lock_guard lock(m_mutex);
  m_responses.clear();
}

// Answers a GET or HEAD for a known challenge path with its key authorization, anything else
// with 404. Only the request line is looked at: HTTP/1.0 style, one request per connection.
std::string StandaloneAuthenticator::respond(const std::string& request) {
  auto line_end = request.find("\r\n");
  std::string line = request.substr(0, line_end);
  auto sp1 = line.find(' ');
  auto sp2 = line.find(' ', sp1 == std::string::npos ? 0 : sp1 + 1);
  std::string method = line.substr(0, sp1);
  std::string target =
      (sp1 == std::string::npos || sp2 == std::string::npos) ? "" : line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string body;
  bool found = false;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_responses.find(target);
    if ((method == "GET" || method == "HEAD") && it != m_responses.end()) {
      body = it->second;
      found = true;
    }
  }
  std::string head = found ? "HTTP/1.1 200 OK\r\n" : "HTTP/1.1 404 Not Found\r\n";
  if (!found) body = "not found\n";
  head += "Content-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\nConnection: close\r\nServer: acmed\r\n\r\n";
  return method == "HEAD" ? head : head + body;
}

void StandaloneAuthenticator::serve() {
  std::vector<Client> clients;
  for (;;) {
    std::vector<pollfd> fds;
    fds.push_back({m_wake_pipe[0], POLLIN, 0});
    fds.push_back({m_listen_fd, POLLIN, 0});
    for (const auto& c : clients) fds.push_back({c.fd, static_cast<short>(c.out.empty() ? POLLIN : POLLOUT), 0});
    int rc = ::poll(fds.data(), fds.size(), 500);
    if (rc < 0 && errno != EINTR) break;
    if (fds[0].revents) break;
    auto now = std::chrono::steady_clock::now();
    if ((fds[1].revents & POLLIN) && clients.size() < k_max_clients) {
      int cfd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (cfd >= 0) clients.push_back({cfd, {}, {}, now + k_client_timeout});
    }
    // fds[k + 2] belongs to clients[k] as they were before this round's accept.
    std::size_t polled = fds.size() - 2;
    std::vector<bool> finished(clients.size(), false);
    for (std::size_t k = 0; k < polled; ++k) {
      auto& c = clients[k];
      short ev = fds[k + 2].revents;
      bool done = now > c.deadline;
      if (!done && (ev & POLLIN) && c.out.empty()) {
        char buf[2048];
        ssize_t n = ::read(c.fd, buf, sizeof buf);
        if (n <= 0) {
          done = n == 0 || (errno != EAGAIN && errno != EINTR);
        } else {
          c.in.append(buf, static_cast<std::size_t>(n));
          if (c.in.find("\r\n\r\n") != std::string::npos || c.in.size() > k_max_request) {
            c.out = respond(c.in);
          }
        }
      } else if (!done && (ev & POLLOUT)) {
        ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n > 0) c.out.erase(0, static_cast<std::size_t>(n));
        done = n < 0 || c.out.empty();
      } else if (ev & (POLLERR | POLLHUP)) {
        done = true;
      }
      finished[k] = done;
    }
    std::size_t kept = 0;
    for (std::size_t k = 0; k < clients.size(); ++k) {
      if (k < finished.size() && finished[k]) {
        ::close(clients[k].fd);
      } else {
        if (kept != k) clients[kept] = std::move(clients[k]);
        ++kept;
      }
    }
    clients.resize(kept);
  }
  for (auto& c : clients) ::close(c.fd);
}

}  // namespace acmed::plugins::standalone
