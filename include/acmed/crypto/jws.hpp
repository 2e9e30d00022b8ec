// JSON Web Signature, flattened JSON serialization (RFC 7515 section 7.2.2), as ACME requires
// (RFC 8555 section 6.2).
#pragma once

#include "acmed/crypto/key.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace acmed::crypto {

// Signs `payload` (bytes; empty for POST-as-GET) with `key`. The protected header gets "alg"
// from the key, plus "nonce" and "url", plus either "kid" (when kid is non-empty) or "jwk".
// An empty nonce is left out of the header (the inner JWS of a key change, RFC 8555 section
// 7.3.5). Returns {"protected": b64u, "payload": b64u, "signature": b64u}; Errc::invalid_input
// for an empty url or strings that are not UTF-8, Errc::crypto if signing fails.
Result<nlohmann::json> jws_sign(const PrivateKey& key, std::string_view payload,
                                std::string_view nonce, std::string_view url, std::string_view kid);

// External Account Binding (RFC 8555 section 7.3.4): an HS256 JWS over the account's public JWK
// with protected {"alg":"HS256","kid":eab_kid,"url":url}. `hmac_key_b64url` is the key as CAs
// hand it out (base64url). Errc::invalid_input if the key does not decode or eab_kid is empty.
Result<nlohmann::json> eab_sign(std::string_view eab_kid, std::string_view hmac_key_b64url,
                                const nlohmann::json& account_jwk, std::string_view url);

// Key authorization for a challenge token (RFC 8555 section 8.1): token "." thumbprint.
std::string key_authorization(std::string_view token, const PrivateKey& account_key);
// dns-01 TXT record value: base64url(SHA-256(key authorization)) (RFC 8555 section 8.4).
std::string dns01_txt_value(std::string_view key_authorization);

}  // namespace acmed::crypto
