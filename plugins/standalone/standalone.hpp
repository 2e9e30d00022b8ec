// The standalone authenticator: a small built-in HTTP server that answers http-01 challenges,
// and a TLS server that answers tls-alpn-01 ones, while they are being validated.
#pragma once

#include "acmed/challenge/authenticator.hpp"
#include "plugins/standalone/tls_alpn.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace acmed::plugins::standalone {

struct Options {
  std::string address;  // empty: every address (IPv6 dual-stack, else IPv4)
  int port = 80;
  std::string tls_alpn_address;  // the tls-alpn-01 listener (RFC 8737); empty: every address
  int tls_alpn_port = 443;
  bool tls_alpn_only = false;  // --tls-alpn-01: answer tls-alpn-01 and nothing else
};

class StandaloneAuthenticator final : public challenge::Authenticator {
 public:
  explicit StandaloneAuthenticator(Options options) : m_options(std::move(options)) {}
  ~StandaloneAuthenticator() override;

  std::string name() const override {
    return m_options.tls_alpn_only ? "tls-alpn-01" : "standalone";
  }
  std::vector<std::string> supported_types() const override {
    if (m_options.tls_alpn_only) return {"tls-alpn-01"};
    return {"http-01", "tls-alpn-01"};
  }
  // Starts the servers the tasks need (once) and adds the tasks' responses. Errc::conflict when
  // the port is taken.
  Status perform(std::span<const challenge::Task> tasks) override;
  // Stops the server. Idempotent.
  void cleanup(std::span<const challenge::Task> tasks) noexcept override;
  // The port actually listened on (useful with port 0); 0 when not running.
  int bound_port() const;

 private:
  Status start();
  void serve();
  std::string respond(const std::string& request);

  Options m_options;
  int m_listen_fd = -1;
  int m_wake_pipe[2] = {-1, -1};
  std::thread m_thread;
  std::mutex m_mutex;
  std::map<std::string, std::string> m_responses;  // "/.well-known/acme-challenge/TOKEN" -> body
  TlsAlpnServer m_tls;
};

}  // namespace acmed::plugins::standalone
