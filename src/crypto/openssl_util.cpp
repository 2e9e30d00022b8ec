#include "openssl_util.hpp"

#include <openssl/err.h>

#include <climits>

namespace acmed::crypto::detail {

std::string drain_openssl_errors() {
  std::string out;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

Error openssl_error(std::string what) {
  std::string reasons = drain_openssl_errors();
  if (!reasons.empty()) what += ": " + reasons;
  return Error(Errc::crypto, std::move(what));
}

std::string bn_to_bytes(const BIGNUM* bn, int width) {
  int size = width > 0 ? width : BN_num_bytes(bn);
  std::string out(static_cast<std::size_t>(size), '\0');
  if (size == 0) return out;
  if (width > 0) {
    // BN_bn2binpad fails (-1) when the number does not fit; callers pass the field size, which
    // every valid coordinate or scalar fits in.
    if (BN_bn2binpad(bn, uchar(out), width) < 0) return {};
  } else {
    BN_bn2bin(bn, uchar(out));
  }
  return out;
}

BioPtr memory_bio(std::string_view data) {
  // Inputs above INT_MAX cannot be PEM we care about; an empty BIO makes parsing fail cleanly.
  int len = data.size() > static_cast<std::size_t>(INT_MAX) ? 0 : static_cast<int>(data.size());
  return BioPtr(BIO_new_mem_buf(data.data(), len));
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace acmed::crypto::detail
