// The fleet key file (key_file.hpp).
#include "acmed/fleet/key_file.hpp"

#include "acmed/crypto/encoding.hpp"
#include "acmed/sys/fs.hpp"
#include "acmed/util/strings.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace acmed::fleet {

namespace {

// A key file is 45 bytes (44 of base64 and a newline); anything much larger is not one.
constexpr std::size_t k_max_key_file = 1024;

}  // namespace

Status generate_fleet_key(const std::filesystem::path& path) {
  ACMED_TRY(crypto::FleetKey key, crypto::FleetKey::generate());
  auto bytes = key.bytes();
  std::string raw(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::string text = crypto::base64_encode(raw) + "\n";
  crypto::wipe(raw);
  Status written = sys::create_file_atomic(path, text, 0600);
  crypto::wipe(text);
  if (!written) return std::move(written).error().with_context("while creating the fleet key");
  return ok_status();
}

Result<crypto::FleetKey> read_fleet_key(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT)
      return Error(Errc::not_found, "the fleet key file " + path.string() + " does not exist",
                   "copy the fleet's key file here, or create a fleet key first");
    return Error(Errc::io,
                 "cannot read the fleet key file " + path.string() + ": " + std::strerror(err));
  }
  if ((st.st_mode & 077) != 0)
    return Error(Errc::config,
                 "the fleet key file " + path.string() + " is accessible to group or others",
                 "chmod 600 " + path.string());
  auto text = sys::read_file_limited(path, k_max_key_file);
  if (!text) {
    if (text.error().code == Errc::invalid_input) text.error().code = Errc::config;
    return std::move(text).error().with_context("while reading the fleet key");
  }
  const std::string_view line = util::trim(*text);
  Error malformed(Errc::config,
                  "the fleet key file " + path.string() +
                      " does not hold a fleet key (32 bytes of base64 on one line)",
                  "copy the fleet's key file again from a member that works");
  if (line.find_first_of("\r\n") != std::string_view::npos) {
    crypto::wipe(*text);
    return malformed;
  }
  auto raw = crypto::base64_decode(line);
  crypto::wipe(*text);
  if (!raw || raw->size() != crypto::FleetKey::k_size) {
    if (raw) crypto::wipe(*raw);
    return malformed;
  }
  auto key = crypto::FleetKey::from_bytes(*raw);
  crypto::wipe(*raw);
  return key;
}

}  // namespace acmed::fleet
