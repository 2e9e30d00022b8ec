#include "acmed/app/plugins.hpp"

namespace acmed::app {

void record_authenticator(store::RenewalParams& params, const plugins::Plugin& plugin,
                          const util::Settings& settings) {
  params.authenticator = plugin.name;
  plugins::store_settings(plugin, settings, params.settings);
}

void record_installer(store::RenewalParams& params, const plugins::Plugin& plugin,
                      const util::Settings& settings) {
  params.installer = plugin.name;
  plugins::store_settings(plugin, settings, params.settings);
}

Result<std::unique_ptr<challenge::Authenticator>> lineage_authenticator(
    const store::Lineage& lineage, const store::RenewalParams& params,
    const plugins::Environment& env) {
  const plugins::Plugin* plugin = plugins::find_plugin(params.authenticator);
  if (!plugin || !plugin->authenticator) {
    return Error(
        Errc::config,
        lineage.conf_path.string() + ": acmed cannot renew with the '" + params.authenticator +
            "' authenticator",
        "obtain the certificate again with " + plugins::flag_list(plugins::Role::authenticator));
  }
  auto built = plugins::build_authenticator(
      *plugin, plugins::settings_from_conf(*plugin, params.settings), lineage.names, env);
  if (!built) {
    return std::move(built).error().with_context("while reading " + lineage.conf_path.string());
  }
  return built;
}

Result<std::unique_ptr<install::Installer>> lineage_installer(const store::Lineage& lineage,
                                                              const plugins::Environment& env) {
  const store::RenewalParams& params = lineage.conf.params;
  if (params.installer.empty()) return std::unique_ptr<install::Installer>();
  const plugins::Plugin* plugin = plugins::find_plugin(params.installer);
  if (!plugin || !plugin->installer) {
    return Error(
        Errc::config,
        lineage.conf_path.string() + ": acmed has no '" + params.installer + "' installer",
        "install the certificate again with " + plugins::flag_list(plugins::Role::installer));
  }
  auto built =
      plugins::build_installer(*plugin, plugins::settings_from_conf(*plugin, params.settings), env);
  if (!built) {
    return std::move(built).error().with_context("while reading " + lineage.conf_path.string());
  }
  return built;
}

}  // namespace acmed::app
