#include "acmed/app/migrate.hpp"

#include "acmed/app/foreign_store.hpp"
#include "acmed/store/account.hpp"
#include "acmed/store/delete.hpp"
#include "acmed/sys/fs.hpp"
#include "acmed/util/strings.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <system_error>
#include <type_traits>

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
  rec.imported_lineages = strings("imported_lineages");
  auto pairs = [&j](const char* key, const char* a, const char* b) {
    std::vector<std::pair<std::string, std::string>> out;
    if (j.contains(key) && j[key].is_array())
      for (const auto& v : j[key])
        if (v.is_object() && v.contains(a) && v[a].is_string() && v.contains(b) && v[b].is_string())
          out.emplace_back(v[a].get<std::string>(), v[b].get<std::string>());
    return out;
  };
  for (auto& [server, id] : pairs("imported_accounts", "server", "id"))
    rec.imported_accounts.push_back({server, id});
  for (auto& [file, line] : pairs("cron_edits", "file", "text"))
    rec.cron_edits.push_back({file, line});
  return rec;
}

Status save_record(const RenewEnvironment& env, const MigrationRecord& rec) {
  json accounts = json::array(), edits = json::array();
  for (const ImportedAccount& a : rec.imported_accounts)
    accounts.push_back({{"server", a.server}, {"id", a.id}});
  for (const CronEdit& e : rec.cron_edits) edits.push_back({{"file", e.file}, {"text", e.text}});
  json j = {{"version", 1},
            {"disabled_timers", rec.disabled_timers},
            {"moved_cron", rec.moved_cron},
            {"enabled_acmed_timer", rec.enabled_acmed_timer},
            {"imported_lineages", rec.imported_lineages},
            {"imported_accounts", accounts},
            {"cron_edits", edits}};
  ACMED_CHECK(sys::make_dirs(record_path(env).parent_path(), 0700));
  return sys::write_file_atomic(record_path(env), j.dump(2) + "\n", 0600);
}

bool record_empty(const MigrationRecord& rec) {
  return rec.disabled_timers.empty() && rec.moved_cron.empty() && !rec.enabled_acmed_timer &&
         rec.imported_lineages.empty() && rec.imported_accounts.empty() && rec.cron_edits.empty();
}

template <typename T>
void add_once(std::vector<T>& list, const std::type_identity_t<T>& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

// The lineages (all when `names` is empty) that a forced dry run (staging, or --server) does not
// renew under acmed.
Result<std::vector<std::string>> failing_lineages(const IssueOptions& options,
                                                  const RenewEnvironment& env,
                                                  const std::vector<std::string>& names) {
  IssueOptions dry = options;
  dry.dry_run = true;
  dry.force_renewal = true;
  std::vector<std::string> failed;
  std::vector<std::string> runs = names.empty() ? std::vector<std::string>{""} : names;
  for (const std::string& name : runs) {
    dry.cert_name = name;
    ACMED_TRY(renew::RunSummary summary, renew_lineages(dry, RenewSettings{}, env));
    for (const auto& lineage : summary.lineages)
      if (lineage.outcome == renew::Outcome::failed) failed.push_back(lineage.name);
  }
  return failed;
}

Error not_renewing(std::string_view what, const std::vector<std::string>& failed) {
  return Error(Errc::conflict,
               std::string(what) + ": " + std::to_string(failed.size()) +
                   " lineage(s) would not renew under acmed: " + util::join(failed, ", "),
               "see `acmed renew --dry-run --cert-name NAME -v` for each, fix it, then run "
               "`acmed migrate` again");
}

// Every lineage renews under acmed.
Status check_lineages(const IssueOptions& options, const RenewEnvironment& env) {
  ACMED_TRY(std::vector<std::string> failed, failing_lineages(options, env, {}));
  if (failed.empty()) return ok_status();
  return not_renewing("certbot's timer is left on", failed);
}

// Comments out (`disable`) or restores the crontab line of `edit`; nothing when it is already
// so (idempotent). The file keeps its owner and mode (cron refuses a crontab of another owner).
Status edit_cron(const CronEdit& edit, bool disable) {
  ACMED_TRY(std::string text, sys::read_file_limited(edit.file, std::size_t{1} << 20));
  const std::string from = disable ? edit.text : k_cron_comment + edit.text;
  const std::string to = disable ? k_cron_comment + edit.text : edit.text;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    if (text.compare(pos, nl - pos, from) == 0) {
      text.replace(pos, from.size(), to);
      return sys::write_file_atomic(edit.file, text);
    }
    pos = nl + 1;
  }
  return ok_status();
}

bool has_renewal_conf(const store::Paths& paths, const std::string& name) {
  std::error_code ec;
  return fs::exists(paths.renewal_dir() / (name + ".conf"), ec);
}

// Removes what an import put in the store (lineages, then accounts): --undo, and an import
// whose lineages do not renew. What is already gone is skipped.
Status remove_imported(const RenewEnvironment& env, MigrationRecord& rec) {
  for (const std::string& name : rec.imported_lineages) {
    if (has_renewal_conf(env.paths, name)) {
      ACMED_CHECK(store::delete_lineage(env.paths, name));
      continue;
    }
    // Killed while creating it: what it wrote is no lineage yet (the conf comes last), and only
    // this import made it (plan_import imports no name with such dirs of another's).
    std::error_code ec;
    fs::remove_all(env.paths.live_dir(name), ec);
    fs::remove_all(env.paths.archive_dir(name), ec);
  }
  for (const ImportedAccount& a : rec.imported_accounts) {
    Result<store::Account> account = store::load_account(env.paths, a.server, a.id);
    if (account) ACMED_CHECK(store::remove_account(env.paths, *account));
    // Killed while saving it: its temporary directory holds the key.
    ACMED_CHECK(store::remove_account_temporaries(env.paths, a.server, a.id));
  }
  rec.imported_lineages.clear();
  rec.imported_accounts.clear();
  return ok_status();
}

Result<std::vector<std::string>> undo(const RenewEnvironment& env, const MigrateRequest& request,
                                      const SchedulerSystem& sys) {
  ACMED_TRY(MigrationRecord rec, load_record(env));
  std::vector<std::string> done;
  if (record_empty(rec))
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
  for (const CronEdit& edit : rec.cron_edits) {
    done.push_back("restore the cron line in " + edit.file + ": " + edit.text);
    if (!request.dry_run) ACMED_CHECK(edit_cron(edit, false));
  }
  for (const std::string& name : rec.imported_lineages)
    done.push_back("remove the imported lineage " + name + " (the source store still has it)");
  for (const ImportedAccount& a : rec.imported_accounts)
    done.push_back("remove the imported account " + a.id + " of " + a.server);
  if (!request.dry_run) ACMED_CHECK(remove_imported(env, rec));
  if (!request.dry_run) {
    std::error_code ec;
    fs::remove(record_path(env), ec);
  }
  return done;
}

// The plugin and key flags given to migrate apply to every imported lineage (as they would to
// `renew`): they name the way to renew what the other client's store does not say.
struct Import {
  std::vector<const ForeignAccount*> accounts;                   // not in the store yet
  std::vector<std::pair<std::string, std::string>> account_ids;  // server -> id, all usable
  std::vector<ForeignLineage*> lineages;                         // to create
  std::vector<std::string> done;      // recorded and already in the store
  std::vector<std::string> warnings;  // left to the user
};

std::string account_id_for(const Import& imp, const std::string& server) {
  for (const auto& [s, id] : imp.account_ids)
    if (s == server) return id;
  return {};
}

Result<Import> plan_import(ForeignStore& store, const IssueOptions& options,
                           const RenewEnvironment& env, const MigrationRecord& rec) {
  Import imp;
  for (const ForeignAccount& a : store.accounts) {
    const std::string id = a.key.certbot_account_id();
    ACMED_TRY(std::vector<std::string> have, store::list_accounts(env.paths, a.server));
    if (std::find(have.begin(), have.end(), id) == have.end()) imp.accounts.push_back(&a);
    imp.account_ids.emplace_back(a.server, id);
  }
  ACMED_TRY(auto overrides, renew_param_overrides(options));
  for (ForeignLineage& lin : store.lineages) {
    const bool ours = std::find(rec.imported_lineages.begin(), rec.imported_lineages.end(),
                                lin.name) != rec.imported_lineages.end();
    if (has_renewal_conf(env.paths, lin.name)) {
      if (ours)
        imp.done.push_back(lin.name);
      else
        imp.warnings.push_back(lin.name + " (" + lin.source + ") is not imported: the store " +
                               "already has a lineage of that name");
      continue;
    }
    std::error_code ec;
    if (!ours && (fs::exists(env.paths.live_dir(lin.name), ec) ||
                  fs::exists(env.paths.archive_dir(lin.name), ec))) {
      imp.warnings.push_back(lin.name + " (" + lin.source + ") is not imported: live/" + lin.name +
                             " or archive/" + lin.name +
                             " is there without a renewal conf; move it away first");
      continue;
    }
    overrides(lin.params);
    lin.params.account = account_id_for(imp, lin.params.server);
    std::string why = lin.unmapped;
    if (!lin.params.authenticator.empty() && !lin.params.server.empty() &&
        !lin.params.account.empty())
      why.clear();
    else if (why.empty())
      why = "no account of its CA could be imported";
    if (!why.empty()) {
      imp.warnings.push_back(lin.name + " (" + lin.source + ") is not imported: " + why);
      continue;
    }
    for (const std::string& note : lin.notes) imp.warnings.push_back(note);
    imp.lineages.push_back(&lin);
  }
  for (const std::string& note : store.notes) imp.warnings.push_back(note);
  return imp;
}

Result<std::vector<std::string>> migrate_import(const IssueOptions& options,
                                                const MigrateRequest& request,
                                                const RenewEnvironment& env,
                                                const SchedulerSystem& sys) {
  const bool lego = request.from == "lego";
  fs::path source = request.source;
  if (source.empty()) {
    const char* home = std::getenv("HOME");
    source = fs::path(home && *home ? home : "/root") / (lego ? ".lego" : ".acme.sh");
  }
  std::vector<CronEntry> cron = find_cron_entries(sys.root, lego ? "lego" : "acme.sh");
  ACMED_TRY(ForeignStore store,
            lego ? read_lego_store(source, options.server, cron) : read_acmesh_store(source, cron));
  ACMED_TRY(MigrationRecord rec, load_record(env));
  ACMED_TRY(Import imp, plan_import(store, options, env, rec));
  for (const std::string& w : imp.warnings) env.log(renew::LogLevel::warning, w);
  if (imp.lineages.empty() && imp.done.empty())
    return Error(Errc::config,
                 "nothing in " + source.string() + " can be imported (" +
                     std::to_string(imp.warnings.size()) + " reason(s) above)",
                 "give migrate the flags of the authenticator to renew with, or --server URL");

  const bool acmed_on = timer_enabled(sys, k_acmed_timer);
  std::vector<std::string> plan;
  for (const ForeignAccount* a : imp.accounts)
    plan.push_back("import the account " + a->url + " (" + a->source + ")");
  for (const ForeignLineage* lin : imp.lineages)
    plan.push_back("import " + lin->name + " from " + lin->source + " (renewed with " +
                   lin->params.authenticator + ")");
  plan.push_back("check that every imported lineage renews under acmed (a dry run of each)");
  for (const CronEntry& c : store.cron) {
    if (request.remove_cron)
      plan.push_back("comment out line " + std::to_string(c.line) + " of " + c.file.string() +
                     ": " + c.text);
    else
      env.log(renew::LogLevel::warning, c.file.string() + ":" + std::to_string(c.line) +
                                            " still runs " + request.from +
                                            " (left on; `acmed migrate --from " + request.from +
                                            " --remove-cron` comments it out)");
  }
  if (!acmed_on) plan.push_back("enable " + std::string(k_acmed_timer));
  if (request.dry_run) return plan;

  // The record first, each step added before it is made (see migrate()).
  std::vector<std::string> names = imp.done;
  for (const ForeignLineage* lin : imp.lineages) {
    add_once(rec.imported_lineages, lin->name);
    names.push_back(lin->name);
  }
  for (const ForeignAccount* a : imp.accounts)
    add_once(rec.imported_accounts, ImportedAccount{a->server, a->key.certbot_account_id()});
  ACMED_CHECK(save_record(env, rec));
  for (const ForeignAccount* a : imp.accounts) {
    ACMED_CHECK(store::save_account(env.paths, a->server, a->key, a->url, a->registration,
                                    env.clock->now()));
  }
  for (ForeignLineage* lin : imp.lineages) {
    // What an interrupted earlier run left of this lineage (no conf yet, so no lineage) goes;
    // plan_import let through no live/archive dir that is not such a leftover.
    std::error_code ec;
    fs::remove_all(env.paths.live_dir(lin->name), ec);
    fs::remove_all(env.paths.archive_dir(lin->name), ec);
    store::RenewalConf conf;
    conf.params = lin->params;
    ACMED_CHECK(store::create_lineage(env.paths, lin->name, lin->files, std::move(conf)));
  }
  ACMED_TRY(std::vector<std::string> failed, failing_lineages(options, env, names));
  if (!failed.empty()) {
    // Only what this run imported goes again: lineages imported by an earlier run may be
    // renewed by acmed alone by now (their cron lines off).
    MigrationRecord now;
    for (const ForeignLineage* lin : imp.lineages) now.imported_lineages.push_back(lin->name);
    for (const ForeignAccount* a : imp.accounts)
      now.imported_accounts.push_back({a->server, a->key.certbot_account_id()});
    for (const std::string& name : now.imported_lineages) std::erase(rec.imported_lineages, name);
    for (const ImportedAccount& a : now.imported_accounts) std::erase(rec.imported_accounts, a);
    ACMED_CHECK(remove_imported(env, now));  // empties `now`
    if (record_empty(rec)) {
      std::error_code ec;
      fs::remove(record_path(env), ec);
    } else {
      ACMED_CHECK(save_record(env, rec));
    }
    return not_renewing("nothing more is imported", failed);
  }
  if (request.remove_cron) {
    for (const CronEntry& c : store.cron)
      add_once(rec.cron_edits, CronEdit{c.file.string(), c.text});
    ACMED_CHECK(save_record(env, rec));
    for (const CronEdit& e : rec.cron_edits) ACMED_CHECK(edit_cron(e, true));
  }
  if (!acmed_on) {
    rec.enabled_acmed_timer = true;
    ACMED_CHECK(save_record(env, rec));
    ACMED_CHECK(systemctl(sys, "enable", k_acmed_timer));
  }
  plan.erase(std::find(plan.begin(), plan.end(),
                       "check that every imported lineage renews under acmed (a dry run of each)"));
  return plan;
}

}  // namespace

Result<std::vector<std::string>> migrate(const IssueOptions& options, const MigrateRequest& request,
                                         const RenewEnvironment& env, const SchedulerSystem& sys) {
  if (request.from != "certbot" && request.from != "lego" && request.from != "acme.sh")
    return Error(Errc::usage, "migrate --from " + request.from + ": not a client acmed knows",
                 "use --from certbot, lego or acme.sh");
  if (request.undo) return undo(env, request, sys);
  if (!unit_installed(sys, k_acmed_timer))
    return Error(Errc::not_found, "acmed.timer is not installed on this system",
                 "install the acmed package, or `cmake --install` the build, then migrate");
  if (request.from != "certbot") return migrate_import(options, request, env, sys);

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
