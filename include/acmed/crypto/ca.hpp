// A small certificate authority: a self-signed root and the leaf certificates it signs, as
// `acmed local` needs them (a development CA on the user's machine; see acmed/local/).
#pragma once

#include "acmed/crypto/key.hpp"
#include "acmed/crypto/x509.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace acmed::crypto {

// Subject and validity of a root certificate.
struct RootCaSpec {
  std::string organization;         // O
  std::string organizational_unit;  // OU (may be empty)
  std::string common_name;          // CN
  TimePoint not_before;
  TimePoint not_after;
};

// A self-signed root certificate (PEM) for `key`: random 128-bit serial, SHA-256 signature,
// basicConstraints critical CA:TRUE pathlen:0, keyUsage critical keyCertSign+cRLSign, subject key
// identifier; no name constraints, so any local name can be signed. Errc::invalid_input for an
// empty CN or not_after <= not_before; Errc::crypto when OpenSSL fails.
Result<std::string> make_root_certificate(const PrivateKey& key, const RootCaSpec& spec);

// Extended key usages of a leaf (RFC 5280 section 4.2.1.12).
enum class LeafUsage {
  server,             // id-kp-serverAuth
  server_and_client,  // id-kp-serverAuth and id-kp-clientAuth
};

struct LeafSpec {
  std::vector<std::string> dns_names;  // dNSName entries, already validated ("*.app.test" ok)
  std::vector<std::string> ips;        // iPAddress entries as IPv4 / IPv6 text
  LeafUsage usage = LeafUsage::server;
  std::string organization;         // O
  std::string organizational_unit;  // OU (may be empty)
  TimePoint not_before;
  TimePoint not_after;
};

// A leaf certificate (PEM) for the public half of `leaf_key`, issued by the CA whose certificate
// is `ca_cert_pem` and key is `ca_key`: all names in subjectAltName (CN = the first name when it
// fits in 64 characters), basicConstraints critical CA:FALSE, keyUsage critical
// digitalSignature (+ keyEncipherment for RSA keys), the EKUs of `spec.usage`, subject and
// authority key identifiers, random 128-bit serial, SHA-256 signature. Errc::invalid_input when
// there is no name, an IP does not parse, not_after <= not_before, or the CA key does not match
// the CA certificate; Errc::crypto when OpenSSL fails.
Result<std::string> sign_leaf_certificate(const PrivateKey& ca_key, std::string_view ca_cert_pem,
                                          const PrivateKey& leaf_key, const LeafSpec& spec);

// A PKCS#12 file (DER) holding `key`, its certificate and the CA certificate, protected by
// `password` with OpenSSL 3's default algorithms (PBKDF2, AES-256-CBC, SHA-256 MAC), which
// Java 11+, current browsers and OpenSSL read. Errc::invalid_input when the certificate does not
// match the key; Errc::crypto when OpenSSL fails.
Result<std::string> make_pkcs12(const PrivateKey& key, std::string_view cert_pem,
                                std::string_view ca_cert_pem, std::string_view password,
                                std::string_view friendly_name);

// What a certificate may be used for (the extensions that make a CA a CA and a leaf a leaf).
struct CertUsage {
  bool is_ca = false;
  int path_len = -1;           // basicConstraints pathLenConstraint; -1 when absent
  bool key_cert_sign = false;  // keyUsage bits
  bool crl_sign = false;
  bool digital_signature = false;
  bool server_auth = false;  // extendedKeyUsage purposes
  bool client_auth = false;
  bool has_name_constraints = false;
  std::string organization;         // subject O
  std::string organizational_unit;  // subject OU
};

// Reads the usage extensions of a PEM certificate. Errc::invalid_input when it does not parse.
Result<CertUsage> certificate_usage(std::string_view cert_pem);

}  // namespace acmed::crypto
