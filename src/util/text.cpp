#include "acmed/util/text.hpp"

namespace acmed::util {

namespace {

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629 section 4), or 0 when it is not
// one (stray continuation, overlong form, surrogate, beyond U+10FFFF, truncated).
std::size_t utf8_length(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b = [&s](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const unsigned char cc = b(i + k);
    if (cc < (k == 1 ? lo : 0x80) || cc > (k == 1 ? hi : 0xBF)) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  return n;
}

bool is_escaped_code_point(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) ||      // C1 controls
         cp == 0x061C ||                    // ARABIC LETTER MARK
         cp == 0x200E || cp == 0x200F ||    // LRM, RLM
         (cp >= 0x202A && cp <= 0x202E) ||  // LRE, RLE, PDF, LRO, RLO
         (cp >= 0x2066 && cp <= 0x2069) ||  // LRI, RLI, FSI, PDI
         cp == 0x2028 || cp == 0x2029;      // line and paragraph separators
}

constexpr char k_hex[] = "0123456789abcdef";

// "\xNN" for one byte.
void append_byte(std::string& out, unsigned char c) {
  out += "\\x";
  out += k_hex[c >> 4];
  out += k_hex[c & 0xF];
}

// "\u{NNNN}" for a code point below U+10000.
void append_code_point(std::string& out, char32_t cp) {
  out += "\\u{";
  for (int shift = 12; shift >= 0; shift -= 4) out += k_hex[(cp >> shift) & 0xF];
  out += '}';
}

}  // namespace

std::string printable(std::string_view text, std::size_t cap) {
  std::string out;
  out.reserve(text.size() < cap ? text.size() : cap);
  std::size_t i = 0;
  while (i < text.size()) {
    std::string piece;
    std::size_t used = 1;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      append_byte(piece, c);
    } else if (c < 0x80) {
      piece = static_cast<char>(c);
    } else {
      char32_t cp = 0;
      used = utf8_length(text, i, cp);
      if (used == 0) {
        used = 1;
        append_byte(piece, c);
      } else if (is_escaped_code_point(cp)) {
        append_code_point(piece, cp);
      } else {
        piece = text.substr(i, used);
      }
    }
    if (out.size() + piece.size() > cap) break;
    out += piece;
    i += used;
  }
  if (i < text.size()) out += " (" + std::to_string(text.size() - i) + " more bytes)";
  return out;
}

}  // namespace acmed::util
