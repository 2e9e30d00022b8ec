// The flags that choose what to issue and how (certbot's names), shared by `run` (no
// subcommand), `certonly` and, for the ones certbot allows there, `renew`.
#pragma once

#include "acmed/challenge/authenticator.hpp"
#include "acmed/renew/issue.hpp"
#include "acmed/sys/process.hpp"
#include "cli/context.hpp"
#include "plugins/registry.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acmed::cli {


struct IssueFlags {
  std::vector<std::string> domains;  // as given; comma lists split
  std::string cert_name;
  std::map<std::string, bool> use_plugin;  // --<plugin name> (--webroot, --nginx, ...)
  std::string server;
  bool staging = false;
  std::string ca_bundle;
  int issuance_timeout = 90;  // seconds (certbot's default)
  std::vector<std::string> emails;
  bool agree_tos = false;
  bool no_email = false;  // --register-unsafely-without-email
  std::string eab_kid;
  std::string eab_hmac_key;
  std::string key_type = "ecdsa";
  int rsa_key_size = 2048;
  std::string elliptic_curve = "secp256r1";
  bool reuse_key = false;
  std::string preferred_chain;
  std::string preferred_profile;
  std::string required_profile;
  bool dry_run = false;
  bool local = false;  // --local: sign with the local development CA instead of an ACME CA
  bool force_renewal = false;
  bool expand = false;
  bool renew_with_new_domains = false;
  std::string pre_hook, post_hook, deploy_hook;

  // Installers (certbot's names).
  bool redirect = false;
  bool no_redirect = false;
  bool hsts = false;
  bool uir = false;

  // Plugin settings (--nginx-ctl, -w, ...) and -d names in command-line order, by renewal-conf key.
  plugins::GivenFlags plugin_flags;
  // The options that carry plugin settings, with their renewal-conf key (for collect_flag_order).
  std::vector<std::pair<const CLI::Option*, std::string>> setting_options;
};

// Adds the issuance flags to `app`: the core ones and, from the plugin registry, --<name> for
// every plugin and a flag for every plugin setting.
void add_issue_flags(CLI::App& app, IssueFlags& flags);

// Fills domains, emails and plugin_flags from the parse order of `app`; call once parsing is done.
void collect_flag_order(CLI::App& app, IssueFlags& flags);

// The plugin chosen with --<name> (the first, if several: check_flag_conflicts refuses that);
// nullptr when none is.
const plugins::Plugin* chosen_plugin(const IssueFlags& flags);

// The chosen plugin's settings from the flags (plugins::settings_from_flags).
Result<util::Settings> plugin_settings(const plugins::Plugin& plugin, const IssueFlags& flags);

// What plugins are built with: --config-dir, --work-dir and the process runner.
plugins::Environment plugin_environment(const GlobalOptions& globals);

// The directory URL the flags choose: --server, else staging for --staging/--dry-run, else
// Let's Encrypt production.
std::string chosen_server(const IssueFlags& flags);

// Transport settings from --ca-bundle / $ACMED_CA_BUNDLE.
acme::TransportOptions transport_options(const IssueFlags& flags);

// Validated identifiers from -d. Errc::usage when none; Errc::invalid_input naming a bad one.
Result<std::vector<util::Identifier>> parsed_identifiers(const IssueFlags& flags);

// Checks flags that contradict each other. Errc::usage with the reason.
Status check_flag_conflicts(const IssueFlags& flags);

// The authenticator the flags choose, built through the plugin registry.
Result<std::unique_ptr<challenge::Authenticator>> make_authenticator(const IssueFlags& flags,
                                                                     const GlobalOptions& globals);

// The process runner used for web-server programs; lives for the whole process.
sys::ProcessRunner& process_runner();

// Store paths from the global options.
store::Paths store_paths(const GlobalOptions& globals);

// The issuance request the flags describe (target and cert_name are decided later).
Result<renew::IssueRequest> build_issue_request(const GlobalOptions& globals, const IssueFlags& flags,
                                                const std::string& authenticator_name);

// Takes the config-dir lock, decides which lineage the flags mean, and obtains a certificate
// through `auth` unless the matching lineage is not due (then nullopt). `lineage_name` receives
// the lineage concerned either way (empty for a dry run of a new lineage).
Result<std::optional<renew::IssueOutcome>> obtain_for_flags(const GlobalOptions& globals,
                                                            IssueFlags& flags,
                                                            challenge::Authenticator& auth,
                                                            std::string& lineage_name);

// Runs `certonly` (or `run` without the install step).
Status run_certonly(const GlobalOptions& globals, IssueFlags& flags);

}  // namespace acmed::cli
