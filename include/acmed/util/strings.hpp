// Small string helpers every module uses: ASCII case folding and joining.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace acmed::util {

// `s` with A-Z turned into a-z and every other byte unchanged (whatever the C locale says).
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The items with `sep` between them ("" for none).
inline std::string join(std::span<const std::string> items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

}  // namespace acmed::util
