#include "acmed/crypto/encoding.hpp"

#include "openssl_util.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace acmed::crypto {

using detail::uchar;

namespace {

// Standard base64 with padding via EVP_EncodeBlock, fed in chunks so no length overflows an int.
std::string encode_standard(std::string_view bytes) {
  constexpr std::size_t k_chunk = 3 * 4096;  // a multiple of 3: no padding inside the output
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::string buf(k_chunk / 3 * 4 + 1, '\0');
  for (std::size_t pos = 0; pos < bytes.size(); pos += k_chunk) {
    std::string_view part = bytes.substr(pos, k_chunk);
    int n = EVP_EncodeBlock(uchar(buf), uchar(part), static_cast<int>(part.size()));
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  return out;
}

bool is_b64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

bool is_b64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Decodes standard base64 whose alphabet and padding were already checked: length % 4 == 0 and
// `pad` '=' characters at the end.
Result<std::string> decode_checked(std::string_view text, std::size_t pad) {
  constexpr std::size_t k_chunk = 4 * 4096;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::string buf(k_chunk / 4 * 3, '\0');
  for (std::size_t pos = 0; pos < text.size(); pos += k_chunk) {
    std::string_view part = text.substr(pos, k_chunk);
    int n = EVP_DecodeBlock(uchar(buf), uchar(part), static_cast<int>(part.size()));
    if (n < 0) return Error(Errc::invalid_input, "base64 data does not decode");
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  // EVP_DecodeBlock counts the bytes that the '=' padding stands for as zero bytes.
  out.resize(out.size() - pad);
  return out;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  return encode_standard(bytes);
}

Result<std::string> base64_decode(std::string_view text) {
  // RFC 4648 section 4: groups of 4 characters, at most two '=' and only at the very end.
  if (text.size() % 4 != 0) {
    return Error(Errc::invalid_input, "base64 text has " + std::to_string(text.size()) +
                                          " characters, which is not a multiple of 4");
  }
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  for (std::size_t i = 0; i < text.size() - pad; ++i) {
    if (!is_b64_char(text[i])) {
      return Error(Errc::invalid_input,
                   "base64 text has an invalid character at offset " + std::to_string(i));
    }
  }
  return decode_checked(text, pad);
}

bool is_base64url(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_b64url_char);
}

std::string base64url_encode(std::string_view bytes) {
  std::string out = encode_standard(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+')
      c = '-';
    else if (c == '/')
      c = '_';
  }
  return out;
}

Result<std::string> base64url_decode(std::string_view text) {
  // RFC 7515 section 2 forbids padding, but RFC 4648 section 5 allows it: accept it when correct.
  std::size_t given_pad = 0;
  while (given_pad < text.size() && text[text.size() - 1 - given_pad] == '=') ++given_pad;
  std::string_view body = text.substr(0, text.size() - given_pad);
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (!is_b64url_char(body[i])) {
      return Error(Errc::invalid_input,
                   "base64url text has an invalid character at offset " + std::to_string(i));
    }
  }
  // A final group of one character cannot encode a whole byte.
  if (body.size() % 4 == 1) {
    return Error(Errc::invalid_input, "base64url text has an impossible length of " +
                                          std::to_string(body.size()) + " characters");
  }
  std::size_t pad = (4 - body.size() % 4) % 4;
  if (given_pad != 0 && given_pad != pad) {
    return Error(Errc::invalid_input, "base64url text has wrong padding");
  }
  std::string standard(body);
  for (char& c : standard) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
  }
  standard.append(pad, '=');
  return decode_checked(standard, pad);
}

std::string sha256(std::string_view bytes) {
  std::string out(32, '\0');
  unsigned int len = 0;
  // EVP_Digest with the built-in SHA-256 only fails when out of memory; an empty result then
  // makes every comparison fail closed.
  if (EVP_Digest(bytes.data(), bytes.size(), uchar(out), &len, EVP_sha256(), nullptr) != 1) {
    detail::drain_openssl_errors();
    return {};
  }
  return out;
}

std::string hex(std::string_view bytes) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += k_digits[b >> 4];
    out += k_digits[b & 0x0f];
  }
  return out;
}

Result<std::string> hmac_sha256(std::string_view key, std::string_view data) {
  std::string out(32, '\0');
  std::size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(), uchar(data),
                data.size(), uchar(out), out.size(), &len) == nullptr ||
      len != out.size()) {
    return detail::openssl_error("HMAC-SHA256 failed");
  }
  return out;
}

}  // namespace acmed::crypto
