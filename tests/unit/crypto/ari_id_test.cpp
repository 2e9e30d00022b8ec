// RFC 9773 section 4.1 certificate identifiers built from the DER bytes of the serial and the
// AKI, for serials where a client that goes through a big-number type gets them wrong: the
// leading 0x00 that DER adds when the high bit is set, a zero byte inside, the 20-byte maximum.
#include "acmed/crypto/encoding.hpp"
#include "acmed/crypto/x509.hpp"
#include "openssl_helpers.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace acmed;
using namespace acmed::crypto;

namespace {

PrivateKey new_key() {
  auto key = PrivateKey::generate({});
  REQUIRE(key);
  return std::move(*key);
}

// The ARI id of a real certificate with serial `serial_hex`, issued by a CA whose SKI is `ski`.
std::string id_of(const std::string& serial_hex, const std::string& ski_colons) {
  PrivateKey ca_key = new_key();
  PrivateKey leaf_key = new_key();
  std::string ca = test::make_test_cert(test::ca_options("ARI CA", ski_colons), ca_key);
  std::string leaf = test::make_test_cert(test::leaf_options("a.test", "DNS:a.test", serial_hex),
                                          leaf_key, ca, &ca_key);
  auto info = parse_certificate(leaf);
  REQUIRE(info);
  auto id = ari_cert_id(*info);
  REQUIRE(id);
  return *id;
}

std::string serial_part(const std::string& id) {
  return id.substr(id.find('.') + 1);
}

const std::string k_ski = "01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14";

}  // namespace

TEST_CASE("a serial with the high bit set keeps the 0x00 that DER puts before it") {
  std::string id = id_of("FF", k_ski);
  CHECK(base64url_decode(serial_part(id)).value() == std::string("\x00\xff", 2));
  // 20 bytes (RFC 5280's maximum) starting with 0x87: 21 content bytes with the 0x00
  std::string long_serial = "87" + std::string(38, '1');
  std::string bytes = base64url_decode(serial_part(id_of(long_serial, k_ski))).value();
  REQUIRE(bytes.size() == 21);
  CHECK(bytes[0] == '\x00');
  CHECK(bytes[1] == '\x87');
}

TEST_CASE("a serial without the high bit gets no padding, and inner zero bytes are kept") {
  CHECK(base64url_decode(serial_part(id_of("7F", k_ski))).value() == "\x7f");
  CHECK(base64url_decode(serial_part(id_of("010000", k_ski))).value() ==
        std::string("\x01\x00\x00", 3));
  CHECK(base64url_decode(serial_part(id_of("00A0", k_ski))).value() == std::string("\x00\xa0", 2));
}

TEST_CASE("the key identifier part is the AKI's bytes as they are, leading zeros included") {
  std::string id = id_of("01", "00:00:AB:CD");
  CHECK(id.substr(0, id.find('.')) == base64url_encode(std::string("\x00\x00\xab\xcd", 4)));
  std::string full = id_of("01", k_ski);
  std::string ski_bytes;
  for (char c = 1; c <= 20; ++c) ski_bytes += c;
  CHECK(full.substr(0, full.find('.')) == base64url_encode(ski_bytes));
}

TEST_CASE(
    "the id is built from bytes: two serials equal as numbers but not as DER cannot collide") {
  CertInfo a, b;
  a.authority_key_id = b.authority_key_id = "\x01\x02";
  a.serial = std::string("\x00\x80", 2);
  b.serial = "\x80";  // what a client that dropped the sign byte would send
  CHECK(ari_cert_id(a).value() == "AQI.AIA");
  CHECK(ari_cert_id(b).value() == "AQI.gA");
}
