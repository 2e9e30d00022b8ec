// `acmed register`, `show_account`, `update_account`, `unregister` and `account rollover`:
// flags -> src/app/account.cpp -> printed.
#include "acmed/app/account.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"
#include "cli/logging.hpp"

#include "acmed/util/json.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

namespace acmed::cli {

namespace {

acme::ClientOptions client_options() {
  acme::ClientOptions options;
  options.log = acme_log();
  return options;
}

Status register_account(const GlobalOptions& globals, const IssueFlags& f) {
  auto paths = store_paths(globals);
  ACMED_TRY(auto account, app::register_account(f, paths, client_options()));
  spdlog::info("Account registered: {}", account.url);
  spdlog::info("Stored as {}", account.dir.string());
  return {};
}

Status show_account(const GlobalOptions& globals, const IssueFlags& f, bool as_json) {
  ACMED_TRY(auto details, app::show_account(f, store_paths(globals), client_options()));
  if (as_json) {
    // Schema version 1 (docs/user-guide.md, "JSON output").
    nlohmann::json j = {{"version", 1},
                        {"server", details.server},
                        {"id", details.id},
                        {"url", details.account.url},
                        {"status", details.account.status},
                        {"contact", details.account.contact}};
    std::printf("%s\n", util::dump_json_lossy(j, 2).c_str());
    return {};
  }
  std::printf("Account details for server %s:\n", details.server.c_str());
  std::printf("  Account URL: %s\n", details.account.url.c_str());
  std::printf("  Account ID: %s\n", details.id.c_str());
  std::printf("  Status: %s\n", details.account.status.c_str());
  std::string contacts;
  for (const auto& c : details.account.contact) contacts += (contacts.empty() ? "" : ", ") + c;
  std::printf("  Email contact: %s\n", contacts.empty() ? "none" : contacts.c_str());
  return {};
}

Status update_account(const GlobalOptions& globals, const IssueFlags& f) {
  ACMED_TRY(auto details, app::update_account(f, store_paths(globals), client_options()));
  std::string contacts;
  for (const auto& c : details.account.contact) contacts += (contacts.empty() ? "" : ", ") + c;
  if (contacts.empty()) {
    spdlog::info("The account {} has no contact address any more.", details.account.url);
  } else {
    spdlog::info("The contact of the account {} is now {}.", details.account.url, contacts);
  }
  return {};
}

Status unregister(const GlobalOptions& globals, const IssueFlags& f, bool force) {
  ACMED_TRY(auto done, app::unregister_account(f, force, store_paths(globals), client_options()));
  for (const auto& lineage : done.lineages) {
    spdlog::warn(
        "The lineage {} names the deactivated account; its renewals fail until it is "
        "obtained again with another account.",
        lineage);
  }
  spdlog::info("Account {} deactivated at the CA and removed from this machine.", done.url);
  return {};
}

Status rollover(const GlobalOptions& globals, const IssueFlags& f) {
  ACMED_TRY(auto done, app::rollover_account_key(f, store_paths(globals), client_options()));
  if (done.resumed) {
    spdlog::info(
        "The CA had taken the new key of an interrupted rollover; it is now stored for "
        "the account {}.",
        done.url);
  } else {
    spdlog::info("The account {} now uses a new key; the old one is no longer accepted.", done.url);
  }
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
  auto show_json = std::make_shared<bool>(false);
  show->add_flag("--json", *show_json, "Print JSON instead of text");
  set_body(show,
           [&globals, &flags, show_json] { return show_account(globals, flags, *show_json); });

  auto* update = app.add_subcommand(
      "update_account",
      "Change the account's contact: -m EMAIL, or --register-unsafely-without-email to remove it");
  update->fallthrough();
  set_body(update, [&globals, &flags] { return update_account(globals, flags); });

  auto* unreg = app.add_subcommand(
      "unregister", "Deactivate the account at the CA (final) and remove it from this machine");
  unreg->fallthrough();
  auto force = std::make_shared<bool>(false);
  unreg->add_flag("--force", *force, "Deactivate even while lineages still name the account");
  set_body(unreg, [&globals, &flags, force] { return unregister(globals, flags, *force); });

  auto* account = app.add_subcommand("account", "Account maintenance beyond certbot's commands");
  account->require_subcommand(1);
  account->fallthrough();
  auto* roll = account->add_subcommand(
      "rollover", "Replace the account key (RFC 8555 section 7.3.5); the account stays the same");
  roll->fallthrough();
  set_body(roll, [&globals, &flags] { return rollover(globals, flags); });
}

}  // namespace acmed::cli
