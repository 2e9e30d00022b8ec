#include "acmed/app/delete.hpp"

#include "acmed/store/delete.hpp"
#include "acmed/store/lineage.hpp"
#include "acmed/store/lock.hpp"

#include <algorithm>
#include <system_error>

namespace acmed::app {

namespace fs = std::filesystem;

namespace {

// The lineage's dirs as the config may name them: as given, absolute, and with symlinks resolved.
std::vector<fs::path> lineage_dirs(const store::Paths& paths, const std::string& name) {
  std::vector<fs::path> out;
  for (const fs::path& dir : {paths.live_dir(name), paths.archive_dir(name)}) {
    std::error_code ec;
    for (fs::path p : {dir, fs::absolute(dir, ec), fs::weakly_canonical(dir, ec)}) {
      if (!p.empty() && p.is_absolute() && std::find(out.begin(), out.end(), p) == out.end()) {
        out.push_back(p);
      }
    }
  }
  return out;
}

bool flags_given_for(const plugins::Plugin& plugin, const plugins::GivenFlags& given) {
  return std::any_of(given.begin(), given.end(), [&](const auto& kv) {
    return std::any_of(plugin.settings.begin(), plugin.settings.end(),
                       [&](const plugins::Setting& s) { return s.key == kv.first; });
  });
}

}  // namespace

Result<std::vector<plugins::ConfigReference>> lineage_references(
    const store::Paths& paths, const std::string& name, const plugins::GivenFlags& plugin_flags,
    const plugins::Environment& env) {
  util::Settings stored;
  if (auto conf = store::read_renewal_conf(paths, name)) stored = conf->params.settings;
  std::vector<fs::path> dirs = lineage_dirs(paths, name);
  std::vector<plugins::ConfigReference> out;
  for (const plugins::Plugin* plugin : plugins::all_plugins()) {
    if (!plugin->config_references) continue;
    util::Settings settings;
    if (flags_given_for(*plugin, plugin_flags)) {
      ACMED_TRY(settings, plugins::settings_from_flags(*plugin, plugin_flags));
    } else {
      settings = plugins::settings_from_conf(*plugin, stored);
    }
    auto refs = plugins::config_references(*plugin, settings, dirs, env);
    if (!refs) {
      return std::move(refs).error().with_context("while looking for references to " + name +
                                                  " in " + plugin->name + "'s config");
    }
    out.insert(out.end(), refs->begin(), refs->end());
  }
  return out;
}

Status delete_certificate(const DeleteRequest& request, const store::Paths& paths,
                          const plugins::Environment& env, const renew::Logger& log) {
  const std::string& name = request.cert_name;
  if (name.empty()) {
    return Error(Errc::usage, "delete needs --cert-name NAME",
                 "`acmed certificates` lists the names");
  }
  ACMED_CHECK(store::validate_lineage_name(name));
  ACMED_TRY(auto lock, store::StoreLock::acquire(paths));
  if (!store::lineage_exists(paths, name) || !fs::exists(paths.renewal_conf(name))) {
    return Error(Errc::not_found, "no certificate named '" + name + "'",
                 "`acmed certificates` lists them");
  }
  auto refs = lineage_references(paths, name, request.plugin_flags, env);
  if (!refs && request.force == Force::no) {
    Error e = std::move(refs).error();
    e.hint = "fix the config, or pass --force to delete without checking";
    return e;
  }
  if (refs && !refs->empty()) {
    std::string where;
    for (const auto& r : *refs) {
      where += (where.empty() ? "" : ", ") + r.file.string() + ":" + std::to_string(r.line);
    }
    if (request.force == Force::no) {
      return Error(Errc::conflict,
                   "not deleting " + name + ": web server configs still use its files at " + where,
                   "point them at other files first (the next reload would fail), or pass --force");
    }
    if (log) {
      for (const auto& r : *refs) {
        log(renew::LogLevel::warning, r.file.string() + ":" + std::to_string(r.line) +
                                          " still names a deleted file (" + r.directive + ")");
      }
    }
  }
  ACMED_CHECK(store::delete_lineage(paths, name));
  if (log) log(renew::LogLevel::info, "Deleted the certificate " + name);
  return ok_status();
}

}  // namespace acmed::app
