// Rendering untrusted text (anything a CA, a DNS server or a file sent) for humans.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace acmed::util {

// Bytes of untrusted text kept in one message; the rest is summarised as "(N more bytes)".
inline constexpr std::size_t k_printable_cap = 1024;

// `text` as one line that is safe on a terminal, in a log file and as a JSON value that a
// terminal prints: C0 controls (incl. CR, LF, TAB, NUL), DEL and C1 controls become \xNN or
// \u{NNNN}; bidi controls (U+061C, U+200E/F, U+202A-E, U+2066-9) and line/paragraph
// separators (U+2028/9) become \u{NNNN}; bytes that are not UTF-8 become \xNN. When the
// rendering would pass `cap` bytes it is cut at a character boundary and followed by
// " (N more bytes)", N counting the input bytes left out. Never fails; idempotent while the
// result fits in the cap (backslashes are kept as they are).
std::string printable(std::string_view text, std::size_t cap = k_printable_cap);

}  // namespace acmed::util
