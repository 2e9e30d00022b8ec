// `acmed migrate [--from certbot|lego|acme.sh]`: hands the renewal of this machine's lineages to
// acmed. certbot's lineages are already acmed's (same layout, same renewal confs), so what
// changes is who renews them: each lineage is first proven to renew under acmed (a dry run
// against its CA's staging directory, or --server), then certbot's timer and cron job are
// turned off and acmed.timer on. What was changed is recorded, so --undo reverses exactly that
// and an interrupted migration can be run again.
//
// lego and acme.sh: their accounts and certificates are imported into the certbot layout (the
// source store is only read), each with a renewal conf that renews it the way it was obtained
// where acmed has that way (foreign_store.hpp); each imported lineage must then pass the same
// dry run, else everything imported is removed again. Their cron lines are commented out only
// with remove_cron. --undo removes what was imported and restores the cron lines.
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

// A crontab line migrate commented out (k_cron_comment in front of `text`).
struct CronEdit {
  std::string file;
  std::string text;
  bool operator==(const CronEdit&) const = default;
};

// An account migrate imported (it was not in the store before).
struct ImportedAccount {
  std::string server;
  std::string id;
  bool operator==(const ImportedAccount&) const = default;
};

// What migrate changed, kept in <work-dir>/acmed/migrate.json; --undo reverses exactly this.
struct MigrationRecord {
  std::vector<std::string> disabled_timers;  // certbot's timers that were enabled
  std::vector<std::string> moved_cron;       // cron.d files renamed to NAME.disabled-by-acmed
  bool enabled_acmed_timer = false;          // acmed.timer was not enabled before
  // --from lego / acme.sh: what was imported into the store, and the cron lines turned off.
  std::vector<std::string> imported_lineages;
  std::vector<ImportedAccount> imported_accounts;
  std::vector<CronEdit> cron_edits;
};

// What a commented-out crontab line starts with.
inline constexpr const char* k_cron_comment = "#disabled-by-acmed-migrate# ";

struct MigrateRequest {
  std::string from = "certbot";  // "certbot", "lego" or "acme.sh"
  bool dry_run = false;          // print the changes; change nothing, contact no CA
  bool undo = false;
  // lego / acme.sh: their store (lego's --path, acme.sh's --home), and whether to comment out
  // their cron lines (by default they are left on: the two clients then both renew, which is
  // safe, until the user turns the other one off).
  std::filesystem::path source;
  bool remove_cron = false;
};

// Migrates (or with `undo`, reverses the recorded migration). Returns one line per change made
// (or, with dry_run, that would be made). Errc::conflict naming each lineage that would not
// renew under acmed (nothing is changed then), Errc::not_found when acmed.timer is not
// installed, Errc::not_found when the lego / acme.sh store is not there, Errc::config when it
// holds nothing acmed can import (each reason named).
Result<std::vector<std::string>> migrate(const IssueOptions& options, const MigrateRequest& request,
                                         const RenewEnvironment& env,
                                         const SchedulerSystem& system);

}  // namespace acmed::app
