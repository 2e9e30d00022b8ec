// `acmed migrate`: flags -> app::migrate() -> one line per change.
#include "acmed/app/migrate.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"

#include <spdlog/spdlog.h>

#include <memory>

namespace acmed::cli {

namespace {

struct MigrateFlags {
  std::string from = "certbot";
  bool undo = false;
  std::string system_root = "/";
  std::string source;
  bool remove_cron = false;
};

Status run_migrate(const GlobalOptions& g, const IssueFlags& f, const MigrateFlags& mf) {
  sys::SystemClock clock;
  const app::RenewEnvironment env = renew_environment(g, clock);
  sys::RealProcessRunner runner;
  app::SchedulerSystem system{mf.system_root, &runner};
  app::MigrateRequest request{mf.from, f.dry_run, mf.undo, mf.source, mf.remove_cron};
  ACMED_TRY(std::vector<std::string> changes, app::migrate(f, request, env, system));
  const char* prefix = f.dry_run ? "would " : "";
  for (const std::string& line : changes) spdlog::info("{}{}", prefix, line);
  if (!f.dry_run)
    spdlog::info(mf.undo ? "the machine is back as it was before `acmed migrate`"
                         : "acmed renews this machine's certificates now; `acmed migrate --undo` "
                           "hands them back to " +
                               mf.from);
  return ok_status();
}

}  // namespace

void add_migrate_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags) {
  auto mf = std::make_shared<MigrateFlags>();
  auto* sub = app.add_subcommand(
      "migrate",
      "Hand the renewal of this machine's certificates to acmed. From certbot: check that every\n"
      "lineage renews under acmed (a dry run against staging, or --server), then turn off\n"
      "certbot's timer and cron job and turn on acmed.timer. From lego or acme.sh: import their\n"
      "accounts and certificates into the certbot layout (the source is only read), check them\n"
      "the same way, and turn on acmed.timer; their cron lines only with --remove-cron.\n"
      "--dry-run prints the changes; --undo reverses exactly what migrations changed.");
  sub->fallthrough();
  sub->add_option("--from", mf->from, "The client to migrate from")
      ->capture_default_str()
      ->check(CLI::IsMember({"certbot", "lego", "acme.sh"}));
  sub->add_flag("--undo", mf->undo, "Reverse the recorded migration");
  sub->add_option("--source", mf->source,
                  "lego's --path directory or acme.sh's --home (default: ~/.lego, ~/.acme.sh)");
  sub->add_flag("--remove-cron", mf->remove_cron,
                "Also comment out the cron lines that run lego or acme.sh (--undo restores them)");
  sub->add_option("--system-root", mf->system_root,
                  "Change the schedulers of the system under this directory (an image or a\n"
                  "container's root) instead of the running one")
      ->capture_default_str();
  set_body(sub, [&globals, &flags, mf] { return run_migrate(globals, flags, *mf); });
}

}  // namespace acmed::cli
