// Installing certificates into nginx/apache: `acmed --nginx|--apache` (run), `install`, `enhance`
// and `rollback`. Every change goes through install::Transaction (checkpoint, config test,
// reload, TLS check, byte-for-byte rollback).
#include "acmed/app/plugins.hpp"
#include "acmed/install/transaction.hpp"
#include "acmed/local/environment.hpp"
#include "acmed/local/leaf.hpp"
#include "acmed/local/lineage.hpp"
#include "acmed/local/local_ca.hpp"
#include "acmed/store/lineage.hpp"
#include "acmed/sys/lock.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <memory>

namespace acmed::cli {

namespace {

namespace fs = std::filesystem;

fs::path backup_root(const GlobalOptions& g) { return fs::path(g.work_dir) / "backups"; }

// The installer the flags choose (--nginx, --apache), built through the plugin registry.
Result<std::unique_ptr<install::Installer>> make_installer(const IssueFlags& f, const GlobalOptions& g) {
  const plugins::Plugin* plugin = chosen_plugin(f);
  if (!plugin || !plugin->installer) {
    return Error(Errc::usage, "no installer chosen", "use " + plugins::flag_list(plugins::Role::installer));
  }
  ACMED_TRY(auto settings, plugin_settings(*plugin, f));
  return plugins::build_installer(*plugin, settings, plugin_environment(g));
}

std::vector<install::Enhancement> enhancements(const IssueFlags& f, bool redirect_by_default) {
  std::vector<install::Enhancement> out;
  if (f.redirect || (redirect_by_default && !f.no_redirect)) out.push_back(install::Enhancement::redirect);
  if (f.hsts) out.push_back(install::Enhancement::hsts);
  if (f.uir) out.push_back(install::Enhancement::uir);
  return out;
}

install::DeployRequest deploy_request(const GlobalOptions& g, const std::string& lineage,
                                      const std::vector<std::string>& names,
                                      std::vector<install::Enhancement> enh) {
  auto live = store_paths(g).live_dir(lineage);
  return install::DeployRequest{lineage, names, live / "fullchain.pem", live / "privkey.pem",
                                std::move(enh)};
}

// Applies `plan` in a transaction (or prints it for --dry-run).
Status apply_plan(const install::Plan& plan, install::Installer& installer, const GlobalOptions& g,
                  bool dry_run, const std::string& description,
                  const std::function<Status()>& check) {
  if (plan.empty()) {
    spdlog::info("{}: nothing to change; the configuration already has it.", installer.name());
    return {};
  }
  for (const auto& note : plan.notes) spdlog::debug("{}", note);
  if (dry_run) {
    std::string text = install::diff(plan);
    std::fwrite(text.data(), 1, text.size(), stdout);
    spdlog::info("dry run: {} would be changed as shown; nothing was written.", installer.name());
    return {};
  }
  ACMED_TRY(auto checkpoint, install::execute(plan, installer, backup_root(g), description, check));
  spdlog::info("{} now {}; undo with 'acmed rollback' (checkpoint {}).", installer.name(), description,
               checkpoint.string());
  return {};
}

std::vector<std::string> dns_names(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names) {
    std::string canonical;
    if (!util::parse_ip(n, canonical)) out.push_back(n);
  }
  return out;
}

Status deploy_lineage(const GlobalOptions& g, const IssueFlags& f, install::Installer& installer,
                      const std::string& lineage, const std::vector<std::string>& names) {
  auto request = deploy_request(g, lineage, dns_names(names), enhancements(f, true));
  ACMED_TRY(auto plan, installer.plan_deploy(request));
  return apply_plan(plan, installer, g, f.dry_run, "serves " + lineage + " over HTTPS",
                    [&] { return installer.check_deployed(request); });
}

// Records the installer in the lineage's renewal conf, so renewals reload that server.
Status record_installer(const GlobalOptions& g, const IssueFlags& f, const std::string& lineage) {
  const plugins::Plugin* plugin = chosen_plugin(f);
  if (!plugin) return Error(Errc::internal, "record_installer without an installer");
  ACMED_TRY(auto settings, plugin_settings(*plugin, f));
  ACMED_TRY(auto conf, store::read_renewal_conf(store_paths(g), lineage));
  app::record_installer(conf.params, *plugin, settings);
  return store::save_renewal_conf(store_paths(g), lineage, std::move(conf));
}

// --local: a certificate from the local development CA, stored as a lineage that `acmed renew`
// renews with the same CA. No ACME server and no challenge are involved.
Result<std::string> obtain_local(const GlobalOptions& g, const IssueFlags& f,
                                 const std::vector<std::string>& names) {
  if (f.dry_run) return Error(Errc::usage, "--dry-run does not apply to --local");
  ACMED_TRY(auto env, local::detect_environment(local::process_env));
  auto now = std::chrono::system_clock::now();
  ACMED_TRY(auto ca, local::LocalCa::load(env.ca_root, now));
  auto key_type = f.key_type == "rsa" ? crypto::KeyType::rsa : crypto::KeyType::ecdsa;
  ACMED_TRY(auto leaf, local::make_leaf(ca, names, key_type, local::Purpose::server,
                                        env.user_at_host, now));
  ACMED_TRY(auto lock, sys::DirLock::acquire(g.config_dir));
  ACMED_TRY(auto lineage, local::save_lineage(store_paths(g), ca, leaf, key_type, local::Purpose::server));
  spdlog::info("Certificate from the local development CA saved as {}.", lineage);
  return lineage;
}

struct InstallFlags {
  bool force = false;
};

Status run_install(const GlobalOptions& g, IssueFlags& f) {
  ACMED_CHECK(check_flag_conflicts(f));
  if (f.cert_name.empty()) {
    return Error(Errc::usage, "install needs --cert-name NAME", "see the names with 'acmed certificates'");
  }
  ACMED_TRY(auto installer, make_installer(f, g));
  ACMED_TRY(auto lock, sys::DirLock::acquire(g.config_dir));
  ACMED_TRY(auto lineage, store::load_lineage(store_paths(g), f.cert_name));
  ACMED_CHECK(installer->config_test());
  return deploy_lineage(g, f, *installer, lineage.name, lineage.names);
}

Status run_enhance(const GlobalOptions& g, IssueFlags& f) {
  ACMED_CHECK(check_flag_conflicts(f));
  auto wanted = enhancements(f, false);
  if (wanted.empty()) return Error(Errc::usage, "enhance needs --redirect, --hsts or --uir");
  ACMED_TRY(auto installer, make_installer(f, g));
  std::vector<std::string> names;
  if (!f.cert_name.empty()) {
    ACMED_TRY(auto lineage, store::load_lineage(store_paths(g), f.cert_name));
    names = dns_names(lineage.names);
  } else {
    ACMED_TRY(auto ids, parsed_identifiers(f));
    for (const auto& id : ids) names.push_back(id.value);
  }
  ACMED_TRY(auto lock, sys::DirLock::acquire(g.config_dir));
  ACMED_CHECK(installer->config_test());
  ACMED_TRY(auto plan, installer->plan_enhance(names, wanted));
  return apply_plan(plan, *installer, g, f.dry_run, "has the requested enhancements", nullptr);
}

Status run_rollback(const GlobalOptions& g, IssueFlags& f, const InstallFlags& flags) {
  ACMED_TRY(auto checkpoint, install::last_checkpoint(backup_root(g)));
  const std::string& server = checkpoint.server;
  const plugins::Plugin* plugin = plugins::find_plugin(server);
  if (!plugin || !plugin->installer) {
    return Error(Errc::config, "the last checkpoint belongs to an unknown server '" + server + "'");
  }
  // Reach the server the checkpoint was made for (its control settings, saved under certbot's
  // "<plugin>_<name>" spelling: server_root -> nginx_server_root), unless told otherwise.
  for (auto& [name, on] : f.use_plugin) on = name == plugin->name;
  for (const auto& [name, value] : checkpoint.settings) {
    std::string key = plugin->name + "_" + name;
    bool given = std::any_of(f.plugin_flags.begin(), f.plugin_flags.end(),
                             [&](const auto& flag) { return flag.first == key; });
    if (!given && !value.empty()) f.plugin_flags.emplace_back(key, value);
  }
  ACMED_TRY(auto installer, make_installer(f, g));
  ACMED_TRY(auto lock, sys::DirLock::acquire(g.config_dir));
  ACMED_TRY(auto restored, install::rollback_last(backup_root(g), *installer,
                                                  flags.force ? install::Force::yes : install::Force::no));
  spdlog::info("Rolled back {}: {}", server, restored);
  return {};
}

}  // namespace

Status run_install_flow(const GlobalOptions& g, IssueFlags& f) {
  const plugins::Plugin* chosen = chosen_plugin(f);
  if (!chosen || !chosen->installer) {
    return Error(Errc::usage,
                 "'acmed' without a subcommand obtains and installs a certificate, which needs an "
                 "installer",
                 "use " + plugins::flag_list(plugins::Role::installer) +
                     ", or 'acmed certonly' to only obtain the certificate");
  }
  ACMED_CHECK(check_flag_conflicts(f));
  ACMED_TRY(auto installer, make_installer(f, g));
  // A config the server itself rejects is reported and left alone, before anything is asked of
  // the CA; so is one where no server block serves the names.
  ACMED_CHECK(installer->config_test());
  ACMED_TRY(auto ids, parsed_identifiers(f));
  std::vector<std::string> names;
  for (const auto& id : ids) names.push_back(id.value);
  ACMED_CHECK(installer->plan_deploy(deploy_request(g, "acmed-precheck", dns_names(names), {})));

  std::string lineage;
  if (f.local) {
    ACMED_TRY(lineage, obtain_local(g, f, names));
    ACMED_CHECK(record_installer(g, f, lineage));
    ACMED_TRY(auto lock, sys::DirLock::acquire(g.config_dir));
    ACMED_TRY(auto stored, store::load_lineage(store_paths(g), lineage));
    return deploy_lineage(g, f, *installer, stored.name, stored.names);
  }
  ACMED_TRY(auto auth, make_authenticator(f, g));
  ACMED_TRY(auto outcome, obtain_for_flags(g, f, *auth, lineage));
  if (f.dry_run) {
    spdlog::info("The dry run was successful: the CA issued a test certificate (not saved).");
    if (lineage.empty()) return {};
  } else if (outcome) {
    spdlog::info("Successfully received certificate for {}.", lineage);
    ACMED_CHECK(record_installer(g, f, lineage));
  }
  ACMED_TRY(auto lock, sys::DirLock::acquire(g.config_dir));
  ACMED_TRY(auto stored, store::load_lineage(store_paths(g), lineage));
  return deploy_lineage(g, f, *installer, stored.name, stored.names);
}

void add_install_commands(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags) {
  auto* install = app.add_subcommand(
      "install", "Install an existing certificate (--cert-name) into nginx or apache;\n"
                 "--dry-run prints the diff instead");
  install->fallthrough();
  set_body(install, [&globals, &flags] { return run_install(globals, flags); });

  auto* enhance = app.add_subcommand(
      "enhance", "Add --redirect, --hsts or --uir to an installed certificate's servers");
  enhance->fallthrough();
  set_body(enhance, [&globals, &flags] { return run_enhance(globals, flags); });

  auto* rollback = app.add_subcommand("rollback", "Undo the last change acmed made to nginx or apache");
  rollback->fallthrough();
  auto rb = std::make_shared<InstallFlags>();
  rollback->add_flag("--force", rb->force, "Restore even files that changed since acmed wrote them");
  set_body(rollback, [&globals, &flags, rb] { return run_rollback(globals, flags, *rb); });
}

}  // namespace acmed::cli
