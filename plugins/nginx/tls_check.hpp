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

// Hex SHA-256 of a DER certificate, for messages.
std::string der_fingerprint(std::string_view der);

}  // namespace acmed::plugins::nginx
