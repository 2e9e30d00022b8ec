// ASCII case folding for URL schemes and hosts and for header values: the acme module's one copy.
#pragma once

#include <string>
#include <string_view>

namespace acmed::acme {

// `s` with A-Z turned into a-z and every other byte unchanged (whatever the C locale says).
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace acmed::acme
