// Obtaining a certificate the way `certonly` and `run` do: the options the issuance flags carry,
// the IssueRequest they map to, which existing lineage a request means, the rule for names a
// request drops, and when an existing lineage is due. The CLI fills IssueOptions from its flags
// and prints what comes back; every decision is made here.
#pragma once

#include "acmed/renew/issue.hpp"
#include "acmed/renew/runner.hpp"
#include "acmed/store/lineage.hpp"
#include "plugins/registry.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::app {

// What the issuance flags ask for (certbot's names), as plain data.
struct IssueOptions {
  std::vector<std::string> domains;  // as given; comma lists split
  std::string cert_name;
  std::map<std::string, bool> use_plugin;  // --<plugin name> (--webroot, --nginx, ...)
  std::string authenticator;               // -a/--authenticator NAME
  std::string installer;                   // -i/--installer NAME ("null": none)
  std::string configurator;                // --configurator NAME: -a NAME -i NAME
  // Plugin settings (--nginx-ctl, -w, ...) and -d names in command-line order.
  plugins::GivenFlags plugin_flags;
  std::string server;
  bool staging = false;
  std::string ca_bundle;
  int issuance_timeout = 90;  // seconds one issuance may take (certbot's default)
  std::vector<std::string> emails;
  bool agree_tos = false;
  bool no_email = false;  // --register-unsafely-without-email
  std::string account;    // --account ID: the stored account to use (default: the server's first)
  std::string eab_kid;
  std::string eab_hmac_key;
  std::string key_type = "ecdsa";
  int rsa_key_size = 2048;
  std::string elliptic_curve = "secp256r1";
  bool reuse_key = false;
  bool no_reuse_key = false;  // --no-reuse-key: a new key on renewal, and stored so
  bool new_key = false;       // --new-key: a new key this time, whatever reuse_key says
  // Whether --key-type / --rsa-key-size / --elliptic-curve were given (the values above then
  // override an existing lineage's key; else it keeps its own).
  bool key_type_given = false, rsa_key_size_given = false, elliptic_curve_given = false;
  bool must_staple = false;    // refused: OCSP is gone
  bool staple_ocsp = false;    // refused: OCSP is gone
  bool no_verify_ssl = false;  // only for a loopback --server
  std::string user_agent;      // --user-agent; empty: acmed's own
  std::string preferred_chain;
  std::string preferred_profile;
  std::string required_profile;
  std::vector<std::string> preferred_challenges;  // --preferred-challenges; comma lists split
  bool dry_run = false;
  bool local = false;  // --local: sign with the local development CA instead of an ACME CA
  bool force_renewal = false;
  bool expand = false;
  bool duplicate = false;  // --duplicate: a new lineage even when one has the same names
  bool renew_with_new_domains = false;
  bool allow_subset_of_names = false;  // stored as allow_subset_of_names = True
  std::string pre_hook, post_hook, deploy_hook;
  bool run_deploy_hooks = false;  // --run-deploy-hooks: deploy hooks also in a --dry-run
  // certonly --csr FILE: issue for the user's CSR and write the files below (certbot's meaning;
  // empty paths: ./NNNN_cert.pem, ./NNNN_chain.pem, ./NNNN_fullchain.pem, first free NNNN).
  // install: the files to deploy instead of (or, with --cert-name, in place of some of) a
  // lineage's own; key_path is install's only.
  std::string csr_path, cert_path, chain_path, fullchain_path, key_path;
  bool redirect = false;
  bool no_redirect = false;
  bool hsts = false;
  bool uir = false;
};

// Log lines for the user (the CLI sends them to spdlog).
using Log = std::function<void(renew::LogLevel, std::string_view)>;

// The directory URL: --server, else staging for --staging/--dry-run, else Let's Encrypt production.
std::string chosen_server(const IssueOptions& options);

// Transport settings from --ca-bundle / $ACMED_CA_BUNDLE.
acme::TransportOptions transport_options(const IssueOptions& options);

// `base` (logging) with the options' --issuance-timeout.
acme::ClientOptions client_options(const IssueOptions& options, acme::ClientOptions base);

// Validated identifiers from -d, without repeats. Errc::usage when none; Errc::invalid_input
// naming a bad one.
Result<std::vector<util::Identifier>> parsed_identifiers(const IssueOptions& options);

// Flags that contradict each other. Errc::usage with the reason.
Status check_flag_conflicts(const IssueOptions& options);

// The authenticator plugin chosen with -a, --configurator or --<name>; nullptr when none is
// (check_flag_conflicts refuses several and unknown names).
const plugins::Plugin* chosen_plugin(const IssueOptions& options);

// The installer plugin chosen with -i, --configurator or --<name> (when that plugin is an
// installer); nullptr when none is or with `-i null`.
const plugins::Plugin* chosen_installer(const IssueOptions& options);

// certbot's key rules for a request on an existing lineage whose key is `existing`: the lineage
// keeps its key type and size unless a key option is given; a change of key type without
// --cert-name is refused (Errc::usage, certbot's explanation), and so is --reuse-key with another
// type or size (without --new-key). Returns the key spec to use.
Result<crypto::KeySpec> key_for_existing(const IssueOptions& options,
                                         const crypto::KeySpec& requested,
                                         const crypto::KeySpec& existing,
                                         const std::string& lineage);

// True for an https/http URL whose host is a loopback address (127.0.0.0/8, ::1, localhost).
bool loopback_url(std::string_view url);

// The chosen plugin's authenticator / installer, built from the flags through the registry.
// Errc::usage when none (or one that cannot do it) was chosen.
Result<std::unique_ptr<challenge::Authenticator>> make_authenticator(
    const IssueOptions& options, const plugins::Environment& env);
Result<std::unique_ptr<install::Installer>> make_installer(const IssueOptions& options,
                                                           const plugins::Environment& env);

// The IssueRequest the options describe, with the chosen plugin recorded as authenticator (target
// and cert_name are decided by obtain()). Errc::usage / invalid_input for bad flags.
Result<renew::IssueRequest> issue_request(const IssueOptions& options, const store::Paths& paths,
                                          const acme::ClientOptions& client);

// The lineage a request means: --cert-name if it exists, else one whose names are exactly the
// requested ones (with --expand: a subset of them). Empty when a new lineage is needed, and always
// with --duplicate (Errc::conflict when --cert-name then names an existing lineage).
// Errc::invalid_input for a bad --cert-name; Errc::usage when, without --expand, a lineage covers
// a subset of the names (certbot's non-interactive answer: --expand or --duplicate).
Result<std::string> matching_lineage(const store::Paths& paths, const IssueOptions& options,
                                     const std::vector<util::Identifier>& ids);

// The names of `have` that `wanted` leaves out. Dropping a name could take HTTPS away from a site
// that still serves it, so it needs --renew-with-new-domains (`allowed`): without it Errc::usage
// naming the names; with it, the list (for a warning).
Result<std::vector<std::string>> dropped_names(const std::string& lineage,
                                               const std::set<std::string>& have,
                                               const std::set<std::string>& wanted, bool allowed);

// The lineage's own renewal rule without asking the CA (certbot's certonly does the same):
// renew_before_expiry when set, else a third (or half) of the lifetime.
bool lifetime_due(const store::Lineage& lineage, sys::TimePoint now);

struct ObtainContext {
  store::Paths paths;
  acme::ClientOptions client;  // logging of the ACME exchange
  Log log;
  sys::TimePoint now;                       // for lifetime_due
  sys::ProcessRunner* processes = nullptr;  // runs the hooks; null: hooks are not run
};

struct Obtained {
  std::string lineage;  // the lineage concerned (empty for a dry run of a new lineage)
  std::optional<renew::IssueOutcome> outcome;     // nullopt: the matching lineage is not due
  std::vector<renew::HookFailure> hook_failures;  // hooks that failed (the outcome stands)
  std::string cert_path, chain_path, fullchain_path;  // --csr: the files written
};

// certonly/run: holds the store lock, decides which lineage the options mean (dropped-names rule
// checked in a dry run too), and obtains a certificate through `auth` unless that lineage is not
// due. Nothing is asked of the CA for a lineage that is not due. Around an issuance it runs the
// command-line hooks as certbot does: --pre-hook before; --deploy-hook after a success, with
// RENEWED_LINEAGE and RENEWED_DOMAINS (in a dry run only with --run-deploy-hooks); --post-hook
// last, also after a failure, with RENEWED_DOMAINS / FAILED_DOMAINS. A failing hook is in
// Obtained::hook_failures (see hook_status) and never undoes the issuance.
Result<Obtained> obtain(const IssueOptions& options, const ObtainContext& ctx,
                        challenge::Authenticator& auth);

// certonly --csr (obtain() hands over to it), as certbot: the CSR's names are the order's (each
// -d, if given, must be one of them: Errc::usage), no key is generated, no lineage is touched and
// no hook runs; cert, chain and fullchain are written as new files (never over an existing one;
// all three or none), or nothing in a dry run. A bad CSR is Errc::invalid_input naming the file;
// the CSR and the output paths are checked before the CA is asked.
Result<Obtained> obtain_for_csr(const IssueOptions& options, const ObtainContext& ctx,
                                challenge::Authenticator& auth);

// certbot's default --csr output path: `dir`/NNNN_`base` with the first NNNN (0000..9999) free.
Result<std::filesystem::path> first_free_path(const std::filesystem::path& dir,
                                              std::string_view base);

// Ok without hook failures; else Errc::server naming the hooks that failed.
Status hook_status(const std::vector<renew::HookFailure>& failures);

}  // namespace acmed::app
