#include "acmed/app/issue.hpp"

#include "acmed/app/plugins.hpp"
#include "acmed/renew/hooks.hpp"
#include "acmed/renew/policy.hpp"
#include "acmed/renew/reissue.hpp"
#include "acmed/store/lock.hpp"
#include "acmed/util/domain.hpp"

#include "acmed/sys/fs.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>

namespace acmed::app {

namespace {

std::set<std::string> names_of(const std::vector<util::Identifier>& ids) {
  std::set<std::string> out;
  for (const auto& id : ids) out.insert(id.value);
  return out;
}

Result<util::Settings> plugin_settings(const plugins::Plugin& plugin, const IssueOptions& o) {
  return plugins::settings_from_flags(plugin, o.plugin_flags);
}

}  // namespace

std::string chosen_server(const IssueOptions& o) {
  if (!o.server.empty()) return o.server;
  if (o.staging || o.dry_run) return renew::k_le_staging;
  return renew::k_le_production;
}

acme::TransportOptions transport_options(const IssueOptions& o) {
  acme::TransportOptions t;
  t.ca_bundle = o.ca_bundle;
  if (!o.user_agent.empty()) t.user_agent = o.user_agent;
  t.verify_peer = !(o.no_verify_ssl && loopback_url(o.server));
  if (t.ca_bundle.empty()) {
    if (const char* env = std::getenv("ACMED_CA_BUNDLE")) t.ca_bundle = env;
  }
  return t;
}

acme::ClientOptions client_options(const IssueOptions& o, acme::ClientOptions base) {
  base.issuance_timeout = std::chrono::seconds(o.issuance_timeout);
  return base;
}

bool loopback_url(std::string_view url) {
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return false;
  }
  std::string_view host;
  if (rest.starts_with("[")) {
    auto end = rest.find(']');
    if (end == std::string_view::npos) return false;
    host = rest.substr(1, end - 1);
  } else {
    host = rest.substr(0, rest.find_first_of(":/?#"));
  }
  if (host == "::1" || host == "localhost") return true;
  if (!host.starts_with("127.")) return false;
  return bool(util::parse_identifier(host)) &&
         host.find_first_not_of("0123456789.") == std::string_view::npos;
}

Result<std::vector<util::Identifier>> parsed_identifiers(const IssueOptions& o) {
  if (o.domains.empty()) {
    return Error(Errc::usage, "no domain names given",
                 "name them with -d example.com (repeatable)");
  }
  std::vector<util::Identifier> ids;
  std::set<std::string> seen;
  for (const auto& d : o.domains) {
    ACMED_TRY(auto id, util::parse_identifier(d));
    if (seen.insert(id.value).second) ids.push_back(std::move(id));
  }
  return ids;
}

Status check_flag_conflicts(const IssueOptions& o) {
  int chosen = 0;
  for (const auto& [name, on] : o.use_plugin) chosen += int(on);
  if (chosen > 1) {
    return Error(Errc::usage,
                 "choose one of " + plugins::flag_list(plugins::Role::authenticator, "and"));
  }
  if (o.staging && !o.server.empty()) {
    return Error(Errc::usage, "--staging and --server contradict each other", "use only one");
  }
  // With both --email and --register-unsafely-without-email, certbot registers with the address.
  if (o.must_staple) {
    return Error(Errc::usage,
                 "--must-staple is not supported: Let's Encrypt ended OCSP in 2025, so a "
                 "must-staple certificate could never be served with a valid staple",
                 "drop --must-staple");
  }
  if (o.staple_ocsp) {
    return Error(Errc::usage,
                 "--staple-ocsp is not supported: Let's Encrypt ended OCSP in 2025; there are no "
                 "OCSP responses to staple",
                 "drop --staple-ocsp");
  }
  if (o.no_verify_ssl && !loopback_url(o.server)) {
    return Error(Errc::usage,
                 "--no-verify-ssl is only accepted with a loopback --server (a test CA on this "
                 "machine); acmed never turns TLS verification off for a CA across a network",
                 "give the CA's roots with --ca-bundle FILE instead");
  }
  if (o.reuse_key && o.no_reuse_key) {
    return Error(Errc::usage, "--reuse-key and --no-reuse-key contradict each other");
  }
  std::string a = !o.authenticator.empty() ? o.authenticator : o.configurator;
  std::string i = !o.installer.empty() ? o.installer : o.configurator;
  if (!o.configurator.empty() && ((!o.authenticator.empty() && o.authenticator != o.configurator) ||
                                  (!o.installer.empty() && o.installer != o.configurator))) {
    return Error(Errc::usage,
                 "--configurator " + o.configurator + " contradicts the -a/-i given with it");
  }
  if (!a.empty()) {
    const plugins::Plugin* p = plugins::find_plugin(a);
    if (!p || !p->authenticator) {
      return Error(Errc::usage, "no authenticator named '" + a + "'",
                   "`acmed plugins --authenticators` lists them");
    }
    for (const auto& [name, on] : o.use_plugin) {
      if (on && name != a) {
        return Error(Errc::usage, "--" + name + " and -a " + a + " contradict each other");
      }
    }
  }
  if (!i.empty() && i != "null") {
    const plugins::Plugin* p = plugins::find_plugin(i);
    if (!p || !p->installer) {
      return Error(Errc::usage, "no installer named '" + i + "'",
                   "`acmed plugins --installers` lists them (or -i null for none)");
    }
  }
  for (const auto& email : o.emails) ACMED_CHECK(util::check_email(email));
  if (o.redirect && o.no_redirect) {
    return Error(Errc::usage, "--redirect and --no-redirect contradict each other");
  }
  if (o.eab_kid.empty() != o.eab_hmac_key.empty()) {
    return Error(Errc::usage, "--eab-kid and --eab-hmac-key must be given together");
  }
  if (!o.preferred_profile.empty() && !o.required_profile.empty()) {
    return Error(Errc::usage, "--preferred-profile and --required-profile contradict each other");
  }
  if (o.reuse_key && o.key_type == "rsa" && o.elliptic_curve != "secp256r1") {
    return Error(Errc::usage, "--elliptic-curve applies only to --key-type ecdsa");
  }
  return {};
}

const plugins::Plugin* chosen_plugin(const IssueOptions& o) {
  const std::string& a = !o.authenticator.empty() ? o.authenticator : o.configurator;
  if (!a.empty()) return plugins::find_plugin(a);
  for (const plugins::Plugin* p : plugins::all_plugins()) {
    auto it = o.use_plugin.find(p->name);
    if (it != o.use_plugin.end() && it->second) return p;
  }
  return nullptr;
}

const plugins::Plugin* chosen_installer(const IssueOptions& o) {
  const std::string& i = !o.installer.empty() ? o.installer : o.configurator;
  if (i == "null") return nullptr;
  const plugins::Plugin* p = !i.empty() ? plugins::find_plugin(i) : chosen_plugin(o);
  return p && p->installer ? p : nullptr;
}

Result<crypto::KeySpec> key_for_existing(const IssueOptions& o, const crypto::KeySpec& requested,
                                         const crypto::KeySpec& existing,
                                         const std::string& lineage) {
  auto name = [](const crypto::KeySpec& k) {
    return k.type == crypto::KeyType::rsa ? std::string("rsa") : std::string("ecdsa");
  };
  if (!o.key_type_given && !o.rsa_key_size_given && !o.elliptic_curve_given) return existing;
  crypto::KeySpec wanted = existing;
  if (o.key_type_given) wanted.type = requested.type;
  if (wanted.type == crypto::KeyType::rsa) {
    wanted.rsa_bits = o.rsa_key_size_given || existing.type != crypto::KeyType::rsa
                          ? requested.rsa_bits
                          : existing.rsa_bits;
  } else {
    wanted.curve = o.elliptic_curve_given || existing.type != crypto::KeyType::ecdsa
                       ? requested.curve
                       : existing.curve;
  }
  if (wanted.type != existing.type && o.cert_name.empty()) {
    return Error(Errc::usage,
                 "Are you trying to change the key type of the certificate named " + lineage +
                     " from " + name(existing) + " to " + name(wanted) + "?",
                 "give both --cert-name " + lineage + " and --key-type " + name(wanted) +
                     " to confirm the change");
  }
  bool same = wanted.type == existing.type &&
              (wanted.type == crypto::KeyType::rsa ? wanted.rsa_bits == existing.rsa_bits
                                                   : wanted.curve == existing.curve);
  if (!same && o.reuse_key && !o.new_key) {
    return Error(Errc::usage,
                 "--reuse-key keeps the key of " + lineage +
                     ", which cannot then change its key type or size",
                 "add --new-key to get a new key of the requested type (and keep reusing it)");
  }
  return wanted;
}

Result<std::unique_ptr<challenge::Authenticator>> make_authenticator(
    const IssueOptions& o, const plugins::Environment& env) {
  const plugins::Plugin* plugin = chosen_plugin(o);
  if (!plugin) {
    return Error(Errc::usage, "no way to prove control of the names was chosen",
                 "use " + plugins::flag_list(plugins::Role::authenticator));
  }
  ACMED_TRY(auto settings, plugin_settings(*plugin, o));
  return plugins::build_authenticator(*plugin, settings, o.domains, env);
}

Result<std::unique_ptr<install::Installer>> make_installer(const IssueOptions& o,
                                                           const plugins::Environment& env) {
  const plugins::Plugin* plugin = chosen_installer(o);
  if (!plugin) {
    return Error(Errc::usage, "no installer chosen",
                 "use " + plugins::flag_list(plugins::Role::installer));
  }
  ACMED_TRY(auto settings, plugin_settings(*plugin, o));
  return plugins::build_installer(*plugin, settings, env);
}

Result<renew::IssueRequest> issue_request(const IssueOptions& o, const store::Paths& paths,
                                          const acme::ClientOptions& client) {
  renew::IssueRequest req;
  req.paths = paths;
  req.server = chosen_server(o);
  req.transport = transport_options(o);
  req.client = client_options(o, client);
  ACMED_TRY(req.identifiers, parsed_identifiers(o));
  // Wildcards need dns-01: renew::issue() checks that against the authenticator.
  ACMED_TRY(req.preferred_challenges,
            challenge::parse_preferred_challenges(o.preferred_challenges));
  ACMED_TRY(req.key, crypto::parse_key_spec(o.key_type, o.rsa_key_size, o.elliptic_curve));
  req.reuse_key = o.reuse_key;
  req.new_key = o.new_key;
  if (o.no_reuse_key) req.params.reuse_key = false;
  req.preferred_chain = o.preferred_chain;
  req.preferred_profile = o.preferred_profile;
  req.required_profile = o.required_profile;
  req.account.emails = o.emails;
  req.account.account_id = o.account;
  req.account.tos = o.agree_tos ? acme::TosAgreement::agreed : acme::TosAgreement::not_agreed;
  if (!o.eab_kid.empty()) req.account.eab = acme::ExternalAccountBinding{o.eab_kid, o.eab_hmac_key};
  if (const plugins::Plugin* plugin = chosen_plugin(o)) {
    ACMED_TRY(auto settings, plugin_settings(*plugin, o));
    record_authenticator(req.params, *plugin, settings);
  }
  if (const plugins::Plugin* installer = chosen_installer(o)) {
    ACMED_TRY(auto settings, plugin_settings(*installer, o));
    record_installer(req.params, *installer, settings);
  }
  req.params.pre_hook = o.pre_hook;
  req.params.post_hook = o.post_hook;
  req.params.deploy_hook = o.deploy_hook;
  if (o.allow_subset_of_names) req.params.allow_subset_of_names = true;
  return req;
}

Result<std::string> matching_lineage(const store::Paths& paths, const IssueOptions& o,
                                     const std::vector<util::Identifier>& ids) {
  if (o.duplicate) {
    if (o.cert_name.empty()) return std::string();
    ACMED_CHECK(store::validate_lineage_name(o.cert_name));
    if (!store::lineage_exists(paths, o.cert_name)) return std::string();  // the new one's name
    return Error(
        Errc::conflict, "--duplicate makes a new lineage, but " + o.cert_name + " exists",
        "leave out --cert-name (the new lineage gets a -0001 suffix) or choose a new name");
  }
  if (!o.cert_name.empty()) {
    ACMED_CHECK(store::validate_lineage_name(o.cert_name));
    return store::lineage_exists(paths, o.cert_name) ? o.cert_name : std::string();
  }
  auto wanted = names_of(ids);
  ACMED_TRY(auto entries, store::list_lineages(paths));
  std::string expandable;
  for (auto& entry : entries) {
    if (!entry.lineage) continue;
    std::set<std::string> have(entry.lineage->names.begin(), entry.lineage->names.end());
    bool subset = std::includes(wanted.begin(), wanted.end(), have.begin(), have.end());
    if (have == wanted || (o.expand && subset)) return entry.name;
    if (subset && expandable.empty()) expandable = entry.name;
  }
  if (!expandable.empty()) {
    // certbot asks here, and without a terminal (-n, cron) stops and names --expand.
    return Error(Errc::usage,
                 "certificate " + expandable +
                     " covers some of the names requested; it is neither replaced nor duplicated "
                     "without being told",
                 "pass --expand to replace it with one for all the names, or --duplicate for a "
                 "separate certificate");
  }
  return std::string();
}

Result<std::vector<std::string>> dropped_names(const std::string& lineage,
                                               const std::set<std::string>& have,
                                               const std::set<std::string>& wanted, bool allowed) {
  std::vector<std::string> dropped;
  std::set_difference(have.begin(), have.end(), wanted.begin(), wanted.end(),
                      std::back_inserter(dropped));
  if (dropped.empty() || allowed) return dropped;
  std::string list;
  for (const auto& name : dropped) list += (list.empty() ? "" : ", ") + name;
  return Error(
      Errc::usage, "certificate " + lineage + " covers " + list + ", which this request leaves out",
      "pass --renew-with-new-domains to replace it anyway (sites still serving those names "
      "would lose their certificate), or add the names to -d");
}

bool lifetime_due(const store::Lineage& lineage, sys::TimePoint now) {
  std::optional<std::chrono::seconds> before;
  if (!lineage.conf.renew_before_expiry.empty()) {
    if (auto parsed = store::parse_interval(lineage.conf.renew_before_expiry)) before = *parsed;
  }
  return now >= renew::lifetime_due_time(lineage.cert, before);
}

namespace {

// A new account needs an e-mail unless --register-unsafely-without-email.
Status check_contact(const renew::IssueRequest& req, const IssueOptions& o) {
  // With --account the stored account is used (or the issuance fails naming the id).
  if (!req.account.emails.empty() || o.no_email || !o.account.empty()) return {};
  ACMED_TRY(auto stored, renew::stored_account(req.paths, req.server, ""));
  if (stored) return {};
  return Error(Errc::usage, "no contact e-mail for the new account",
               "pass -m you@example.com, or --register-unsafely-without-email");
}

// `given` (certbot: an explicit path is created, never replaced), else the first free NNNN_`base`
// in the current directory. Either way its directory must exist: the CA is not asked for a
// certificate that could not be saved.
Result<std::filesystem::path> output_path(const std::string& given, std::string_view base) {
  std::filesystem::path path;
  if (given.empty()) {
    ACMED_TRY(path, first_free_path(".", base));
  } else {
    path = given;
    std::error_code ec;
    if (std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found)
      return Error(Errc::conflict, given + " exists; acmed never overwrites it",
                   "choose another path or move the file away");
  }
  std::error_code ec;
  auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  if (!std::filesystem::is_directory(dir, ec))
    return Error(Errc::usage,
                 "cannot write " + path.string() + ": " + dir.string() + " is not a directory",
                 "create the directory first or choose another path");
  return path;
}

// Writes `data` to `path` atomically and only if `path` does not exist (link(2) refuses to
// replace), so a file that appeared meanwhile is never overwritten.
Status write_new_file(const std::filesystem::path& path, std::string_view data) {
  auto temp = path;
  temp.replace_filename("." + path.filename().string() + ".acmed-new");
  ACMED_CHECK(sys::write_file_atomic(temp, data, 0644));
  int linked = ::link(temp.c_str(), path.c_str());
  int err = errno;
  (void)sys::remove_file(temp);
  if (linked != 0)
    return Error(Errc::io, "cannot create " + path.string() + ": " + std::strerror(err),
                 err == EEXIST ? "acmed never overwrites a file; move it away" : "");
  return {};
}

// The -d names given with --csr, each of which must be one of the CSR's (certbot's rule).
Status check_names_in_csr(const IssueOptions& o, const std::vector<util::Identifier>& csr_names) {
  if (o.domains.empty()) return {};
  ACMED_TRY(auto given, parsed_identifiers(o));
  auto in_csr = names_of(csr_names);
  for (const auto& id : given) {
    if (in_csr.count(id.value)) continue;
    std::string list;
    for (const auto& name : in_csr) list += (list.empty() ? "" : ", ") + name;
    return Error(Errc::usage,
                 "-d " + id.value + " is not in the CSR " + o.csr_path + " (" + list + ")",
                 "leave out -d (the CSR's names are used) or make a CSR with that name");
  }
  return {};
}

}  // namespace

Result<std::filesystem::path> first_free_path(const std::filesystem::path& dir,
                                              std::string_view base) {
  for (int n = 0; n <= 9999; ++n) {
    char prefix[8];
    std::snprintf(prefix, sizeof prefix, "%04d_", n);
    auto path = dir / (prefix + std::string(base));
    std::error_code ec;
    if (std::filesystem::symlink_status(path, ec).type() == std::filesystem::file_type::not_found)
      return path;
  }
  return Error(Errc::conflict,
               "0000_" + std::string(base) + " to 9999_" + std::string(base) + " all exist in " +
                   dir.string(),
               "pass the path explicitly");
}

Result<Obtained> obtain_for_csr(const IssueOptions& o, const ObtainContext& ctx,
                                challenge::Authenticator& auth) {
  auto text = sys::read_file_limited(o.csr_path, 1 << 20);
  if (!text) {  // the message names the file
    auto error = std::move(text).error();
    error.code = Errc::invalid_input;
    return error;
  }
  auto csr = crypto::parse_csr(*text);
  if (!csr) {
    auto error = std::move(csr).error();
    error.message = o.csr_path + ": " + error.message;
    return error;
  }
  IssueOptions with_names = o;
  with_names.domains = csr->identifiers.dns;
  with_names.domains.insert(with_names.domains.end(), csr->identifiers.ip.begin(),
                            csr->identifiers.ip.end());
  auto req = issue_request(with_names, ctx.paths, ctx.client);
  if (!req) {
    auto error = std::move(req).error();
    error.message = o.csr_path + ": " + error.message;
    return error;
  }
  ACMED_CHECK(check_names_in_csr(o, req->identifiers));
  req->params.authenticator = auth.name();
  req->csr = std::move(*csr);
  req->target = o.dry_run ? renew::Target::dry_run : renew::Target::new_lineage;
  ACMED_CHECK(check_contact(*req, o));
  if (ctx.log && !(o.pre_hook.empty() && o.post_hook.empty() && o.deploy_hook.empty()))
    ctx.log(renew::LogLevel::warning,
            "hooks do not run with --csr (as certbot): no lineage to deploy, nothing to stop");
  Obtained result;
  std::filesystem::path cert, chain, fullchain;
  if (!o.dry_run) {
    ACMED_TRY(cert, output_path(o.cert_path, "cert.pem"));
    ACMED_TRY(chain, output_path(o.chain_path, "chain.pem"));
    ACMED_TRY(fullchain, output_path(o.fullchain_path, "fullchain.pem"));
    if (cert == chain || cert == fullchain || chain == fullchain)
      return Error(Errc::usage, "--cert-path, --chain-path and --fullchain-path must differ");
  }
  // The store lock: an account may be registered and saved.
  ACMED_TRY(auto lock, store::StoreLock::acquire(ctx.paths));
  if (ctx.log) {
    ctx.log(renew::LogLevel::info, std::string(o.dry_run ? "Simulating" : "Requesting") +
                                       " a certificate for the CSR " + o.csr_path + " from " +
                                       req->server);
  }
  ACMED_TRY(auto outcome, renew::issue(*req, auth));
  if (!o.dry_run) {
    // All three or none: a file that cannot be created takes back the ones written before it.
    std::vector<std::pair<std::filesystem::path, const std::string*>> files = {
        {cert, &outcome.certificate.cert_pem},
        {chain, &outcome.certificate.chain_pem},
        {fullchain, &outcome.certificate.fullchain_pem}};
    for (std::size_t i = 0; i < files.size(); ++i) {
      Status written = write_new_file(files[i].first, *files[i].second);
      if (!written) {
        for (std::size_t j = 0; j < i; ++j) (void)sys::remove_file(files[j].first);
        return std::move(written).error();
      }
    }
    // Reported as certbot does: absolute (as given if that fails).
    auto shown = [](const std::filesystem::path& path) {
      std::error_code ec;
      auto abs = std::filesystem::absolute(path, ec);
      return (ec ? path : abs.lexically_normal()).string();
    };
    result.cert_path = shown(cert);
    result.chain_path = shown(chain);
    result.fullchain_path = shown(fullchain);
  }
  result.outcome = std::move(outcome);
  return result;
}

Result<Obtained> obtain(const IssueOptions& o, const ObtainContext& ctx,
                        challenge::Authenticator& auth) {
  if (!o.csr_path.empty()) return obtain_for_csr(o, ctx, auth);
  auto log = [&](renew::LogLevel level, const std::string& text) {
    if (ctx.log) ctx.log(level, text);
  };
  ACMED_TRY(auto req, issue_request(o, ctx.paths, ctx.client));
  req.params.authenticator = auth.name();
  ACMED_CHECK(check_contact(req, o));
  // A wildcard the authenticator cannot prove is refused before anything is touched (not even
  // the store's lock file); renew::issue() checks it again on every issuance.
  ACMED_TRY(auto types, challenge::challenge_order(auth, req.preferred_challenges));
  std::vector<std::string> asked;
  for (const auto& id : req.identifiers) asked.push_back(id.value);
  ACMED_CHECK(challenge::check_wildcards(asked, types, auth.name()));
  // Choosing the lineage and writing into it are one critical section.
  ACMED_TRY(auto lock, store::StoreLock::acquire(ctx.paths));
  Obtained result;
  ACMED_TRY(result.lineage, matching_lineage(req.paths, o, req.identifiers));

  std::optional<store::Lineage> existing;
  bool same_names = true;
  if (!result.lineage.empty()) {
    ACMED_TRY(existing, store::load_lineage(req.paths, result.lineage));
    std::set<std::string> wanted = names_of(req.identifiers);
    std::set<std::string> have(existing->names.begin(), existing->names.end());
    same_names = wanted == have;
    ACMED_TRY(req.key, key_for_existing(o, req.key, existing->key, result.lineage));
    // Checked in a dry run too: the rehearsal must fail where the real run would.
    ACMED_TRY(auto dropped, dropped_names(result.lineage, have, wanted, o.renew_with_new_domains));
    if (!dropped.empty()) {
      std::string list;
      for (const auto& name : dropped) list += (list.empty() ? "" : ", ") + name;
      log(renew::LogLevel::warning, "Replacing certificate " + result.lineage +
                                        ": its new certificate no longer covers " + list + ".");
    }
  }
  if (o.dry_run) {
    req.target = renew::Target::dry_run;
  } else if (existing) {
    if (same_names && !o.force_renewal && !lifetime_due(*existing, ctx.now)) {
      log(renew::LogLevel::info, "Certificate not yet due for renewal; keeping " + result.lineage +
                                     " (expires " + sys::format_rfc3339(existing->cert.not_after) +
                                     ").");
      return result;
    }
    if (!same_names) {
      log(renew::LogLevel::info,
          "Updating certificate " + result.lineage + " to the requested names.");
    }
    req.target = renew::Target::existing_lineage;
    req.cert_name = result.lineage;
  } else {
    req.cert_name = o.cert_name;
  }

  std::string names;
  for (const auto& id : req.identifiers) names += (names.empty() ? "" : ", ") + id.value;
  std::vector<std::string> name_list;
  for (const auto& id : req.identifiers) name_list.push_back(id.value);
  // certbot's certonly/run hooks: only the command-line ones, no directory hooks (those are
  // renew's), pre before and post after the attempt.
  std::optional<renew::HookRunner> hooks;
  if (ctx.processes) {
    hooks.emplace(
        ctx.paths.config_dir, *ctx.processes,
        [&](renew::HookLogLevel level, std::string_view text) {
          log(level == renew::HookLogLevel::warning ? renew::LogLevel::warning
                                                    : renew::LogLevel::info,
              std::string(text));
        },
        false);
    hooks->run_pre(o.pre_hook);
  }
  log(renew::LogLevel::info, std::string(o.dry_run ? "Simulating" : "Requesting") +
                                 " a certificate for " + names + " from " + req.server);
  auto outcome = renew::issue(req, auth);
  if (hooks) {
    if (outcome && (!o.dry_run || o.run_deploy_hooks)) {
      std::string lineage = !outcome->lineage.empty() ? outcome->lineage
                            : !req.cert_name.empty()  ? req.cert_name
                                                      : name_list.front();
      hooks->run_deploy(o.deploy_hook, ctx.paths.live_dir(lineage), name_list);
    }
    hooks->add_post(o.post_hook);
    hooks->run_post(outcome ? name_list : std::vector<std::string>{},
                    outcome ? std::vector<std::string>{} : name_list);
    result.hook_failures = hooks->failures();
  }
  if (!outcome) return std::move(outcome).error();
  log(renew::LogLevel::debug, std::to_string(outcome->requests) + " HTTP requests sent to the CA");
  if (!outcome->lineage.empty()) result.lineage = outcome->lineage;
  result.outcome = std::move(*outcome);
  return result;
}

Status hook_status(const std::vector<renew::HookFailure>& failures) {
  if (failures.empty()) return {};
  std::string list;
  for (const auto& f : failures) {
    list += (list.empty() ? "" : "; ") + std::string(renew::to_string(f.kind)) + " '" + f.hook +
            "' " + f.message;
  }
  return Error(Errc::server, "the certificate was handled, but a hook failed: " + list,
               "fix the hook; the certificate itself is in place");
}

}  // namespace acmed::app
