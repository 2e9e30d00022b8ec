// `acmed register` and `acmed show_account`: the account the issuance options describe.
#pragma once

#include "acmed/app/issue.hpp"

#include <string>

namespace acmed::app {

struct RegisteredAccount {
  std::string url;            // the account URL at the CA
  std::filesystem::path dir;  // where it is stored
};

// Creates an account at the CA and stores it, under the store lock. Errc::usage without -m or
// --register-unsafely-without-email, or when the CA has terms of service and --agree-tos is
// missing; Errc::conflict when one is stored for the server already.
Result<RegisteredAccount> register_account(const IssueOptions& options, const store::Paths& paths,
                                           const acme::ClientOptions& client);

struct AccountDetails {
  std::string server;
  std::string id;  // the stored id
  acme::Account account;
};

// The stored account for the options' server as the CA knows it. Errc::not_found when none is
// stored.
Result<AccountDetails> show_account(const IssueOptions& options, const store::Paths& paths,
                                    const acme::ClientOptions& client);

// `update_account`: replaces the account's contacts with -m's addresses, or removes them all with
// --register-unsafely-without-email (RFC 8555 section 7.3.2), and stores what the CA answered.
// Errc::usage with neither; Errc::not_found when no account is stored for the server.
Result<AccountDetails> update_account(const IssueOptions& options, const store::Paths& paths,
                                      const acme::ClientOptions& client);

struct Unregistered {
  std::string url;
  std::string id;
  std::vector<std::string> lineages;  // lineages that still name the account (only with force)
};

// `unregister`: deactivates the account at the CA (RFC 8555 section 7.3.6; final) and then
// removes it from the store. Errc::conflict naming them when lineages still use the account,
// unless `force`; Errc::not_found when none is stored. Nothing is sent or removed on error.
Result<Unregistered> unregister_account(const IssueOptions& options, bool force,
                                        const store::Paths& paths,
                                        const acme::ClientOptions& client);

struct RolledOver {
  std::string url;
  std::string id;
  bool resumed = false;  // an earlier, interrupted rollover was found accepted and finished
};

// `account rollover`: a new account key (RFC 8555 section 7.3.5), stored in place of the old one
// only after the CA accepted it; the account id and URL stay. The new key is staged on disk
// before the request (store::stage_account_key), so an interruption anywhere leaves a state the
// next run resolves: a staged key the CA took is committed, one it never saw is discarded and a
// fresh rollover made. Errc::not_found when no account is stored for the server.
Result<RolledOver> rollover_account_key(const IssueOptions& options, const store::Paths& paths,
                                        const acme::ClientOptions& client);

}  // namespace acmed::app
