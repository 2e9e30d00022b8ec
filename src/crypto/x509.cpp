#include "acmed/crypto/x509.hpp"

#include "acmed/crypto/encoding.hpp"
#include "acmed/util/strings.hpp"
#include "acmed/util/text.hpp"
#include "openssl_util.hpp"

#include <openssl/x509_vfy.h>

#include <arpa/inet.h>

#include <algorithm>
#include <climits>
#include <ctime>

namespace acmed::crypto {

using namespace detail;

namespace {

constexpr std::size_t k_max_cn_length = 64;  // ub-common-name, RFC 5280 appendix A.1

struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }  // the X509s are owned elsewhere
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;
using Asn1StringPtr = Handle<ASN1_STRING, ASN1_STRING_free>;

struct PemBlock {
  std::string label;
  std::string der;
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Parses `pem` as a sequence of PEM blocks (RFC 7468) separated only by whitespace, refusing any
// block whose label `allowed` rejects, and more than `max_blocks` blocks (before decoding them).
// Labels are quoted in errors; block contents never are. Linear in the size of `pem`: each
// byte is looked at a bounded number of times, line numbers are counted as the scan moves.
template <typename Allowed>
Result<std::vector<PemBlock>> parse_pem_blocks(std::string_view pem, Errc code, Allowed allowed,
                                               std::size_t max_blocks = SIZE_MAX) {
  static constexpr std::string_view k_begin = "-----BEGIN ";
  static constexpr std::string_view k_dashes = "-----";
  std::vector<PemBlock> blocks;
  std::size_t pos = 0;
  std::size_t line = 1;     // line number of `counted`
  std::size_t counted = 0;  // newlines before this offset are in `line`
  auto line_at = [&](std::size_t to) {
    line +=
        static_cast<std::size_t>(std::count(pem.begin() + static_cast<std::ptrdiff_t>(counted),
                                            pem.begin() + static_cast<std::ptrdiff_t>(to), '\n'));
    counted = to;
    return line;
  };
  while (true) {
    while (pos < pem.size() && is_space(pem[pos])) ++pos;
    if (pos == pem.size()) break;
    const std::string where = "at line " + std::to_string(line_at(pos)) + " of the PEM data";
    if (pem.substr(pos, k_begin.size()) != k_begin) {
      return Error(code, "unexpected text " + where + " (only PEM blocks are allowed)");
    }
    if (blocks.size() == max_blocks) {
      return Error(code,
                   "the PEM data holds more than " + std::to_string(max_blocks) + " certificates");
    }
    std::size_t label_start = pos + k_begin.size();
    std::size_t line_end = pem.find('\n', label_start);
    if (line_end == std::string_view::npos) line_end = pem.size();
    std::string_view begin_line = pem.substr(label_start, line_end - label_start);
    while (!begin_line.empty() && is_space(begin_line.back())) begin_line.remove_suffix(1);
    if (begin_line.size() < k_dashes.size() || begin_line.size() > 64 ||
        begin_line.substr(begin_line.size() - k_dashes.size()) != k_dashes) {
      return Error(code, "malformed PEM BEGIN line " + where);
    }
    std::string label(begin_line.substr(0, begin_line.size() - k_dashes.size()));
    if (!allowed(label)) {
      std::string what = label.find("PRIVATE KEY") != std::string::npos
                             ? "a private key (\"" + label + "\")"
                             : "a \"" + label + "\" block";
      return Error(code, "the PEM data holds " + what + " " + where +
                             ", where only certificates are expected");
    }
    std::string end_marker = "-----END " + label + "-----";
    // Each search starts where the last block ended, so the whole scan stays linear.
    std::size_t end = pem.find(end_marker, line_end);
    if (end == std::string_view::npos) {
      return Error(code, "the \"" + label + "\" block " + where + " has no END line");
    }
    std::string body;
    for (char c : pem.substr(line_end, end - line_end)) {
      if (!is_space(c)) body += c;
    }
    auto der = base64_decode(body);
    if (!der || der->empty()) {
      // Also catches RFC 1421 headers such as "Proc-Type:", which acmed never needs.
      return Error(code, "the \"" + label + "\" block " + where + " is not valid base64");
    }
    blocks.push_back({std::move(label), std::move(der).value()});
    pos = end + end_marker.size();
  }
  return blocks;
}

// Parses one DER certificate, refusing trailing bytes.
X509Ptr parse_x509_der(std::string_view der) {
  if (der.size() > static_cast<std::size_t>(LONG_MAX)) return nullptr;
  const unsigned char* p = uchar(der);
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != uchar(der) + der.size()) {
    drain_openssl_errors();
    return nullptr;
  }
  return cert;
}

// The DER of each certificate in a PEM chain, validated; more than `max` is an error.
Result<std::vector<std::string>> chain_ders(std::string_view pem, std::size_t max = SIZE_MAX) {
  ACMED_TRY(auto blocks, parse_pem_blocks(
                             pem, Errc::protocol,
                             [](const std::string& label) { return label == "CERTIFICATE"; }, max));
  if (blocks.empty()) return Error(Errc::protocol, "the PEM data holds no certificate");
  std::vector<std::string> ders;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (!parse_x509_der(blocks[i].der)) {
      return Error(Errc::protocol,
                   "certificate " + std::to_string(i + 1) + " of the PEM data does not parse");
    }
    ders.push_back(std::move(blocks[i].der));
  }
  return ders;
}

Result<std::vector<X509Ptr>> parse_chain(std::string_view pem) {
  ACMED_TRY(auto ders, chain_ders(pem));
  std::vector<X509Ptr> certs;
  for (const std::string& der : ders) certs.push_back(parse_x509_der(der));
  return certs;
}

std::string asn1_string_utf8(const ASN1_STRING* s) {
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, s);
  if (len < 0) {
    drain_openssl_errors();
    return {};
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string common_name(const X509_NAME* name) {
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return {};
  return asn1_string_utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
}

std::string asn1_bytes(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

Result<TimePoint> to_time_point(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    drain_openssl_errors();
    return Error(Errc::protocol, "certificate has an invalid validity time");
  }
  using namespace std::chrono;
  // X.509 times run to 9999-12-31 (RFC 5280's "no well-defined expiration"), past what a
  // nanosecond TimePoint holds (2262). Clamp to [1950, 2200]: any difference of two such times
  // still fits, and a time beyond 2200 means "far future" to every use acmed makes of it.
  const int y = std::clamp(tm.tm_year + 1900, 1950, 2200);
  if (y != tm.tm_year + 1900) {
    tm.tm_mon = y == 1950 ? 0 : 11;
    tm.tm_mday = y == 1950 ? 1 : 31;
    tm.tm_hour = y == 1950 ? 0 : 23;
    tm.tm_min = y == 1950 ? 0 : 59;
    tm.tm_sec = y == 1950 ? 0 : 59;
  }
  sys_days day =
      year{y} / month{static_cast<unsigned>(tm.tm_mon + 1)} / static_cast<unsigned>(tm.tm_mday);
  return time_point_cast<system_clock::duration>(day + hours{tm.tm_hour} + minutes{tm.tm_min} +
                                                 seconds{tm.tm_sec});
}

// The serial's DER INTEGER contents (two's complement, leading 0x00 kept), as RFC 9773 wants.
std::string serial_content_bytes(const ASN1_INTEGER* serial) {
  unsigned char* der = nullptr;
  int len = i2d_ASN1_INTEGER(serial, &der);
  if (len < 2) {
    drain_openssl_errors();
    OPENSSL_free(der);
    return {};
  }
  std::string encoded(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  // Tag, then a short (< 0x80) or long (0x80 | number of length bytes) length.
  auto first_len = static_cast<unsigned char>(encoded[1]);
  std::size_t header = first_len < 0x80 ? 2 : 2 + (first_len & 0x7f);
  return header <= encoded.size() ? encoded.substr(header) : std::string();
}

std::string ip_text(const ASN1_OCTET_STRING* ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  int len = ASN1_STRING_length(ip);
  const unsigned char* data = ASN1_STRING_get0_data(ip);
  if (len == 4 && inet_ntop(AF_INET, data, buf, sizeof buf)) return buf;
  if (len == 16 && inet_ntop(AF_INET6, data, buf, sizeof buf)) return buf;
  return {};
}

// Loose host-name syntax check; the names reach us already validated by util/domain, so this
// only keeps bytes out of the CSR that could never be a DNS name ("*" allowed for wildcards).
bool plausible_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '*' || c == '_';
  });
}

// The 4 or 16 address bytes of textual IPv4 / IPv6, or "" when it is neither.
std::string ip_bytes(const std::string& text) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) {
    return std::string(reinterpret_cast<char*>(buf), 4);
  }
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    return std::string(reinterpret_cast<char*>(buf), 16);
  }
  return {};
}

Status push_name(GENERAL_NAMES* names, int type, std::string_view value) {
  GeneralNamePtr gn(GENERAL_NAME_new());
  Asn1StringPtr str(ASN1_STRING_type_new(type == GEN_DNS ? V_ASN1_IA5STRING : V_ASN1_OCTET_STRING));
  if (!gn || !str ||
      ASN1_STRING_set(str.get(), value.data(), static_cast<int>(value.size())) != 1) {
    return openssl_error("building subjectAltName failed");
  }
  GENERAL_NAME_set0_value(gn.get(), type, str.release());
  if (sk_GENERAL_NAME_push(names, gn.get()) == 0) {
    return openssl_error("building subjectAltName failed");
  }
  gn.release();  // owned by the stack now
  return ok_status();
}

}  // namespace

Result<std::string> make_csr_der(const PrivateKey& key, const Identifiers& ids) {
  if (ids.dns.empty() && ids.ip.empty()) {
    return Error(Errc::invalid_input, "a certificate request needs at least one name");
  }
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return openssl_error("building subjectAltName failed");
  for (const std::string& dns : ids.dns) {
    if (!plausible_dns_name(dns)) {
      return Error(Errc::invalid_input, "\"" + dns + "\" is not a valid DNS name for a CSR");
    }
    ACMED_CHECK(push_name(names.get(), GEN_DNS, dns));
  }
  for (const std::string& ip : ids.ip) {
    std::string bytes = ip_bytes(ip);
    if (bytes.empty()) {
      return Error(Errc::invalid_input, "\"" + ip + "\" is not an IPv4 or IPv6 address");
    }
    ACMED_CHECK(push_name(names.get(), GEN_IPADD, bytes));
  }

  X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1) {
    return openssl_error("creating a CSR failed");
  }
  bool has_cn = !ids.dns.empty() && ids.dns.front().size() <= k_max_cn_length;
  if (has_cn) {
    const std::string& cn = ids.dns.front();
    if (X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req.get()), NID_commonName,
                                   MBSTRING_UTF8, uchar(cn), static_cast<int>(cn.size()), -1,
                                   0) != 1) {
      return openssl_error("setting the CSR common name failed");
    }
  }
  // RFC 5280 section 4.2.1.6: with an empty subject, subjectAltName must be critical.
  X509ExtPtr san(X509V3_EXT_i2d(NID_subject_alt_name, has_cn ? 0 : 1, names.get()));
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  bool added = san && exts && sk_X509_EXTENSION_push(exts, san.get()) > 0 &&
               X509_REQ_add_extensions(req.get(), exts) == 1;
  sk_X509_EXTENSION_free(exts);  // the extension itself stays owned by `san`
  if (!added) return openssl_error("adding subjectAltName to the CSR failed");

  if (X509_REQ_set_pubkey(req.get(), key.native()) != 1 ||
      X509_REQ_sign(req.get(), key.native(), EVP_sha256()) <= 0) {
    return openssl_error("signing the CSR failed");
  }
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  if (len <= 0) return openssl_error("encoding the CSR failed");
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

namespace {

// The key types acmed issues for, also for a CSR it did not make.
Status check_csr_key(EVP_PKEY* key) {
  int bits = EVP_PKEY_get_bits(key);
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
    if (bits >= 2048 && bits <= 8192) return ok_status();
    return Error(Errc::invalid_input,
                 "the CSR's RSA key has " + std::to_string(bits) +
                     " bits; acmed accepts 2048 to "
                     "8192",
                 "make the CSR with a 2048-bit or larger RSA key, or an EC P-256 key");
  }
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    char group[64] = {};
    if (EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, nullptr) == 1) {
      std::string_view g = group;
      if (g == "prime256v1" || g == "secp384r1" || g == "secp521r1") return ok_status();
    }
    drain_openssl_errors();
    return Error(Errc::invalid_input, "the CSR's EC key is not on P-256, P-384 or P-521");
  }
  return Error(Errc::invalid_input, "the CSR's key is neither RSA nor EC",
               "make the CSR with an RSA or EC P-256 key");
}

}  // namespace

Result<CertificateRequest> parse_csr(std::string_view pem_or_der) {
  CertificateRequest out;
  if (pem_or_der.find("-----BEGIN") != std::string_view::npos) {
    auto der = pem_to_der(pem_or_der);
    if (!der) return Error(Errc::invalid_input, "not a CSR: " + der.error().message);
    out.der = std::move(der).value();
  } else {
    out.der = std::string(pem_or_der);
  }
  const unsigned char* p = uchar(out.der);
  X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(out.der.size())));
  if (!req || p != uchar(out.der) + out.der.size()) {
    drain_openssl_errors();
    return Error(Errc::invalid_input, "not a CSR (PEM or DER PKCS#10)");
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (!key) {
    drain_openssl_errors();
    return Error(Errc::invalid_input, "the CSR's public key does not parse");
  }
  if (X509_REQ_verify(req.get(), key) != 1) {
    drain_openssl_errors();
    return Error(Errc::invalid_input, "the CSR's signature does not verify with its own key",
                 "make the CSR again with the private key it names");
  }
  ACMED_CHECK(check_csr_key(key));
  unsigned char* spki = nullptr;
  int len = i2d_PUBKEY(key, &spki);
  if (len <= 0) return openssl_error("encoding the CSR's public key failed");
  out.public_key_der.assign(reinterpret_cast<const char*>(spki), static_cast<std::size_t>(len));
  OPENSSL_free(spki);

  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req.get());
  GeneralNamesPtr sans(exts ? static_cast<GENERAL_NAMES*>(
                                  X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr))
                            : nullptr);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    int type = 0;
    const void* value = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(sans.get(), i), &type);
    if (type == GEN_DNS) {
      out.identifiers.dns.push_back(
          util::ascii_lower(asn1_bytes(static_cast<const ASN1_IA5STRING*>(value))));
    } else if (type == GEN_IPADD) {
      std::string ip = ip_text(static_cast<const ASN1_OCTET_STRING*>(value));
      if (ip.empty()) return Error(Errc::invalid_input, "the CSR has a malformed IP address");
      out.identifiers.ip.push_back(std::move(ip));
    }
  }
  // The CN is one of the names too (CAs check it against the order's identifiers, and certbot
  // counts it): first, unless a subjectAltName already holds it.
  std::string cn = util::ascii_lower(common_name(X509_REQ_get_subject_name(req.get())));
  auto& dns = out.identifiers.dns;
  const auto& ip = out.identifiers.ip;
  if (!cn.empty() && std::find(dns.begin(), dns.end(), cn) == dns.end() &&
      std::find(ip.begin(), ip.end(), cn) == ip.end())
    dns.insert(dns.begin(), cn);
  drain_openssl_errors();
  if (out.identifiers.dns.empty() && out.identifiers.ip.empty()) {
    return Error(Errc::invalid_input, "the CSR names nothing (no subjectAltName and no CN)",
                 "make the CSR with -subj /CN=NAME or -addext subjectAltName=DNS:NAME");
  }
  return out;
}

std::string der_to_pem(std::string_view der, std::string_view label) {
  std::string b64 = base64_encode(der);
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  out += "-----END " + std::string(label) + "-----\n";
  return out;
}

Result<std::vector<std::string>> split_pem_chain(std::string_view pem) {
  ACMED_TRY(auto ders, chain_ders(pem, k_max_chain_certificates));
  std::vector<std::string> out;
  for (const std::string& der : ders) out.push_back(der_to_pem(der, "CERTIFICATE"));
  return out;
}

Result<std::string> pem_to_der(std::string_view pem) {
  ACMED_TRY(auto blocks, parse_pem_blocks(pem, Errc::invalid_input, [](const std::string& label) {
              return label == "CERTIFICATE" || label == "CERTIFICATE REQUEST";
            }));
  if (blocks.size() != 1) {
    return Error(Errc::invalid_input,
                 "expected exactly one PEM block, found " + std::to_string(blocks.size()));
  }
  PemBlock& block = blocks.front();
  const unsigned char* p = uchar(block.der);
  const unsigned char* end = p + block.der.size();
  bool parses = false;
  if (block.label == "CERTIFICATE") {
    parses = parse_x509_der(block.der) != nullptr;
  } else {
    X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(block.der.size())));
    parses = req && p == end;
    drain_openssl_errors();
  }
  if (!parses) {
    return Error(Errc::invalid_input, "the \"" + block.label + "\" block does not parse");
  }
  return std::move(block.der);
}

Result<CertInfo> parse_certificate(std::string_view pem) {
  ACMED_TRY(auto ders, chain_ders(pem));
  return parse_certificate_der(ders.front());
}

Result<CertInfo> parse_certificate_der(std::string_view der) {
  X509Ptr cert = parse_x509_der(der);
  if (!cert) return Error(Errc::protocol, "data is not a valid DER X.509 certificate");
  X509* x = cert.get();
  CertInfo info;
  info.subject_cn = common_name(X509_get_subject_name(x));
  info.issuer_cn = common_name(X509_get_issuer_name(x));

  int critical = 0;
  GeneralNamesPtr sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, &critical, nullptr)));
  if (!sans && critical != -1) {
    // -1 means "absent"; anything else without a result is a malformed or duplicated extension.
    drain_openssl_errors();
    return Error(Errc::protocol, "certificate has a malformed subjectAltName extension");
  }
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
    int type = 0;
    const void* value = GENERAL_NAME_get0_value(gn, &type);
    if (type == GEN_DNS) {
      info.dns_names.push_back(asn1_bytes(static_cast<const ASN1_IA5STRING*>(value)));
    } else if (type == GEN_IPADD) {
      std::string ip = ip_text(static_cast<const ASN1_OCTET_STRING*>(value));
      if (!ip.empty()) info.ips.push_back(std::move(ip));
    }
  }

  ACMED_TRY(info.not_before, to_time_point(X509_get0_notBefore(x)));
  ACMED_TRY(info.not_after, to_time_point(X509_get0_notAfter(x)));
  info.serial = serial_content_bytes(X509_get0_serialNumber(x));
  if (const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(x)) {
    info.authority_key_id = asn1_bytes(aki);
  }
  if (const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(x)) {
    info.subject_key_id = asn1_bytes(ski);
  }
  info.is_ca = (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
  info.sha256_fingerprint = hex(sha256(der));
  drain_openssl_errors();
  return info;
}

Result<std::string> ari_cert_id(const CertInfo& cert) {
  // RFC 9773 section 4.1: base64url(AKI keyIdentifier) "." base64url(serial DER contents).
  if (cert.authority_key_id.empty()) {
    return Error(Errc::invalid_input,
                 "the certificate has no authority key identifier, so it has no ARI identifier");
  }
  if (cert.serial.empty()) {
    return Error(Errc::invalid_input, "the certificate has no serial number");
  }
  return base64url_encode(cert.authority_key_id) + "." + base64url_encode(cert.serial);
}

bool certificate_matches_key(std::string_view cert_pem, const PrivateKey& key) {
  auto ders = chain_ders(cert_pem);
  if (!ders) return false;
  X509Ptr cert = parse_x509_der(ders->front());
  EVP_PKEY* pub = cert ? X509_get0_pubkey(cert.get()) : nullptr;
  bool match = pub != nullptr && key.native() != nullptr && EVP_PKEY_eq(pub, key.native()) == 1;
  drain_openssl_errors();
  return match;
}

bool certificate_has_public_key(std::string_view cert_pem, std::string_view spki_der) {
  auto ders = chain_ders(cert_pem);
  if (!ders) return false;
  X509Ptr cert = parse_x509_der(ders->front());
  unsigned char* spki = nullptr;
  int len = cert ? i2d_PUBKEY(X509_get0_pubkey(cert.get()), &spki) : 0;
  bool match = len > 0 && std::string_view(reinterpret_cast<const char*>(spki),
                                           static_cast<std::size_t>(len)) == spki_der;
  OPENSSL_free(spki);
  drain_openssl_errors();
  return match;
}

namespace {

// "a, b and 3 more", each name rendered safe; for messages about names that differ.
std::string name_list(const std::vector<std::string>& names) {
  constexpr std::size_t k_shown = 4;
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < k_shown; ++i) {
    if (i) out += ", ";
    out += util::printable(names[i], 256);
  }
  if (names.size() > k_shown) out += " and " + std::to_string(names.size() - k_shown) + " more";
  return out;
}

// The members of `a` not in `b`.
std::vector<std::string> missing_from(const std::vector<std::string>& a,
                                      const std::vector<std::string>& b) {
  std::vector<std::string> out;
  for (const auto& x : a)
    if (std::find(b.begin(), b.end(), x) == b.end()) out.push_back(x);
  return out;
}

}  // namespace

Status check_issued_chain(const std::vector<std::string>& chain_pems, const Identifiers& requested,
                          TimePoint now) {
  if (chain_pems.empty()) return Error(Errc::protocol, "the CA sent no certificate");
  if (chain_pems.size() > k_max_chain_certificates)
    return Error(Errc::protocol, "the CA sent a chain of " + std::to_string(chain_pems.size()) +
                                     " certificates (at most " +
                                     std::to_string(k_max_chain_certificates) + " are accepted)");
  std::vector<X509Ptr> certs;
  for (const std::string& pem : chain_pems) {
    ACMED_TRY(auto ders, chain_ders(pem, 1));
    certs.push_back(parse_x509_der(ders.front()));
  }
  ACMED_TRY(CertInfo leaf, parse_certificate(chain_pems.front()));

  // Names: the certificate is for exactly what was asked, nothing added, nothing missing.
  std::vector<std::string> want, got;
  for (const auto& d : requested.dns) want.push_back(util::ascii_lower(d));
  for (const auto& ip : requested.ip) {
    std::string bytes = ip_bytes(ip);
    char buf[INET6_ADDRSTRLEN] = {};
    const int af = bytes.size() == 4 ? AF_INET : AF_INET6;
    want.push_back(!bytes.empty() && inet_ntop(af, bytes.data(), buf, sizeof buf) ? buf : ip);
  }
  for (const auto& d : leaf.dns_names) got.push_back(util::ascii_lower(d));
  got.insert(got.end(), leaf.ips.begin(), leaf.ips.end());  // already inet_ntop's canonical text
  auto extra = missing_from(got, want);
  auto absent = missing_from(want, got);
  if (!extra.empty() || !absent.empty()) {
    std::string what;
    if (!extra.empty()) what = "names that were not requested (" + name_list(extra) + ")";
    if (!absent.empty())
      what += (what.empty() ? "" : " and ") + std::string("not the requested names (") +
              name_list(absent) + ")";
    return Error(Errc::protocol, "the CA issued a certificate with " + what,
                 "the CA is misbehaving; nothing was stored: report it to the CA");
  }

  // Validity (RFC 5280 section 4.1.2.5) at the time it is stored.
  if (leaf.not_before > now + k_issued_clock_skew)
    return Error(
        Errc::protocol,
        "the CA issued a certificate that is not valid yet (notBefore " +
            std::to_string(
                std::chrono::duration_cast<std::chrono::seconds>(leaf.not_before - now).count()) +
            " s in the future)",
        "check this machine's clock; if it is right, the CA is misbehaving");
  if (leaf.not_after <= now)
    return Error(Errc::protocol, "the CA issued a certificate that has already expired",
                 "check this machine's clock; if it is right, the CA is misbehaving");

  // Each certificate is issued by the next one (name, key identifiers) and signed with its key.
  for (std::size_t i = 0; i + 1 < certs.size(); ++i) {
    X509* cert = certs[i].get();
    X509* issuer = certs[i + 1].get();
    const bool issued = X509_check_issued(issuer, cert) == X509_V_OK;
    EVP_PKEY* key = X509_get0_pubkey(issuer);
    const bool signed_by = issued && key != nullptr && X509_verify(cert, key) == 1;
    drain_openssl_errors();
    if (!signed_by)
      return Error(Errc::protocol,
                   "the certificate chain from the CA is broken: certificate " +
                       std::to_string(i + 1) + " is not " + (issued ? "signed" : "issued") +
                       " by certificate " + std::to_string(i + 2),
                   "the CA is misbehaving; nothing was stored: report it to the CA");
  }
  return ok_status();
}

Status verify_chain(std::string_view chain_pem, std::string_view roots_pem) {
  auto chain = parse_chain(chain_pem);
  if (!chain) return std::move(chain).error().with_context("while reading the certificate chain");
  auto roots = parse_chain(roots_pem);
  if (!roots) return std::move(roots).error().with_context("while reading the trusted roots");

  X509StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return openssl_error("setting up chain verification failed");
  for (const X509Ptr& root : *roots) {
    if (X509_STORE_add_cert(store.get(), root.get()) != 1) {
      return openssl_error("adding a trusted root failed");
    }
  }
  for (std::size_t i = 1; i < chain->size(); ++i) {
    if (sk_X509_push(untrusted.get(), (*chain)[i].get()) <= 0) {
      return openssl_error("setting up chain verification failed");
    }
  }
  X509* leaf = chain->front().get();
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1) {
    return openssl_error("setting up chain verification failed");
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    drain_openssl_errors();
    std::string subject = common_name(X509_get_subject_name(leaf));
    return Error(Errc::crypto,
                 "the certificate chain for \"" + subject +
                     "\" does not verify: " + X509_verify_cert_error_string(err) + " (at depth " +
                     std::to_string(depth) + ")",
                 "check that the chain is complete and issued by one of the trusted roots");
  }
  return ok_status();
}

}  // namespace acmed::crypto
