// The webroot plugin's registration: -w DIR for the -d names after it, stored as certbot does
// (webroot_path, the roots in order, and [[webroot_map]], name = root).
#include "plugins/plugin.hpp"
#include "plugins/webroot/webroot.hpp"

#include <algorithm>

namespace acmed::plugins {

namespace {

constexpr const char* k_path = "webroot_path";
constexpr const char* k_map = "webroot_map";

// -w/-d in command-line order -> webroot_map (certbot's rule: a name belongs to the last -w
// before it).
Status complete(util::Settings& settings, const GivenFlags& given) {
  std::vector<std::pair<std::string, std::string>> ordered;
  for (const auto& [key, value] : given) {
    if (key == k_path) ordered.emplace_back("w", value);
    if (key == k_domain_key) ordered.emplace_back("d", value);
  }
  ACMED_TRY(auto map, webroot::map_from_arguments(ordered));
  // Without -d (renew), each name of the lineage goes to the -w root (webroot_path); with -d
  // and no -w, there is no root at all.
  bool names_given =
      std::any_of(ordered.begin(), ordered.end(), [](const auto& arg) { return arg.first == "d"; });
  if (map.empty() && names_given) {
    return Error(Errc::usage, "--webroot needs a document root",
                 "give -w /path/to/docroot before -d");
  }
  auto& table = settings.tables[k_map];
  for (const auto& [name, dir] : map) table.emplace_back(name, dir.string());
  return {};
}

Result<std::unique_ptr<challenge::Authenticator>> authenticator(const BuildContext& ctx) {
  webroot::WebrootMap map;
  if (auto it = ctx.settings.tables.find(k_map); it != ctx.settings.tables.end()) {
    for (const auto& [name, dir] : it->second) map[name] = dir;
  }
  // certbot: names missing from webroot_map use the first webroot_path.
  auto roots = ctx.settings.list(k_path);
  for (const auto& name : ctx.names) {
    if (!map.count(name) && !roots.empty()) map[name] = roots.front();
  }
  if (map.empty()) {
    return Error(Errc::config, "no webroot_map or webroot_path for the webroot plugin",
                 "obtain the certificate again with `acmed certonly --webroot -w DIR -d NAME`");
  }
  return std::unique_ptr<challenge::Authenticator>(
      std::make_unique<webroot::WebrootAuthenticator>(std::move(map)));
}

}  // namespace

const Plugin& webroot_plugin() {
  static const Plugin plugin{
      .name = "webroot",
      .description = "Write challenge files into a running server's document root",
      .settings =
          {
              {k_path, "-w,--webroot-path", "Document root for the -d names that follow it", "",
               SettingKind::list},
              {k_map, "", "Which document root serves which name (from -w/-d)", "",
               SettingKind::table},
          },
      .chosen_by_its_flags = true,
      .complete = complete,
      .authenticator = authenticator,
      .installer = nullptr,
  };
  return plugin;
}

}  // namespace acmed::plugins
