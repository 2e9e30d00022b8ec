// The post-reload TLS check shared by the web-server installers: after a reload, which
// certificate does the server really serve for a name, on the installer's own HTTPS address and
// port? Also the plain-HTTP self-probe the http-01 authenticators use after a reload.
//
// Every function here is safe against a peer that resets the connection: SIGPIPE is blocked
// while acmed writes to the socket (acmed also ignores it in main), so a reset is an
// Errc::network error, never the death of a root process in the middle of a transaction.
#pragma once

#include "acmed/util/result.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::plugins::webconf {

// DER of the first certificate in the PEM file `path`. Errc::crypto / Errc::io.
Result<std::string> leaf_der_from_pem_file(const std::filesystem::path& path);

// DER of the leaf certificate served by a TLS handshake with `address`:`port` and SNI `name`
// (the chain is not verified: the caller compares bytes). Errc::network on failure.
Result<std::string> served_leaf_der(const std::string& address, int port, const std::string& name,
                                    std::chrono::milliseconds timeout);

// The raw response (status line, headers, body; at most 64 KiB) to "GET `path` HTTP/1.0" with
// Host `host` sent to `address`:`port`. A loopback self-check of what the server answers after a
// reload, not an HTTP client: no TLS, no redirects, nothing but the bytes. Errc::network.
Result<std::string> probe_http(const std::string& address, int port, const std::string& host,
                               const std::string& path, std::chrono::milliseconds timeout);

// One TLS handshake as a diagnosis needs it (acmed doctor): which protocol versions and ALPN
// protocols to offer, and, optionally, one HTTP/1.1 request over the connection.
struct TlsProbe {
  std::string address;  // numeric
  int port = 443;
  std::string sni;
  std::chrono::milliseconds timeout{5000};
  int min_version = 0;  // TLS1_VERSION ... TLS1_3_VERSION (OpenSSL's numbers); 0: library default
  int max_version = 0;
  // Offer old protocols too: TLS 1.0/1.1 need OpenSSL's security level 0 on this client only.
  bool allow_legacy = false;
  std::vector<std::string> alpn;      // offered, in order ("h2", "http/1.1"); empty: no ALPN
  bool verify = true;                 // verify the chain (loading the system's roots costs)
  std::filesystem::path extra_roots;  // PEM roots trusted besides the system's (may be empty)
  std::string http_path;              // non-empty: GET it and keep the response
};

struct TlsSession {
  std::string protocol;                // "TLSv1.3"
  std::string alpn;                    // negotiated, or empty
  std::vector<std::string> chain_der;  // as served: the leaf first
  bool verified = false;               // the chain verifies to a trusted root and names `sni`
  std::string verify_error;            // OpenSSL's reason when not verified
  std::string response;                // raw HTTP response (at most 1 MiB) when http_path was set
};

// Errc::network when the connection or the handshake fails (a refused protocol version is such
// a failure); the chain is verified but never required to verify.
Result<TlsSession> tls_handshake(const TlsProbe& probe);

// Hex SHA-256 of a DER certificate, for messages.
std::string der_fingerprint(std::string_view der);

// Where to connect to see what a server serves on its HTTPS port: the first numeric address
// among `listen_hosts` (the host parts of the matching listen/VirtualHost addresses: "*",
// "[::]", "_default_", "192.0.2.1", "[::1]", names), or `fallback` when the server listens on
// all addresses, on names only, or nothing was found.
std::string check_address(const std::vector<std::string>& listen_hosts,
                          const std::string& fallback);

struct TlsCheck {
  std::string server;                    // "nginx", "apache": names the server in messages
  std::string address;                   // numeric address to connect to
  int port = 443;                        // the installer's HTTPS port
  std::chrono::milliseconds wait{5000};  // a reload takes effect asynchronously
};

// Ok when `check.address`:`check.port` serves the leaf certificate of `fullchain` for SNI
// `name`, asking again every 100 ms until `check.wait` has passed. Errc::server naming the name,
// address, port and what was served (or the network error) otherwise. Idempotent.
Status check_served(const TlsCheck& check, const std::string& name,
                    const std::filesystem::path& fullchain);

}  // namespace acmed::plugins::webconf
