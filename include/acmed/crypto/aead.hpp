// Sealed boxes for values kept outside this machine (fleet mode keeps them in etcd): AES-256-GCM
// with a random 96-bit nonce, authenticated together with the name the value is stored under, so a
// box copied to another key, changed, cut short or opened with another fleet key is refused.
//
//   box = 0x01 (version) | nonce (12 bytes) | ciphertext | tag (16 bytes)
//
// The nonce is random (NIST SP 800-38D section 8.2.2): safe for far more boxes per key than a
// fleet seals in its lifetime (the bound is 2^32 boxes).
#pragma once

#include "acmed/util/result.hpp"

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace acmed::crypto {

inline constexpr unsigned char k_box_version = 0x01;
inline constexpr std::size_t k_box_nonce_size = 12;
inline constexpr std::size_t k_box_tag_size = 16;
// Bytes a box adds to its plaintext.
inline constexpr std::size_t k_box_overhead = 1 + k_box_nonce_size + k_box_tag_size;

// The shared secret of a fleet: 32 bytes, wiped (OPENSSL_cleanse) when the object dies. Move-only,
// so the bytes are not copied around by accident; a moved-from key is wiped and empty.
class FleetKey {
 public:
  static constexpr std::size_t k_size = 32;

  // A new key from OpenSSL's CSPRNG. Errc::crypto when it cannot produce random bytes.
  static Result<FleetKey> generate();
  // The key made of exactly k_size `bytes`; Errc::invalid_input for any other length.
  static Result<FleetKey> from_bytes(std::string_view bytes);

  FleetKey(FleetKey&& other) noexcept;
  FleetKey& operator=(FleetKey&& other) noexcept;
  FleetKey(const FleetKey&) = delete;
  FleetKey& operator=(const FleetKey&) = delete;
  ~FleetKey();

  // The 32 key bytes; all zero for a moved-from key.
  std::span<const unsigned char, k_size> bytes() const { return m_bytes; }

 private:
  FleetKey() = default;
  std::array<unsigned char, k_size> m_bytes{};
};

// `plaintext` sealed under `key`, bound to `aad` (the etcd key the box will be stored under).
// Errc::crypto only when OpenSSL fails (no random bytes). Never throws.
Result<std::string> seal(const FleetKey& key, std::string_view plaintext, std::string_view aad);

// The plaintext of `box`. Errc::crypto when the box is shorter than k_box_overhead, has another
// version byte, or does not authenticate with `key` and `aad` (wrong key, a changed byte, a box
// moved from another name); nothing of an unauthenticated plaintext is returned. Never throws.
Result<std::string> open(const FleetKey& key, std::string_view box, std::string_view aad);

// Overwrites every byte of `secret` (OPENSSL_cleanse, which the compiler may not drop), then
// empties it. For buffers that held key material.
void wipe(std::string& secret);

}  // namespace acmed::crypto
