#include "plugins/standalone/listen.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace acmed::plugins::standalone {

Result<int> listen_socket(const std::string& address, int port, std::string_view flag) {
  auto fail = [&](const std::string& what, int err) {
    std::string where = (address.empty() ? "*" : address) + ":" + std::to_string(port);
    if (err == EADDRINUSE) {
      return Error(Errc::conflict, "cannot listen on " + where + ": the port is already in use",
                   "stop the program using it (a web server?) or use --webroot or --nginx instead");
    }
    if (err == EACCES) {
      return Error(Errc::conflict, "cannot listen on " + where + ": permission denied",
                   "ports below 1024 need root (run acmed as root)");
    }
    return Error(Errc::io, what + " " + where + ": " + std::strerror(err));
  };
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET6;
  if (address.empty()) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    a6->sin6_family = AF_INET6;
    a6->sin6_addr = in6addr_any;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in6);
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (::inet_pton(AF_INET, address.c_str(), &a4->sin_addr) == 1) {
      family = AF_INET;
      a4->sin_family = AF_INET;
      a4->sin_port = htons(static_cast<uint16_t>(port));
      len = sizeof(sockaddr_in);
    } else if (::inet_pton(AF_INET6, address.c_str(), &a6->sin6_addr) == 1) {
      a6->sin6_family = AF_INET6;
      a6->sin6_port = htons(static_cast<uint16_t>(port));
      len = sizeof(sockaddr_in6);
    } else {
      return Error(Errc::usage,
                   std::string(flag) + " must be an IP address, not '" + address + "'");
    }
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0 && address.empty()) {  // no IPv6 on this machine: fall back to IPv4
    family = AF_INET;
    ss = {};
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    a4->sin_family = AF_INET;
    a4->sin_addr.s_addr = htonl(INADDR_ANY);
    a4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in);
    fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  }
  if (fd < 0) return fail("cannot create a socket for", errno);
  int one = 1, zero = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6 && address.empty()) {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 64) != 0) {
    int err = errno;
    ::close(fd);
    return fail("cannot listen on", err);
  }
  return fd;
}

}  // namespace acmed::plugins::standalone
