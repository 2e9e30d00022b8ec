// `acmed renew`: flags -> renew::RenewOptions -> renew::run_renewals(), with the production
// pieces plugged in: issuance through renew::issue(), ARI through acme::Client, authenticators
// and installers rebuilt from each lineage's renewal conf, hooks through /bin/sh.
#include "acmed/app/plugins.hpp"
#include "acmed/renew/reissue.hpp"
#include "acmed/renew/runner.hpp"
#include "acmed/sys/lock.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"
#include "cli/logging.hpp"
#include "plugins/registry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

namespace acmed::cli {

namespace {

struct RenewFlags {
  int jobs = 4;
  bool run_deploy_hooks = false;
  bool no_directory_hooks = false;
  bool no_random_sleep = false;  // accepted for certbot's cron lines; acmed never sleeps
  std::string critical_days = "7";
};

// One config test + reload per installer (per plugin and settings: two lineages in two nginx
// roots reload both) for all renewed lineages; the web server picks up the new files behind the
// live/ links, nothing needs redeploying.
Status reload_installers(const std::vector<store::Lineage>& renewed, const GlobalOptions& g) {
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
    const std::string& kind = plugin->name;
    auto installer = plugins::build_installer(*plugin, settings, plugin_environment(g));
    Status done = installer ? (*installer)->config_test() : Status(installer.error());
    if (done) done = (*installer)->reload();
    if (done) {
      spdlog::info("reloaded {}", kind);
    } else {
      failures += (failures.empty() ? "" : "; ") + kind + ": " + done.error().describe();
    }
  }
  if (!failures.empty()) {
    return Error(Errc::server, failures, "the new certificates are stored; fix the server, reload it");
  }
  return {};
}

void log_line(renew::LogLevel level, std::string_view text) {
  switch (level) {
    case renew::LogLevel::debug: spdlog::debug("{}", text); break;
    case renew::LogLevel::info: spdlog::info("{}", text); break;
    case renew::LogLevel::warning: spdlog::warn("{}", text); break;
    case renew::LogLevel::error: spdlog::error("{}", text); break;
  }
}

Status check_renew_flags(const IssueFlags& f) {
  if (!f.domains.empty()) {
    return Error(Errc::usage, "`renew` renews existing lineages and takes no -d",
                 "pick one with --cert-name NAME, or use `acmed certonly -d ...` for new names");
  }
  if (chosen_plugin(f)) {
    return Error(Errc::usage,
                 "`renew` uses each lineage's stored authenticator; it cannot be changed here",
                 "run `acmed certonly --cert-name NAME --force-renewal` with the new authenticator");
  }
  if (f.staging && !f.server.empty()) {
    return Error(Errc::usage, "--staging and --server contradict each other", "use only one");
  }
  return {};
}

Status run_renew(const GlobalOptions& g, const IssueFlags& f, const RenewFlags& rf) {
  ACMED_CHECK(check_renew_flags(f));
  auto critical = store::parse_interval(rf.critical_days);
  if (!critical) {
    return Error(Errc::usage, "--critical-within: " + critical.error().message,
                 "give a duration such as \"7 days\"");
  }
  store::Paths paths = store_paths(g);
  ACMED_TRY(auto lock, sys::DirLock::acquire(g.config_dir));

  renew::RenewOptions options;
  if (!f.cert_name.empty()) options.cert_names = {f.cert_name};
  options.force = f.force_renewal ? renew::ForceRenewal::yes : renew::ForceRenewal::no;
  options.dry_run = f.dry_run ? renew::DryRun::yes : renew::DryRun::no;
  options.jobs = rf.jobs;
  if (!f.pre_hook.empty()) options.pre_hook = f.pre_hook;
  if (!f.post_hook.empty()) options.post_hook = f.post_hook;
  if (!f.deploy_hook.empty()) options.deploy_hook = f.deploy_hook;
  options.run_deploy_hooks = rf.run_deploy_hooks;
  options.directory_hooks =
      rf.no_directory_hooks ? renew::DirectoryHooks::skip : renew::DirectoryHooks::run;
  options.critical_within = *critical;

  renew::ReissueSettings settings;
  settings.paths = paths;
  settings.server_override = f.staging ? renew::k_le_staging : f.server;
  settings.transport = transport_options(f);
  settings.client.log = acme_log();
  settings.client.issuance_timeout = std::chrono::seconds(f.issuance_timeout);
  settings.new_account.emails = f.emails;
  settings.new_account.tos = f.agree_tos ? acme::TosAgreement::agreed : acme::TosAgreement::not_agreed;
  if (!f.eab_kid.empty()) {
    settings.new_account.eab = acme::ExternalAccountBinding{f.eab_kid, f.eab_hmac_key};
  }

  sys::SystemClock clock;
  renew::RenewContext ctx;
  ctx.paths = paths;
  ctx.clock = &clock;
  ctx.processes = &process_runner();
  ctx.make_ari = [transport = settings.transport, client = settings.client,
                  server = settings.server_override] {
    return renew::make_client_ari_lookup(transport, client, server);
  };
  ctx.renew = renew::reissue_with(
      settings, [&g](const store::Lineage& lineage, const store::RenewalParams& params) {
        return app::lineage_authenticator(lineage, params, plugin_environment(g));
      });
  ctx.reload = [&g](const std::vector<store::Lineage>& renewed) {
    return reload_installers(renewed, g);
  };
  ctx.log = log_line;

  ACMED_TRY(renew::RunSummary summary, renew::run_renewals(options, ctx));
  for (const auto& line : summary.lines()) {
    if (summary.ok()) {
      spdlog::info("{}", line);
    } else {
      spdlog::warn("{}", line);
    }
  }
  if (summary.ok()) return {};
  std::size_t failed = summary.count(renew::Outcome::failed);
  if (failed > 0) {
    return Error(Errc::ca_problem,
                 std::to_string(failed) + " of " + std::to_string(summary.lineages.size()) +
                     " certificates could not be renewed",
                 "the lines above say why; details are in " + g.logs_dir + "/acmed.log");
  }
  return Error(Errc::server, "the certificates were renewed, but a hook or the reload failed",
               "the lines above say which; details are in " + g.logs_dir + "/acmed.log");
}

}  // namespace

void add_renew_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags) {
  auto rf = std::make_shared<RenewFlags>();
  auto* sub = app.add_subcommand(
      "renew",
      "Renew every certificate that is due (or those named with --cert-name): at the moment the\n"
      "CA suggests (ARI), else when a third of the lifetime is left, or at renew_before_expiry.\n"
      "Takes --cert-name, --force-renewal, --dry-run, --server, --pre-hook, --post-hook and\n"
      "--deploy-hook from the main options. Meant for the systemd timer (acmed.timer).");
  sub->fallthrough();
  sub->add_option("--jobs", rf->jobs, "Lineages checked and renewed at the same time")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  sub->add_flag("--run-deploy-hooks", rf->run_deploy_hooks,
                "Run deploy hooks in a --dry-run too");
  sub->add_flag("--no-directory-hooks", rf->no_directory_hooks,
                "Do not run the hooks in <config-dir>/renewal-hooks/");
  sub->add_flag("--no-random-sleep-on-renew", rf->no_random_sleep,
                "Accepted for certbot compatibility: acmed never sleeps; acmed.timer spreads the load");
  sub->add_option("--critical-within", rf->critical_days,
                  "A failing certificate with less than this left is reported as critical "
                  "(days, or \"N hours\")")
      ->capture_default_str();
  set_body(sub, [&globals, &flags, rf] { return run_renew(globals, flags, *rf); });
}

}  // namespace acmed::cli
