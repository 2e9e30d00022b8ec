// The flags that choose what to issue and how (certbot's names), shared by `run` (no
// subcommand), `certonly` and, for the ones certbot allows there, `renew`. They fill an
// app::IssueOptions; everything decided from them is decided in src/app.
#pragma once

#include "acmed/app/fleet.hpp"
#include "acmed/app/issue.hpp"
#include "acmed/app/renew.hpp"
#include "acmed/sys/process.hpp"
#include "cli/context.hpp"
#include "plugins/registry.hpp"

#include <string>
#include <utility>
#include <vector>

namespace acmed::cli {

struct IssueFlags : app::IssueOptions {
  // The options that carry plugin settings, with their renewal-conf key (for collect_flag_order).
  std::vector<std::pair<const CLI::Option*, std::string>> setting_options;
  std::vector<std::string> ip_addresses;  // --ip-address: folded into domains in flag order
  // Accepted for certbot's command lines; they change nothing in acmed.
  bool keep = false;             // --keep-until-expiring: keeping is the default
  bool eff_email = false;        // --eff-email / --no-eff-email
  bool no_random_sleep = false;  // --no-random-sleep-on-renew: acmed never sleeps
};

// Adds the issuance flags to `app`: the core ones and, from the plugin registry, --<name> for
// every plugin and a flag for every plugin setting.
void add_issue_flags(CLI::App& app, IssueFlags& flags);

// Fills domains, emails and plugin_flags from the parse order of `app`; call once parsing is done.
void collect_flag_order(CLI::App& app, IssueFlags& flags);

// The process runner used for web-server programs and hooks; lives for the whole process.
sys::ProcessRunner& process_runner();

// Store paths from the global options.
store::Paths store_paths(const GlobalOptions& globals);

// What plugins are built with: --config-dir, --work-dir and the process runner.
plugins::Environment plugin_environment(const GlobalOptions& globals);

// Sends a library log line (renew::Logger) to spdlog.
void log_line(renew::LogLevel level, std::string_view text);

// What `renew` and `migrate` renew with: the store and plugins of the global options, logging
// to spdlog, and `clock` (which must outlive the result).
app::RenewEnvironment renew_environment(const GlobalOptions& globals, const sys::Clock& clock);

// The fleet options as app::FleetConfig (src/cli/cmd_fleet.cpp): the node name defaults to the
// host name. Errc::usage for a node name with a '/'.
Result<app::FleetConfig> fleet_config(const FleetOptions& options);

// Runs `certonly`.
Status run_certonly(const GlobalOptions& globals, IssueFlags& flags);

}  // namespace acmed::cli
