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

}  // namespace acmed::app
