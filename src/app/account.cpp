#include "acmed/app/account.hpp"

#include "acmed/store/account.hpp"
#include "acmed/store/lock.hpp"

#include <chrono>

namespace acmed::app {

Result<RegisteredAccount> register_account(const IssueOptions& o, const store::Paths& paths,
                                           const acme::ClientOptions& base) {
  ACMED_CHECK(check_flag_conflicts(o));
  if (o.emails.empty() && !o.no_email) {
    return Error(Errc::usage, "no contact e-mail for the new account",
                 "pass -m you@example.com, or --register-unsafely-without-email");
  }
  std::string server = chosen_server(o);
  // "None stored yet" and storing the new one are one critical section.
  ACMED_TRY(auto lock, store::StoreLock::acquire(paths));
  ACMED_TRY(auto existing, renew::stored_account(paths, server, ""));
  if (existing) {
    return Error(Errc::conflict,
                 "an account for " + server + " is already stored (" + existing->id + ")",
                 "see it with 'acmed show_account'");
  }
  ACMED_TRY(auto client,
            acme::Client::connect(server, transport_options(o), client_options(o, base)));
  ACMED_TRY(auto directory, client.directory());
  if (!directory.meta.terms_of_service.empty() && !o.agree_tos) {
    return Error(
        Errc::usage,
        "the CA requires agreeing to its terms of service: " + directory.meta.terms_of_service,
        "read them, then pass --agree-tos");
  }
  ACMED_TRY(auto key, crypto::PrivateKey::generate(crypto::KeySpec{}));
  auto shared = std::make_shared<const crypto::PrivateKey>(std::move(key));
  acme::AccountOptions options;
  options.emails = o.emails;
  options.tos = o.agree_tos ? acme::TosAgreement::agreed : acme::TosAgreement::not_agreed;
  if (!o.eab_kid.empty()) options.eab = acme::ExternalAccountBinding{o.eab_kid, o.eab_hmac_key};
  ACMED_TRY(auto account, client.find_or_create_account(shared, options));
  ACMED_TRY(auto id, store::save_account(paths, server, *shared, account.url, account.to_json(),
                                         std::chrono::system_clock::now()));
  return RegisteredAccount{account.url, paths.accounts_dir() / id};
}

Result<AccountDetails> show_account(const IssueOptions& o, const store::Paths& paths,
                                    const acme::ClientOptions& base) {
  std::string server = chosen_server(o);
  ACMED_TRY(auto stored, renew::stored_account(paths, server, ""));
  if (!stored) {
    return Error(Errc::not_found, "no account stored for " + server,
                 "create one with 'acmed register -m you@example.com --agree-tos'");
  }
  ACMED_TRY(auto client,
            acme::Client::connect(server, transport_options(o), client_options(o, base)));
  auto key = std::make_shared<const crypto::PrivateKey>(std::move(stored->key));
  acme::AccountOptions options;
  options.mode = acme::AccountMode::find_only;
  ACMED_TRY(auto account, client.find_or_create_account(key, options));
  return AccountDetails{server, stored->id, std::move(account)};
}

}  // namespace acmed::app
