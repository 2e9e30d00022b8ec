// `acmed register` and `acmed show_account`.
#include "acmed/renew/issue.hpp"
#include "acmed/sys/lock.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"
#include "cli/logging.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

namespace acmed::cli {

namespace {

Result<acme::Client> client_for(const IssueFlags& f) {
  acme::ClientOptions options;
  options.log = acme_log();
  options.issuance_timeout = std::chrono::seconds(f.issuance_timeout);
  return acme::Client::connect(chosen_server(f), transport_options(f), options);
}

Status register_account(const GlobalOptions& globals, const IssueFlags& f) {
  ACMED_CHECK(check_flag_conflicts(f));
  if (f.emails.empty() && !f.no_email) {
    return Error(Errc::usage, "no contact e-mail for the new account",
                 "pass -m you@example.com, or --register-unsafely-without-email");
  }
  auto paths = store_paths(globals);
  std::string server = chosen_server(f);
  ACMED_TRY(auto lock, sys::DirLock::acquire(globals.config_dir));
  ACMED_TRY(auto existing, renew::stored_account(paths, server, ""));
  if (existing) {
    return Error(Errc::conflict, "an account for " + server + " is already stored (" + existing->id + ")",
                 "see it with 'acmed show_account'");
  }
  ACMED_TRY(auto client, client_for(f));
  ACMED_TRY(auto directory, client.directory());
  if (!directory.meta.terms_of_service.empty() && !f.agree_tos) {
    return Error(Errc::usage, "the CA requires agreeing to its terms of service: " +
                                  directory.meta.terms_of_service,
                 "read them, then pass --agree-tos");
  }
  ACMED_TRY(auto key, crypto::PrivateKey::generate(crypto::KeySpec{}));
  auto shared = std::make_shared<const crypto::PrivateKey>(std::move(key));
  acme::AccountOptions options;
  options.emails = f.emails;
  options.tos = f.agree_tos ? acme::TosAgreement::agreed : acme::TosAgreement::not_agreed;
  if (!f.eab_kid.empty()) options.eab = acme::ExternalAccountBinding{f.eab_kid, f.eab_hmac_key};
  ACMED_TRY(auto account, client.find_or_create_account(shared, options));
  ACMED_TRY(auto id, store::save_account(paths, server, *shared, account.url, account.raw,
                                         std::chrono::system_clock::now()));
  spdlog::info("Account registered: {}", account.url);
  spdlog::info("Stored as {}", (paths.accounts_dir() / id).string());
  return {};
}

Status show_account(const GlobalOptions& globals, const IssueFlags& f) {
  auto paths = store_paths(globals);
  std::string server = chosen_server(f);
  ACMED_TRY(auto stored, renew::stored_account(paths, server, ""));
  if (!stored) {
    return Error(Errc::not_found, "no account stored for " + server,
                 "create one with 'acmed register -m you@example.com --agree-tos'");
  }
  ACMED_TRY(auto client, client_for(f));
  auto key = std::make_shared<const crypto::PrivateKey>(std::move(stored->key));
  acme::AccountOptions options;
  options.mode = acme::AccountMode::find_only;
  ACMED_TRY(auto account, client.find_or_create_account(key, options));
  std::printf("Account details for server %s:\n", server.c_str());
  std::printf("  Account URL: %s\n", account.url.c_str());
  std::printf("  Account ID: %s\n", stored->id.c_str());
  std::printf("  Status: %s\n", account.status.c_str());
  std::string contacts;
  for (const auto& c : account.contact) contacts += (contacts.empty() ? "" : ", ") + c;
  std::printf("  Email contact: %s\n", contacts.empty() ? "none" : contacts.c_str());
  return {};
}

}  // namespace

void add_account_commands(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags) {
  auto* reg = app.add_subcommand(
      "register", "Create an ACME account with the CA (-m, --agree-tos, --eab-*, --server)");
  reg->fallthrough();
  set_body(reg, [&globals, &flags] { return register_account(globals, flags); });
  auto* show = app.add_subcommand("show_account", "Show the stored account as the CA knows it");
  show->fallthrough();
  set_body(show, [&globals, &flags] { return show_account(globals, flags); });
}

}  // namespace acmed::cli
