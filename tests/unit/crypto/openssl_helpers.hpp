// Test-only helpers that check acmed's crypto output with OpenSSL directly, independently of the
// code under test (its own conversions are not reused here).
#pragma once

#include "acmed/crypto/key.hpp"
#include "acmed/sys/process.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

namespace acmed::test {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

inline const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// A public-only key from SubjectPublicKeyInfo DER.
inline Pkey public_key_from_der(std::string_view der) {
  const unsigned char* p = bytes(der);
  return Pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
}

// Verifies a JWS signature (RFC 7518 section 3): raw R||S for ES256/ES384, PKCS#1 v1.5 for RS256.
inline bool verify_jws_signature(EVP_PKEY* pub, std::string_view alg, std::string_view input,
                                 std::string_view signature) {
  const EVP_MD* md = alg == "ES384" ? EVP_sha384() : EVP_sha256();
  std::string der(signature);
  if (alg == "ES256" || alg == "ES384") {
    std::size_t half = alg == "ES256" ? 32 : 48;
    if (signature.size() != 2 * half) return false;
    BIGNUM* r = BN_bin2bn(bytes(signature), static_cast<int>(half), nullptr);
    BIGNUM* s = BN_bin2bn(bytes(signature.substr(half)), static_cast<int>(half), nullptr);
    ECDSA_SIG* sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, r, s);
    unsigned char* out = nullptr;
    int len = i2d_ECDSA_SIG(sig, &out);
    ECDSA_SIG_free(sig);
    if (len <= 0) return false;
    der.assign(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
    OPENSSL_free(out);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, pub) == 1 &&
            EVP_DigestVerify(ctx, bytes(der), der.size(), bytes(input), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// Verifies with the public half of `key`, rebuilt from its SubjectPublicKeyInfo.
inline bool verify_with_public(const crypto::PrivateKey& key, std::string_view input,
                               std::string_view signature) {
  Pkey pub = public_key_from_der(key.public_key_der());
  return pub && verify_jws_signature(pub.get(), key.jws_alg(), input, signature);
}

// Runs the openssl CLI with `input` on stdin and returns its stdout ("" on failure).
inline std::string openssl_cli(const std::vector<std::string>& args, std::string input) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  sys::ProcessOptions options;
  options.stdin_data = std::move(input);
  options.timeout = std::chrono::seconds(30);
  auto result = sys::run_process(argv, options);
  if (!result || result->exit_code != 0) return {};
  return result->out;
}

}  // namespace acmed::test

namespace acmed::test {

// What a test certificate should contain.
struct CertOptions {
  std::string cn;            // subject CN; none when empty
  std::string san;           // OpenSSL config syntax ("DNS:a.test,IP:127.0.0.1"); none if ""
  bool ca = false;           // basicConstraints CA:TRUE, plus a subjectKeyIdentifier
  std::string ski = "hash";  // subjectKeyIdentifier value for a CA ("hash" or hex bytes)
  std::string serial_hex = "01";
  std::string not_before;  // "YYYYMMDDHHMMSSZ"; empty: an hour ago
  std::string not_after;   // empty: in a day
};

inline CertOptions leaf_options(std::string cn, std::string san, std::string serial_hex = "01") {
  CertOptions o;
  o.cn = std::move(cn);
  o.san = std::move(san);
  o.serial_hex = std::move(serial_hex);
  return o;
}

inline CertOptions ca_options(std::string cn, std::string ski = "hash") {
  CertOptions o;
  o.cn = std::move(cn);
  o.ca = true;
  o.ski = std::move(ski);
  return o;
}

// A certificate (PEM) for `subject`, signed by `issuer_key` with `issuer_pem` as issuer, or
// self-signed when issuer_pem is empty. Issued certificates get an authorityKeyIdentifier.
inline std::string make_test_cert(const CertOptions& o, const crypto::PrivateKey& subject,
                                  const std::string& issuer_pem = {},
                                  const crypto::PrivateKey* issuer_key = nullptr) {
  X509* issuer = nullptr;
  if (!issuer_pem.empty()) {
    BIO* in = BIO_new_mem_buf(issuer_pem.data(), static_cast<int>(issuer_pem.size()));
    issuer = PEM_read_bio_X509(in, nullptr, nullptr, nullptr);
    BIO_free(in);
    if (!issuer) return {};
  }
  X509* x = X509_new();
  X509_set_version(x, X509_VERSION_3);
  BIGNUM* serial = nullptr;
  BN_hex2bn(&serial, o.serial_hex.c_str());
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x));
  BN_free(serial);
  X509_NAME* name = X509_get_subject_name(x);
  if (!o.cn.empty()) {
    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8, bytes(o.cn),
                               static_cast<int>(o.cn.size()), -1, 0);
  }
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
  if (o.not_before.empty())
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  else
    ASN1_TIME_set_string_X509(X509_getm_notBefore(x), o.not_before.c_str());
  if (o.not_after.empty())
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  else
    ASN1_TIME_set_string_X509(X509_getm_notAfter(x), o.not_after.c_str());
  X509_set_pubkey(x, subject.native());

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : x, x, nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext) X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  };
  add(NID_basic_constraints, o.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  if (o.ca) add(NID_subject_key_identifier, o.ski);
  if (issuer) add(NID_authority_key_identifier, "keyid:always");
  if (!o.san.empty()) add(NID_subject_alt_name, o.san);

  const crypto::PrivateKey& signer = issuer_key ? *issuer_key : subject;
  X509_sign(x, signer.native(), EVP_sha256());
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(out, x);
  char* data = nullptr;
  long len = BIO_get_mem_data(out, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(out);
  X509_free(x);
  X509_free(issuer);
  return pem;
}

// DER of the first certificate in `pem`, decoded by OpenSSL.
inline std::string cert_der(const std::string& pem) {
  BIO* in = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(in, nullptr, nullptr, nullptr);
  BIO_free(in);
  if (!x) return {};
  unsigned char* der = nullptr;
  int len = i2d_X509(x, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  X509_free(x);
  return out;
}

}  // namespace acmed::test
