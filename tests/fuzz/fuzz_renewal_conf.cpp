// libFuzzer target: certbot's renewal conf (ConfigObj syntax) as acmed reads it.
#include "acmed/store/configobj.hpp"
#include "acmed/store/renewal_conf.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace acmed;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)store::parse_configobj(text, "fuzz.conf");
  (void)store::parse_renewal_conf(text, "fuzz.conf");
  (void)store::parse_interval(text);
  return 0;
}
