#include "acmed/crypto/key.hpp"
#include "acmed/util/strings.hpp"

#include "acmed/crypto/encoding.hpp"
#include "openssl_util.hpp"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <array>
#include <cctype>

namespace acmed::crypto {

using namespace detail;

namespace {

constexpr int k_min_rsa_bits = 2048;
constexpr int k_max_rsa_bits = 8192;

// The curves acmed supports, under each of the names they go by.
struct Curve {
  const char* spec_name;   // certbot's renewal conf name, KeySpec::curve
  const char* group_name;  // OpenSSL's OSSL_PKEY_PARAM_GROUP_NAME
  const char* jwk_crv;     // RFC 7518 section 6.2.1.1
  const char* alg;         // RFC 7518 section 3.1
  int field_bytes;         // coordinate and scalar width (RFC 7518 sections 3.4, 6.2.1.2)
};

constexpr std::array<Curve, 3> k_curves = {{
    {"secp256r1", "prime256v1", "P-256", "ES256", 32},
    {"secp384r1", "secp384r1", "P-384", "ES384", 48},
    {"secp521r1", "secp521r1", "P-521", "ES512", 66},
}};

using util::ascii_lower;

const Curve* curve_by_any_name(std::string_view name) {
  std::string n = ascii_lower(name);
  for (const Curve& c : k_curves) {
    if (n == c.spec_name || n == c.group_name || n == ascii_lower(c.jwk_crv)) return &c;
  }
  return nullptr;
}

const Curve* curve_by_jwk_crv(std::string_view crv) {
  for (const Curve& c : k_curves) {
    if (crv == c.jwk_crv) return &c;
  }
  return nullptr;
}

// OpenSSL's name for the curve of an EC key ("" if it has none).
std::string group_name_of(const EVP_PKEY* key) {
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) !=
      1) {
    drain_openssl_errors();
    return {};
  }
  return std::string(group, len);
}

// The curve of an EC key, or nullptr for an RSA key or an unsupported curve.
const Curve* curve_of(const EVP_PKEY* key) {
  if (!EVP_PKEY_is_a(key, "EC")) return nullptr;
  return curve_by_any_name(group_name_of(key));
}

BnPtr get_bn(const EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
    drain_openssl_errors();
    return nullptr;
  }
  return BnPtr(bn);
}

std::string bn_b64u(const EVP_PKEY* key, const char* name, int width = 0) {
  BnPtr bn = get_bn(key, name);
  return bn ? base64url_encode(bn_to_bytes(bn.get(), width)) : std::string();
}

// Accepts only the key types acmed can use for ACME and certificates.
Status check_supported(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) {
    int bits = EVP_PKEY_get_bits(key);
    if (bits < k_min_rsa_bits || bits > k_max_rsa_bits) {
      return Error(Errc::invalid_input,
                   "RSA key of " + std::to_string(bits) + " bits is not supported",
                   "use an RSA key of 2048 to 8192 bits, or an ECDSA P-256/P-384/P-521 key");
    }
    return ok_status();
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    if (curve_of(key) == nullptr) {
      return Error(Errc::invalid_input,
                   "EC key on curve \"" + group_name_of(key) + "\" is not supported",
                   "use an ECDSA key on P-256 (secp256r1), P-384 (secp384r1) or P-521 (secp521r1)");
    }
    return ok_status();
  }
  return Error(Errc::invalid_input,
               std::string("key type ") + EVP_PKEY_get0_type_name(key) + " is not supported",
               "use an ECDSA P-256/P-384/P-521 or RSA key");
}

// Refuses to prompt for a pass phrase: an encrypted key just fails to load.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

Result<std::string> get_string_member(const nlohmann::json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end()) {
    return Error(Errc::invalid_input, std::string("JWK has no \"") + name + "\" member");
  }
  if (!it->is_string()) {
    return Error(Errc::invalid_input, std::string("JWK member \"") + name + "\" is not a string");
  }
  return it->get<std::string>();
}

// A base64url-encoded unsigned integer member of a JWK (RFC 7518 section 2, Base64urlUInt).
Result<std::string> get_uint_member(const nlohmann::json& jwk, const char* name) {
  ACMED_TRY(std::string text, get_string_member(jwk, name));
  auto bytes = base64url_decode(text);
  if (!bytes || bytes->empty()) {
    return Error(Errc::invalid_input,
                 std::string("JWK member \"") + name + "\" is not a non-empty base64url value");
  }
  return std::move(bytes).value();
}

// Left-pads a big-endian integer to `width` bytes; fails when it is longer.
Result<std::string> pad_to(std::string bytes, int width, const char* name) {
  auto w = static_cast<std::size_t>(width);
  if (bytes.size() > w) {
    return Error(Errc::invalid_input, std::string("JWK member \"") + name + "\" is " +
                                          std::to_string(bytes.size()) + " bytes, more than the " +
                                          std::to_string(w) + " its curve allows");
  }
  return std::string(w - bytes.size(), '\0') + bytes;
}

BnPtr bytes_to_bn(std::string_view bytes) {
  return BnPtr(BN_bin2bn(uchar(bytes), static_cast<int>(bytes.size()), nullptr));
}

// Builds a key pair from OSSL_PARAMs, then checks that its parts belong together.
Result<PkeyPtr> key_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    Error e = openssl_error(std::string("the private JWK does not form a valid ") + type + " key");
    e.code = Errc::invalid_input;
    return e;
  }
  PkeyPtr key(raw);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_check(check.get()) != 1) {
    Error e = openssl_error(std::string("the private JWK's numbers do not form a valid ") + type +
                            " key pair");
    e.code = Errc::invalid_input;
    return e;
  }
  return key;
}

Result<PkeyPtr> ec_from_jwk(const nlohmann::json& jwk) {
  ACMED_TRY(std::string crv, get_string_member(jwk, "crv"));
  const Curve* curve = curve_by_jwk_crv(crv);
  if (curve == nullptr) {
    return Error(Errc::invalid_input, "JWK curve \"" + crv + "\" is not supported",
                 "acmed supports P-256, P-384 and P-521");
  }
  // RFC 7518 section 6.2.1.2 wants full-width coordinates; shorter ones are padded, as some
  // older software stripped leading zeros.
  ACMED_TRY(std::string x_raw, get_uint_member(jwk, "x"));
  ACMED_TRY(std::string y_raw, get_uint_member(jwk, "y"));
  ACMED_TRY(std::string d_raw, get_uint_member(jwk, "d"));
  ACMED_TRY(std::string x, pad_to(std::move(x_raw), curve->field_bytes, "x"));
  ACMED_TRY(std::string y, pad_to(std::move(y_raw), curve->field_bytes, "y"));
  ACMED_TRY(std::string d, pad_to(std::move(d_raw), curve->field_bytes, "d"));
  std::string point = "\x04" + x + y;  // SEC1 uncompressed point
  BnPtr d_bn = bytes_to_bn(d);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!d_bn || !bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->group_name,
                                      0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d_bn.get()) != 1) {
    return openssl_error("building an EC key from a JWK failed");
  }
  return key_from_params("EC", bld.get());
}

Result<PkeyPtr> rsa_from_jwk(const nlohmann::json& jwk) {
  if (jwk.contains("oth")) {
    return Error(Errc::invalid_input, "multi-prime RSA JWKs (\"oth\") are not supported");
  }
  // RFC 7518 section 6.3.2: acmed requires the CRT members, which certbot always writes.
  static constexpr std::array<std::pair<const char*, const char*>, 8> k_members = {{
      {"n", OSSL_PKEY_PARAM_RSA_N},
      {"e", OSSL_PKEY_PARAM_RSA_E},
      {"d", OSSL_PKEY_PARAM_RSA_D},
      {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
      {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
      {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
      {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
      {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
  }};
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) return openssl_error("building an RSA key from a JWK failed");
  // OSSL_PARAM_BLD_push_BN keeps a pointer to each BIGNUM until the params are built.
  std::array<BnPtr, k_members.size()> numbers;
  for (std::size_t i = 0; i < k_members.size(); ++i) {
    ACMED_TRY(std::string bytes, get_uint_member(jwk, k_members[i].first));
    numbers[i] = bytes_to_bn(bytes);
    if (!numbers[i] ||
        OSSL_PARAM_BLD_push_BN(bld.get(), k_members[i].second, numbers[i].get()) != 1) {
      return openssl_error("building an RSA key from a JWK failed");
    }
  }
  return key_from_params("RSA", bld.get());
}

}  // namespace

void PrivateKey::Deleter::operator()(EVP_PKEY* k) const {
  EVP_PKEY_free(k);
}

Result<KeySpec> parse_key_spec(std::string_view type, int rsa_bits, std::string_view curve) {
  KeySpec spec;
  std::string t = ascii_lower(type);
  if (t == "rsa") {
    if (rsa_bits != 2048 && rsa_bits != 3072 && rsa_bits != 4096) {
      return Error(Errc::invalid_input,
                   "RSA key size " + std::to_string(rsa_bits) + " is not supported",
                   "use 2048, 3072 or 4096");
    }
    spec.type = KeyType::rsa;
    spec.rsa_bits = rsa_bits;
    return spec;
  }
  if (t == "ecdsa" || t == "ec") {
    const Curve* c = curve_by_any_name(curve);
    if (c == nullptr) {
      return Error(Errc::invalid_input,
                   "elliptic curve \"" + std::string(curve) + "\" is not supported",
                   "use secp256r1, secp384r1 or secp521r1");
    }
    spec.type = KeyType::ecdsa;
    spec.curve = c->spec_name;
    return spec;
  }
  return Error(Errc::invalid_input, "key type \"" + std::string(type) + "\" is not supported",
               "use ecdsa or rsa");
}

Result<std::string> jwk_thumbprint(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return Error(Errc::invalid_input, "JWK is not a JSON object");
  ACMED_TRY(std::string kty, get_string_member(jwk, "kty"));
  // RFC 7638 section 3.2: only the required members take part.
  std::vector<const char*> names;
  if (kty == "EC")
    names = {"crv", "x", "y"};
  else if (kty == "RSA")
    names = {"e", "n"};
  else if (kty == "oct")
    names = {"k"};
  else
    return Error(Errc::invalid_input, "JWK key type \"" + kty + "\" is not supported");
  nlohmann::json canonical = nlohmann::json::object();
  canonical["kty"] = kty;
  for (const char* name : names) {
    ACMED_TRY(std::string value, get_string_member(jwk, name));
    canonical[name] = std::move(value);
  }
  // nlohmann::json keeps object members sorted and dump() adds no whitespace, which is RFC 7638
  // section 3's canonical form. dump() throws on invalid UTF-8.
  try {
    return base64url_encode(sha256(canonical.dump()));
  } catch (const nlohmann::json::exception&) {
    return Error(Errc::invalid_input, "JWK holds a string that is not valid UTF-8");
  }
}

Result<PrivateKey> PrivateKey::generate(const KeySpec& spec) {
  ACMED_TRY(KeySpec checked,
            parse_key_spec(spec.type == KeyType::rsa ? "rsa" : "ecdsa", spec.rsa_bits, spec.curve));
  EVP_PKEY* raw = nullptr;
  if (checked.type == KeyType::rsa) {
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(checked.rsa_bits));
  } else {
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve_by_any_name(checked.curve)->group_name);
  }
  if (raw == nullptr) return openssl_error("generating a key failed");
  return PrivateKey(raw);
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
  BioPtr bio = memory_bio(pem);
  if (!bio) return openssl_error("reading a private key failed");
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  if (raw == nullptr) {
    // OpenSSL's reasons name the parse step, never the key material.
    Error e = openssl_error("no usable private key in PEM data");
    e.code = Errc::invalid_input;
    e.hint = "expected an unencrypted \"PRIVATE KEY\", \"EC PRIVATE KEY\" or \"RSA PRIVATE KEY\"";
    return e;
  }
  PrivateKey key(raw);
  ACMED_CHECK(check_supported(key.native()));
  // A damaged file can still decode to an EC key whose stored public point is not the one of
  // its private scalar, which would only show up as signatures the CA rejects. Checking costs
  // one scalar multiplication. (RSA's full check tests primality: too slow for every load.)
  if (EVP_PKEY_is_a(key.native(), "EC")) {
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.native(), nullptr));
    if (!ctx || EVP_PKEY_check(ctx.get()) != 1) {
      Error e = openssl_error("the EC private key in PEM data is inconsistent");
      e.code = Errc::invalid_input;
      return e;
    }
  }
  return key;
}

Result<PrivateKey> PrivateKey::from_private_jwk(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return Error(Errc::invalid_input, "private JWK is not a JSON object");
  ACMED_TRY(std::string kty, get_string_member(jwk, "kty"));
  Result<PkeyPtr> built =
      Error(Errc::invalid_input, "JWK key type \"" + kty + "\" is not supported (want EC or RSA)");
  if (kty == "EC")
    built = ec_from_jwk(jwk);
  else if (kty == "RSA")
    built = rsa_from_jwk(jwk);
  if (!built) return std::move(built).error();
  PrivateKey key(built->release());
  ACMED_CHECK(check_supported(key.native()));
  return key;
}

std::string PrivateKey::to_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY") in OpenSSL 3.
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), m_key.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    drain_openssl_errors();
    return {};
  }
  return bio_contents(bio.get());
}

KeySpec PrivateKey::spec() const {
  KeySpec spec;
  if (const Curve* c = curve_of(m_key.get())) {
    spec.type = KeyType::ecdsa;
    spec.curve = c->spec_name;
  } else {
    spec.type = KeyType::rsa;
    spec.rsa_bits = EVP_PKEY_get_bits(m_key.get());
  }
  return spec;
}

nlohmann::json PrivateKey::public_jwk() const {
  const EVP_PKEY* k = m_key.get();
  // RFC 7518 section 6.2.1: coordinates are full width; section 6.3.1: n and e are minimal.
  if (const Curve* c = curve_of(k)) {
    return {{"crv", c->jwk_crv},
            {"kty", "EC"},
            {"x", bn_b64u(k, OSSL_PKEY_PARAM_EC_PUB_X, c->field_bytes)},
            {"y", bn_b64u(k, OSSL_PKEY_PARAM_EC_PUB_Y, c->field_bytes)}};
  }
  return {{"e", bn_b64u(k, OSSL_PKEY_PARAM_RSA_E)},
          {"kty", "RSA"},
          {"n", bn_b64u(k, OSSL_PKEY_PARAM_RSA_N)}};
}

nlohmann::json PrivateKey::to_private_jwk() const {
  const EVP_PKEY* k = m_key.get();
  nlohmann::json jwk = public_jwk();
  if (const Curve* c = curve_of(k)) {
    jwk["d"] = bn_b64u(k, OSSL_PKEY_PARAM_PRIV_KEY, c->field_bytes);  // RFC 7518 6.2.2.1
    return jwk;
  }
  jwk["d"] = bn_b64u(k, OSSL_PKEY_PARAM_RSA_D);
  jwk["p"] = bn_b64u(k, OSSL_PKEY_PARAM_RSA_FACTOR1);
  jwk["q"] = bn_b64u(k, OSSL_PKEY_PARAM_RSA_FACTOR2);
  jwk["dp"] = bn_b64u(k, OSSL_PKEY_PARAM_RSA_EXPONENT1);
  jwk["dq"] = bn_b64u(k, OSSL_PKEY_PARAM_RSA_EXPONENT2);
  jwk["qi"] = bn_b64u(k, OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
  return jwk;
}

std::string PrivateKey::public_key_der() const {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(m_key.get(), &der);
  if (len <= 0) {
    drain_openssl_errors();
    return {};
  }
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string PrivateKey::certbot_account_id() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), m_key.get()) != 1) {
    drain_openssl_errors();
    return {};
  }
  std::string pem = bio_contents(bio.get());
  std::string digest(16, '\0');
  unsigned int len = 0;
  if (EVP_Digest(pem.data(), pem.size(), uchar(digest), &len, EVP_md5(), nullptr) != 1) {
    drain_openssl_errors();
    return {};
  }
  return hex(digest);
}

std::string PrivateKey::jwk_thumbprint() const {
  auto thumbprint = crypto::jwk_thumbprint(public_jwk());
  return thumbprint ? std::move(thumbprint).value() : std::string();
}

std::string PrivateKey::jws_alg() const {
  const Curve* c = curve_of(m_key.get());
  return c ? c->alg : "RS256";
}

Result<std::string> PrivateKey::sign(std::string_view data) const {
  const Curve* curve = curve_of(m_key.get());
  const EVP_MD* md = !curve                     ? EVP_sha256()
                     : curve->field_bytes == 66 ? EVP_sha512()  // RFC 7518 section 3.4
                     : curve->field_bytes == 48 ? EVP_sha384()
                                                : EVP_sha256();
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, m_key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, uchar(data), data.size()) != 1) {
    return openssl_error("signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), uchar(sig), &len, uchar(data), data.size()) != 1) {
    return openssl_error("signing failed");
  }
  sig.resize(len);
  if (curve == nullptr) return sig;  // RS256: PKCS#1 v1.5 signature as is (RFC 7518 3.3)

  // RFC 7518 section 3.4: JWS wants R || S, each zero-padded to the field size, not the DER
  // ECDSA-Sig-Value that OpenSSL produces.
  const unsigned char* p = uchar(sig);
  EcdsaSigPtr parsed(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  if (!parsed) return openssl_error("could not decode an ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(parsed.get(), &r, &s);
  return bn_to_bytes(r, curve->field_bytes) + bn_to_bytes(s, curve->field_bytes);
}

}  // namespace acmed::crypto
