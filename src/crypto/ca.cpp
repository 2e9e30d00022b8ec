#include "acmed/crypto/ca.hpp"

#include "openssl_util.hpp"

#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>

#include <arpa/inet.h>

#include <chrono>
#include <climits>

namespace acmed::crypto {

namespace {

using detail::BioPtr;
using detail::BnPtr;
using detail::GeneralNamePtr;
using detail::GeneralNamesPtr;
using detail::openssl_error;
using detail::X509NamePtr;
using detail::X509Ptr;

using Pkcs12Ptr = detail::Handle<PKCS12, PKCS12_free>;
using Asn1IntPtr = detail::Handle<ASN1_INTEGER, ASN1_INTEGER_free>;

struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

Result<X509Ptr> parse_pem_cert(std::string_view pem, const char* what) {
  BioPtr bio = detail::memory_bio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    std::string reasons = detail::drain_openssl_errors();
    return Error(Errc::invalid_input, std::string(what) + " is not a PEM certificate" +
                                          (reasons.empty() ? "" : ": " + reasons));
  }
  return cert;
}

Result<std::string> to_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
    return openssl_error("writing certificate PEM");
  return detail::bio_contents(bio.get());
}

// RFC 5280 section 4.1.2.2: positive, at most 20 octets; 128 random bits with the top bit set
// keep it unpredictable and of fixed length.
Status set_random_serial(X509* cert) {
  BnPtr bn(BN_new());
  if (!bn || BN_rand(bn.get(), 128, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1) {
    return openssl_error("generating a serial number");
  }
  Asn1IntPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial || X509_set_serialNumber(cert, serial.get()) != 1) {
    return openssl_error("setting the serial number");
  }
  return ok_status();
}

Status set_validity(X509* cert, TimePoint not_before, TimePoint not_after) {
  if (not_after <= not_before) {
    return Error(Errc::invalid_input, "certificate validity ends before it starts");
  }
  auto to_time_t = [](TimePoint t) { return std::chrono::system_clock::to_time_t(t); };
  if (!ASN1_TIME_set(X509_getm_notBefore(cert), to_time_t(not_before)) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert), to_time_t(not_after))) {
    return openssl_error("setting the validity period");
  }
  return ok_status();
}

Status add_name_entry(X509_NAME* name, const char* field, std::string_view value) {
  if (value.empty()) return ok_status();
  if (value.size() > 64) {  // RFC 5280 appendix A upper bounds (ub-common-name etc.)
    return Error(Errc::invalid_input, std::string("subject ") + field +
                                          " is longer than 64 characters: " + std::string(value));
  }
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, detail::uchar(value),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return openssl_error(std::string("setting subject ") + field);
  }
  return ok_status();
}

// Adds an extension written in OpenSSL's config syntax ("critical,CA:TRUE").
Status add_ext(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  detail::X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return openssl_error(std::string("adding extension ") + OBJ_nid2sn(nid));
  }
  return ok_status();
}

Result<GeneralNamesPtr> make_san(const LeafSpec& spec) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return openssl_error("allocating subjectAltName");
  for (const auto& dns : spec.dns_names) {
    GeneralNamePtr gn(GENERAL_NAME_new());
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (!gn || !ia5 || ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size())) != 1) {
      ASN1_IA5STRING_free(ia5);
      return openssl_error("adding DNS name " + dns);
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_DNS, ia5);
    if (sk_GENERAL_NAME_push(names.get(), gn.get()) == 0) return openssl_error("adding DNS name");
    gn.release();  // owned by the stack now
  }
  for (const auto& ip : spec.ips) {
    unsigned char buf[16];
    int len = 0;
    if (::inet_pton(AF_INET, ip.c_str(), buf) == 1) {
      len = 4;
    } else if (::inet_pton(AF_INET6, ip.c_str(), buf) == 1) {
      len = 16;
    } else {
      return Error(Errc::invalid_input, "not an IP address: '" + ip + "'");
    }
    GeneralNamePtr gn(GENERAL_NAME_new());
    ASN1_OCTET_STRING* octets = ASN1_OCTET_STRING_new();
    if (!gn || !octets || ASN1_OCTET_STRING_set(octets, buf, len) != 1) {
      ASN1_OCTET_STRING_free(octets);
      return openssl_error("adding IP address " + ip);
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, octets);
    if (sk_GENERAL_NAME_push(names.get(), gn.get()) == 0) return openssl_error("adding IP address");
    gn.release();
  }
  return names;
}

std::string name_text(X509_NAME* name, int nid) {
  int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace

Result<std::string> make_root_certificate(const PrivateKey& key, const RootCaSpec& spec) {
  if (spec.common_name.empty()) return Error(Errc::invalid_input, "a root CA needs a common name");
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return openssl_error("creating a certificate");
  }
  ACMED_CHECK(set_random_serial(cert.get()));
  ACMED_CHECK(set_validity(cert.get(), spec.not_before, spec.not_after));
  X509_NAME* subject = X509_get_subject_name(cert.get());
  ACMED_CHECK(add_name_entry(subject, "O", spec.organization));
  ACMED_CHECK(add_name_entry(subject, "OU", spec.organizational_unit));
  ACMED_CHECK(add_name_entry(subject, "CN", spec.common_name));
  if (X509_set_issuer_name(cert.get(), subject) != 1 ||
      X509_set_pubkey(cert.get(), key.native()) != 1) {
    return openssl_error("setting issuer and public key");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  // RFC 5280 section 4.2.1.9: CA:TRUE must be critical; pathlen 0 means it signs leaves only.
  ACMED_CHECK(add_ext(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  ACMED_CHECK(add_ext(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"));
  ACMED_CHECK(add_ext(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  if (X509_sign(cert.get(), key.native(), EVP_sha256()) <= 0) {
    return openssl_error("signing the root certificate");
  }
  return to_pem(cert.get());
}

Result<std::string> sign_leaf_certificate(const PrivateKey& ca_key, std::string_view ca_cert_pem,
                                          const PrivateKey& leaf_key, const LeafSpec& spec) {
  if (spec.dns_names.empty() && spec.ips.empty()) {
    return Error(Errc::invalid_input, "a certificate needs at least one name");
  }
  ACMED_TRY(X509Ptr ca, parse_pem_cert(ca_cert_pem, "the CA certificate"));
  if (X509_check_private_key(ca.get(), ca_key.native()) != 1) {
    detail::drain_openssl_errors();
    return Error(Errc::invalid_input, "the CA key does not belong to the CA certificate");
  }
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return openssl_error("creating a certificate");
  }
  ACMED_CHECK(set_random_serial(cert.get()));
  ACMED_CHECK(set_validity(cert.get(), spec.not_before, spec.not_after));
  X509_NAME* subject = X509_get_subject_name(cert.get());
  ACMED_CHECK(add_name_entry(subject, "O", spec.organization));
  ACMED_CHECK(add_name_entry(subject, "OU", spec.organizational_unit));
  const std::string& first = spec.dns_names.empty() ? spec.ips.front() : spec.dns_names.front();
  if (first.size() <= 64) ACMED_CHECK(add_name_entry(subject, "CN", first));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get())) != 1 ||
      X509_set_pubkey(cert.get(), leaf_key.native()) != 1) {
    return openssl_error("setting issuer and public key");
  }

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca.get(), cert.get(), nullptr, nullptr, 0);
  ACMED_CHECK(add_ext(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"));
  // keyEncipherment only matters for RSA key transport (TLS 1.2 RSA key exchange).
  bool rsa = leaf_key.spec().type == KeyType::rsa;
  ACMED_CHECK(
      add_ext(cert.get(), &ctx, NID_key_usage,
              rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature"));
  ACMED_CHECK(
      add_ext(cert.get(), &ctx, NID_ext_key_usage,
              spec.usage == LeafUsage::server_and_client ? "serverAuth,clientAuth" : "serverAuth"));
  ACMED_CHECK(add_ext(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  ACMED_CHECK(add_ext(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  ACMED_TRY(GeneralNamesPtr san, make_san(spec));
  // RFC 5280 section 4.2.1.6: critical only when the subject is empty; ours always has O.
  if (X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, san.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return openssl_error("adding subjectAltName");
  }
  if (X509_sign(cert.get(), ca_key.native(), EVP_sha256()) <= 0) {
    return openssl_error("signing the certificate");
  }
  return to_pem(cert.get());
}

Result<std::string> make_pkcs12(const PrivateKey& key, std::string_view cert_pem,
                                std::string_view ca_cert_pem, std::string_view password,
                                std::string_view friendly_name) {
  ACMED_TRY(X509Ptr cert, parse_pem_cert(cert_pem, "the certificate"));
  ACMED_TRY(X509Ptr ca, parse_pem_cert(ca_cert_pem, "the CA certificate"));
  if (X509_check_private_key(cert.get(), key.native()) != 1) {
    detail::drain_openssl_errors();
    return Error(Errc::invalid_input, "the key does not belong to the certificate");
  }
  X509StackPtr chain(sk_X509_new_null());
  if (!chain || sk_X509_push(chain.get(), ca.get()) == 0) return openssl_error("building chain");
  std::string pass(password);
  std::string name(friendly_name);
  // nid/iter 0: OpenSSL 3 defaults (PBES2 with PBKDF2 + AES-256-CBC, SHA-256 MAC).
  Pkcs12Ptr p12(PKCS12_create(pass.c_str(), name.empty() ? nullptr : name.c_str(), key.native(),
                              cert.get(), chain.get(), 0, 0, 0, 0, 0));
  if (!p12) return openssl_error("creating PKCS#12");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || i2d_PKCS12_bio(bio.get(), p12.get()) != 1) return openssl_error("encoding PKCS#12");
  return detail::bio_contents(bio.get());
}

Result<CertUsage> certificate_usage(std::string_view cert_pem) {
  ACMED_TRY(X509Ptr cert, parse_pem_cert(cert_pem, "the certificate"));
  CertUsage usage;
  uint32_t flags = X509_get_extension_flags(cert.get());  // also caches the extensions
  usage.is_ca = (flags & EXFLAG_CA) != 0;
  long path_len = X509_get_pathlen(cert.get());
  usage.path_len = path_len < 0 || path_len > INT_MAX ? -1 : static_cast<int>(path_len);
  uint32_t ku = X509_get_key_usage(cert.get());
  if (flags & EXFLAG_KUSAGE) {
    usage.key_cert_sign = (ku & KU_KEY_CERT_SIGN) != 0;
    usage.crl_sign = (ku & KU_CRL_SIGN) != 0;
    usage.digital_signature = (ku & KU_DIGITAL_SIGNATURE) != 0;
  }
  uint32_t xku = X509_get_extended_key_usage(cert.get());
  if (flags & EXFLAG_XKUSAGE) {
    usage.server_auth = (xku & XKU_SSL_SERVER) != 0;
    usage.client_auth = (xku & XKU_SSL_CLIENT) != 0;
  }
  usage.has_name_constraints = X509_get_ext_by_NID(cert.get(), NID_name_constraints, -1) >= 0;
  usage.organization = name_text(X509_get_subject_name(cert.get()), NID_organizationName);
  usage.organizational_unit =
      name_text(X509_get_subject_name(cert.get()), NID_organizationalUnitName);
  detail::drain_openssl_errors();
  return usage;
}

}  // namespace acmed::crypto
