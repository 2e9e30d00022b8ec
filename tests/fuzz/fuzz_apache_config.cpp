// libFuzzer target: the lossless apache parser. Whatever parses prints back byte for byte.
#include "plugins/apache/syntax.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace acmed::plugins;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto file = apache::parse(text, "fuzz.conf");
  if (file && apache::print(*file) != text) __builtin_trap();  // the round trip is lossless
  return 0;
}
