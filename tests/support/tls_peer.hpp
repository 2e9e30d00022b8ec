// A TLS peer on 127.0.0.1 for tests of the post-reload TLS check: each connection is answered
// according to the chosen behaviour, including connections reset (RST, SO_LINGER 0) at each
// stage of the handshake. Header-only; needs OpenSSL. Every wait is bounded; stops in its
// destructor.
#pragma once

#include <doctest/doctest.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

namespace acmed::test {

class TlsPeer {
 public:
  enum class Behaviour {
    serve,                     // complete handshake with the certificate, then close_notify
    reset_on_accept,           // RST before reading anything
    reset_after_client_hello,  // read the ClientHello, then RST
    reset_after_handshake,     // complete the handshake, then RST
  };

  TlsPeer(Behaviour behaviour, const std::filesystem::path& cert, const std::filesystem::path& key)
      : m_behaviour(behaviour) {
    m_ctx = SSL_CTX_new(TLS_server_method());
    REQUIRE(m_ctx != nullptr);
    REQUIRE(SSL_CTX_use_certificate_chain_file(m_ctx, cert.c_str()) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey_file(m_ctx, key.c_str(), SSL_FILETYPE_PEM) == 1);
    m_listen = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
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
  ~TlsPeer() {
    m_stop = true;
    m_thread.join();
    ::close(m_listen);
    SSL_CTX_free(m_ctx);
  }
  TlsPeer(const TlsPeer&) = delete;
  TlsPeer& operator=(const TlsPeer&) = delete;

  int port() const { return m_port; }
  int connections() const { return m_connections; }

 private:
  static void reset(int fd) {
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
  }

  void run() {
    // This thread's own writes (to clients that went away) must not raise SIGPIPE in a test
    // that made it fatal.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    // Bounded: 50 ms polls checking the stop flag, at most 10 minutes in all.
    for (int round = 0; round < 12000 && !m_stop; ++round) {
      pollfd p{m_listen, POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) continue;
      int fd = ::accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++m_connections;
      timeval tv{2, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      answer(fd);
    }
  }

  void answer(int fd) {
    if (m_behaviour == Behaviour::reset_on_accept) return reset(fd);
    if (m_behaviour == Behaviour::reset_after_client_hello) {
      char buf[4096];
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 2000) == 1) (void)::recv(fd, buf, sizeof buf, 0);
      return reset(fd);
    }
    SSL* ssl = SSL_new(m_ctx);
    SSL_set_fd(ssl, fd);
    int ok = SSL_accept(ssl);
    if (ok == 1 && m_behaviour == Behaviour::serve) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
      ::close(fd);
    } else {
      SSL_free(ssl);
      reset(fd);
    }
    ERR_clear_error();
  }

  Behaviour m_behaviour;
  SSL_CTX* m_ctx = nullptr;
  int m_listen = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_connections{0};
  std::thread m_thread;
};

}  // namespace acmed::test
