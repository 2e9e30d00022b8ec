#include "acmed/crypto/encoding.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace acmed;
using namespace acmed::crypto;

TEST_CASE("base64 and base64url match the RFC 4648 section 10 test vectors") {
  struct Vector {
    const char* plain;
    const char* b64;
    const char* b64url;
  };
  const Vector vectors[] = {
      {"", "", ""},
      {"f", "Zg==", "Zg"},
      {"fo", "Zm8=", "Zm8"},
      {"foo", "Zm9v", "Zm9v"},
      {"foob", "Zm9vYg==", "Zm9vYg"},
      {"fooba", "Zm9vYmE=", "Zm9vYmE"},
      {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
  };
  for (const Vector& v : vectors) {
    CAPTURE(v.plain);
    CHECK(base64_encode(v.plain) == v.b64);
    CHECK(base64url_encode(v.plain) == v.b64url);
    auto std_decoded = base64_decode(v.b64);
    REQUIRE(std_decoded);
    CHECK(*std_decoded == v.plain);
    auto url_decoded = base64url_decode(v.b64url);
    REQUIRE(url_decoded);
    CHECK(*url_decoded == v.plain);
  }
}

TEST_CASE("base64url uses - and _ where standard base64 uses + and /") {
  const std::string data("\xfb\xff\xbf", 3);
  CHECK(base64_encode(data) == "+/+/");
  CHECK(base64url_encode(data) == "-_-_");
  CHECK(*base64url_decode("-_-_") == data);
  CHECK(base64_encode(std::string("\xfb\xff", 2)) == "+/8=");
  CHECK(base64url_encode(std::string("\xfb\xff", 2)) == "-_8");
}

TEST_CASE("base64url decoding accepts correct padding and rejects wrong padding") {
  CHECK(*base64url_decode("Zg==") == "f");
  CHECK(*base64url_decode("Zm8=") == "fo");
  CHECK_FALSE(base64url_decode("Zg="));    // needs two
  CHECK_FALSE(base64url_decode("Zm8=="));  // needs one
  CHECK_FALSE(base64url_decode("Zm9v="));  // needs none
}

TEST_CASE("base64url decoding rejects characters outside the url-safe alphabet") {
  for (const char* bad : {"ab+c", "ab/c", "ab c", "ab\nc", "Zg=a", "Z=g", "ab.c", "\xc3\xa9xx"}) {
    CAPTURE(bad);
    auto r = base64url_decode(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_input);
  }
  CHECK_FALSE(base64url_decode(std::string("ab\0c", 4)));
}

TEST_CASE("base64url decoding rejects lengths no encoder can produce") {
  for (const char* bad : {"A", "AAAAA", "Zm9vY"}) {
    CAPTURE(bad);
    auto r = base64url_decode(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_input);
    CHECK(r.error().message.find("length") != std::string::npos);
  }
}

TEST_CASE("standard base64 decoding requires padding and its own alphabet") {
  for (const char* bad : {"Zg", "Zg=", "Zm8", "-_8=", "Zg=a", "Z===", "====", "Zm9v\n"}) {
    CAPTURE(bad);
    auto r = base64_decode(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_input);
  }
}

TEST_CASE("large inputs round-trip across the internal chunk boundaries") {
  std::string data;
  for (int i = 0; i < 100003; ++i) data += static_cast<char>((i * 131 + 7) & 0xff);
  auto url = base64url_encode(data);
  CHECK(url.size() == (data.size() * 4 + 2) / 3);
  CHECK(url.find('=') == std::string::npos);
  CHECK(*base64url_decode(url) == data);
  auto standard = base64_encode(data);
  CHECK(standard.size() % 4 == 0);
  CHECK(*base64_decode(standard) == data);
}

TEST_CASE("is_base64url accepts only non-empty url-safe text") {
  CHECK(is_base64url("abcXYZ019-_"));
  CHECK_FALSE(is_base64url(""));
  CHECK_FALSE(is_base64url("abc="));
  CHECK_FALSE(is_base64url("a+b"));
  CHECK_FALSE(is_base64url("a b"));
}

TEST_CASE("sha256 and hex match the FIPS 180-2 'abc' vector") {
  CHECK(sha256("abc").size() == 32);
  CHECK(hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex(std::string("\x00\x0f\xf0\xff", 4)) == "000ff0ff");
}

TEST_CASE("hmac_sha256 matches RFC 4231 test case 2") {
  auto mac = hmac_sha256("Jefe", "what do ya want for nothing?");
  REQUIRE(mac);
  CHECK(hex(*mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("hmac_sha256 accepts an empty key, as RFC 2104 allows") {
  auto mac = hmac_sha256("", "");
  REQUIRE(mac);
  CHECK(hex(*mac) == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}
