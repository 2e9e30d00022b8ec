// The production pieces under the renewal runner: re-issuing a lineage through renew::issue()
// (the one issuance path, shared with certonly) and asking a CA for ARI through acme::Client.
#pragma once

#include "acmed/acme/client.hpp"
#include "acmed/renew/ari.hpp"
#include "acmed/renew/issue.hpp"
#include "acmed/renew/runner.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace acmed::renew {

inline constexpr const char* k_le_production = "https://acme-v02.api.letsencrypt.org/directory";
inline constexpr const char* k_le_staging =
    "https://acme-staging-v02.api.letsencrypt.org/directory";

// The directory a lineage renews against: `server_override` (--server) when given; in a dry run,
// Let's Encrypt staging in place of Let's Encrypt production; otherwise the conf's server (Let's
// Encrypt production when the conf names none, as certbot assumes).
std::string renewal_server(const store::RenewalParams& params, std::string_view server_override,
                           DryRun dry_run);

struct ReissueSettings {
  store::Paths paths;
  std::string server_override;       // --server; empty: each lineage's own
  acme::TransportOptions transport;  // --ca-bundle
  acme::ClientOptions client;        // logging
  // Used only when the lineage's stored account cannot serve (another server in a dry run or
  // with --server): how to find or register one there.
  AccountRequest new_account;
  bool new_key = false;  // --new-key: a new key for each renewed lineage, reuse_key or not
};

// Builds the authenticator a lineage was obtained with, from its renewal params (with the
// command-line overrides applied). Called once per renewal, on the renewing thread.
using AuthenticatorFactory = std::function<Result<std::unique_ptr<challenge::Authenticator>>(
    const store::Lineage&, const store::RenewalParams&)>;

// The IssueRequest that renews `lineage` as its conf says: its names, key type and size
// (reuse_key honoured), account, profiles, preferred chain; target existing_lineage (dry_run in a
// dry run); `replaces` from the attempt when replaces_problem() finds none. Errc::config naming the
// conf when a stored name or the key settings do not parse.
Result<IssueRequest> reissue_request(const store::Lineage& lineage, const RenewAttempt& attempt,
                                     const ReissueSettings& settings);

// Why `replaces` (RFC 9773 section 5) must not be sent when renewing `lineage` with `req`, or ""
// when it may: only to the CA that issued the certificate (same server, and the certificate's
// AKI matches the issuer of its stored chain) and from the account that obtained it.
std::string replaces_problem(const store::Lineage& lineage, const IssueRequest& req,
                             const store::Paths& paths);

// A RenewFn that runs reissue_request() through issue() with a fresh authenticator (and thus its
// own acme::Client per call: safe from several threads).
RenewFn reissue_with(ReissueSettings settings, AuthenticatorFactory make_authenticator);

// An AriLookup over acme::Client, one client per server (per worker thread), each fetching the
// directory once.
std::unique_ptr<AriLookup> make_client_ari_lookup(acme::TransportOptions transport,
                                                  acme::ClientOptions client,
                                                  std::string server_override);

}  // namespace acmed::renew
