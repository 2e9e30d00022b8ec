// The one table of plugins (plugins/registry.cpp) and the only way the rest of acmed builds
// authenticators and installers. Flags fill a plugin's settings (settings_from_flags), a renewal
// conf stores them (store_settings) and gives them back (settings_from_conf), and both paths build
// through the same Plugin::authenticator / Plugin::installer.
#pragma once

#include "plugins/plugin.hpp"

#include <span>
#include <string_view>

namespace acmed::plugins {

// Every plugin, in the order --help and `acmed plugins` list them.
std::span<const Plugin* const> all_plugins();

// The plugin called `name`; nullptr when there is none.
const Plugin* find_plugin(std::string_view name);

// Every setting of every plugin, each key once (http01_port is shared), for defining flags.
std::vector<Setting> all_settings();

// `plugin`'s settings from the command line: for each of its settings the value(s) given, else
// its default; then Plugin::complete. Errc::usage (from complete) for flags that do not fit.
Result<util::Settings> settings_from_flags(const Plugin& plugin, const GivenFlags& given);

// `plugin`'s settings from what a renewal conf stored (written by acmed or certbot); a setting it
// does not have gets its default.
util::Settings settings_from_conf(const Plugin& plugin, const util::Settings& stored);

// Writes `plugin`'s settings into a renewal conf's stored settings: every setting with a value
// replaces the stored one, a setting without one is removed; other keys are kept.
void store_settings(const Plugin& plugin, const util::Settings& settings, util::Settings& stored);

// The authenticator / installer of `plugin` built from `settings` (as settings_from_flags or
// settings_from_conf return them). Errc::usage when the plugin is not one.
Result<std::unique_ptr<challenge::Authenticator>> build_authenticator(
    const Plugin& plugin, const util::Settings& settings, std::vector<std::string> names,
    const Environment& env);
Result<std::unique_ptr<install::Installer>> build_installer(const Plugin& plugin,
                                                            const util::Settings& settings,
                                                            const Environment& env);

// The directives of `plugin`'s server config that name one of `paths` (Plugin::config_references),
// the plugin built from `settings`. Empty for a plugin that cannot list them (not an installer).
Result<std::vector<ConfigReference>> config_references(const Plugin& plugin,
                                                       const util::Settings& settings,
                                                       std::span<const std::filesystem::path> paths,
                                                       const Environment& env);

// "--webroot, --standalone, --nginx or --apache": the plugins that can be an authenticator
// (Role::authenticator) or installer, for messages.
enum class Role { authenticator, installer };
std::string flag_list(Role role, std::string_view last_word = "or");

}  // namespace acmed::plugins
