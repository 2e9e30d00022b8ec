#include "acmed/renew/issue.hpp"

#include "acmed/crypto/x509.hpp"
#include "acmed/renew/profiles.hpp"
#include "acmed/store/account.hpp"
#include "acmed/store/compromised.hpp"
#include "acmed/util/strings.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

namespace acmed::renew {

Result<std::optional<store::Account>> stored_account(const store::Paths& paths,
                                                     std::string_view server, std::string_view id) {
  if (!id.empty()) {
    auto account = store::load_account(paths, server, id);
    if (!account && account.error().code == Errc::not_found) return std::optional<store::Account>();
    if (!account) return std::move(account).error();
    return std::optional<store::Account>(std::move(account).value());
  }
  ACMED_TRY(auto ids, store::list_accounts(paths, server));
  if (ids.empty()) return std::optional<store::Account>();
  ACMED_TRY(auto account, store::load_account(paths, server, ids.front()));
  return std::optional<store::Account>(std::move(account));
}

namespace {

// The stored account for this CA, or a new one registered now and saved (RFC 8555 section 7.3).
// A stored account is used without asking the CA: the warm path sends no account request.
Result<std::string> ensure_account(const IssueRequest& req, acme::Client& client) {
  ACMED_TRY(auto stored, stored_account(req.paths, req.server, req.account.account_id));
  if (stored) {
    auto key = std::make_shared<const crypto::PrivateKey>(std::move(stored->key));
    client.use_account(key, stored->url);
    return stored->id;
  }
  if (!req.account.account_id.empty()) {
    return Error(Errc::not_found,
                 "account " + req.account.account_id + " for " + req.server + " is not stored in " +
                     req.paths.accounts_dir().string(),
                 "an account id is a directory name under that dir (the renewal conf's account, or "
                 "--account); register a new account with 'acmed register' if it is gone");
  }
  ACMED_TRY(auto directory, client.directory());
  if (!directory.meta.terms_of_service.empty() && req.account.tos != acme::TosAgreement::agreed) {
    return Error(
        Errc::usage,
        "the CA requires agreeing to its terms of service: " + directory.meta.terms_of_service,
        "read them, then pass --agree-tos");
  }
  if (directory.meta.external_account_required && !req.account.eab) {
    return Error(
        Errc::usage, "the CA at " + req.server + " requires External Account Binding",
        "get an EAB key id and HMAC key from the CA and pass --eab-kid and --eab-hmac-key");
  }
  ACMED_TRY(auto key, crypto::PrivateKey::generate(crypto::KeySpec{}));
  auto shared = std::make_shared<const crypto::PrivateKey>(std::move(key));
  acme::AccountOptions options;
  options.emails = req.account.emails;
  options.tos = req.account.tos;
  options.eab = req.account.eab;
  ACMED_TRY(auto account, client.find_or_create_account(shared, options));
  ACMED_TRY(auto id, store::save_account(req.paths, req.server, *shared, account.url,
                                         account.to_json(), std::chrono::system_clock::now()));
  return id;
}

store::RenewalParams renewal_params(const IssueRequest& req, const std::string& account_id,
                                    const ProfileChoice& profiles) {
  store::RenewalParams p = req.params;
  p.server = req.server;
  p.account = account_id;
  if (req.key.type == crypto::KeyType::rsa) {
    p.key_type = "rsa";
    p.rsa_key_size = req.key.rsa_bits;
    p.elliptic_curve.clear();
  } else {
    p.key_type = "ecdsa";
    p.elliptic_curve = req.key.curve;
    p.rsa_key_size.reset();
  }
  if (req.reuse_key) p.reuse_key = true;
  p.preferred_chain = req.preferred_chain;
  p.preferred_profile = profiles.preferred;
  p.required_profile = profiles.required;
  p.pref_challs = req.preferred_challenges;
  return p;
}

Result<crypto::PrivateKey> certificate_key(const IssueRequest& req) {
  if (req.reuse_key && !req.new_key && req.target == Target::existing_lineage) {
    auto key = store::read_current_key(req.paths, req.cert_name);
    if (key) {
      // A key recorded as compromised (store/compromised.hpp) is never used again.
      ACMED_TRY(bool compromised, store::is_compromised_key(req.paths, *key));
      if (!compromised) return key;
      if (req.client.log)
        req.client.log(acme::LogLevel::warning, "the key of " + req.cert_name +
                                                    " is recorded as compromised; --reuse-key "
                                                    "is ignored and a new key is generated");
    } else if (key.error().code != Errc::not_found) {
      return std::move(key).error();
    }
  }
  return crypto::PrivateKey::generate(req.key);
}

}  // namespace

crypto::Identifiers to_order_identifiers(const std::vector<util::Identifier>& ids) {
  crypto::Identifiers out;
  for (const auto& id : ids) {
    (id.kind == util::IdentifierKind::ip ? out.ip : out.dns).push_back(id.value);
  }
  return out;
}

Result<IssueOutcome> issue(const IssueRequest& req, challenge::Authenticator& authenticator) {
  if (req.identifiers.empty()) return Error(Errc::usage, "no names to get a certificate for");
  if (req.target == Target::existing_lineage && req.cert_name.empty()) {
    return Error(Errc::internal, "issue(): existing_lineage needs cert_name");
  }
  // Checked before the first request: a profile's name limit, IP addresses at Let's Encrypt.
  ACMED_TRY(ProfileChoice profiles, choose_profile(req.server, req.identifiers,
                                                   req.preferred_profile, req.required_profile));
  if (!profiles.note.empty() && req.client.log) req.client.log(acme::LogLevel::info, profiles.note);
  // Also before the CA is asked: a wildcard needs dns-01 (RFC 8555 section 7.1.3).
  ACMED_TRY(auto types, challenge::challenge_order(authenticator, req.preferred_challenges));
  std::vector<std::string> names;
  for (const auto& id : req.identifiers) names.push_back(id.value);
  ACMED_CHECK(challenge::check_wildcards(names, types, authenticator.name()));
  ACMED_TRY(auto client, acme::Client::connect(req.server, req.transport, req.client));
  IssueOutcome outcome;
  ACMED_TRY(outcome.account_id, ensure_account(req, client));
  std::optional<crypto::PrivateKey> cert_key;  // none with a user's CSR
  if (!req.csr) {
    ACMED_TRY(auto key, certificate_key(req));
    cert_key.emplace(std::move(key));
  }

  acme::ObtainRequest order;
  order.identifiers = to_order_identifiers(req.identifiers);
  order.profile = profiles.required.empty() ? profiles.preferred : profiles.required;
  order.profile_mode =
      profiles.required.empty() ? acme::ProfileMode::preferred : acme::ProfileMode::required;
  order.replaces = req.replaces;
  order.replaces_refused = req.replaces_refused;
  order.preferred_chain = req.preferred_chain;
  order.challenge_types = types;
  // A dry run rehearses the challenges: it never rides on an authorization from an earlier run.
  if (req.target == Target::dry_run) order.authorization_reuse = acme::AuthorizationReuse::fresh;
  std::vector<std::string> failed;
  order.authorizations_failed = [&failed](const std::vector<std::string>& invalid) {
    failed = invalid;
  };
  auto obtain = [&] {
    return req.csr ? client.obtain(order, *req.csr, authenticator)
                   : client.obtain(order, *cert_key, authenticator);
  };
  auto obtained = obtain();
  std::vector<util::Identifier> kept = req.identifiers;
  // (Not with a user's CSR: the order's names must be the CSR's.)
  if (!obtained && !failed.empty() && !req.csr &&
      req.params.allow_subset_of_names.value_or(false)) {
    // certbot's --allow-subset-of-names: drop the names that failed validation, order the rest.
    std::erase_if(kept, [&](const util::Identifier& id) {
      return std::any_of(failed.begin(), failed.end(), [&](const std::string& f) {
        return util::ascii_lower(f) == util::ascii_lower(id.value);
      });
    });
    if (!kept.empty() && kept.size() < req.identifiers.size()) {
      std::string dropped;
      for (const auto& name : failed) dropped += (dropped.empty() ? "" : ", ") + name;
      if (req.client.log) {
        req.client.log(acme::LogLevel::warning, obtained.error().describe() +
                                                    "; --allow-subset-of-names: dropping " +
                                                    dropped + " and ordering the other names");
      }
      outcome.dropped = failed;
      order.identifiers = to_order_identifiers(kept);
      order.authorizations_failed = nullptr;
      obtained = obtain();
    }
  }
  ACMED_TRY(outcome.certificate, std::move(obtained));
  // Everything the CA sent is untrusted: a certificate for other names, out of its validity or
  // with a broken chain never reaches the store (the key was checked by obtain()).
  {
    ACMED_TRY(auto chain, crypto::split_pem_chain(outcome.certificate.fullchain_pem));
    // The client's clock (injected in tests), so "valid now" means the run's now.
    const auto now =
        req.client.sleeper ? req.client.sleeper->now() : std::chrono::system_clock::now();
    auto checked = crypto::check_issued_chain(chain, order.identifiers, now);
    if (!checked)
      return std::move(checked).error().with_context("checking the certificate from " +
                                                     outcome.certificate.order_url);
  }
  ACMED_TRY(outcome.info, crypto::parse_certificate(outcome.certificate.cert_pem));
  outcome.requests = client.stats().requests;
  if (req.target == Target::dry_run || req.csr) return outcome;

  store::CertFiles files{outcome.certificate.cert_pem, outcome.certificate.chain_pem,
                         outcome.certificate.fullchain_pem, cert_key->to_pem()};
  store::RenewalConf conf;
  if (req.target == Target::existing_lineage) {
    ACMED_TRY(conf, store::read_renewal_conf(req.paths, req.cert_name));
  }
  conf.params = renewal_params(req, outcome.account_id, profiles);
  if (req.before_store) ACMED_CHECK(req.before_store(files, conf));
  if (req.target == Target::existing_lineage) {
    outcome.lineage = req.cert_name;
    ACMED_TRY(outcome.version,
              store::add_version(req.paths, req.cert_name, files, std::move(conf)));
  } else {
    if (req.cert_name.empty()) {
      // certbot names a lineage whose first name is *.example.com "example.com".
      std::string first = kept.front().value;
      if (first.rfind("*.", 0) == 0) first.erase(0, 2);
      ACMED_TRY(outcome.lineage, store::new_lineage_name(req.paths, first));
    } else {
      outcome.lineage = req.cert_name;
    }
    ACMED_TRY(outcome.version,
              store::create_lineage(req.paths, outcome.lineage, files, std::move(conf)));
  }
  return outcome;
}

}  // namespace acmed::renew
