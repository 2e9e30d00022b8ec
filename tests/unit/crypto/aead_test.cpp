// Sealed boxes (crypto/aead.hpp): what opens, and every way a box must refuse to open.
#include "acmed/crypto/aead.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace acmed;
using namespace acmed::crypto;

namespace {

FleetKey make_key() {
  auto key = FleetKey::generate();
  REQUIRE_MESSAGE(key.ok(), key.error().describe());
  return std::move(key).value();
}

std::string seal_ok(const FleetKey& key, std::string_view plain, std::string_view aad) {
  auto box = seal(key, plain, aad);
  REQUIRE_MESSAGE(box.ok(), box.error().describe());
  return std::move(box).value();
}

// Binary bytes, NULs and high bytes included.
std::string binary_value() {
  std::string v;
  for (int i = 0; i < 300; ++i) v += static_cast<char>(i % 256);
  return v;
}

const std::string k_aad = "/acmed/fleet/certs/example.org/privkey";

}  // namespace

TEST_CASE("aead: a sealed value opens with the same key and name, binary bytes intact") {
  FleetKey key = make_key();
  for (const std::string& plain : {std::string(), std::string("x"), binary_value()}) {
    std::string box = seal_ok(key, plain, k_aad);
    CHECK(box.size() == plain.size() + k_box_overhead);
    CHECK(static_cast<unsigned char>(box[0]) == k_box_version);
    auto opened = open(key, box, k_aad);
    REQUIRE_MESSAGE(opened.ok(), opened.error().describe());
    CHECK(*opened == plain);
  }
}

TEST_CASE("aead: sealing the same value twice gives different boxes (random nonce)") {
  FleetKey key = make_key();
  CHECK(seal_ok(key, "same", k_aad) != seal_ok(key, "same", k_aad));
}

TEST_CASE("aead: another fleet key does not open a box") {
  FleetKey key = make_key();
  FleetKey other = make_key();
  auto opened = open(other, seal_ok(key, "secret", k_aad), k_aad);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().code == Errc::crypto);
  CHECK(opened.error().message.find("does not open with this fleet key") != std::string::npos);
}

TEST_CASE("aead: a box moved to another name does not open there") {
  FleetKey key = make_key();
  std::string box = seal_ok(key, "secret", k_aad);
  for (const char* aad : {"/acmed/fleet/certs/example.com/privkey", "", "/acmed/fleet/certs/"}) {
    auto opened = open(key, box, aad);
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.error().code == Errc::crypto);
  }
}

TEST_CASE("aead: one flipped bit anywhere in nonce, ciphertext or tag is refused") {
  FleetKey key = make_key();
  const std::string box = seal_ok(key, "a value worth protecting", k_aad);
  // Every byte after the version byte: nonce, ciphertext, tag.
  for (std::size_t i = 1; i < box.size(); ++i) {
    std::string changed = box;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    auto opened = open(key, changed, k_aad);
    CHECK_MESSAGE(!opened.ok(), "byte " << i << " changed and the box still opened");
    if (!opened.ok()) CHECK(opened.error().code == Errc::crypto);
  }
}

TEST_CASE("aead: a truncated or extended box is refused") {
  FleetKey key = make_key();
  const std::string box = seal_ok(key, "value", k_aad);
  for (std::size_t n = 0; n < box.size(); ++n) {
    auto opened = open(key, box.substr(0, n), k_aad);
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.error().code == Errc::crypto);
  }
  auto short_box = open(key, box.substr(0, k_box_overhead - 1), k_aad);
  CHECK(short_box.error().message.find("shorter than any sealed value") != std::string::npos);
  CHECK_FALSE(open(key, box + "x", k_aad).ok());
}

TEST_CASE("aead: a box of another version is refused naming the version") {
  FleetKey key = make_key();
  std::string box = seal_ok(key, "value", k_aad);
  for (unsigned char v : {0x00, 0x02, 0xff}) {
    box[0] = static_cast<char>(v);
    auto opened = open(key, box, k_aad);
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.error().code == Errc::crypto);
    CHECK(opened.error().message.find("version " + std::to_string(v)) != std::string::npos);
  }
}

TEST_CASE("aead: a fleet key is exactly 32 bytes; a moved-from key is wiped") {
  CHECK(FleetKey::from_bytes(std::string(31, 'k')).error().code == Errc::invalid_input);
  CHECK_FALSE(FleetKey::from_bytes(std::string(33, 'k')).ok());
  auto key = FleetKey::from_bytes(std::string(32, 'k'));
  REQUIRE(key.ok());
  CHECK(key->bytes()[0] == 'k');
  FleetKey moved = std::move(key).value();
  CHECK(moved.bytes()[31] == 'k');
  // NOLINTNEXTLINE(bugprone-use-after-move): the point of the check
  for (unsigned char b : key->bytes()) CHECK(b == 0);
}

TEST_CASE("aead: wipe empties the buffer") {
  std::string secret = "key material";
  wipe(secret);
  CHECK(secret.empty());
}
