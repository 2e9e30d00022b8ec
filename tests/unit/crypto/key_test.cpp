#include "acmed/crypto/key.hpp"
#include "acmed/crypto/encoding.hpp"
#include "openssl_helpers.hpp"
#include "rfc_vectors.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <string>

using namespace acmed;
using namespace acmed::crypto;

namespace {

PrivateKey make_key(KeyType type, int bits = 2048, std::string curve = "secp256r1") {
  KeySpec spec;
  spec.type = type;
  spec.rsa_bits = bits;
  spec.curve = std::move(curve);
  auto key = PrivateKey::generate(spec);
  REQUIRE(key);
  return std::move(key).value();
}

std::size_t decoded_size(const nlohmann::json& jwk, const char* member) {
  auto bytes = base64url_decode(jwk.at(member).get<std::string>());
  REQUIRE(bytes);
  return bytes->size();
}

std::vector<std::string> member_names(const nlohmann::json& obj) {
  std::vector<std::string> names;
  for (auto it = obj.begin(); it != obj.end(); ++it) names.push_back(it.key());
  return names;
}

// A PEM written by OpenSSL itself in the traditional (SEC1 / PKCS#1) form.
std::string traditional_pem(const PrivateKey& key) {
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PrivateKey_traditional(bio, key.native(), nullptr, nullptr, 0, nullptr,
                                               nullptr) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

std::string pem_of(EVP_PKEY* key, const EVP_CIPHER* cipher = nullptr, const char* pass = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  std::string pw = pass ? pass : "";
  REQUIRE(PEM_write_bio_PrivateKey(bio, key, cipher,
                                   pass ? reinterpret_cast<unsigned char*>(pw.data()) : nullptr,
                                   static_cast<int>(pw.size()), nullptr, nullptr) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

test::Pkey openssl_keygen(const char* type, const char* param = nullptr) {
  EVP_PKEY* k = param ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, param)
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  REQUIRE(k != nullptr);
  return test::Pkey(k);
}

void check_invalid_jwk(const nlohmann::json& jwk, const std::string& message_part) {
  auto key = PrivateKey::from_private_jwk(jwk);
  REQUIRE_FALSE(key);
  CHECK(key.error().code == Errc::invalid_input);
  CHECK_MESSAGE(key.error().message.find(message_part) != std::string::npos, key.error().message);
}

}  // namespace

TEST_CASE("parse_key_spec accepts certbot's names and rejects unsupported ones") {
  auto ec = parse_key_spec("ecdsa", 2048, "secp384r1");
  REQUIRE(ec);
  CHECK(ec->type == KeyType::ecdsa);
  CHECK(ec->curve == "secp384r1");
  CHECK(parse_key_spec("ecdsa", 0, "prime256v1")->curve == "secp256r1");
  CHECK(parse_key_spec("ECDSA", 0, "P-384")->curve == "secp384r1");
  auto rsa = parse_key_spec("rsa", 3072, "");
  REQUIRE(rsa);
  CHECK(rsa->type == KeyType::rsa);
  CHECK(rsa->rsa_bits == 3072);

  for (auto bad : {parse_key_spec("dsa", 2048, "secp256r1"), parse_key_spec("rsa", 1024, ""),
                   parse_key_spec("rsa", 2047, ""), parse_key_spec("ecdsa", 2048, "secp224r1"),
                   parse_key_spec("ecdsa", 2048, "")}) {
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::invalid_input);
    CHECK_FALSE(bad.error().hint.empty());
  }
}

TEST_CASE("the default key is ECDSA P-256 with a full-width ES256 JWK") {
  auto key = PrivateKey::generate(KeySpec{});
  REQUIRE(key);
  CHECK(key->spec().type == KeyType::ecdsa);
  CHECK(key->spec().curve == "secp256r1");
  CHECK(key->jws_alg() == "ES256");
  auto jwk = key->public_jwk();
  CHECK(member_names(jwk) == std::vector<std::string>{"crv", "kty", "x", "y"});
  CHECK(jwk["kty"] == "EC");
  CHECK(jwk["crv"] == "P-256");
  CHECK(decoded_size(jwk, "x") == 32);
  CHECK(decoded_size(jwk, "y") == 32);
}

TEST_CASE("a P-384 key has a 48-byte JWK and signs ES384") {
  PrivateKey key = make_key(KeyType::ecdsa, 0, "secp384r1");
  CHECK(key.spec().curve == "secp384r1");
  CHECK(key.jws_alg() == "ES384");
  auto jwk = key.public_jwk();
  CHECK(jwk["crv"] == "P-384");
  CHECK(decoded_size(jwk, "x") == 48);
  CHECK(decoded_size(jwk, "y") == 48);
}

TEST_CASE("RSA keys of each supported size are generated with a minimal JWK") {
  for (int bits : {2048, 3072, 4096}) {
    CAPTURE(bits);
    PrivateKey key = make_key(KeyType::rsa, bits);
    CHECK(key.spec().type == KeyType::rsa);
    CHECK(key.spec().rsa_bits == bits);
    CHECK(key.jws_alg() == "RS256");
    auto jwk = key.public_jwk();
    CHECK(member_names(jwk) == std::vector<std::string>{"e", "kty", "n"});
    CHECK(jwk["e"] == "AQAB");
    auto n = base64url_decode(jwk["n"].get<std::string>());
    REQUIRE(n);
    CHECK(n->size() == static_cast<std::size_t>(bits / 8));
    CHECK(n->front() != '\0');  // no leading zero byte (RFC 7518 section 6.3.1.1)
  }
}

TEST_CASE("generating a key with an unsupported spec fails instead of guessing") {
  KeySpec small{KeyType::rsa, 1024, ""};
  auto r = PrivateKey::generate(small);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::invalid_input);
  KeySpec curve{KeyType::ecdsa, 2048, "secp224r1"};
  CHECK_FALSE(PrivateKey::generate(curve));
}

TEST_CASE("P-521 (certbot's --elliptic-curve secp521r1) keys generate, round-trip and sign") {
  auto spec = parse_key_spec("ecdsa", 2048, "secp521r1");
  REQUIRE(spec);
  auto key = PrivateKey::generate(*spec);
  REQUIRE(key);
  CHECK(key->spec().curve == "secp521r1");
  auto back = PrivateKey::from_pem(key->to_pem());
  REQUIRE(back);
  CHECK(back->spec().curve == "secp521r1");
  auto sig = key->sign("data");
  REQUIRE(sig);
  CHECK(sig->size() == 132);  // RFC 7518 section 3.4: R and S of 66 bytes each
}

TEST_CASE("to_pem writes PKCS#8 that from_pem reads back to the same key") {
  for (const PrivateKey& key : [] {
         std::vector<PrivateKey> keys;
         keys.push_back(make_key(KeyType::ecdsa));
         keys.push_back(make_key(KeyType::ecdsa, 0, "secp384r1"));
         keys.push_back(make_key(KeyType::rsa));
         return keys;
       }()) {
    std::string pem = key.to_pem();
    CHECK(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0);
    auto back = PrivateKey::from_pem(pem);
    REQUIRE(back);
    CHECK(back->public_jwk() == key.public_jwk());
    CHECK(EVP_PKEY_eq(back->native(), key.native()) == 1);
  }
}

TEST_CASE("from_pem accepts SEC1 EC and PKCS#1 RSA private keys") {
  PrivateKey ec = make_key(KeyType::ecdsa);
  std::string sec1 = traditional_pem(ec);
  REQUIRE(sec1.find("BEGIN EC PRIVATE KEY") != std::string::npos);
  auto ec_back = PrivateKey::from_pem(sec1);
  REQUIRE(ec_back);
  CHECK(ec_back->public_jwk() == ec.public_jwk());

  PrivateKey rsa = make_key(KeyType::rsa);
  std::string pkcs1 = traditional_pem(rsa);
  REQUIRE(pkcs1.find("BEGIN RSA PRIVATE KEY") != std::string::npos);
  auto rsa_back = PrivateKey::from_pem(pkcs1);
  REQUIRE(rsa_back);
  CHECK(rsa_back->public_jwk() == rsa.public_jwk());
}

TEST_CASE("a key on a curve acmed cannot use is refused, and the hint names the ones it can") {
  // A throwaway test key on secp224r1 (openssl ecparam -name secp224r1 -genkey -noout).
  const char* p224 =
      "-----BEGIN EC PRIVATE KEY-----\n"
      "MGgCAQEEHNg3QYAGNEgxE02wqlzZCJRtLfJstNF+2TMsmPqgBwYFK4EEACGhPAM6\n"
      "AAQB03Bkh6A/XseuuqWmR6HpptJPU/y+BIS4uTV5GNsWjAgpWHjNJcQ1OtVvb8Vv\n"
      "/ntxoBfwPWzqAw==\n"
      "-----END EC PRIVATE KEY-----\n";
  auto key = PrivateKey::from_pem(p224);
  REQUIRE_FALSE(key);
  CHECK(key.error().code == Errc::invalid_input);
  for (const char* curve : {"P-256", "P-384", "P-521"}) {
    CHECK(key.error().hint.find(curve) != std::string::npos);
  }
}

TEST_CASE("from_pem rejects garbage, public keys and truncated keys without echoing them") {
  PrivateKey key = make_key(KeyType::ecdsa);
  std::string pem = key.to_pem();
  std::string body_line = pem.substr(pem.find('\n') + 1, 40);
  std::string truncated = pem.substr(0, pem.size() / 2) + "\n-----END PRIVATE KEY-----\n";

  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PUBKEY(bio, key.native()) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string public_pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);

  for (const std::string& bad :
       {std::string(), std::string("not a key at all"), public_pem, truncated,
        std::string("-----BEGIN PRIVATE KEY-----\n!!!!\n"
                    "-----END PRIVATE KEY-----\n")}) {
    auto r = PrivateKey::from_pem(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_input);
    CHECK(r.error().describe().find(body_line) == std::string::npos);
  }
}

TEST_CASE("from_pem refuses an encrypted key instead of prompting for a pass phrase") {
  PrivateKey key = make_key(KeyType::ecdsa);
  std::string encrypted = pem_of(key.native(), EVP_aes_256_cbc(), "secret");
  REQUIRE(encrypted.find("ENCRYPTED PRIVATE KEY") != std::string::npos);
  auto r = PrivateKey::from_pem(encrypted);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::invalid_input);
}

TEST_CASE("from_pem rejects key types and sizes acmed cannot use") {
  test::Pkey ed = openssl_keygen("ED25519");
  test::Pkey p224 = openssl_keygen("EC", "P-224");
  test::Pkey rsa1024(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(1024)));
  REQUIRE(rsa1024);
  for (EVP_PKEY* k : {ed.get(), p224.get(), rsa1024.get()}) {
    auto r = PrivateKey::from_pem(pem_of(k));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_input);
    CHECK_MESSAGE(r.error().message.find("not supported") != std::string::npos, r.error().message);
  }
}

TEST_CASE("the RFC 7638 example RSA key has the published thumbprint") {
  nlohmann::json jwk = {{"kty", "RSA"}, {"n", test::rfc::k_7638_n}, {"e", "AQAB"}};
  auto thumbprint = jwk_thumbprint(jwk);
  REQUIRE(thumbprint);
  CHECK(*thumbprint == test::rfc::k_7638_thumbprint);
  // Optional members do not change it (RFC 7638 section 3.3).
  jwk["alg"] = "RS256";
  jwk["kid"] = "2011-04-29";
  CHECK(*jwk_thumbprint(jwk) == test::rfc::k_7638_thumbprint);
}

TEST_CASE("jwk_thumbprint rejects JWKs without their required members") {
  for (const char* text : {R"([1,2])", R"({"n":"AQAB","e":"AQAB"})", R"({"kty":"RSA","n":"AQAB"})",
                           R"({"kty":"EC","crv":"P-256","x":"AA"})", R"({"kty":"OKP","x":"AA"})",
                           R"({"kty":"RSA","n":5,"e":"AQAB"})", R"({"kty":7})"}) {
    CAPTURE(text);
    auto r = jwk_thumbprint(nlohmann::json::parse(text));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_input);
  }
}

TEST_CASE("a key's thumbprint is the thumbprint of its public JWK") {
  PrivateKey key = make_key(KeyType::ecdsa);
  CHECK(key.jwk_thumbprint() == *jwk_thumbprint(key.public_jwk()));
  CHECK(key.jwk_thumbprint() ==
        base64url_encode(sha256(key.public_jwk().dump())));  // already canonical
  CHECK(key.jwk_thumbprint().size() == 43);
}

TEST_CASE("ES256, ES384 and RS256 signatures verify with OpenSSL and have JWS sizes") {
  const std::string input = "eyJhbGciOiJFUzI1NiJ9.cGF5bG9hZA";
  struct Case {
    KeyType type;
    int bits;
    const char* curve;
    std::size_t size;
  };
  for (Case c : {Case{KeyType::ecdsa, 0, "secp256r1", 64}, Case{KeyType::ecdsa, 0, "secp384r1", 96},
                 Case{KeyType::rsa, 2048, "", 256}}) {
    PrivateKey key = make_key(c.type, c.bits, c.curve);
    CAPTURE(key.jws_alg());
    // ECDSA signatures vary; a few rounds exercise R or S values with leading zero bytes.
    for (int round = 0; round < 8; ++round) {
      auto sig = key.sign(input);
      REQUIRE(sig);
      CHECK(sig->size() == c.size);
      CHECK(test::verify_with_public(key, input, *sig));
      CHECK_FALSE(test::verify_with_public(key, input + "x", *sig));
    }
  }
}

TEST_CASE("RS256 over the RFC 7515 A.2 input reproduces the published signature exactly") {
  auto key = PrivateKey::from_private_jwk(nlohmann::json::parse(test::rfc::k_a2_jwk));
  REQUIRE(key);
  CHECK(key->jws_alg() == "RS256");
  std::string input = std::string(test::rfc::k_a2_header_b64) + "." + test::rfc::k_7515_payload_b64;
  auto sig = key->sign(input);
  REQUIRE(sig);
  CHECK(base64url_encode(*sig) == test::rfc::k_a2_signature_b64);
}

TEST_CASE("the published RFC 7515 A.3 ES256 signature verifies with the example's public key") {
  auto key = PrivateKey::from_private_jwk(nlohmann::json::parse(test::rfc::k_a3_jwk));
  REQUIRE(key);
  CHECK(key->jws_alg() == "ES256");
  auto rfc_jwk = nlohmann::json::parse(test::rfc::k_a3_jwk);
  CHECK(key->public_jwk()["x"] == rfc_jwk["x"]);
  CHECK(key->public_jwk()["y"] == rfc_jwk["y"]);
  std::string input = std::string(test::rfc::k_a3_header_b64) + "." + test::rfc::k_7515_payload_b64;
  auto published = base64url_decode(test::rfc::k_a3_signature_b64);
  REQUIRE(published);
  CHECK(test::verify_with_public(*key, input, *published));
  // And our own signature over the same input verifies too.
  auto ours = key->sign(input);
  REQUIRE(ours);
  CHECK(test::verify_with_public(*key, input, *ours));
  // A tampered signature does not.
  std::string tampered = *published;
  tampered[5] = static_cast<char>(tampered[5] ^ 1);
  CHECK_FALSE(test::verify_with_public(*key, input, tampered));
}

TEST_CASE("private JWKs round-trip for EC and RSA keys with exactly the RFC 7518 members") {
  PrivateKey ec = make_key(KeyType::ecdsa, 0, "secp384r1");
  auto ec_jwk = ec.to_private_jwk();
  CHECK(member_names(ec_jwk) == std::vector<std::string>{"crv", "d", "kty", "x", "y"});
  CHECK(decoded_size(ec_jwk, "d") == 48);
  auto ec_back = PrivateKey::from_private_jwk(ec_jwk);
  REQUIRE(ec_back);
  CHECK(EVP_PKEY_eq(ec_back->native(), ec.native()) == 1);
  CHECK(ec_back->to_private_jwk() == ec_jwk);

  PrivateKey rsa = make_key(KeyType::rsa);
  auto rsa_jwk = rsa.to_private_jwk();
  CHECK(member_names(rsa_jwk) ==
        std::vector<std::string>{"d", "dp", "dq", "e", "kty", "n", "p", "q", "qi"});
  auto rsa_back = PrivateKey::from_private_jwk(rsa_jwk);
  REQUIRE(rsa_back);
  CHECK(EVP_PKEY_eq(rsa_back->native(), rsa.native()) == 1);
  CHECK(rsa_back->to_private_jwk() == rsa_jwk);
  auto input = std::string("round trip");
  auto sig = rsa_back->sign(input);
  REQUIRE(sig);
  CHECK(test::verify_with_public(rsa, input, *sig));
}

TEST_CASE("the RFC 7515 A.2 private JWK round-trips member for member") {
  auto rfc = nlohmann::json::parse(test::rfc::k_a2_jwk);
  auto key = PrivateKey::from_private_jwk(rfc);
  REQUIRE(key);
  CHECK(key->to_private_jwk() == rfc);
}

TEST_CASE("from_private_jwk rejects malformed JWKs with a message naming the problem") {
  auto ec = nlohmann::json::parse(test::rfc::k_a3_jwk);
  auto rsa = nlohmann::json::parse(test::rfc::k_a2_jwk);
  auto without = [](nlohmann::json j, const char* member) {
    j.erase(member);
    return j;
  };
  auto with = [](nlohmann::json j, const char* member, nlohmann::json value) {
    j[member] = std::move(value);
    return j;
  };
  check_invalid_jwk(nlohmann::json::array(), "not a JSON object");
  check_invalid_jwk(without(ec, "kty"), "\"kty\"");
  check_invalid_jwk(with(ec, "kty", "oct"), "not supported");
  check_invalid_jwk(without(ec, "d"), "\"d\"");
  check_invalid_jwk(without(ec, "crv"), "\"crv\"");
  check_invalid_jwk(with(ec, "x", 42), "\"x\" is not a string");
  check_invalid_jwk(with(ec, "y", "not+base64url"), "\"y\"");
  check_invalid_jwk(with(ec, "d", ""), "\"d\"");
  check_invalid_jwk(with(ec, "crv", "P-192"), "P-192");
  // RFC 7515 A.4's P-521 key loads: acmed supports secp521r1 (certbot's --elliptic-curve).
  CHECK(PrivateKey::from_private_jwk(nlohmann::json::parse(test::rfc::k_a4_jwk)));
  check_invalid_jwk(with(ec, "x", base64url_encode(std::string(33, '\x01'))), "\"x\" is 33 bytes");
  for (const char* member : {"n", "e", "d", "p", "q", "dp", "dq", "qi"}) {
    check_invalid_jwk(without(rsa, member), std::string("\"") + member + "\"");
  }
  check_invalid_jwk(with(rsa, "oth", nlohmann::json::array()), "multi-prime");
}

TEST_CASE("from_private_jwk rejects numbers that do not form a key pair") {
  auto ec = nlohmann::json::parse(test::rfc::k_a3_jwk);
  // d of another key: the public point does not match.
  ec["d"] = make_key(KeyType::ecdsa).to_private_jwk()["d"];
  check_invalid_jwk(ec, "EC");
  // A point that is not on the curve.
  auto off_curve = nlohmann::json::parse(test::rfc::k_a3_jwk);
  off_curve["y"] = off_curve["x"];
  check_invalid_jwk(off_curve, "EC");
  // An RSA key whose CRT values belong to a different key.
  auto rsa = nlohmann::json::parse(test::rfc::k_a2_jwk);
  auto other = make_key(KeyType::rsa).to_private_jwk();
  rsa["p"] = other["p"];
  check_invalid_jwk(rsa, "RSA");
}

TEST_CASE("public_key_der is the SubjectPublicKeyInfo of the key") {
  PrivateKey key = make_key(KeyType::ecdsa);
  std::string der = key.public_key_der();
  REQUIRE_FALSE(der.empty());
  CHECK(static_cast<unsigned char>(der[0]) == 0x30);  // SEQUENCE
  test::Pkey pub = test::public_key_from_der(der);
  REQUIRE(pub);
  CHECK(EVP_PKEY_eq(pub.get(), key.native()) == 1);
}

TEST_CASE("certbot_account_id is the MD5 of the PEM public key, as certbot computes it") {
  for (const PrivateKey& key : [] {
         std::vector<PrivateKey> keys;
         keys.push_back(make_key(KeyType::rsa));
         keys.push_back(make_key(KeyType::ecdsa));
         return keys;
       }()) {
    std::string id = key.certbot_account_id();
    CHECK(id.size() == 32);
    CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    // Independently: `openssl pkey -pubout | openssl md5 -r`.
    std::string pub_pem = test::openssl_cli({"pkey", "-pubout"}, key.to_pem());
    REQUIRE(pub_pem.rfind("-----BEGIN PUBLIC KEY-----\n", 0) == 0);
    std::string md5 = test::openssl_cli({"md5", "-r"}, pub_pem);
    CHECK(md5.substr(0, 32) == id);
  }
}

TEST_CASE("a moved-from key hands its handle over and the new owner still signs") {
  PrivateKey a = make_key(KeyType::ecdsa);
  EVP_PKEY* handle = a.native();
  PrivateKey b = std::move(a);
  CHECK(b.native() == handle);
  CHECK(a.native() == nullptr);  // NOLINT(bugprone-use-after-move): checking the move
  PrivateKey c = make_key(KeyType::rsa);
  c = std::move(b);
  CHECK(c.native() == handle);
  auto sig = c.sign("data");
  REQUIRE(sig);
  CHECK(test::verify_with_public(c, "data", *sig));
}

TEST_CASE("corrupting any single character of a PEM key never crashes from_pem") {
  PrivateKey key = make_key(KeyType::ecdsa);
  std::string pem = key.to_pem();
  int rejected = 0;
  for (std::size_t i = 0; i < pem.size(); ++i) {  // bounded: one pass over a ~240-byte PEM
    std::string bad = pem;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    auto r = PrivateKey::from_pem(bad);
    if (!r) {
      CHECK(r.error().code == Errc::invalid_input);
      ++rejected;
    }
  }
  CHECK(rejected > 0);
}

TEST_CASE("from_pem rejects an EC key whose stored public point is not its own") {
  PrivateKey a = make_key(KeyType::ecdsa);
  PrivateKey b = make_key(KeyType::ecdsa);
  // a's private scalar with b's public point, assembled by OpenSSL without any check.
  BIGNUM* d = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(a.native(), "priv", &d) == 1);
  unsigned char point[65];
  std::size_t point_len = 0;
  REQUIRE(EVP_PKEY_get_octet_string_param(b.native(), "encoded-pub-key", point, sizeof point,
                                          &point_len) == 1);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, "group", "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, "pub", point, point_len);
  OSSL_PARAM_BLD_push_BN(bld, "priv", d);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* mixed = nullptr;
  REQUIRE(EVP_PKEY_fromdata_init(ctx) == 1);
  REQUIRE(EVP_PKEY_fromdata(ctx, &mixed, EVP_PKEY_KEYPAIR, params) == 1);
  test::Pkey owned(mixed);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_clear_free(d);

  auto r = PrivateKey::from_pem(pem_of(owned.get()));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::invalid_input);
  CHECK(r.error().message.find("inconsistent") != std::string::npos);
}
