// `acmed certonly` and the obtain half of `acmed run`: flags -> renew::IssueRequest -> issue().
#include "acmed/app/plugins.hpp"
#include "acmed/crypto/x509.hpp"
#include "acmed/renew/policy.hpp"
#include "acmed/store/account.hpp"
#include "acmed/store/lineage.hpp"
#include "acmed/sys/lock.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"
#include "cli/logging.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <set>
#include <vector>

namespace acmed::cli {

namespace {

std::set<std::string> names_of(const std::vector<util::Identifier>& ids) {
  std::set<std::string> out;
  for (const auto& id : ids) out.insert(id.value);
  return out;
}

// The lineage a request refers to: --cert-name, or one whose names are exactly the requested
// ones (or, with --expand, a subset of them). Empty when a new lineage is needed.
Result<std::string> matching_lineage(const store::Paths& paths, const IssueFlags& f,
                                     const std::vector<util::Identifier>& ids) {
  if (!f.cert_name.empty()) {
    ACMED_CHECK(store::validate_lineage_name(f.cert_name));
    return store::lineage_exists(paths, f.cert_name) ? f.cert_name : std::string();
  }
  auto wanted = names_of(ids);
  ACMED_TRY(auto entries, store::list_lineages(paths));
  for (auto& entry : entries) {
    if (!entry.lineage) continue;
    std::set<std::string> have(entry.lineage->names.begin(), entry.lineage->names.end());
    bool subset = std::includes(wanted.begin(), wanted.end(), have.begin(), have.end());
    if (have == wanted || (f.expand && subset)) return entry.name;
  }
  return std::string();
}

// The lineage's own renewal rule without asking the CA (certbot's certonly does the same):
// renew_before_expiry when set, else a third (or half) of the lifetime.
bool lifetime_due(const store::Lineage& lineage, sys::TimePoint now) {
  std::optional<std::chrono::seconds> before;
  if (!lineage.conf.renew_before_expiry.empty()) {
    if (auto parsed = store::parse_interval(lineage.conf.renew_before_expiry)) before = *parsed;
  }
  return now >= renew::lifetime_due_time(lineage.cert, before);
}

// A request for an existing lineage (--cert-name) with other names renews it now (as certbot
// does). Adding names is safe; dropping one could take HTTPS away from a site that still serves
// it, so that needs --renew-with-new-domains (certbot would only ask on a terminal).
Status check_dropped_names(const std::string& lineage, const std::set<std::string>& have,
                           const std::set<std::string>& wanted, bool allowed) {
  std::vector<std::string> dropped;
  std::set_difference(have.begin(), have.end(), wanted.begin(), wanted.end(),
                      std::back_inserter(dropped));
  if (dropped.empty()) return {};
  std::string list;
  for (const auto& name : dropped) list += (list.empty() ? "" : ", ") + name;
  if (allowed) {
    spdlog::warn("Replacing certificate {}: its new certificate no longer covers {}.", lineage, list);
    return {};
  }
  return Error(Errc::usage,
               "certificate " + lineage + " covers " + list + ", which this request leaves out",
               "pass --renew-with-new-domains to replace it anyway (sites still serving those names "
               "would lose their certificate), or add the names to -d");
}

Status check_challenge_fit(const std::vector<util::Identifier>& ids) {
  for (const auto& id : ids) {
    if (id.is_wildcard()) {
      return Error(Errc::usage,
                   "the wildcard name " + id.value + " can only be proven with the dns-01 challenge, "
                   "which the chosen authenticator cannot answer",
                   "request the names without the wildcard, or use a DNS-capable client for it");
    }
  }
  return {};
}

}  // namespace

Result<renew::IssueRequest> build_issue_request(const GlobalOptions& globals, const IssueFlags& f,
                                                const std::string& authenticator_name) {
  renew::IssueRequest req;
  req.paths = store_paths(globals);
  req.server = chosen_server(f);
  req.transport = transport_options(f);
  req.client.log = acme_log();
  req.client.issuance_timeout = std::chrono::seconds(f.issuance_timeout);
  ACMED_TRY(req.identifiers, parsed_identifiers(f));
  ACMED_CHECK(check_challenge_fit(req.identifiers));
  ACMED_TRY(req.key, crypto::parse_key_spec(f.key_type, f.rsa_key_size, f.elliptic_curve));
  req.reuse_key = f.reuse_key;
  req.preferred_chain = f.preferred_chain;
  req.preferred_profile = f.preferred_profile;
  req.required_profile = f.required_profile;
  req.account.emails = f.emails;
  req.account.tos = f.agree_tos ? acme::TosAgreement::agreed : acme::TosAgreement::not_agreed;
  if (!f.eab_kid.empty()) req.account.eab = acme::ExternalAccountBinding{f.eab_kid, f.eab_hmac_key};

  auto& p = req.params;
  p.authenticator = authenticator_name;
  if (const plugins::Plugin* plugin = chosen_plugin(f)) {
    ACMED_TRY(auto settings, plugin_settings(*plugin, f));
    app::record_authenticator(p, *plugin, settings);
  }
  p.pre_hook = f.pre_hook;
  p.post_hook = f.post_hook;
  p.deploy_hook = f.deploy_hook;
  return req;
}

Result<std::optional<renew::IssueOutcome>> obtain_for_flags(const GlobalOptions& globals,
                                                            IssueFlags& f,
                                                            challenge::Authenticator& auth,
                                                            std::string& lineage_name) {
  ACMED_TRY(auto req, build_issue_request(globals, f, auth.name()));
  if (req.account.emails.empty() && !f.no_email) {
    ACMED_TRY(auto stored, renew::stored_account(req.paths, req.server, ""));
    if (!stored) {
      return Error(Errc::usage, "no contact e-mail for the new account",
                   "pass -m you@example.com, or --register-unsafely-without-email");
    }
  }
  ACMED_TRY(auto lock, sys::DirLock::acquire(globals.config_dir));
  ACMED_TRY(lineage_name, matching_lineage(req.paths, f, req.identifiers));

  std::optional<store::Lineage> existing;
  bool same_names = true;
  if (!lineage_name.empty()) {
    ACMED_TRY(existing, store::load_lineage(req.paths, lineage_name));
    std::set<std::string> wanted = names_of(req.identifiers);
    std::set<std::string> have(existing->names.begin(), existing->names.end());
    same_names = wanted == have;
    // Checked in a dry run too: the rehearsal must fail where the real run would.
    ACMED_CHECK(check_dropped_names(lineage_name, have, wanted, f.renew_with_new_domains));
  }
  if (f.dry_run) {
    req.target = renew::Target::dry_run;
  } else if (existing) {
    if (same_names && !f.force_renewal && !lifetime_due(*existing, std::chrono::system_clock::now())) {
      spdlog::info("Certificate not yet due for renewal; keeping {} (expires {}).", lineage_name,
                   sys::format_rfc3339(existing->cert.not_after));
      return std::optional<renew::IssueOutcome>();
    }
    if (!same_names) spdlog::info("Updating certificate {} to the requested names.", lineage_name);
    req.target = renew::Target::existing_lineage;
    req.cert_name = lineage_name;
  } else {
    req.cert_name = f.cert_name;
  }

  std::string names;
  for (const auto& id : req.identifiers) names += (names.empty() ? "" : ", ") + id.value;
  spdlog::info("{} a certificate for {} from {}", f.dry_run ? "Simulating" : "Requesting", names, req.server);
  ACMED_TRY(auto outcome, renew::issue(req, auth));
  spdlog::debug("{} HTTP requests sent to the CA", outcome.requests);
  if (!outcome.lineage.empty()) lineage_name = outcome.lineage;
  return std::optional<renew::IssueOutcome>(std::move(outcome));
}

Status run_certonly(const GlobalOptions& globals, IssueFlags& f) {
  ACMED_CHECK(check_flag_conflicts(f));
  ACMED_TRY(auto auth, make_authenticator(f, globals));
  std::string lineage;
  ACMED_TRY(auto outcome, obtain_for_flags(globals, f, *auth, lineage));
  if (!outcome) return {};
  auto paths = store_paths(globals);
  if (f.dry_run) {
    spdlog::info("The dry run was successful: the CA issued a test certificate (not saved).");
    return {};
  }
  spdlog::info("Successfully received certificate.");
  spdlog::info("Certificate is saved at: {}", (paths.live_dir(lineage) / "fullchain.pem").string());
  spdlog::info("Key is saved at:         {}", (paths.live_dir(lineage) / "privkey.pem").string());
  spdlog::info("This certificate expires on {}.", sys::format_rfc3339(outcome->info.not_after));
  return {};
}

}  // namespace acmed::cli
