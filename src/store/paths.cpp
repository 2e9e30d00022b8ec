#include "acmed/store/paths.hpp"

#include "acmed/util/domain.hpp"

#include <cstdio>

namespace acmed::store {

namespace {

// Leaves room for ".conf", "-0001" and our temporary names within NAME_MAX (255).
constexpr std::size_t k_max_name = 200;

}  // namespace

Status validate_lineage_name(std::string_view name) {
  if (!util::is_safe_lineage_name(name) || name.size() > k_max_name) {
    return Error(Errc::invalid_input,
                 "'" + std::string(name) + "' is not a usable certificate name",
                 "a certificate name must be non-empty printable ASCII without '/', '..' or a "
                 "leading '.', at most 200 characters");
  }
  return {};
}

bool lineage_exists(const Paths& paths, std::string_view name) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(paths.renewal_conf(name), ec)) ||
         fs::exists(fs::symlink_status(paths.live_dir(name), ec)) ||
         fs::exists(fs::symlink_status(paths.archive_dir(name), ec));
}

Result<std::string> new_lineage_name(const Paths& paths, std::string_view first_domain) {
  std::string base(first_domain);
  // certbot names a wildcard lineage after the domain below the wildcard.
  if (base.rfind("*.", 0) == 0) base.erase(0, 2);
  ACMED_CHECK(validate_lineage_name(base));
  if (!lineage_exists(paths, base)) return base;
  for (int i = 1; i <= 9999; ++i) {
    char suffix[8];
    std::snprintf(suffix, sizeof suffix, "-%04d", i);
    std::string candidate = base + suffix;
    if (!lineage_exists(paths, candidate)) return candidate;
  }
  return Error(Errc::conflict, "every name from " + base + "-0001 to " + base + "-9999 is taken",
               "delete unused lineages or choose a name with --cert-name");
}

}  // namespace acmed::store
