// Certificates and CSRs.
#pragma once

#include "acmed/crypto/key.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::crypto {

using TimePoint = std::chrono::system_clock::time_point;

// Identifiers of an order: DNS names (already normalised) and IP addresses (RFC 8738).
struct Identifiers {
  std::vector<std::string> dns;
  std::vector<std::string> ip;  // textual IPv4 / IPv6
};

// A PKCS#10 CSR in DER for `ids`, signed by `key`. All names go into subjectAltName; the CN is
// the first DNS name when it fits in 64 characters, and absent for IP-only requests. No
// extendedKeyUsage or TLS-feature (must-staple) extension is requested; subjectAltName is marked
// critical when the subject is empty (RFC 5280 section 4.2.1.6). Errc::invalid_input when there
// is no identifier, a DNS name is empty or has characters no host name has, or an IP does not
// parse.
Result<std::string> make_csr_der(const PrivateKey& key, const Identifiers& ids);

// A CSR the user brought (certbot's --csr), checked before anything is sent to the CA.
struct CertificateRequest {
  std::string der;             // the CSR as DER, sent to the CA as it is
  Identifiers identifiers;     // subjectAltName dNSName / iPAddress entries and the CN
  std::string public_key_der;  // its SubjectPublicKeyInfo
};

// Reads a PKCS#10 CSR in PEM ("CERTIFICATE REQUEST") or DER. Errc::invalid_input, one line, when
// it does not parse (or has trailing bytes), its signature does not verify with its own key, its
// key is not one acmed accepts (RSA 2048..8192 bits, EC P-256/P-384/P-521), or it names nothing
// (no subjectAltName DNS/IP entry and no CN). DNS names are returned lower-cased, the CN first
// when no subjectAltName holds it (as certbot reads a CSR's names).
Result<CertificateRequest> parse_csr(std::string_view pem_or_der);

struct CertInfo {
  std::string subject_cn;
  std::string issuer_cn;
  std::vector<std::string> dns_names;  // subjectAltName dNSName entries
  std::vector<std::string> ips;        // subjectAltName iPAddress entries, textual
  TimePoint not_before;
  TimePoint not_after;
  std::string serial;              // raw big-endian bytes, as in DER (no sign padding dropped)
  std::string authority_key_id;    // raw keyIdentifier bytes of AKI; empty if absent
  std::string subject_key_id;      // raw bytes of SKI; empty if absent
  std::string sha256_fingerprint;  // hex of SHA-256 over the DER
  bool is_ca = false;
  bool operator==(const CertInfo&) const = default;
};

// Certificates accepted in a chain from a CA (leaf + intermediates; Let's Encrypt sends 2 or 3).
inline constexpr std::size_t k_max_chain_certificates = 8;
// How far in the future an issued certificate's notBefore may be (clocks disagree a little).
inline constexpr std::chrono::seconds k_issued_clock_skew{300};

// Splits a PEM bundle from a CA into its certificate blocks, in order. Errc::protocol if it holds
// anything but CERTIFICATE blocks (a key, a CSR, garbage between blocks), no certificate at all,
// or more than k_max_chain_certificates (refused before the rest is decoded). Linear time.
// Whitespace (also CRLF) between blocks is fine. Each block must be valid base64 holding one
// DER certificate; blocks are returned re-encoded in canonical PEM (64-column lines, LF).
Result<std::vector<std::string>> split_pem_chain(std::string_view pem);

// DER of the single "CERTIFICATE" or "CERTIFICATE REQUEST" block in `pem`, checked to parse as
// such. Errc::invalid_input for any other content, garbage, or more than one block.
Result<std::string> pem_to_der(std::string_view pem);

// PEM text of one DER object, e.g. der_to_pem(csr_der, "CERTIFICATE REQUEST").
std::string der_to_pem(std::string_view der, std::string_view label);

// Details of the first certificate in `pem` (the leaf of a chain). Errc::protocol when the PEM
// is not a certificate chain as split_pem_chain accepts it.
Result<CertInfo> parse_certificate(std::string_view pem);
// The same for one DER certificate; Errc::protocol when it does not parse or has trailing bytes.
Result<CertInfo> parse_certificate_der(std::string_view der);

// RFC 9773 section 4.1 certificate identifier: base64url(AKI keyIdentifier) "." base64url(serial).
// Errc::invalid_input when the certificate has no AKI.
Result<std::string> ari_cert_id(const CertInfo& cert);

// True if the public key of the (first) certificate in `cert_pem` is the public half of `key`;
// false also when the PEM does not parse.
bool certificate_matches_key(std::string_view cert_pem, const PrivateKey& key);

// True if the (first) certificate in `cert_pem` carries the SubjectPublicKeyInfo `spki_der`;
// false also when the PEM does not parse.
bool certificate_has_public_key(std::string_view cert_pem, std::string_view spki_der);

// Checks a chain the CA issued for `requested` before it is stored (RFC 8555 section 7.4.2 leaves
// this to the client): the leaf's subjectAltNames equal the requested identifiers exactly (DNS
// names case-insensitively, IPs in canonical form), it is valid at `now` (notBefore at most
// k_issued_clock_skew ahead, notAfter after `now`), and each certificate is issued and signed by
// the next one. Errc::protocol naming what differed (names rendered with util::printable).
Status check_issued_chain(const std::vector<std::string>& chain_pems, const Identifiers& requested,
                          TimePoint now);

// Verifies that `chain_pem` (leaf first, then intermediates) chains to one of the certificates in
// `roots_pem` at the current time. Errc::crypto with OpenSSL's reason when it does not;
// Errc::protocol when either PEM is not a certificate list. No purpose (serverAuth) is required.
Status verify_chain(std::string_view chain_pem, std::string_view roots_pem);

}  // namespace acmed::crypto
