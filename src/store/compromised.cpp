#include "acmed/store/compromised.hpp"

#include "acmed/store/lock.hpp"
#include "acmed/sys/fs.hpp"

#include <system_error>

namespace acmed::store {

namespace {

// The file's text, "" when it does not exist yet.
Result<std::string> read_list(const Paths& paths) {
  std::error_code ec;
  if (!fs::exists(compromised_keys_file(paths), ec)) return std::string();
  return sys::read_file_limited(compromised_keys_file(paths), 16 << 20);
}

bool listed(std::string_view text, const std::string& thumbprint) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.substr(0, line.find(' ')) == thumbprint) return true;
    pos = end + 1;
  }
  return false;
}

}  // namespace

fs::path compromised_keys_file(const Paths& paths) {
  return paths.config_dir / "compromised-keys";
}

Status record_compromised_key(const Paths& paths, const crypto::PrivateKey& key,
                              std::string_view lineage) {
  ACMED_TRY(auto lock, StoreLock::acquire(paths));
  ACMED_TRY(std::string text, read_list(paths));
  const std::string thumbprint = key.jwk_thumbprint();
  if (listed(text, thumbprint)) return {};
  text += thumbprint + " # " + std::string(lineage) + "\n";
  return sys::write_file_atomic(compromised_keys_file(paths), text, 0644);
}

Result<bool> is_compromised_key(const Paths& paths, const crypto::PrivateKey& key) {
  ACMED_TRY(std::string text, read_list(paths));
  return listed(text, key.jwk_thumbprint());
}

}  // namespace acmed::store
