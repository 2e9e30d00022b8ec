// Small string helpers every module uses: ASCII case folding, trimming and joining.
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

// `s` without the spaces, tabs, CRs and LFs at either end.
inline std::string_view trim(std::string_view s) {
  constexpr std::string_view k_blank = " \t\r\n";
  auto begin = s.find_first_not_of(k_blank);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(k_blank) - begin + 1);
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
