#include "acmed/app/account.hpp"

#include "acmed/store/account.hpp"
#include "acmed/store/lock.hpp"
#include "acmed/util/strings.hpp"

#include <chrono>
#include <memory>

namespace acmed::app {

namespace {

// --account ID, or the first account stored for `server`; Errc::not_found saying how to make one.
Result<store::Account> stored_or_chosen(const IssueOptions& o, const store::Paths& paths,
                                        const std::string& server) {
  if (!o.account.empty()) return store::load_account(paths, server, o.account);
  ACMED_TRY(auto stored, renew::stored_account(paths, server, ""));
  if (!stored) {
    return Error(Errc::not_found, "no account stored for " + server,
                 "create one with 'acmed register -m you@example.com --agree-tos'");
  }
  return std::move(*stored);
}

}  // namespace

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
  ACMED_TRY(auto stored, stored_or_chosen(o, paths, server));
  ACMED_TRY(auto client,
            acme::Client::connect(server, transport_options(o), client_options(o, base)));
  auto key = std::make_shared<const crypto::PrivateKey>(std::move(stored.key));
  acme::AccountOptions options;
  options.mode = acme::AccountMode::find_only;
  ACMED_TRY(auto account, client.find_or_create_account(key, options));
  return AccountDetails{server, stored.id, std::move(account)};
}

namespace {

// The account stored for the options' server (or --account), Errc::not_found saying how to
// make one.
Result<store::Account> required_account(const IssueOptions& o, const store::Paths& paths) {
  return stored_or_chosen(o, paths, chosen_server(o));
}

// A client signing as `account` (its stored URL; nothing is asked of the CA yet). Takes the key
// out of `account`.
Result<acme::Client> account_client(const IssueOptions& o, store::Account& account,
                                    const acme::ClientOptions& base) {
  ACMED_TRY(auto client,
            acme::Client::connect(chosen_server(o), transport_options(o), client_options(o, base)));
  client.use_account(std::make_shared<const crypto::PrivateKey>(std::move(account.key)),
                     account.url);
  return client;
}

}  // namespace

Result<AccountDetails> update_account(const IssueOptions& o, const store::Paths& paths,
                                      const acme::ClientOptions& base) {
  if (o.emails.empty() && !o.no_email) {
    return Error(Errc::usage, "update_account needs the new contact: -m EMAIL",
                 "or --register-unsafely-without-email to remove every contact");
  }
  if (!o.emails.empty() && o.no_email) {
    return Error(Errc::usage, "-m and --register-unsafely-without-email contradict each other",
                 "use only one");
  }
  for (const auto& email : o.emails) ACMED_CHECK(util::check_email(email));
  ACMED_TRY(auto lock, store::StoreLock::acquire(paths));
  ACMED_TRY(auto stored, required_account(o, paths));
  ACMED_TRY(auto client, account_client(o, stored, base));
  ACMED_TRY(auto account, client.update_contacts(o.emails));
  ACMED_CHECK(store::save_registration(stored, account.to_json()));
  return AccountDetails{chosen_server(o), stored.id, std::move(account)};
}

Result<Unregistered> unregister_account(const IssueOptions& o, bool force,
                                        const store::Paths& paths,
                                        const acme::ClientOptions& base) {
  ACMED_TRY(auto lock, store::StoreLock::acquire(paths));
  ACMED_TRY(auto stored, required_account(o, paths));
  Unregistered out{stored.url, stored.id, {}};
  ACMED_TRY(auto lineages, store::list_lineages(paths));
  for (const auto& entry : lineages) {
    if (entry.lineage && entry.lineage->conf.params.account == stored.id) {
      out.lineages.push_back(entry.name);
    }
  }
  if (!out.lineages.empty() && !force) {
    const std::string names = util::join(out.lineages, ", ");
    return Error(Errc::conflict,
                 "the account " + stored.id + " still obtains " +
                     std::to_string(out.lineages.size()) + " certificate(s), which could not " +
                     "be renewed or revoked with it any more: " + names,
                 "revoke or delete them first, or pass --force to unregister anyway");
  }
  ACMED_TRY(auto client, account_client(o, stored, base));
  ACMED_CHECK(client.deactivate_account());
  // Deactivation is final (RFC 8555 section 7.3.6): the stored key is of no use any more.
  ACMED_CHECK(store::remove_account(paths, stored));
  return out;
}

Result<RolledOver> rollover_account_key(const IssueOptions& o, const store::Paths& paths,
                                        const acme::ClientOptions& base) {
  ACMED_TRY(auto lock, store::StoreLock::acquire(paths));
  ACMED_TRY(auto stored, required_account(o, paths));
  RolledOver out{stored.url, stored.id, false};
  ACMED_TRY(auto staged, store::staged_account_key(stored));
  if (staged) {
    // An earlier rollover stopped after staging its key: did the CA take it (RFC 8555 section
    // 7.3.1: onlyReturnExisting finds the account of a key)?
    ACMED_TRY(auto probe, acme::Client::connect(chosen_server(o), transport_options(o),
                                                client_options(o, base)));
    acme::AccountOptions find;
    find.mode = acme::AccountMode::find_only;
    auto found = probe.find_or_create_account(
        std::make_shared<const crypto::PrivateKey>(std::move(*staged)), find);
    if (found && found->url == stored.url) {
      ACMED_CHECK(store::commit_account_key(stored));
      out.resumed = true;
      return out;
    }
    if (!found && found.error().code != Errc::not_found) return std::move(found).error();
    ACMED_CHECK(store::discard_staged_account_key(stored));  // the CA never saw it
  }
  ACMED_TRY(auto client, account_client(o, stored, base));
  ACMED_TRY(auto key, crypto::PrivateKey::generate(crypto::KeySpec{}));
  ACMED_CHECK(store::stage_account_key(stored, key));
  auto changed =
      client.change_account_key(std::make_shared<const crypto::PrivateKey>(std::move(key)));
  if (!changed) {
    Error e = std::move(changed).error();
    if (e.code == Errc::network || e.code == Errc::interrupted) {
      e.hint = "the CA may or may not have taken the new key (kept in " +
               (stored.dir / "rollover_key.json").string() +
               "); run 'acmed account rollover' again to finish or redo it";
      return e;
    }
    ACMED_CHECK(store::discard_staged_account_key(stored));  // refused: the old key stays
    return e;
  }
  ACMED_CHECK(store::commit_account_key(stored));
  return out;
}

}  // namespace acmed::app
