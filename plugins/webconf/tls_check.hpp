// After a reload: which certificate does the server really serve for a name?
#pragma once

#include "acmed/util/result.hpp"

#include <chrono>
#include <filesystem>
#include <string>

namespace acmed::plugins::nginx {

// DER of the first certificate in the PEM file `path`. Errc::crypto / Errc::io.
Result<std::string> leaf_der_from_pem_file(const std::filesystem::path& path);

// DER of the leaf certificate served by a TLS handshake with `address`:`port` and SNI `name`
// (the chain is not verified: the caller compares bytes). Errc::network on failure.
Result<std::string> served_leaf_der(const std::string& address, int port, const std::string& name,
                                    std::chrono::milliseconds timeout);

// The raw response (status line, headers, body; at most 64 KiB) to "GET `path` HTTP/1.0" with
// Host `host` sent to `address`:`port`. A loopback self-check of what nginx answers after a
// reload, not an HTTP client: no TLS, no redirects, nothing but the bytes. Errc::network.
Result<std::string> probe_http(const std::string& address, int port, const std::string& host,
                               const std::string& path, std::chrono::milliseconds timeout);

// Hex SHA-256 of a DER certificate, for messages.
std::string der_fingerprint(std::string_view der);

}  // namespace acmed::plugins::nginx
