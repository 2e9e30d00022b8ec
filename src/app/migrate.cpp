#include "acmed/app/migrate.hpp"

#include "acmed/sys/fs.hpp"
#include "acmed/util/strings.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <system_error>

namespace acmed::app {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// certbot's schedulers: Debian's package (timer + a cron file that runs only without systemd)
// and the snap's timer.
constexpr const char* k_certbot_timers[] = {"certbot.timer", "snap.certbot.renew.timer"};
constexpr const char* k_certbot_cron = "certbot";
constexpr const char* k_cron_suffix = ".disabled-by-acmed";  // cron ignores names with a dot
constexpr const char* k_acmed_timer = "acmed.timer";

fs::path under(const SchedulerSystem& sys, const fs::path& absolute) {
  return sys.root / absolute.relative_path();
}

// A timer is enabled when its WantedBy=timers.target link exists. The link itself: under
// another root its target is absolute in that root, not in ours.
bool timer_enabled(const SchedulerSystem& sys, const std::string& unit) {
  std::error_code ec;
  return fs::exists(
      fs::symlink_status(under(sys, "/etc/systemd/system/timers.target.wants") / unit, ec));
}

bool unit_installed(const SchedulerSystem& sys, const std::string& unit) {
  for (const char* dir : {"/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system",
                          "/usr/local/lib/systemd/system"}) {
    std::error_code ec;
    if (fs::exists(under(sys, dir) / unit, ec)) return true;
  }
  return false;
}

bool live_system(const SchedulerSystem& sys) {
  std::error_code ec;
  return sys.root == "/" && fs::is_directory("/run/systemd/system", ec);
}

// systemctl enable|disable UNIT (with --root for another system; started or stopped too when
// this system runs systemd).
Status systemctl(const SchedulerSystem& sys, const std::string& verb, const std::string& unit) {
  std::vector<std::string> argv{"systemctl", "--quiet"};
  if (sys.root != "/") argv.push_back("--root=" + sys.root.string());
  argv.push_back(verb);
  if (live_system(sys)) argv.push_back("--now");
  argv.push_back(unit);
  ACMED_TRY(sys::ProcessResult r, sys.runner->run(argv, {}));
  if (r.exit_code != 0)
    return Error(Errc::server,
                 "systemctl " + verb + " " + unit + " failed (exit " + std::to_string(r.exit_code) +
                     "): " + r.err,
                 "run it by hand, then `acmed migrate` again");
  return ok_status();
}

fs::path record_path(const RenewEnvironment& env) {
  return env.paths.work_dir / "acmed" / "migrate.json";
}

Result<MigrationRecord> load_record(const RenewEnvironment& env) {
  MigrationRecord rec;
  std::error_code ec;
  if (!fs::exists(record_path(env), ec)) return rec;
  ACMED_TRY(std::string text, sys::read_file_limited(record_path(env), 1 << 16));
  json j = json::parse(text, nullptr, false);
  auto strings = [&j](const char* key) {
    std::vector<std::string> out;
    if (j.is_object() && j.contains(key) && j[key].is_array())
      for (const auto& v : j[key])
        if (v.is_string()) out.push_back(v.get<std::string>());
    return out;
  };
  if (!j.is_object())
    return Error(Errc::config, record_path(env).string() + " is not a migration record",
                 "move it away; `acmed migrate --undo` then has nothing to undo");
  rec.disabled_timers = strings("disabled_timers");
  rec.moved_cron = strings("moved_cron");
  rec.enabled_acmed_timer = j.value("enabled_acmed_timer", false);
  return rec;
}

Status save_record(const RenewEnvironment& env, const MigrationRecord& rec) {
  json j = {{"version", 1},
            {"from", "certbot"},
            {"disabled_timers", rec.disabled_timers},
            {"moved_cron", rec.moved_cron},
            {"enabled_acmed_timer", rec.enabled_acmed_timer}};
  ACMED_CHECK(sys::make_dirs(record_path(env).parent_path(), 0700));
  return sys::write_file_atomic(record_path(env), j.dump(2) + "\n", 0600);
}

void add_once(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

// Every lineage renews under acmed: a forced dry run of each (staging, or --server).
Status check_lineages(const IssueOptions& options, const RenewEnvironment& env) {
  IssueOptions dry = options;
  dry.dry_run = true;
  dry.force_renewal = true;
  ACMED_TRY(renew::RunSummary summary, renew_lineages(dry, RenewSettings{}, env));
  if (summary.ok()) return ok_status();
  std::vector<std::string> failed;
  for (const auto& lineage : summary.lineages)
    if (lineage.outcome == renew::Outcome::failed) failed.push_back(lineage.name);
  return Error(Errc::conflict,
               "certbot's timer is left on: " + std::to_string(failed.size()) +
                   " lineage(s) would not renew under acmed: " + util::join(failed, ", "),
               "see `acmed renew --dry-run --cert-name NAME -v` for each, fix it, then run "
               "`acmed migrate` again");
}

Result<std::vector<std::string>> undo(const RenewEnvironment& env, const MigrateRequest& request,
                                      const SchedulerSystem& sys) {
  ACMED_TRY(MigrationRecord rec, load_record(env));
  std::vector<std::string> done;
  if (rec.disabled_timers.empty() && rec.moved_cron.empty() && !rec.enabled_acmed_timer)
    return Error(Errc::not_found, "there is no migration to undo (" + record_path(env).string() +
                                      " does not exist)");
  if (rec.enabled_acmed_timer) {
    done.push_back("disable " + std::string(k_acmed_timer));
    if (!request.dry_run) ACMED_CHECK(systemctl(sys, "disable", k_acmed_timer));
  }
  for (const std::string& name : rec.moved_cron) {
    fs::path to = under(sys, "/etc/cron.d") / name;
    fs::path from = to;
    from += k_cron_suffix;
    std::error_code ec;
    if (!fs::exists(from, ec)) continue;
    done.push_back("move " + from.string() + " back to " + to.string());
    if (!request.dry_run) {
      fs::rename(from, to, ec);
      if (ec) return Error(Errc::io, "cannot move " + from.string() + " back: " + ec.message());
    }
  }
  for (const std::string& unit : rec.disabled_timers) {
    done.push_back("enable " + unit);
    if (!request.dry_run) ACMED_CHECK(systemctl(sys, "enable", unit));
  }
  if (!request.dry_run) {
    std::error_code ec;
    fs::remove(record_path(env), ec);
  }
  return done;
}

}  // namespace

Result<std::vector<std::string>> migrate(const IssueOptions& options, const MigrateRequest& request,
                                         const RenewEnvironment& env, const SchedulerSystem& sys) {
  if (request.from != "certbot")
    return Error(Errc::usage, "migrate --from " + request.from + " is not supported yet",
                 "acmed migrates from certbot; lego and acme.sh stores are not imported yet");
  if (request.undo) return undo(env, request, sys);
  if (!unit_installed(sys, k_acmed_timer))
    return Error(Errc::not_found, "acmed.timer is not installed on this system",
                 "install the acmed package, or `cmake --install` the build, then migrate");

  std::vector<std::string> timers;
  for (const char* unit : k_certbot_timers)
    if (timer_enabled(sys, unit)) timers.push_back(unit);
  std::error_code ec;
  const fs::path cron = under(sys, "/etc/cron.d") / k_certbot_cron;
  const bool has_cron = fs::exists(cron, ec);
  const bool acmed_on = timer_enabled(sys, k_acmed_timer);

  std::vector<std::string> plan;
  plan.push_back("check that every lineage renews under acmed (a dry run of each)");
  for (const std::string& t : timers) plan.push_back("disable " + t);
  if (has_cron) plan.push_back("move " + cron.string() + " to " + cron.string() + k_cron_suffix);
  if (!acmed_on) plan.push_back("enable " + std::string(k_acmed_timer));
  if (request.dry_run) return plan;

  ACMED_CHECK(check_lineages(options, env));
  // The record first, each step added before it is made: an interrupted run leaves a record
  // that --undo can reverse, and a second run makes the rest (every step is idempotent).
  ACMED_TRY(MigrationRecord rec, load_record(env));
  for (const std::string& t : timers) add_once(rec.disabled_timers, t);
  if (has_cron) add_once(rec.moved_cron, k_certbot_cron);
  if (!acmed_on) rec.enabled_acmed_timer = true;
  ACMED_CHECK(save_record(env, rec));
  for (const std::string& t : timers) ACMED_CHECK(systemctl(sys, "disable", t));
  if (has_cron) {
    fs::path to = cron;
    to += k_cron_suffix;
    fs::rename(cron, to, ec);
    if (ec) return Error(Errc::io, "cannot move " + cron.string() + " aside: " + ec.message());
  }
  if (!acmed_on) ACMED_CHECK(systemctl(sys, "enable", k_acmed_timer));
  plan.erase(plan.begin());
  plan.insert(plan.begin(), "every lineage renews under acmed (dry run)");
  return plan;
}

}  // namespace acmed::app
