#include "plugins/registry.hpp"

#include <algorithm>
#include <set>

namespace acmed::plugins {

// Each plugin's registration, defined in plugins/<name>/register.cpp.
const Plugin& webroot_plugin();
const Plugin& standalone_plugin();
const Plugin& nginx_plugin();
const Plugin& apache_plugin();
const Plugin& tls_alpn_plugin();
const Plugin& manual_plugin();
const Plugin& dns_rfc2136_plugin();

std::span<const Plugin* const> all_plugins() {
  // The table: adding a plugin is one line here (and its register.cpp).
  static const Plugin* const k_plugins[] = {
      &webroot_plugin(),
      &standalone_plugin(),
      &nginx_plugin(),
      &apache_plugin(),
      &tls_alpn_plugin(),
      &manual_plugin(),
      &dns_rfc2136_plugin(),
  };
  return k_plugins;
}

const Plugin* find_plugin(std::string_view name) {
  for (const Plugin* p : all_plugins()) {
    if (p->name == name) return p;
  }
  return nullptr;
}

std::vector<Setting> all_settings() {
  std::vector<Setting> out;
  std::set<std::string> seen;
  for (const Plugin* p : all_plugins()) {
    for (const Setting& s : p->settings) {
      if (seen.insert(s.key).second) out.push_back(s);
    }
  }
  return out;
}

Result<util::Settings> settings_from_flags(const Plugin& plugin, const GivenFlags& given) {
  util::Settings out;
  for (const Setting& s : plugin.settings) {
    std::vector<std::string> values;
    for (const auto& [key, value] : given) {
      if (key == s.key && std::find(values.begin(), values.end(), value) == values.end()) {
        values.push_back(value);
      }
    }
    if (s.kind == SettingKind::list) {
      if (!values.empty()) out.lists[s.key] = values;
      continue;
    }
    if (s.kind == SettingKind::table) continue;
    std::string last;
    for (const auto& [key, value] : given) {
      if (key == s.key) last = value;
    }
    if (last.empty()) last = s.default_value;
    if (!last.empty()) out.text[s.key] = last;
  }
  if (plugin.complete) ACMED_CHECK(plugin.complete(out, given));
  return out;
}

util::Settings settings_from_conf(const Plugin& plugin, const util::Settings& stored) {
  util::Settings out;
  for (const Setting& s : plugin.settings) {
    switch (s.kind) {
      case SettingKind::list:
        if (auto values = stored.list(s.key); !values.empty()) out.lists[s.key] = values;
        break;
      case SettingKind::table:
        if (auto it = stored.tables.find(s.key); it != stored.tables.end()) {
          out.tables[s.key] = it->second;
        }
        break;
      case SettingKind::text:
      case SettingKind::number: {
        std::string value = stored.get(s.key);
        if (value.empty()) value = s.default_value;
        if (!value.empty()) out.text[s.key] = value;
        break;
      }
    }
  }
  return out;
}

void store_settings(const Plugin& plugin, const util::Settings& settings, util::Settings& stored) {
  for (const Setting& s : plugin.settings) {
    stored.erase(s.key);
    switch (s.kind) {
      case SettingKind::list:
        if (auto values = settings.list(s.key); !values.empty()) stored.lists[s.key] = values;
        break;
      case SettingKind::table:
        if (auto it = settings.tables.find(s.key);
            it != settings.tables.end() && !it->second.empty()) {
          stored.tables[s.key] = it->second;
        }
        break;
      case SettingKind::text:
      case SettingKind::number:
        if (auto value = settings.get(s.key); !value.empty()) stored.text[s.key] = value;
        break;
    }
  }
}

Result<std::unique_ptr<challenge::Authenticator>> build_authenticator(
    const Plugin& plugin, const util::Settings& settings, std::vector<std::string> names,
    const Environment& env) {
  if (!plugin.authenticator) {
    return Error(Errc::usage, "the " + plugin.name + " plugin cannot prove control of names",
                 "choose one of " + flag_list(Role::authenticator));
  }
  return plugin.authenticator(BuildContext{settings, std::move(names), env});
}

Result<std::unique_ptr<install::Installer>> build_installer(const Plugin& plugin,
                                                            const util::Settings& settings,
                                                            const Environment& env) {
  if (!plugin.installer) {
    return Error(Errc::usage, "the " + plugin.name + " plugin cannot install certificates",
                 "choose one of " + flag_list(Role::installer));
  }
  return plugin.installer(BuildContext{settings, {}, env});
}

Result<std::vector<ConfigReference>> config_references(const Plugin& plugin,
                                                       const util::Settings& settings,
                                                       std::span<const std::filesystem::path> paths,
                                                       const Environment& env) {
  if (!plugin.config_references) return std::vector<ConfigReference>{};
  return plugin.config_references(BuildContext{settings, {}, env}, paths);
}

std::string flag_list(Role role, std::string_view last_word) {
  std::vector<std::string> flags;
  for (const Plugin* p : all_plugins()) {
    if (role == Role::authenticator ? bool(p->authenticator) : bool(p->installer)) {
      flags.push_back("--" + p->name);
    }
  }
  std::string out;
  for (std::size_t i = 0; i < flags.size(); ++i) {
    if (i > 0) out += i + 1 == flags.size() ? " " + std::string(last_word) + " " : ", ";
    out += flags[i];
  }
  return out;
}

}  // namespace acmed::plugins
