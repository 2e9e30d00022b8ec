// libFuzzer target: the PEM/chain splitter and the certificate parser on what a CA sends as a
// certificate chain.
#include "acmed/crypto/x509.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace acmed;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view pem(reinterpret_cast<const char*>(data), size);
  if (auto chain = crypto::split_pem_chain(pem)) {
    for (const auto& block : *chain) {
      (void)crypto::pem_to_der(block);
      (void)crypto::parse_certificate(block);
    }
  }
  (void)crypto::parse_certificate_der(pem);
  return 0;
}
