#include "acmed/crypto/jws.hpp"

#include "acmed/crypto/encoding.hpp"

namespace acmed::crypto {

namespace {

// dump() throws on strings that are not valid UTF-8 (a nonce or URL from a broken server).
Result<std::string> dump_json(const nlohmann::json& value, const char* what) {
  try {
    return value.dump();
  } catch (const nlohmann::json::exception&) {
    return Error(Errc::invalid_input,
                 std::string(what) + " holds a string that is not valid UTF-8");
  }
}

nlohmann::json flattened(std::string protected_b64, std::string payload_b64,
                         std::string_view signature) {
  return {{"protected", std::move(protected_b64)},
          {"payload", std::move(payload_b64)},
          {"signature", base64url_encode(signature)}};
}

}  // namespace

Result<nlohmann::json> jws_sign(const PrivateKey& key, std::string_view payload,
                                std::string_view nonce, std::string_view url,
                                std::string_view kid) {
  if (url.empty()) return Error(Errc::invalid_input, "a JWS for ACME needs a \"url\"");
  // RFC 8555 section 6.2: alg, nonce, url, and exactly one of jwk (newAccount, revocation by
  // certificate key) or kid (every other request).
  nlohmann::json header = {{"alg", key.jws_alg()}, {"url", url}};
  // The inner JWS of a key change carries no nonce (RFC 8555 section 7.3.5).
  if (!nonce.empty()) header["nonce"] = nonce;
  if (!kid.empty())
    header["kid"] = kid;
  else
    header["jwk"] = key.public_jwk();
  ACMED_TRY(std::string header_json, dump_json(header, "JWS protected header"));

  std::string protected_b64 = base64url_encode(header_json);
  std::string payload_b64 = base64url_encode(payload);  // "" for POST-as-GET (section 6.3)
  ACMED_TRY(std::string signature, key.sign(protected_b64 + "." + payload_b64));
  return flattened(std::move(protected_b64), std::move(payload_b64), signature);
}

Result<nlohmann::json> eab_sign(std::string_view eab_kid, std::string_view hmac_key_b64url,
                                const nlohmann::json& account_jwk, std::string_view url) {
  auto hmac_key = base64url_decode(hmac_key_b64url);
  if (!hmac_key || hmac_key->empty()) {
    return Error(Errc::invalid_input, "the external account binding HMAC key is not base64url",
                 "copy the EAB HMAC key exactly as your CA shows it");
  }
  if (eab_kid.empty()) {
    return Error(Errc::invalid_input, "the external account binding key identifier is empty",
                 "pass the EAB key ID your CA gave you");
  }
  // RFC 8555 section 7.3.4: protected {alg: HS256, kid, url}, payload = the account's JWK.
  nlohmann::json header = {{"alg", "HS256"}, {"kid", eab_kid}, {"url", url}};
  ACMED_TRY(std::string header_json, dump_json(header, "EAB protected header"));
  ACMED_TRY(std::string jwk_json, dump_json(account_jwk, "account JWK"));

  std::string protected_b64 = base64url_encode(header_json);
  std::string payload_b64 = base64url_encode(jwk_json);
  ACMED_TRY(std::string mac, hmac_sha256(*hmac_key, protected_b64 + "." + payload_b64));
  return flattened(std::move(protected_b64), std::move(payload_b64), mac);
}

std::string key_authorization(std::string_view token, const PrivateKey& account_key) {
  return std::string(token) + "." + account_key.jwk_thumbprint();
}

std::string dns01_txt_value(std::string_view key_authorization) {
  return base64url_encode(sha256(key_authorization));
}

}  // namespace acmed::crypto
