// The fleet key file: the 32-byte secret every member of a fleet shares (crypto::FleetKey), kept
// as one line of base64 in a file only its owner may read.
#pragma once

#include "acmed/crypto/aead.hpp"
#include "acmed/util/result.hpp"

#include <filesystem>

namespace acmed::fleet {

// Writes a new random fleet key to `path` (base64, one line, mode 0600, created atomically).
// Errc::conflict when `path` exists: a key is never replaced, since every value sealed with it
// would be lost. Errc::io when the file cannot be written.
Status generate_fleet_key(const std::filesystem::path& path);

// The fleet key in `path`. Errc::not_found when the file does not exist; Errc::config when group
// or others have any access to it ("chmod 600 FILE") or it is not exactly 32 bytes of base64 on
// one line; Errc::io when it cannot be read.
Result<crypto::FleetKey> read_fleet_key(const std::filesystem::path& path);

}  // namespace acmed::fleet
