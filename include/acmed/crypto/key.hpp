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
  int rsa_bits = 2048;              // 2048, 3072 or 4096
  std::string curve = "secp256r1";  // secp256r1, secp384r1 or secp521r1
};

// "ecdsa" / "rsa" and "secp256r1" / "secp384r1" as certbot writes them in renewal confs.
// Only the parameter that matters for `type` is checked (rsa_bits for rsa, curve for ecdsa);
// "prime256v1" and "P-256" (and their P-384 forms) are accepted and normalised to secp256r1 /
// secp384r1. Errc::invalid_input for anything else.
Result<KeySpec> parse_key_spec(std::string_view type, int rsa_bits, std::string_view curve);

// RFC 7638 thumbprint of a public (or private) JWK: base64url(SHA-256(JSON of the required
// members only, in lexicographic order, no whitespace)). Required members: EC crv,kty,x,y;
// RSA e,kty,n; oct k,kty. Errc::invalid_input when kty is unknown or a member is missing.
Result<std::string> jwk_thumbprint(const nlohmann::json& jwk);

class PrivateKey {
 public:
  // A new key. Errc::invalid_input for a spec parse_key_spec refuses, Errc::crypto if OpenSSL
  // fails.
  static Result<PrivateKey> generate(const KeySpec& spec);
  // PKCS#8 or traditional PEM ("BEGIN PRIVATE KEY", "BEGIN EC PRIVATE KEY", "BEGIN RSA ...").
  // Errc::invalid_input for anything else (a public key, an encrypted key, an unsupported
  // algorithm or curve, an RSA key outside 2048..8192 bits, an EC key whose public point is not
  // its own). Error messages never contain key material.
  static Result<PrivateKey> from_pem(std::string_view pem);
  // A private JWK (RFC 7518 section 6), the format certbot keeps account keys in
  // (accounts/.../private_key.json): RSA with n,e,d,p,q,dp,dq,qi; EC P-256/P-384/P-521 with
  // crv,x,y,d. The key pair is checked for consistency. Errc::invalid_input when a member is
  // missing, not base64url, or the numbers do not form a valid key.
  static Result<PrivateKey> from_private_jwk(const nlohmann::json& jwk);

  PrivateKey(PrivateKey&&) noexcept = default;
  PrivateKey& operator=(PrivateKey&&) noexcept = default;

  std::string to_pem() const;  // PKCS#8 PEM, unencrypted ("" only if OpenSSL runs out of memory)
  // The private JWK that from_private_jwk reads: members in lexicographic order, integers as
  // unsigned big-endian base64url (EC coordinates and d padded to the field size).
  nlohmann::json to_private_jwk() const;
  // DER of the SubjectPublicKeyInfo.
  std::string public_key_der() const;
  // The directory name certbot gives this account key under accounts/<server>/: lower-case hex
  // MD5 of the SubjectPublicKeyInfo in PEM form (certbot hashes
  // public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)). An identifier, not security.
  std::string certbot_account_id() const;
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
