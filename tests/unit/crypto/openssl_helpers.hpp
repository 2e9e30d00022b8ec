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
