// `acmed revoke`: flags -> src/app/revoke.cpp -> printed.
#include "acmed/app/revoke.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"
#include "cli/logging.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

namespace acmed::cli {

namespace {

struct RevokeFlags {
  app::RevokeOptions options;
  bool delete_after = false;
  bool no_delete_after = false;
};

// certbot asks (default yes) on a terminal; with -n or without a terminal its default, yes.
bool confirm_delete(const GlobalOptions& globals, const std::string& lineage) {
  if (globals.non_interactive || isatty(STDIN_FILENO) == 0) return true;
  std::fprintf(stderr,
               "Delete the certificate %s you just revoked, with all its earlier and later "
               "versions? [Y/n] ",
               lineage.c_str());
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer.empty() || answer == "y" || answer == "Y" || answer == "yes";
}

Status revoke(const GlobalOptions& globals, const IssueFlags& f, RevokeFlags& r) {
  if (r.delete_after) r.options.delete_after = app::DeleteAfterRevoke::yes;
  if (r.no_delete_after) r.options.delete_after = app::DeleteAfterRevoke::no;
  r.options.confirm_delete = [&globals](const std::string& lineage) {
    return confirm_delete(globals, lineage);
  };
  acme::ClientOptions client;
  client.log = acme_log();
  app::RevokeEnvironment env{store_paths(globals), plugin_environment(globals), client, log_line};
  if (r.options.reissue) {
    ACMED_TRY(auto done, app::recover_compromised_key(f, r.options, env));
    spdlog::info(
        "{}: the compromised certificate (serial {}) is revoked{}; the site serves the "
        "new one (serial {}) with a new key. The old key is recorded in {}/"
        "compromised-keys and will not be used again.",
        done.lineage, done.old_serial, done.already_revoked ? " (it already was)" : "",
        done.new_serial, globals.config_dir);
    return {};
  }
  ACMED_TRY(auto revoked, app::revoke_certificate(f, r.options, env));
  if (revoked.already_revoked) {
    spdlog::warn("The CA says {} (serial {}) was already revoked; nothing more to do.",
                 revoked.cert_path, revoked.serial);
  } else {
    spdlog::info(
        "Congratulations! You have successfully revoked the certificate that was "
        "located at {} (serial {}).",
        revoked.cert_path, revoked.serial);
  }
  if (!revoked.not_deleted.empty()) {
    spdlog::warn("The lineage {} was not deleted: {}", revoked.lineage, revoked.not_deleted);
  } else if (!revoked.lineage.empty()) {
    spdlog::info(
        "The lineage {} is kept; replace its certificate with 'acmed renew --cert-name "
        "{} --force-renewal'.",
        revoked.lineage, revoked.lineage);
  }
  return {};
}

}  // namespace

void add_revoke_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags) {
  auto* sub = app.add_subcommand(
      "revoke",
      "Revoke a certificate (--cert-name or --cert-path), signed by the account that\n"
      "obtained it or, with --key-path, by the certificate's own key");
  sub->fallthrough();
  auto r = std::make_shared<RevokeFlags>();
  sub->add_option("--cert-path", r->options.cert_path, "The certificate file to revoke");
  sub->add_option("--key-path", r->options.key_path,
                  "Sign with this private key of the certificate (no account needed)");
  sub->add_option("--reason", r->options.reason,
                  "unspecified, keycompromise, affiliationchanged, superseded,\n"
                  "cessationofoperation (certbot's), or another RFC 5280 reason by name or code")
      ->capture_default_str();
  auto* del = sub->add_flag("--delete-after-revoke", r->delete_after,
                            "Delete the lineage after revoking it (the default under -n "
                            "or\nwithout a terminal; asked otherwise)");
  auto* keep = sub->add_flag("--no-delete-after-revoke", r->no_delete_after,
                             "Keep the lineage after revoking it");
  del->excludes(keep);
  sub->add_flag("--reissue", r->options.reissue,
                "With --cert-name and --reason keycompromise: first a new key and certificate,\n"
                "deployed and checked through the lineage's installer, then the old one revoked");
  set_body(sub, [&globals, &flags, r] { return revoke(globals, flags, *r); });
}

}  // namespace acmed::cli
