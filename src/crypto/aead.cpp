// AES-256-GCM sealed boxes (aead.hpp) through OpenSSL's EVP interface.
#include "acmed/crypto/aead.hpp"

#include "openssl_util.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <climits>
#include <cstring>

namespace acmed::crypto {

using detail::uchar;

namespace {

// EVP lengths are ints: refuse what does not fit rather than truncate.
bool fits_int(std::size_t n) {
  return n <= static_cast<std::size_t>(INT_MAX) - 64;
}

Error cannot_open() {
  return Error(Errc::crypto,
               "the sealed value does not open with this fleet key: another key, a changed or "
               "truncated value, or a value moved from another name",
               "check that every member of the fleet uses the same fleet key file");
}

}  // namespace

Result<FleetKey> FleetKey::generate() {
  FleetKey key;
  if (RAND_bytes(key.m_bytes.data(), static_cast<int>(k_size)) != 1)
    return detail::openssl_error("cannot generate a fleet key");
  return key;
}

Result<FleetKey> FleetKey::from_bytes(std::string_view bytes) {
  if (bytes.size() != k_size)
    return Error(Errc::invalid_input, "a fleet key is " + std::to_string(k_size) + " bytes, not " +
                                          std::to_string(bytes.size()));
  FleetKey key;
  std::memcpy(key.m_bytes.data(), bytes.data(), k_size);
  return key;
}

FleetKey::FleetKey(FleetKey&& other) noexcept : m_bytes(other.m_bytes) {
  OPENSSL_cleanse(other.m_bytes.data(), k_size);
}

FleetKey& FleetKey::operator=(FleetKey&& other) noexcept {
  if (this != &other) {
    m_bytes = other.m_bytes;
    OPENSSL_cleanse(other.m_bytes.data(), k_size);
  }
  return *this;
}

FleetKey::~FleetKey() {
  OPENSSL_cleanse(m_bytes.data(), k_size);
}

Result<std::string> seal(const FleetKey& key, std::string_view plaintext, std::string_view aad) {
  if (!fits_int(plaintext.size()) || !fits_int(aad.size()))
    return Error(Errc::crypto,
                 "a value of " + std::to_string(plaintext.size()) + " bytes is too large to seal");
  std::string box(k_box_overhead + plaintext.size(), '\0');
  unsigned char* out = uchar(box);
  out[0] = k_box_version;
  unsigned char* nonce = out + 1;
  unsigned char* ct = nonce + k_box_nonce_size;
  if (RAND_bytes(nonce, static_cast<int>(k_box_nonce_size)) != 1)
    return detail::openssl_error("cannot generate a nonce");
  detail::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  int tail = 0;
  // The default GCM IV length is 12 bytes, which is k_box_nonce_size.
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes().data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, uchar(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ct, &n, uchar(plaintext), static_cast<int>(plaintext.size())) !=
          1 ||
      EVP_EncryptFinal_ex(ctx.get(), ct + n, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(k_box_tag_size),
                          ct + plaintext.size()) != 1)
    return detail::openssl_error("AES-256-GCM encryption failed");
  return box;
}

Result<std::string> open(const FleetKey& key, std::string_view box, std::string_view aad) {
  if (box.size() < k_box_overhead) {
    Error e = cannot_open();
    e.message = "the sealed value is " + std::to_string(box.size()) +
                " bytes, shorter than any sealed value (" + std::to_string(k_box_overhead) + ")";
    return e;
  }
  if (static_cast<unsigned char>(box[0]) != k_box_version)
    return Error(Errc::crypto,
                 "the sealed value has version " +
                     std::to_string(static_cast<unsigned char>(box[0])) +
                     "; this acmed knows only version 1",
                 "upgrade acmed on this machine to the version the rest of the fleet runs");
  if (!fits_int(box.size()) || !fits_int(aad.size())) return cannot_open();
  const unsigned char* nonce = uchar(box) + 1;
  const unsigned char* ct = nonce + k_box_nonce_size;
  const std::size_t ct_size = box.size() - k_box_overhead;
  // The tag is only read by OpenSSL, but its ctrl interface takes a non-const pointer.
  std::string tag(box.substr(box.size() - k_box_tag_size));
  std::string plain(ct_size, '\0');
  detail::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  int tail = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes().data(), nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, uchar(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), uchar(plain), &n, ct, static_cast<int>(ct_size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(k_box_tag_size),
                          tag.data()) != 1) {
    wipe(plain);
    (void)detail::drain_openssl_errors();
    return Error(Errc::crypto, "AES-256-GCM decryption could not start");
  }
  // The tag check: only here does OpenSSL say whether the bytes above are authentic.
  if (EVP_DecryptFinal_ex(ctx.get(), uchar(plain) + n, &tail) != 1) {
    wipe(plain);
    (void)detail::drain_openssl_errors();
    return cannot_open();
  }
  return plain;
}

void wipe(std::string& secret) {
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

}  // namespace acmed::crypto
