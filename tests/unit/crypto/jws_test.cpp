#include "acmed/crypto/jws.hpp"
#include "acmed/crypto/encoding.hpp"
#include "openssl_helpers.hpp"
#include "rfc_vectors.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace acmed;
using namespace acmed::crypto;

namespace {

PrivateKey make_key(KeyType type) {
  KeySpec spec;
  spec.type = type;
  auto key = PrivateKey::generate(spec);
  REQUIRE(key);
  return std::move(key).value();
}

nlohmann::json decode_json_member(const nlohmann::json& jws, const char* member) {
  auto bytes = base64url_decode(jws.at(member).get<std::string>());
  REQUIRE(bytes);
  return nlohmann::json::parse(*bytes);
}

std::string decode_member(const nlohmann::json& jws, const char* member) {
  auto bytes = base64url_decode(jws.at(member).get<std::string>());
  REQUIRE(bytes);
  return *bytes;
}

bool signature_verifies(const PrivateKey& key, const nlohmann::json& jws) {
  std::string input = jws["protected"].get<std::string>() + "." + jws["payload"].get<std::string>();
  return test::verify_with_public(key, input, decode_member(jws, "signature"));
}

}  // namespace

TEST_CASE("a JWS with a kid carries alg, nonce, url and kid but no jwk (RFC 8555 6.2)") {
  for (KeyType type : {KeyType::ecdsa, KeyType::rsa}) {
    PrivateKey key = make_key(type);
    auto jws = jws_sign(key, R"({"status":"deactivated"})", "nonce-1",
                        "https://ca.example/acme/acct/1", "https://ca.example/acme/acct/1");
    REQUIRE(jws);
    CHECK(jws->size() == 3);
    auto header = decode_json_member(*jws, "protected");
    CHECK(header == nlohmann::json{{"alg", key.jws_alg()},
                                   {"kid", "https://ca.example/acme/acct/1"},
                                   {"nonce", "nonce-1"},
                                   {"url", "https://ca.example/acme/acct/1"}});
    CHECK(decode_member(*jws, "payload") == R"({"status":"deactivated"})");
    CHECK(signature_verifies(key, *jws));
  }
}

TEST_CASE("a JWS without a kid embeds the public JWK instead") {
  PrivateKey key = make_key(KeyType::ecdsa);
  auto jws = jws_sign(key, R"({"termsOfServiceAgreed":true})", "n2", "https://ca/new-acct", "");
  REQUIRE(jws);
  auto header = decode_json_member(*jws, "protected");
  CHECK(header["jwk"] == key.public_jwk());
  CHECK_FALSE(header.contains("kid"));
  CHECK(header["alg"] == "ES256");
  CHECK(header["nonce"] == "n2");
  CHECK(header["url"] == "https://ca/new-acct");
  CHECK(header["jwk"].find("d") == header["jwk"].end());  // never the private part
  CHECK(signature_verifies(key, *jws));
}

TEST_CASE("a POST-as-GET JWS has an empty payload and still verifies (RFC 8555 6.3)") {
  PrivateKey key = make_key(KeyType::ecdsa);
  auto jws = jws_sign(key, "", "n3", "https://ca/order/1", "https://ca/acct/1");
  REQUIRE(jws);
  CHECK((*jws)["payload"] == "");
  CHECK(signature_verifies(key, *jws));
}

TEST_CASE("an empty nonce is left out, as the inner JWS of a key change needs (RFC 8555 7.3.5)") {
  PrivateKey key = make_key(KeyType::ecdsa);
  auto jws = jws_sign(key, "{}", "", "https://ca/key-change", "");
  REQUIRE(jws);
  auto header = decode_json_member(*jws, "protected");
  CHECK_FALSE(header.contains("nonce"));
  CHECK(header.contains("jwk"));
}

TEST_CASE("jws_sign refuses an empty url and strings that are not UTF-8") {
  PrivateKey key = make_key(KeyType::ecdsa);
  auto no_url = jws_sign(key, "{}", "n", "", "");
  REQUIRE_FALSE(no_url);
  CHECK(no_url.error().code == Errc::invalid_input);
  auto bad_nonce = jws_sign(key, "{}", "\xff\xfe", "https://ca/x", "");
  REQUIRE_FALSE(bad_nonce);
  CHECK(bad_nonce.error().code == Errc::invalid_input);
}

TEST_CASE("an EAB JWS is HS256 over the account JWK with the decoded key (RFC 8555 7.3.4)") {
  PrivateKey account = make_key(KeyType::ecdsa);
  const std::string mac_key("\x01\x02\x03\xfe\xff secret key bytes", 22);
  const std::string mac_key_b64u = base64url_encode(mac_key);
  auto eab = eab_sign("kid-1", mac_key_b64u, account.public_jwk(), "https://ca/new-acct");
  REQUIRE(eab);
  CHECK(decode_json_member(*eab, "protected") ==
        nlohmann::json{{"alg", "HS256"}, {"kid", "kid-1"}, {"url", "https://ca/new-acct"}});
  CHECK(decode_json_member(*eab, "payload") == account.public_jwk());

  // The MAC, computed independently with the openssl CLI.
  std::string input =
      (*eab)["protected"].get<std::string>() + "." + (*eab)["payload"].get<std::string>();
  std::string cli = test::openssl_cli(
      {"dgst", "-sha256", "-mac", "HMAC", "-macopt", "hexkey:" + hex(mac_key), "-r"}, input);
  REQUIRE(cli.size() >= 64);
  CHECK(hex(decode_member(*eab, "signature")) == cli.substr(0, 64));
}

TEST_CASE("eab_sign rejects a key that is not base64url and an empty key id") {
  PrivateKey account = make_key(KeyType::ecdsa);
  for (const char* bad_key : {"not+base64/url", "", "A"}) {
    CAPTURE(bad_key);
    auto r = eab_sign("kid", bad_key, account.public_jwk(), "https://ca/new-acct");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_input);
  }
  auto no_kid = eab_sign("", "c2VjcmV0", account.public_jwk(), "https://ca/new-acct");
  REQUIRE_FALSE(no_kid);
  CHECK(no_kid.error().code == Errc::invalid_input);
}

TEST_CASE("a key authorization is the token, a dot and the account key thumbprint (RFC 8555 8.1)") {
  PrivateKey key = make_key(KeyType::rsa);
  CHECK(key_authorization("tok_EN-1", key) == "tok_EN-1." + key.jwk_thumbprint());
}

TEST_CASE("the dns-01 TXT value matches a digest computed with the openssl CLI") {
  // Value computed while writing this test with:
  //   printf '%s'
  //   'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
  //     | openssl dgst -sha256 -binary | basenc --base64url
  // (OpenSSL 3.0; the trailing '=' padding dropped).
  CHECK(dns01_txt_value("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA." +
                        std::string(test::rfc::k_7638_thumbprint)) ==
        "ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8");
}
