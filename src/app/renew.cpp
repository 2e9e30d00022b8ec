#include "acmed/app/renew.hpp"

#include "acmed/app/fleet.hpp"
#include "acmed/app/plugins.hpp"
#include "acmed/renew/metrics.hpp"
#include "acmed/renew/reissue.hpp"
#include "acmed/store/lock.hpp"
#include "acmed/sys/fs.hpp"

#include <algorithm>

namespace acmed::app {

Status check_renew_options(const IssueOptions& o) {
  if (!o.domains.empty()) {
    return Error(Errc::usage, "`renew` renews existing lineages and takes no -d",
                 "pick one with --cert-name NAME, or use `acmed certonly -d ...` for new names");
  }
  if (!o.account.empty()) {
    return Error(Errc::usage,
                 "`renew` uses the account stored with each certificate; it takes no --account",
                 "to move one to another account: acmed certonly --cert-name NAME --account ID "
                 "--force-renewal");
  }
  return check_flag_conflicts(o);
}

Result<std::function<void(store::RenewalParams&)>> renew_param_overrides(const IssueOptions& o) {
  // certbot: plugin and key options given to `renew` apply to every renewed lineage and are
  // stored with it.
  const plugins::Plugin* auth = chosen_plugin(o);
  const plugins::Plugin* inst = chosen_installer(o);
  const std::string& i = !o.installer.empty() ? o.installer : o.configurator;
  util::Settings auth_settings, inst_settings;
  if (auth) {
    ACMED_TRY(auth_settings, plugins::settings_from_flags(*auth, o.plugin_flags));
  }
  if (inst) {
    ACMED_TRY(inst_settings, plugins::settings_from_flags(*inst, o.plugin_flags));
  }
  // `renew -a NAME` naming the lineage's own plugin, without any of its flags, keeps the stored
  // settings (a webroot_map, an nginx_ctl); a new plugin or any of its flags replaces them.
  auto own_flags = [&](const plugins::Plugin* p) {
    return p && std::any_of(o.plugin_flags.begin(), o.plugin_flags.end(), [&](const auto& flag) {
             return std::any_of(p->settings.begin(), p->settings.end(),
                                [&](const auto& s) { return s.key == flag.first; });
           });
  };
  bool auth_flags = own_flags(auth), inst_flags = own_flags(inst);
  std::optional<crypto::KeySpec> key;
  if (o.key_type_given || o.rsa_key_size_given || o.elliptic_curve_given) {
    ACMED_TRY(key, crypto::parse_key_spec(o.key_type, o.rsa_key_size, o.elliptic_curve));
  }
  return std::function<void(store::RenewalParams&)>([=, clear_installer = i == "null",
                                                     reuse = o.reuse_key, no_reuse = o.no_reuse_key,
                                                     given = o](store::RenewalParams& p) {
    if (auth && (auth_flags || p.authenticator != auth->name)) {
      record_authenticator(p, *auth, auth_settings);
    }
    if (inst && (inst_flags || p.installer != inst->name)) {
      record_installer(p, *inst, inst_settings);
    }
    if (clear_installer) p.installer.clear();
    if (reuse) p.reuse_key = true;
    if (no_reuse) p.reuse_key = false;
    if (given.allow_subset_of_names) p.allow_subset_of_names = true;
    if (!key) return;
    bool rsa_now = p.key_type_or_rsa() == "rsa";
    bool to_rsa = given.key_type_given ? key->type == crypto::KeyType::rsa : rsa_now;
    if (to_rsa) {
      p.key_type = "rsa";
      if (given.rsa_key_size_given || !rsa_now || !p.rsa_key_size) {
        p.rsa_key_size = key->rsa_bits;
      }
      p.elliptic_curve.clear();
    } else {
      p.key_type = "ecdsa";
      if (given.elliptic_curve_given || rsa_now || p.elliptic_curve.empty()) {
        p.elliptic_curve = key->curve;
      }
      p.rsa_key_size.reset();
    }
  });
}

Status reload_installers(const std::vector<store::Lineage>& renewed,
                         const plugins::Environment& env, const renew::Logger& log) {
  std::vector<std::pair<const plugins::Plugin*, util::Settings>> installers;
  for (const auto& l : renewed) {
    const plugins::Plugin* plugin = plugins::find_plugin(l.conf.params.installer);
    if (!plugin || !plugin->installer) continue;
    std::pair one(plugin, plugins::settings_from_conf(*plugin, l.conf.params.settings));
    if (std::find(installers.begin(), installers.end(), one) == installers.end()) {
      installers.push_back(std::move(one));
    }
  }
  std::string failures;
  for (const auto& [plugin, settings] : installers) {
    auto installer = plugins::build_installer(*plugin, settings, env);
    Status done = installer ? (*installer)->config_test() : Status(installer.error());
    if (done) done = (*installer)->reload();
    if (done) {
      if (log) log(renew::LogLevel::info, "reloaded " + plugin->name);
    } else {
      failures += (failures.empty() ? "" : "; ") + plugin->name + ": " + done.error().describe();
    }
  }
  if (!failures.empty()) {
    return Error(Errc::server, failures,
                 "the new certificates are stored; fix the server, reload it");
  }
  return {};
}

Result<renew::RunSummary> renew_lineages(const IssueOptions& o, const RenewSettings& rs,
                                         const RenewEnvironment& env) {
  ACMED_CHECK(check_renew_options(o));
  auto critical = store::parse_interval(rs.critical_within);
  if (!critical) {
    return Error(Errc::usage, "--critical-within: " + critical.error().message,
                 "give a duration such as \"7 days\"");
  }
  if (!env.clock || !env.plugins.runner) {
    return Error(Errc::internal, "renew_lineages needs a clock and a process runner");
  }
  std::filesystem::path metrics = rs.metrics_file.empty() ? renew::default_metrics_file(env.paths)
                                                          : std::filesystem::path(rs.metrics_file);
  if (!rs.metrics_file.empty()) {
    std::error_code ec;
    std::filesystem::path dir = metrics.parent_path().empty() ? "." : metrics.parent_path();
    if (metrics.filename().empty() || std::filesystem::is_directory(metrics, ec)) {
      return Error(Errc::usage, "--metrics-file " + rs.metrics_file + " is not a file name",
                   "name the file, e.g. /var/lib/prometheus/node-exporter/acmed.prom");
    }
    if (!std::filesystem::is_directory(dir, ec)) {
      return Error(Errc::usage, "--metrics-file: the directory " + dir.string() + " does not exist",
                   "create it, or point --metrics-file at node_exporter's textfile directory");
    }
  }
  // The whole run is one critical section: due decisions and writes belong together.
  ACMED_TRY(auto lock, store::StoreLock::acquire(env.paths));
  std::int64_t fleet_revision = 0;
  if (env.fleet) {
    ACMED_TRY(fleet_revision, prepare_fleet_renewal(*env.fleet, env, o.dry_run));
  }

  renew::RenewOptions options;
  if (!o.cert_name.empty()) options.cert_names = {o.cert_name};
  options.force = o.force_renewal ? renew::ForceRenewal::yes : renew::ForceRenewal::no;
  options.dry_run = o.dry_run ? renew::DryRun::yes : renew::DryRun::no;
  options.jobs = rs.jobs;
  if (!o.pre_hook.empty()) options.pre_hook = o.pre_hook;
  if (!o.post_hook.empty()) options.post_hook = o.post_hook;
  if (!o.deploy_hook.empty()) options.deploy_hook = o.deploy_hook;
  options.run_deploy_hooks = rs.run_deploy_hooks || o.run_deploy_hooks;
  options.directory_hooks =
      rs.no_directory_hooks ? renew::DirectoryHooks::skip : renew::DirectoryHooks::run;
  options.critical_within = *critical;
  options.failed_hook = rs.failed_hook;
  ACMED_TRY(options.edit_params, renew_param_overrides(o));

  renew::ReissueSettings settings;
  settings.paths = env.paths;
  settings.server_override = o.staging ? renew::k_le_staging : o.server;
  settings.transport = transport_options(o);
  settings.client = client_options(o, env.client);
  settings.new_key = o.new_key;
  settings.new_account.emails = o.emails;
  settings.new_account.tos =
      o.agree_tos ? acme::TosAgreement::agreed : acme::TosAgreement::not_agreed;
  if (!o.eab_kid.empty()) {
    settings.new_account.eab = acme::ExternalAccountBinding{o.eab_kid, o.eab_hmac_key};
  }

  renew::RenewContext ctx;
  ctx.paths = env.paths;
  ctx.clock = env.clock;
  ctx.processes = env.plugins.runner;
  ctx.make_ari = [transport = settings.transport, client = settings.client,
                  server = settings.server_override] {
    return renew::make_client_ari_lookup(transport, client, server);
  };
  const plugins::Environment& plugin_env = env.plugins;
  renew::AuthenticatorFactory authenticator = [&plugin_env](const store::Lineage& lineage,
                                                            const store::RenewalParams& params) {
    return lineage_authenticator(lineage, params, plugin_env);
  };
  ctx.renew = env.fleet
                  ? fleet_renew_fn(*env.fleet, fleet_revision, settings, authenticator, env.log)
                  : renew::reissue_with(settings, authenticator);
  if (env.fleet) {
    // The fleet's http-01 responses share no port or config file: those lineages need no turns.
    ctx.serial_key = [&plugin_env](const store::Lineage& lineage) {
      auto a = lineage_authenticator(lineage, lineage.conf.params, plugin_env);
      return a && fleet_answers_for(**a) ? std::string() : renew::default_serial_key(lineage);
    };
  }
  ctx.reload = [&plugin_env, log = env.log](const std::vector<store::Lineage>& renewed) {
    return reload_installers(renewed, plugin_env, log);
  };
  ctx.log = env.log;
  ACMED_TRY(renew::RunSummary summary, renew::run_renewals(options, ctx));
  if (options.dry_run == renew::DryRun::no) {
    Status written =
        rs.metrics_file.empty() ? sys::make_dirs(env.paths.work_dir / "acmed", 0700) : Status{};
    if (written) written = renew::write_metrics_file(metrics, env.paths, summary);
    if (!written) {
      summary.metrics_error = metrics.string() + ": " + written.error().describe();
    }
  }
  return summary;
}

Result<renew::RunSummary> reconfigure_lineage(const IssueOptions& o, const RenewSettings& rs,
                                              const RenewEnvironment& env) {
  if (o.cert_name.empty()) {
    return Error(Errc::usage, "reconfigure needs --cert-name NAME",
                 "`acmed certificates` lists the certificate names");
  }
  if (!o.domains.empty()) {
    return Error(Errc::usage, "reconfigure changes how a certificate renews and takes no -d",
                 "to change its names: acmed certonly --cert-name " + o.cert_name + " -d ...");
  }
  ACMED_CHECK(check_renew_options(o));
  ACMED_CHECK(store::validate_lineage_name(o.cert_name));
  if (!store::lineage_exists(env.paths, o.cert_name)) {
    return Error(Errc::not_found, "no certificate named " + o.cert_name,
                 "`acmed certificates` lists the certificate names");
  }
  renew::RenewOptions changes;
  if (!o.pre_hook.empty()) changes.pre_hook = o.pre_hook;
  if (!o.post_hook.empty()) changes.post_hook = o.post_hook;
  if (!o.deploy_hook.empty()) changes.deploy_hook = o.deploy_hook;
  ACMED_TRY(changes.edit_params, renew_param_overrides(o));
  ACMED_TRY(store::Lineage lineage, store::load_lineage(env.paths, o.cert_name));
  store::RenewalConf changed = lineage.conf;
  changed.params = renew::apply_overrides(changed.params, changes);
  if (store::render_renewal_conf(changed) == store::render_renewal_conf(lineage.conf)) {
    return Error(Errc::usage, "nothing to change in the renewal conf of " + o.cert_name,
                 "give the new settings: -a/-i/--<plugin> and their options, hooks or key options");
  }

  IssueOptions trial = o;
  trial.dry_run = true;
  trial.force_renewal = true;
  ACMED_TRY(renew::RunSummary summary, renew_lineages(trial, rs, env));
  if (!summary.ok()) return summary;
  ACMED_CHECK(store::update_renewal_conf(env.paths, o.cert_name, [&](store::RenewalConf& conf) {
    conf.params = renew::apply_overrides(conf.params, changes);
    return Status{};
  }));
  if (env.log) {
    env.log(renew::LogLevel::info,
            "the dry run passed; " + lineage.conf_path.string() + " now holds the new settings");
  }
  return summary;
}

Status summary_status(const renew::RunSummary& summary, const std::string& details) {
  if (summary.ok()) return {};
  std::size_t failed = summary.count(renew::Outcome::failed);
  if (failed > 0) {
    return Error(Errc::ca_problem,
                 std::to_string(failed) + " of " + std::to_string(summary.lineages.size()) +
                     " certificates could not be renewed",
                 "the lines above say why; details are in " + details);
  }
  if (summary.hook_failures.empty() && summary.reload_error.empty()) {
    return Error(Errc::io, "the renewal run went well, but its metrics file was not written",
                 "the line above says why; fix it or pass --metrics-file");
  }
  return Error(Errc::server, "the certificates were renewed, but a hook or the reload failed",
               "the lines above say which; details are in " + details);
}

}  // namespace acmed::app
