// Base64 / base64url (RFC 4648) and digests, done by OpenSSL.
#pragma once

#include "acmed/util/result.hpp"

#include <string>
#include <string_view>

namespace acmed::crypto {

std::string base64url_encode(std::string_view bytes);  // no padding (RFC 7515 section 2)
Result<std::string> base64url_decode(std::string_view text);  // padding optional; strict alphabet
std::string base64_encode(std::string_view bytes);     // standard, padded
Result<std::string> base64_decode(std::string_view text);

// True when every character is in the base64url alphabet [A-Za-z0-9_-] and text is non-empty.
bool is_base64url(std::string_view text);

std::string sha256(std::string_view bytes);  // 32 raw bytes
std::string hex(std::string_view bytes);     // lower-case
Result<std::string> hmac_sha256(std::string_view key, std::string_view data);  // 32 raw bytes

}  // namespace acmed::crypto
