// `acmed register` and `acmed show_account`: flags -> src/app/account.cpp -> printed.
#include "acmed/app/account.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"
#include "cli/logging.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>

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

Status show_account(const GlobalOptions& globals, const IssueFlags& f) {
  ACMED_TRY(auto details, app::show_account(f, store_paths(globals), client_options()));
  std::printf("Account details for server %s:\n", details.server.c_str());
  std::printf("  Account URL: %s\n", details.account.url.c_str());
  std::printf("  Account ID: %s\n", details.id.c_str());
  std::printf("  Status: %s\n", details.account.status.c_str());
  std::string contacts;
  for (const auto& c : details.account.contact) contacts += (contacts.empty() ? "" : ", ") + c;
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
