// Shared CLI wiring: the options every command sees and how a command reports its outcome.
// src/cli is CLI11 wiring only: every command handler parses flags into a request and calls the
// core library; nothing in the core depends on the CLI.
#pragma once

#include "acmed/util/result.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace acmed::cli {

// Documented exit codes (docs/user-guide.md, "Exit codes").
enum ExitCode : int {
  k_exit_ok = 0,
  k_exit_failure = 1,    // the command failed; the message says why
  k_exit_usage = 2,      // bad flags or arguments
  k_exit_temporary = 75, // EX_TEMPFAIL: network trouble or rate limiting; retry later unchanged
  k_exit_locked = 76,    // another acmed holds the lock on the config dir
};

// Fleet mode's options (docs/fleet.md): every `fleet` command and `renew --store etcd`.
struct FleetOptions {
  std::string store = "filesystem";  // --store filesystem|etcd (for `renew`)
  std::vector<std::string> endpoints;
  std::string cacert, cert, key, prefix = "/acmed/", fleet_key, node_name, challenge_dir;
  int timeout = 5;       // --etcd-timeout, seconds
  int lock_ttl = 30;     // --fleet-lock-ttl, seconds
  int ack_timeout = 60;  // --fleet-ack-timeout, seconds
};

// Options shared by all commands (certbot's names).
struct GlobalOptions {
  std::string config_dir = "/etc/letsencrypt";
  std::string work_dir = "/var/lib/letsencrypt";
  std::string logs_dir = "/var/log/letsencrypt";
  int verbosity = 0;       // -v (repeatable)
  bool quiet = false;      // -q
  bool debug = false;      // --debug: full error details (debug lines on the terminal)
  bool non_interactive = false;  // -n
  int max_log_backups = 1000;    // --max-log-backups (certbot's default)
  FleetOptions fleet;
};

// A command's body: returns Status; the dispatcher prints errors and maps them to exit codes.
using CommandBody = std::function<Status()>;

// Registers `body` as what runs when `sub` is chosen.
void set_body(CLI::App* sub, CommandBody body);

struct IssueFlags;

// Each command group adds its subcommands to the root app.
void add_local_commands(CLI::App& app, const GlobalOptions& globals);
// `renew` (src/cli/cmd_renew.cpp); reads --cert-name, --dry-run, hooks... from `flags`.
void add_renew_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags);
// `reconfigure` (src/cli/cmd_renew.cpp): renew's flags, a dry run, then the renewal conf.
void add_reconfigure_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags);
void add_account_commands(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags);
void add_certificates_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags);
// `plugins` (src/cli/cmd_plugins.cpp): the plugin registry's authenticators and installers.
void add_plugins_command(CLI::App& app);
void add_install_commands(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags);
// `migrate` (src/cli/cmd_migrate.cpp): from certbot to acmed, and back with --undo.
void add_migrate_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags);
void add_delete_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags);
void add_revoke_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags);
void add_update_symlinks_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags);
void add_doctor_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags);
// `fleet init|import|status|agent` (src/cli/cmd_fleet.cpp): lineages shared through etcd.
void add_fleet_commands(CLI::App& app, const GlobalOptions& globals);
// The fleet options (--store, --etcd-*, --fleet-*, --node-name, --challenge-dir) on the root app,
// so `fleet ...`, `renew` and cli.ini share them.
void add_fleet_options(CLI::App& app, FleetOptions& fleet);

// Defines every option and subcommand of acmed on `app`, bound to `globals` and `issue_flags`
// (which must outlive it). Every single-valued option takes the last value given.
void define_commands(CLI::App& app, GlobalOptions& globals, IssueFlags& issue_flags);

// Parses the command line and runs the chosen command; returns the exit code.
int main_impl(int argc, char** argv);

// `acmed` without a subcommand (certbot's `run`): obtain, then install with --nginx/--apache.
Status run_install_flow(const GlobalOptions& globals, IssueFlags& flags);

}  // namespace acmed::cli
