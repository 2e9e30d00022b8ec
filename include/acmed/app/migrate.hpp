// `acmed migrate --from certbot`: hands the renewal of this machine's lineages from certbot to
// acmed. certbot's lineages are already acmed's (same layout, same renewal confs), so what
// changes is who renews them: each lineage is first proven to renew under acmed (a dry run
// against its CA's staging directory, or --server), then certbot's timer and cron job are
// turned off and acmed.timer on. What was changed is recorded, so --undo reverses exactly that
// and an interrupted migration can be run again.
#pragma once

#include "acmed/app/renew.hpp"
#include "acmed/sys/process.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace acmed::app {

// The system whose schedulers are changed: "/" (the running one), or the root of an image or
// container (then systemctl runs with --root and nothing is started or stopped).
struct SchedulerSystem {
  std::filesystem::path root = "/";
  sys::ProcessRunner* runner = nullptr;  // runs systemctl; required
};

// What migrate changed, kept in <work-dir>/acmed/migrate.json; --undo reverses exactly this.
struct MigrationRecord {
  std::vector<std::string> disabled_timers;  // certbot's timers that were enabled
  std::vector<std::string> moved_cron;       // cron.d files renamed to NAME.disabled-by-acmed
  bool enabled_acmed_timer = false;          // acmed.timer was not enabled before
};

struct MigrateRequest {
  std::string from = "certbot";  // "lego" and "acme.sh": Errc::usage, not supported yet
  bool dry_run = false;          // print the changes; change nothing, contact no CA
  bool undo = false;
};

// Migrates (or with `undo`, reverses the recorded migration). Returns one line per change made
// (or, with dry_run, that would be made). Errc::conflict naming each lineage that would not
// renew under acmed (nothing is changed then), Errc::not_found when acmed.timer is not
// installed, Errc::usage for an unsupported `from`.
Result<std::vector<std::string>> migrate(const IssueOptions& options, const MigrateRequest& request,
                                         const RenewEnvironment& env,
                                         const SchedulerSystem& system);

}  // namespace acmed::app
