// `update_symlinks`: repairs the live/ links of every lineage (or of --cert-name) from archive/
// (store::update_symlinks), reporting each lineage on its own.
#pragma once

#include "acmed/renew/runner.hpp"
#include "acmed/store/paths.hpp"

#include <string>

namespace acmed::app {

// Repairs lineage `cert_name`, or every lineage when it is empty, logging "NAME: live links ->
// version N" for each. A lineage that cannot be repaired is logged and the others still are;
// the first such error is returned (Errc::not_found for an unknown --cert-name).
Status update_symlinks(const store::Paths& paths, const std::string& cert_name,
                       const renew::Logger& log);

}  // namespace acmed::app
