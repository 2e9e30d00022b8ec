// Private keys (account keys and certificate keys) kept behind an RAII type.
#pragma once

#include "acmed/util/result.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>

typedef struct evp_pkey_st EVP_PKEY;

namespace acmed::crypto {

enum class KeyType { ecdsa, rsa };

struct KeySpec {
  KeyType type = KeyType::ecdsa;
  int rsa_bits = 2048;                 // 2048, 3072 or 4096
  std::string curve = "secp256r1";     // secp256r1 or secp384r1
};

// "ecdsa" / "rsa" and "secp256r1" / "secp384r1" as certbot writes them in renewal confs.
Result<KeySpec> parse_key_spec(std::string_view type, int rsa_bits, std::string_view curve);

class PrivateKey {
 public:
  static Result<PrivateKey> generate(const KeySpec& spec);
  // PKCS#8 or traditional PEM ("BEGIN PRIVATE KEY", "BEGIN EC PRIVATE KEY", "BEGIN RSA ...").
  static Result<PrivateKey> from_pem(std::string_view pem);

  std::string to_pem() const;  // PKCS#8 PEM
  KeySpec spec() const;

  // RFC 7517 public JWK with only the required members, in RFC 7638 lexicographic order.
  nlohmann::json public_jwk() const;
  // RFC 7638 thumbprint: base64url(SHA-256(canonical JWK)).
  std::string jwk_thumbprint() const;
  // "ES256", "ES384" or "RS256".
  std::string jws_alg() const;
  // JWS signature over `data`: raw R||S (fixed width) for ECDSA, PKCS#1 v1.5 for RSA.
  Result<std::string> sign(std::string_view data) const;

  EVP_PKEY* native() const { return m_key.get(); }

  struct Deleter {
    void operator()(EVP_PKEY* k) const;
  };

 private:
  explicit PrivateKey(EVP_PKEY* key) : m_key(key) {}
  std::unique_ptr<EVP_PKEY, Deleter> m_key;
};

}  // namespace acmed::crypto
