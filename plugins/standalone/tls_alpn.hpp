// A built-in TLS server answering tls-alpn-01 (RFC 8737): for each expected name, a self-signed
// certificate with that name only and the critical acmeIdentifier extension holding the
// SHA-256 of the key authorization, served only to clients that offer ALPN "acme-tls/1".
#pragma once

#include "acmed/challenge/authenticator.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace acmed::plugins::standalone {

class TlsAlpnServer {
 public:
  TlsAlpnServer();
  ~TlsAlpnServer();
  TlsAlpnServer(const TlsAlpnServer&) = delete;
  TlsAlpnServer& operator=(const TlsAlpnServer&) = delete;

  // Makes the certificates for `tasks` (tls-alpn-01, dns identifiers) and starts listening on
  // address:port if not yet. Errc::conflict when the port is taken.
  Status start(std::span<const challenge::Task> tasks, const std::string& address, int port);
  // Stops listening and forgets the certificates. Idempotent.
  void stop() noexcept;
  int bound_port() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> m;
};

}  // namespace acmed::plugins::standalone
