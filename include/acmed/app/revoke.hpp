// `acmed revoke`: which certificate, which key signs the request (the account's, or the
// certificate's own), which CA, the reason, and what happens to the lineage afterwards.
#pragma once

#include "acmed/app/issue.hpp"
#include "acmed/renew/runner.hpp"
#include "plugins/registry.hpp"

#include <functional>
#include <string>

namespace acmed::app {

// certbot's --delete-after-revoke / --no-delete-after-revoke; neither: `ask`.
enum class DeleteAfterRevoke { ask, yes, no };

struct RevokeOptions {
  std::string cert_path;  // --cert-path (or IssueOptions::cert_name)
  std::string key_path;  // --key-path: sign with the certificate's key (jwk) instead of the account
  std::string reason = "unspecified";  // --reason
  DeleteAfterRevoke delete_after = DeleteAfterRevoke::ask;
  bool reissue = false;  // --reissue: see recover_compromised_key
  // Asked (with the lineage's name) after a revocation with `ask`; null answers yes (certbot's
  // default under -n).
  std::function<bool(const std::string&)> confirm_delete;
};

struct RevokeEnvironment {
  store::Paths paths;
  plugins::Environment plugins;
  acme::ClientOptions client;  // logging of the ACME exchange
  renew::Logger log;
};

struct Revoked {
  std::string cert_path;         // the certificate revoked
  std::string lineage;           // the lineage it belongs to; empty outside the store
  std::string serial;            // hex, as Pebble's and OpenSSL's tools print it
  bool already_revoked = false;  // the CA said alreadyRevoked: success, with a note
  bool deleted = false;          // the lineage was deleted afterwards
  std::string not_deleted;       // why a delete that was asked for did not happen (app::delete)
};

// Revokes --cert-name's current certificate or --cert-path's (RFC 8555 section 7.6): signed with
// --key-path's key when given, else with the account that obtained the lineage, at the lineage's
// server unless --server/--staging says otherwise. Checked before any request: exactly one of
// --cert-name and --cert-path (Errc::usage), the reason (Errc::usage), the lineage
// (Errc::not_found), a certificate outside the store without --key-path (Errc::usage), a key that
// does not belong to the certificate (Errc::invalid_input). alreadyRevoked is success
// (Revoked::already_revoked). Then, for a lineage, the delete certbot does (--delete-after-revoke,
// or `ask` answered yes): app::delete_certificate, which refuses while a web server config names
// the lineage's files; that refusal does not undo the revocation: it is in Revoked::not_deleted.
Result<Revoked> revoke_certificate(const IssueOptions& options, const RevokeOptions& revoke,
                                   const RevokeEnvironment& env);

// The lineage whose archive holds `cert_path` (given directly or through a live/ link), or ""
// when it is none of the store's. Errc::io when the store cannot be listed.
Result<std::string> lineage_of_cert(const store::Paths& paths,
                                    const std::filesystem::path& cert_path);

struct Recovered {
  std::string lineage;
  int old_version = 0;  // the compromised certificate: archive/<lineage>/cert<old_version>.pem
  int new_version = 0;
  std::string old_serial, new_serial;
  bool resumed = false;          // an interrupted recovery was continued
  bool already_revoked = false;  // the CA had revoked the old certificate already
};

// `revoke --cert-name NAME --reason keycompromise --reissue`: replaces a lineage whose key leaked
// without the site ever serving a revoked certificate, in four steps, each one's failure leaving
// a state from which running the same command again resumes (the state is
// <work_dir>/acmed/compromise/NAME.json, naming the compromised version):
//   1. the old key is recorded as compromised (store/compromised.hpp: never used again);
//   2. a new key and certificate for the same names (renew::issue, the renewal path);
//   3. the lineage's installer: config test, reload, and a TLS check that the server now serves
//      the new certificate;
//   4. the old certificate revoked with keyCompromise, signed by the old key (RFC 8555 section
//      7.6: the CA learns the key itself is compromised).
// Errc::usage without --cert-name, with --cert-path/--key-path/--delete-after-revoke, or a lineage
// with no installer (the served certificate could not be checked); nothing is changed then.
Result<Recovered> recover_compromised_key(const IssueOptions& options, const RevokeOptions& revoke,
                                          const RevokeEnvironment& env);

}  // namespace acmed::app
