// `acmed renew`: flags -> app::renew_lineages() -> the summary lines and an exit status.
#include "acmed/app/renew.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"

#include "acmed/util/json.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <optional>

namespace acmed::cli {

namespace {

struct RenewFlags : app::RenewSettings {
  bool json = false;
};

Status run_renew(const GlobalOptions& g, const IssueFlags& f, const RenewFlags& rf) {
  sys::SystemClock clock;
  app::RenewEnvironment env = renew_environment(g, clock);
  std::optional<app::FleetConfig> fleet;
  if (g.fleet.store == "etcd") {
    ACMED_TRY(fleet, fleet_config(g.fleet));
    env.fleet = &*fleet;
  }
  ACMED_TRY(renew::RunSummary summary, app::renew_lineages(f, rf, env));
  if (rf.json) {
    std::printf("%s\n", util::dump_json_lossy(renew::summary_json(summary), 2).c_str());
    return app::summary_status(summary, g.logs_dir + "/letsencrypt.log");
  }
  for (const auto& line : summary.lines()) {
    if (summary.ok()) {
      spdlog::info("{}", line);
    } else {
      spdlog::warn("{}", line);
    }
  }
  return app::summary_status(summary, g.logs_dir + "/letsencrypt.log");
}

Status run_reconfigure(const GlobalOptions& g, const IssueFlags& f, const RenewFlags& rf) {
  sys::SystemClock clock;
  const app::RenewEnvironment env = renew_environment(g, clock);
  ACMED_TRY(renew::RunSummary summary, app::reconfigure_lineage(f, rf, env));
  if (summary.ok()) return {};
  for (const auto& line : summary.lines()) spdlog::warn("{}", line);
  return Error(Errc::ca_problem,
               "the dry run with the new settings failed; the renewal conf of " + f.cert_name +
                   " is unchanged",
               "the lines above say why; details are in " + g.logs_dir + "/letsencrypt.log");
}

}  // namespace

void add_reconfigure_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags) {
  auto rf = std::make_shared<RenewFlags>();
  auto* sub = app.add_subcommand(
      "reconfigure",
      "Change how a certificate renews (--cert-name NAME with -a/-i/--<plugin> and their\n"
      "options, hooks or key options): a dry run with the new settings must pass (against\n"
      "the staging CA for Let's Encrypt) before they are written into its renewal conf.");
  sub->fallthrough();
  set_body(sub, [&globals, &flags, rf] { return run_reconfigure(globals, flags, *rf); });
}

void add_renew_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags) {
  auto rf = std::make_shared<RenewFlags>();
  auto* sub = app.add_subcommand(
      "renew",
      "Renew every certificate that is due (or those named with --cert-name): at the moment the\n"
      "CA suggests (ARI), else when a third of the lifetime is left, or at renew_before_expiry.\n"
      "Takes --cert-name, --force-renewal, --dry-run, --server, the hooks, -a/-i/--<plugin> and\n"
      "the key options from the main options (plugin and key options are stored with each\n"
      "renewed lineage). Meant for the systemd timer (acmed.timer).");
  sub->fallthrough();
  sub->add_option("--jobs", rf->jobs, "Lineages checked and renewed at the same time")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  sub->add_flag("--no-directory-hooks", rf->no_directory_hooks,
                "Do not run the hooks in <config-dir>/renewal-hooks/");
  sub->add_option("--critical-within", rf->critical_within,
                  "A failing certificate with less than this left is reported as critical "
                  "(days, or \"N hours\")")
      ->capture_default_str();
  sub->add_option("--failed-hook", rf->failed_hook,
                  "Command run (by /bin/sh) once after a run in which a certificate failed to\n"
                  "renew or went stale, with FAILED_LINEAGES, FAILED_DOMAINS and ACMED_FAILURES\n"
                  "(JSON) in its environment; renewal-hooks/failed/ runs too");
  sub->add_flag("--json", rf->json,
                "Print the run's summary as JSON (schema in the user guide) instead of text");
  sub->add_option("--metrics-file", rf->metrics_file,
                  "Where to write the Prometheus textfile-collector metrics after each run\n"
                  "(default: <work-dir>/acmed/acmed.prom)");
  set_body(sub, [&globals, &flags, rf] { return run_renew(globals, flags, *rf); });
}

}  // namespace acmed::cli
