// acmed's command line: CLI11 wiring only. Each command turns flags into a request for the core
// library; errors come back as acmed::Error and leave here as one line and an exit code.
#include "cli/cli_doc.hpp"
#include "cli/cli_ini.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"
#include "cli/logging.hpp"

#include "acmed/sys/interrupt.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <optional>

namespace acmed::cli {

namespace {

std::optional<CommandBody>& chosen_body() {
  static std::optional<CommandBody> body;
  return body;
}

int exit_code_for(const Error& error) {
  switch (error.code) {
    case Errc::usage: return k_exit_usage;
    case Errc::locked: return k_exit_locked;
    case Errc::network:
    case Errc::rate_limited: return k_exit_temporary;
    case Errc::interrupted: return 128 + sys::interrupt_signal();
    default: return k_exit_failure;
  }
}

void report(const Error& error) {
  std::string line = error.describe();
  spdlog::error("{}", line);
  // The hint is part of the error: shown under -q too, and filed at the error's priority.
  if (!error.hint.empty()) spdlog::error("hint: {}", error.hint);
}

}  // namespace

void set_body(CLI::App* sub, CommandBody body) {
  sub->callback([body = std::move(body)] { chosen_body() = body; });
}

void define_commands(CLI::App& app, GlobalOptions& globals, IssueFlags& issue_flags) {
  // certbot (argparse) semantics: a single-valued option given twice takes the last value. Set
  // before any option exists so every option and subcommand inherits it; list options (-d, -m)
  // still collect every value. tests/unit/cli checks it over every option.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_version_flag("--version", std::string("acmed ") + ACMED_VERSION);
  app.require_subcommand(0, 1);

  app.add_option("--config-dir", globals.config_dir, "Configuration directory")
      ->capture_default_str()->group("Paths");
  app.add_option("--work-dir", globals.work_dir, "Working directory")
      ->capture_default_str()->group("Paths");
  app.add_option("--logs-dir", globals.logs_dir, "Log directory")
      ->capture_default_str()->group("Paths");
  app.add_option("--max-log-backups", globals.max_log_backups,
                 "Old logs kept (letsencrypt.log.1 ...); 0: one log, appended to")
      ->capture_default_str()->check(CLI::Range(0, 1000000))->group("Paths");
  app.add_flag("-v,--verbose", globals.verbosity, "More output (repeat for more)")->group("Output");
  app.add_flag("-q,--quiet", globals.quiet, "Only warnings and errors")->group("Output");
  app.add_flag("--debug", globals.debug, "Full details of errors and of every step (as -v)")
      ->group("Output");
  app.add_flag("-n,--non-interactive", globals.non_interactive,
               "Never ask anything (acmed never prompts; accepted for certbot compatibility)")
      ->group("Output");

  add_issue_flags(app, issue_flags);

  auto* certonly = app.add_subcommand(
      "certonly", "Obtain or renew a certificate and store it under <config-dir>/live/NAME/;\n"
                  "install nothing. Takes the issuance options of `acmed --help`.");
  certonly->fallthrough();
  certonly->alias("auth");  // certbot's old name
  certonly->add_option("--csr", issue_flags.csr_path,
                       "Issue for this CSR (PEM or DER) as it is; no key, no lineage");
  certonly->add_option("--cert-path", issue_flags.cert_path,
                       "With --csr: where to write the certificate (default ./NNNN_cert.pem)");
  certonly->add_option("--chain-path", issue_flags.chain_path,
                       "With --csr: where to write the chain (default ./NNNN_chain.pem)");
  certonly->add_option("--fullchain-path", issue_flags.fullchain_path,
                       "With --csr: where to write the full chain (default ./NNNN_fullchain.pem)");
  set_body(certonly, [&] { return run_certonly(globals, issue_flags); });
  auto* run = app.add_subcommand("run", "Obtain a certificate and install it (the default)");
  run->fallthrough();
  run->alias("everything");  // certbot accepts it as `run`
  set_body(run, [&] { return run_install_flow(globals, issue_flags); });
  add_plugins_command(app);

  add_account_commands(app, globals, issue_flags);
  add_certificates_command(app, globals, issue_flags);
  add_install_commands(app, globals, issue_flags);
  add_delete_command(app, globals, issue_flags);
  add_update_symlinks_command(app, globals, issue_flags);
  add_doctor_command(app, globals, issue_flags);
  add_fleet_options(app, globals.fleet);
  add_fleet_commands(app, globals);
  add_local_commands(app, globals);
  add_renew_command(app, globals, issue_flags);
  add_reconfigure_command(app, globals, issue_flags);
  add_migrate_command(app, globals, issue_flags);
  add_completion_command(app);
  add_revoke_command(app, globals, issue_flags);
  add_config_option(app);
}

int main_impl(int argc, char** argv) {
  CLI::App app{"acmed: gets and renews certificates from ACME CAs such as Let's Encrypt and\n"
               "installs them into nginx or apache. Without a subcommand it runs `run`:\n"
               "obtain a certificate and install it (needs --nginx or --apache).",
               "acmed"};
  GlobalOptions globals;
  IssueFlags issue_flags;
  define_commands(app, globals, issue_flags);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "acmed: %s\nRun 'acmed --help' for the list of commands and options.\n",
                 e.what());
    return k_exit_usage;
  }
  collect_flag_order(app, issue_flags);
  setup_logging(globals);
  sys::catch_interrupts();

  Status status;
  if (chosen_body()) {
    status = (*chosen_body())();
  } else {
    status = run_install_flow(globals, issue_flags);
  }
  // A signal that arrived after the last waiting point changed nothing: the run finished its
  // work, and says so. An interrupted wait ends in Errc::interrupted (exit 128 + signal).
  if (!status) {
    report(status.error());
    return exit_code_for(status.error());
  }
  return k_exit_ok;
}

}  // namespace acmed::cli
