// Getting a certificate and storing it: the one issuance path shared by `certonly`, `run` and
// `renew`. It loads or registers the account, runs the order through an Authenticator, and
// writes the result as a new lineage or a new version of an existing one (or nothing, in a dry
// run). The caller holds the config-dir lock.
#pragma once

#include "acmed/acme/client.hpp"
#include "acmed/challenge/authenticator.hpp"
#include "acmed/crypto/key.hpp"
#include "acmed/crypto/x509.hpp"
#include "acmed/store/account.hpp"
#include "acmed/store/lineage.hpp"
#include "acmed/store/paths.hpp"
#include "acmed/store/renewal_conf.hpp"
#include "acmed/util/domain.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace acmed::renew {

// How to find or make the ACME account.
struct AccountRequest {
  std::vector<std::string> emails;
  acme::TosAgreement tos = acmed::acme::TosAgreement::not_agreed;
  std::optional<acme::ExternalAccountBinding> eab;
  std::string account_id;  // use this stored account (renewal conf's "account"); empty: any
};

enum class Target {
  new_lineage,       // create a lineage (name from cert_name or the first identifier)
  existing_lineage,  // add a version to lineage `cert_name`
  dry_run,           // obtain a certificate and store nothing (certbot's --dry-run)
};

struct IssueRequest {
  store::Paths paths;
  std::string server;  // ACME directory URL
  acme::TransportOptions transport;
  acme::ClientOptions client;
  AccountRequest account;

  std::vector<util::Identifier> identifiers;  // the first one names a new lineage
  Target target = Target::new_lineage;
  std::string cert_name;  // lineage name; empty with new_lineage: derived from identifiers[0]

  crypto::KeySpec key;
  bool reuse_key = false;  // existing_lineage: sign the CSR with the lineage's current key
  bool new_key = false;    // a new key this time even with reuse_key (which is still stored)
  std::string preferred_profile;
  std::string required_profile;
  std::string preferred_chain;
  std::vector<std::string>
      preferred_challenges;  // parsed --preferred-challenges; stored as pref_challs
  // certbot's --csr: the order is finalized with this CSR as it is (identifiers are its names),
  // no key is generated and nothing is stored, whatever `target` says: the caller writes the files.
  std::optional<crypto::CertificateRequest> csr;
  std::string replaces;  // ARI certificate id of the certificate this one replaces (RFC 9773)
  // Called when the CA refused `replaces` and the order went through without it. May be null.
  std::function<void(std::string_view why)> replaces_refused;
  // Called with the files and renewal conf about to be stored (not in a dry run or with --csr);
  // an error stops issue() before anything is written. May be null.
  std::function<Status(const store::CertFiles&, const store::RenewalConf&)> before_store;

  // Saved as [renewalparams] (authenticator and its settings, installer, hooks...). issue() fills
  // in server, account, key and profile settings itself.
  store::RenewalParams params;
};

struct IssueOutcome {
  std::string lineage;  // name written (empty for a dry run)
  int version = 0;      // archive version written (0 for a dry run)
  acme::IssuedCertificate certificate;
  crypto::CertInfo info;  // parsed leaf
  std::string account_id;
  std::size_t requests = 0;  // HTTP requests sent to the CA
  // Names left out because their validation failed (allow_subset_of_names in params).
  std::vector<std::string> dropped;
};

// Obtains a certificate for request.identifiers through `authenticator` and stores it as the
// request's target says. Nothing is written unless the CA issued the certificate; a failure
// leaves existing lineages untouched. Errors name the identifier and say what to do next.
Result<IssueOutcome> issue(const IssueRequest& request, challenge::Authenticator& authenticator);

// The stored account `id` for `server`, or (empty id) the first one stored for it; nullopt when
// there is none. Errc::config / Errc::crypto when a stored account is damaged.
Result<std::optional<store::Account>> stored_account(const store::Paths& paths,
                                                     std::string_view server, std::string_view id);

// The crypto::Identifiers of an order from validated command-line identifiers.
crypto::Identifiers to_order_identifiers(const std::vector<util::Identifier>& ids);

}  // namespace acmed::renew
