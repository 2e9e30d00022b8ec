// `acmed renew`: check every lineage (or the named ones), renew those that are due, run the hooks
// and reload the web servers once, record each lineage's outcome in its status file, and say
// what happened.
//
// Order of a run:
//   1. check, `jobs` lineages at a time: load the lineage and its status, bring the ARI answer up
//      to date (ari.hpp), decide (policy.hpp); a broken lineage is a failure of its own and does
//      not stop the others;
//   2. if anything is due: the pre hooks, once;
//   3. renew the due lineages, `jobs` at a time, each through RenewFn (which owns its own ACME
//      client); a rateLimited answer or a Retry-After defers that lineage's next attempt;
//   4. deploy hooks for each renewed lineage (in name order), then one reload of the installers,
//      then the post hooks (only if a renewal was attempted);
//   5. the summary: checked / renewed / not due / failed, with the reason of each failure, louder
//      as the failing certificate nears its expiry.
// The caller holds the store lock (store::StoreLock) for the whole run.
#pragma once

#include "acmed/renew/ari.hpp"
#include "acmed/renew/hooks.hpp"
#include "acmed/renew/policy.hpp"
#include "acmed/store/lineage.hpp"
#include "acmed/store/paths.hpp"
#include "acmed/store/status.hpp"
#include "acmed/sys/clock.hpp"
#include "acmed/sys/process.hpp"
#include "acmed/util/result.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::renew {

enum class ForceRenewal { no, yes };
enum class DryRun { no, yes };
enum class DirectoryHooks { run, skip };

struct RenewOptions {
  std::vector<std::string> cert_names;  // --cert-name (repeatable); empty: every lineage
  ForceRenewal force = ForceRenewal::no;
  DryRun dry_run = DryRun::no;  // every selected lineage is rehearsed, nothing is stored
  int jobs = 4;                 // lineages checked / renewed at the same time
  // Command-line hooks; when given they replace the lineage's stored ones (and are saved with it
  // on a successful renewal, as certbot does).
  std::optional<std::string> pre_hook;
  std::optional<std::string> post_hook;
  std::optional<std::string> deploy_hook;
  // --failed-hook: with renewal-hooks/failed/*, run once after a run that had failures (hooks.hpp).
  std::string failed_hook;
  bool run_deploy_hooks = false;  // in a dry run, run deploy hooks anyway
  // Other command-line overrides of a lineage's params (authenticator, installer, key options),
  // applied after the hooks and saved with the lineage on success, as certbot does. May be null.
  std::function<void(store::RenewalParams&)> edit_params;
  DirectoryHooks directory_hooks = DirectoryHooks::run;
  // A failing certificate with less than this left (at most a quarter of its lifetime) is an error.
  std::chrono::seconds critical_within{std::chrono::hours(24 * 7)};
};

// What the issuer is asked to do for one due lineage.
struct RenewAttempt {
  store::RenewalParams params;  // the stored params with command-line overrides applied
  std::string replaces;         // RFC 9773 section 5: ARI id of the certificate being replaced
  DryRun dry_run = DryRun::no;  // obtain a certificate, store nothing
  // Called (on the renewing thread) when the CA refused `replaces` and the order went through
  // without it; the runner then stops sending it for this certificate. May be null.
  std::function<void(std::string_view why)> replaces_refused;
  // Called with the new files and renewal conf just before they are written to the local store
  // (fleet mode publishes them to etcd first); an error leaves the store as it was. May be null.
  std::function<Status(const store::CertFiles&, const store::RenewalConf&)> before_store;
};

struct RenewedCert {
  crypto::CertInfo cert;           // the new leaf
  std::vector<std::string> names;  // its SAN DNS names then IPs
  int version = 0;                 // archive version written (0 in a dry run)
  // Not renewed here, and why (fleet mode: another node holds the lineage's lock or already
  // renewed it): the lineage is reported skipped with this reason; nothing else is filled in.
  std::string skipped;
};

// Re-issues one lineage with its stored settings (renew::issue underneath). Called from worker
// threads, one lineage per call; the function must not share an ACME client between calls.
using RenewFn = std::function<Result<RenewedCert>(const store::Lineage&, const RenewAttempt&)>;

// Reloads the web servers of the renewed lineages, once per installer kind. Not called when
// nothing was renewed or in a dry run.
using ReloadFn = std::function<Status(const std::vector<store::Lineage>&)>;

enum class LogLevel { debug, info, warning, error };
using Logger = std::function<void(LogLevel, std::string_view)>;

struct RenewContext {
  store::Paths paths;
  const sys::Clock* clock = nullptr;          // required
  sys::ProcessRunner* processes = nullptr;    // required (hooks)
  std::function<std::unique_ptr<AriLookup>()> make_ari;  // one per worker; null: no ARI
  Uniform01 uniform;                          // null: a seeded std::mt19937_64
  RenewFn renew;                              // required
  ReloadFn reload;                            // null: no installer to reload
  // Lineages with the same non-empty key are never renewed at the same time (two standalone
  // servers cannot share port 80; two nginx edits must not interleave). Null: default_serial_key.
  std::function<std::string(const store::Lineage&)> serial_key;
  Logger log;                                 // null: silent (called under a mutex)
};

enum class Outcome {
  renewed,   // a new version was written (or, in a dry run, obtained)
  not_due,
  skipped,   // autorenew = False in its conf
  failed,    // could not be checked or renewed, or is backing off after a rate limit
};

// "renewed", "not due", "skipped", "failed".
const char* to_string(Outcome outcome);

struct LineageReport {
  std::string name;
  Outcome outcome = Outcome::not_due;
  std::string reason;  // due rule / error message
  std::vector<std::string> names;  // of its current certificate (empty if it could not be read)
  std::optional<sys::TimePoint> not_after;  // of its current (or, renewed, its new) certificate
  std::optional<sys::TimePoint> next_due;
  // Not renewed, less than a third of its lifetime left and no renewal scheduled before less
  // than a sixth is left (autorenew off, a short renew_before_expiry): reported to the failed
  // hooks, once per certificate.
  bool stale = false;
  Urgency urgency = Urgency::normal;  // for failures
  bool ari_requested = false;         // an ARI request was sent for it in this run
};

// One entry of ACMED_FAILURES: a lineage the failed hooks are told about.
struct FailureAlert {
  std::string lineage;
  std::vector<std::string> names;
  std::string error;
  std::optional<sys::TimePoint> not_after;
  std::optional<sys::TimePoint> next_retry;
};

// ACMED_FAILURES: [{"lineage": ..., "domains": [...], "error": ..., "days_left": 12.5,
// "not_after": "<RFC 3339>", "next_retry": "<RFC 3339>" or null}, ...]
nlohmann::json failures_json(const std::vector<FailureAlert>& alerts, sys::TimePoint now);

struct RunSummary {
  DryRun dry_run = DryRun::no;
  sys::TimePoint started{};
  sys::TimePoint finished{};
  std::vector<LineageReport> lineages;  // in name order
  std::vector<HookFailure> hook_failures;
  std::string reload_error;             // empty when the reload worked or was not needed
  std::vector<std::string> hook_history;
  std::vector<FailureAlert> alerts;  // what the failed hooks were given (none in a dry run)
  std::string metrics_error;         // the metrics file could not be written (app layer)

  std::size_t count(Outcome outcome) const;
  std::size_t ari_requests() const;
  // No lineage failed, no hook failed, the reload worked, the metrics file was written.
  bool ok() const;
  // The closing lines: the counts, then one line per failure with its reason.
  std::vector<std::string> lines() const;
};

// `acmed renew --json`, schema version 1 (docs/user-guide.md, "JSON output"):
// {"version": 1, "dry_run": false, "ok": true, "started": "<RFC 3339>", "finished": "...",
//  "counts": {"renewed": 1, "not_due": 3, "skipped": 0, "failed": 0},
//  "lineages": [{"name", "outcome" ("renewed"|"not_due"|"skipped"|"failed"), "reason",
//                "domains", "not_after", "next_due", "urgency" ("normal"|"warning"|"critical")}],
//  "hook_failures": [{"kind": "post-hook", "hook": ..., "message": ...}],
//  "reload_error": null or text, "metrics_error": null or text, "alerts": <ACMED_FAILURES>}
nlohmann::json summary_json(const RunSummary& summary);

// Runs the renewal described above. Errc::not_found when a --cert-name does not exist, Errc::io
// when the renewal dir cannot be read; every per-lineage problem is in the summary instead.
Result<RunSummary> run_renewals(const RenewOptions& options, const RenewContext& context);

// What deciding needs of a lineage: its renewal conf and current certificate. Cheaper than
// store::load_lineage (no private key parsing, no link checks), which matters for a run over
// a thousand lineages that are not due; the full load happens before a renewal. The certificate
// is parsed only when its file differs from the one `cache` describes (then `cache` is updated).
Result<store::Lineage> load_for_check(const store::Paths& paths, const std::string& name,
                                      std::optional<store::CertCache>& cache);

// The value of `pre/post/deploy` hook for a lineage: the command-line one when given.
store::RenewalParams apply_overrides(store::RenewalParams params, const RenewOptions& options);

// The default serial_key: "" for webroot (lineages renew in parallel), "standalone:<addr>:<port>"
// for standalone, and the authenticator's name for every other one (nginx, apache, manual...).
std::string default_serial_key(const store::Lineage& lineage);

// Runs fn(i, w) for i in 0 .. n-1 on up to `jobs` threads (at least 1), w being the index of the
// thread (0 .. jobs-1) so callers can keep per-thread state; returns when all are done.
void for_each_parallel(std::size_t n, int jobs,
                       const std::function<void(std::size_t item, std::size_t worker)>& fn);

}  // namespace acmed::renew
