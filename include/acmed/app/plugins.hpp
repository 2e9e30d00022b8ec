// Plugins of a lineage: how the settings a plugin was chosen with are recorded in a renewal conf
// and how the same plugin is rebuilt from it. Every command goes through here (and through the
// registry, plugins/registry.hpp), so what `certonly`/`install` store is what `renew` and
// `rollback` build with.
#pragma once

#include "acmed/store/lineage.hpp"
#include "plugins/registry.hpp"

#include <memory>

namespace acmed::app {

// Records `plugin` as the conf's authenticator with `settings` (settings of other plugins are
// kept: an installer can share keys such as http01_port).
void record_authenticator(store::RenewalParams& params, const plugins::Plugin& plugin,
                          const util::Settings& settings);
// Records `plugin` as the conf's installer with `settings`.
void record_installer(store::RenewalParams& params, const plugins::Plugin& plugin,
                      const util::Settings& settings);

// The authenticator named by `params` (a lineage's [renewalparams], with any command-line
// overrides applied), built from its stored settings. Errc::config naming the conf when acmed
// has no such authenticator or the settings do not build one.
Result<std::unique_ptr<challenge::Authenticator>> lineage_authenticator(
    const store::Lineage& lineage, const store::RenewalParams& params,
    const plugins::Environment& env);

// The installer named by the lineage's conf, built from its stored settings; nullptr when the
// conf names none. Errc::config when acmed has no such installer.
Result<std::unique_ptr<install::Installer>> lineage_installer(const store::Lineage& lineage,
                                                              const plugins::Environment& env);

}  // namespace acmed::app
