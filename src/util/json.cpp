#include "acmed/util/json.hpp"

namespace acmed::util {

Result<std::string> dump_json(const nlohmann::json& value, std::string_view what, int indent) {
  try {
    return value.dump(indent);
  } catch (const nlohmann::json::exception&) {
    return Error(Errc::invalid_input,
                 std::string(what) + " would hold a string that is not valid UTF-8",
                 "rename the file or directory whose name is not UTF-8");
  }
}

std::string dump_json_lossy(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace acmed::util
