// `acmed renew`: the options it takes, the renewal run with the production pieces (issuance
// through renew::issue(), ARI through acme::Client, each lineage's plugins rebuilt from its
// renewal conf), the reload of the renewed lineages' web servers, and what the run's summary
// means for the exit status.
#pragma once

#include "acmed/app/issue.hpp"
#include "acmed/renew/runner.hpp"
#include "acmed/sys/clock.hpp"
#include "plugins/registry.hpp"

namespace acmed::app {

struct FleetConfig;  // app/fleet.hpp

// The options only `renew` has.
struct RenewSettings {
  int jobs = 4;
  bool run_deploy_hooks = false;
  bool no_directory_hooks = false;
  std::string critical_within = "7";  // days, or "N hours"
  std::string failed_hook;            // --failed-hook
  std::string metrics_file;           // --metrics-file; empty: renew::default_metrics_file
};

// The issuance flags `renew` accepts (--cert-name, --force-renewal, --dry-run, --server, hooks,
// account options, -a/-i/--<plugin>, key options). Errc::usage for -d and contradictions.
Status check_renew_options(const IssueOptions& options);

// What `renew`'s plugin and key options change in each lineage's params (and so store):
// -a/--<plugin> and its settings, -i (null: none), --reuse-key / --no-reuse-key, and the key
// options given. Errc::usage for settings that do not fit the plugin.
Result<std::function<void(store::RenewalParams&)>> renew_param_overrides(
    const IssueOptions& options);

// One config test + reload per installer the renewed lineages name (per plugin and settings: two
// lineages in two nginx roots reload both); the server picks up the new files behind the live/
// links. Errc::server naming every installer that failed.
Status reload_installers(const std::vector<store::Lineage>& renewed,
                         const plugins::Environment& env, const renew::Logger& log);

struct RenewEnvironment {
  store::Paths paths;
  plugins::Environment plugins;
  acme::ClientOptions client;  // logging of the ACME exchange
  renew::Logger log;
  const sys::Clock* clock = nullptr;  // required
  // `renew --store etcd`: the lineages are shared with a fleet (app/fleet.hpp); null: this
  // machine's store alone.
  const FleetConfig* fleet = nullptr;
};

// Runs the renewal of every lineage (or --cert-name) under the store lock, then (not in a dry
// run) writes the metrics file (renew/metrics.hpp). Errc::usage for bad options, a --metrics-file
// whose directory does not exist among them; per-lineage failures, and a metrics file that could
// not be written, are in the summary (see summary_status).
Result<renew::RunSummary> renew_lineages(const IssueOptions& options, const RenewSettings& settings,
                                         const RenewEnvironment& env);

// `reconfigure --cert-name NAME [plugin, hook and key options]` (certbot 2.3+): the changes are
// first proven by a dry run of the lineage's renewal (against the staging CA for Let's
// Encrypt), and written into its renewal conf only if that passed. Errc::usage without
// --cert-name or without anything to change, Errc::not_found for an unknown lineage; a failed dry
// run is in the summary (summary_status) and leaves the renewal conf as it was.
Result<renew::RunSummary> reconfigure_lineage(const IssueOptions& options,
                                              const RenewSettings& settings,
                                              const RenewEnvironment& env);

// Ok when the summary is; else Errc::ca_problem when lineages failed (how many), Errc::server
// when only a hook or the reload did. `details` says where the log is.
Status summary_status(const renew::RunSummary& summary, const std::string& details);

}  // namespace acmed::app
