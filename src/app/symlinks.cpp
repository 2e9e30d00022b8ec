#include "acmed/app/symlinks.hpp"

#include "acmed/store/lineage.hpp"

#include <optional>
#include <vector>

namespace acmed::app {

Status update_symlinks(const store::Paths& paths, const std::string& cert_name,
                       const renew::Logger& log) {
  std::vector<std::string> names{cert_name};
  if (cert_name.empty()) {
    ACMED_TRY(names, store::lineage_names(paths));
  }
  std::optional<Error> first;
  for (const auto& name : names) {
    auto version = store::update_symlinks(paths, name);
    if (!version) {
      Error e = std::move(version).error();
      if (names.size() > 1 && log) log(renew::LogLevel::error, name + ": " + e.describe());
      if (!first) first = std::move(e);
      continue;
    }
    if (log) {
      log(renew::LogLevel::info, name + ": live links -> version " + std::to_string(*version));
    }
  }
  if (first) return *first;
  return ok_status();
}

}  // namespace acmed::app
