// Serialising JSON without exceptions. nlohmann's dump() throws on a string that is not valid
// UTF-8, and file names on Linux are bytes: a path such as /srv/caf\xe9 reaches a JSON document
// unchanged. These wrappers are the only way the core serialises JSON it writes to disk.
#pragma once

#include "acmed/util/result.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace acmed::util {

// `value` serialised (indent as nlohmann's dump: -1 is one line). Errc::invalid_input, naming
// `what` ("the rollback manifest"), when a string in it is not valid UTF-8. Never throws.
Result<std::string> dump_json(const nlohmann::json& value, std::string_view what, int indent = -1);

// `value` serialised for display: bytes that are not valid UTF-8 become U+FFFD. Never throws.
std::string dump_json_lossy(const nlohmann::json& value, int indent = -1);

}  // namespace acmed::util
