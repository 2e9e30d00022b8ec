// The flags that choose what to issue and how (certbot's names), shared by `run` (no
// subcommand), `certonly` and, for the ones certbot allows there, `renew`.
#pragma once

#include "acmed/challenge/authenticator.hpp"
#include "acmed/renew/issue.hpp"
#include "acmed/sys/process.hpp"
#include "cli/context.hpp"
#include "plugins/apache/apache.hpp"
#include "plugins/nginx/nginx.hpp"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acmed::cli {


struct IssueFlags {
  std::vector<std::string> domains;  // as given; comma lists split
  std::string cert_name;
  bool webroot = false;
  bool standalone = false;
  bool nginx = false;
  bool apache = false;
  std::string server;
  bool staging = false;
  std::string ca_bundle;
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
  int http01_port = 80;
  std::string http01_address;
  bool dry_run = false;
  bool local = false;  // --local: sign with the local development CA instead of an ACME CA
  bool force_renewal = false;
  bool expand = false;
  bool renew_with_new_domains = false;
  std::string pre_hook, post_hook, deploy_hook;

  // Installers (certbot's names).
  std::string nginx_server_root = "/etc/nginx";
  std::string nginx_ctl = "nginx";
  std::string apache_server_root = "/etc/apache2";
  std::string apache_vhost_root;
  std::string apache_ctl = "apache2ctl";
  std::string apache_enmod;
  std::string apache_ensite;
  bool redirect = false;
  bool no_redirect = false;
  bool hsts = false;
  bool uir = false;

  // (flag, value) for -w and -d in command-line order, for the webroot map.
  std::vector<std::pair<std::string, std::string>> ordered_webroot_args;
};

// Adds the issuance flags to `app` and records -w/-d order into flags.ordered_webroot_args.
void add_issue_flags(CLI::App& app, IssueFlags& flags);

// Fills ordered_webroot_args from the parse order of `app`; call once parsing is done.
void collect_webroot_order(CLI::App& app, IssueFlags& flags);

// The directory URL the flags choose: --server, else staging for --staging/--dry-run, else
// Let's Encrypt production.
std::string chosen_server(const IssueFlags& flags);

// Transport settings from --ca-bundle / $ACMED_CA_BUNDLE.
acme::TransportOptions transport_options(const IssueFlags& flags);

// Validated identifiers from -d. Errc::usage when none; Errc::invalid_input naming a bad one.
Result<std::vector<util::Identifier>> parsed_identifiers(const IssueFlags& flags);

// Checks flags that contradict each other. Errc::usage with the reason.
Status check_flag_conflicts(const IssueFlags& flags);

// The authenticator the flags choose (webroot, standalone; nginx/apache through their plugins).
Result<std::unique_ptr<challenge::Authenticator>> make_authenticator(const IssueFlags& flags,
                                                                     const GlobalOptions& globals);

// Plugin options from the flags.
plugins::nginx::Options nginx_options(const IssueFlags& flags, const GlobalOptions& globals);
plugins::apache::Options apache_options(const IssueFlags& flags, const GlobalOptions& globals);

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
