// Leaf certificates signed by the local CA (`acmed local cert`).
#pragma once

#include "acmed/crypto/key.hpp"
#include "acmed/local/local_ca.hpp"
#include "acmed/local/names.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace acmed::local {

namespace fs = std::filesystem;

// 397 days: under the 398-day limit Chrome and Apple enforce on publicly trusted TLS
// certificates (Apple accepts up to 825 days for user-added roots, but a limit that depends on
// where the root came from is easy to trip over), and a year is long enough for development.
inline constexpr std::chrono::days k_leaf_validity{397};
// PKCS#12 password, the same as mkcert's (and Java's default keystore password).
inline constexpr const char* k_pkcs12_password = "changeit";

enum class OutputFormat { pem, pkcs12 };

struct CertRequest {
  std::vector<std::string> names;                     // as given on the command line
  crypto::KeyType key_type = crypto::KeyType::ecdsa;  // ECDSA P-256, or RSA 2048
  Purpose purpose = Purpose::server;
  OutputFormat format = OutputFormat::pem;
  fs::path out_dir;          // where default-named files go
  fs::path cert_file;        // overrides <base>.pem (or <base>.p12 with pkcs12)
  fs::path key_file;         // overrides <base>-key.pem (not with pkcs12)
  std::string user_at_host;  // shown in the certificate's OU
};

struct LeafCert {
  LeafNames names;
  std::string cert_pem;
  std::string key_pem;
  crypto::TimePoint not_after;
};

struct IssuedFiles {
  LeafCert leaf;
  fs::path cert_file;  // .pem, or .p12 with OutputFormat::pkcs12
  fs::path key_file;   // empty with OutputFormat::pkcs12 (the key is inside the .p12)
};

// A new key and a certificate for `names`, signed by `ca`, valid from an hour before `now` for
// k_leaf_validity. Errc::invalid_input / Errc::usage for bad names (see parse_names).
Result<LeafCert> make_leaf(const LocalCa& ca, std::span<const std::string> names,
                           crypto::KeyType key_type, Purpose purpose, std::string_view user_at_host,
                           crypto::TimePoint now);

// Issues a leaf for `request` and writes its files (key and .p12 0600, certificate 0644), each
// atomically; nothing is written when validation or signing fails, and a key written before a
// failed certificate write is removed again. Errc::usage for --key-file with pkcs12.
Result<IssuedFiles> issue_certificate(const LocalCa& ca, const CertRequest& request,
                                      crypto::TimePoint now);

}  // namespace acmed::local
