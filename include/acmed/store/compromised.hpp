// Keys recorded as compromised (`acmed revoke --reason keycompromise --reissue`), so that no
// certificate is ever requested for them again, --reuse-key or not. One RFC 7638 JWK thumbprint
// per line in <config_dir>/compromised-keys, followed by a comment naming the lineage; the file
// only grows, and is rewritten atomically.
#pragma once

#include "acmed/crypto/key.hpp"
#include "acmed/store/paths.hpp"
#include "acmed/util/result.hpp"

#include <string_view>

namespace acmed::store {

// <config_dir>/compromised-keys.
fs::path compromised_keys_file(const Paths& paths);

// Adds `key` (from lineage `lineage`, for the comment). Idempotent. Errc::io on write failure.
Status record_compromised_key(const Paths& paths, const crypto::PrivateKey& key,
                              std::string_view lineage);

// Whether `key` was recorded. Errc::io when the file exists but cannot be read.
Result<bool> is_compromised_key(const Paths& paths, const crypto::PrivateKey& key);

}  // namespace acmed::store
