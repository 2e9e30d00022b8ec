#include "acmed/renew/runner.hpp"

#include "acmed/acme/messages.hpp"
#include "acmed/store/status.hpp"
#include "acmed/sys/fs.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <random>
#include <thread>

namespace acmed::renew {

namespace {

using std::chrono::seconds;

// Backoff after a rateLimited answer without Retry-After: 1 h, 2 h, 4 h, ... capped at a day.
seconds rate_limit_backoff(int failures) {
  int shift = std::clamp(failures - 1, 0, 5);
  return std::min(seconds(3600) * (1 << shift), seconds(24 * 3600));
}

std::string urgency_text(Urgency u, const crypto::CertInfo& cert, sys::TimePoint now) {
  auto left = std::chrono::duration_cast<seconds>(cert.not_after - now);
  std::string when = left > seconds::zero() ? "expires in " + format_duration(left)
                                            : "EXPIRED " + format_duration(-left) + " ago";
  switch (u) {
    case Urgency::normal: return "the certificate " + when;
    case Urgency::warning: return "the certificate " + when + "; renewal keeps failing";
    case Urgency::critical: return "CRITICAL: the certificate " + when + "; fix this now";
  }
  return when;
}

// See LineageReport::stale.
bool goes_stale(const crypto::CertInfo& cert, Outcome outcome,
                const std::optional<sys::TimePoint>& next_due, sys::TimePoint now) {
  auto lifetime = cert.not_after - cert.not_before;
  if (lifetime <= sys::TimePoint::duration::zero() || cert.not_after - now >= lifetime / 3) {
    return false;
  }
  if (outcome == Outcome::skipped) return true;
  return outcome == Outcome::not_due && (!next_due || cert.not_after - *next_due < lifetime / 6);
}

// Everything the run knows about one lineage.
struct Work {
  std::string name;
  std::optional<store::Lineage> lineage;
  store::LineageStatus status;
  store::LineageStatus loaded;  // as read from its file, to skip writing it back unchanged
  std::optional<seconds> renew_before_expiry;
  bool due = false;
  std::string cert_id;  // RFC 9773 id of the current certificate ("" without an AKI)
  std::string replaces;
  std::optional<RenewedCert> renewed;
  LineageReport report;
};

class Run {
 public:
  Run(const RenewOptions& options, const RenewContext& context)
      : m_opt(options), m_ctx(context), m_now(context.clock->now()) {
    if (m_ctx.uniform) {
      m_uniform = m_ctx.uniform;
    } else {
      m_rng.seed(std::random_device{}());
      m_uniform = [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(m_rng); };
    }
  }

  Result<RunSummary> execute();

 private:
  bool dry() const { return m_opt.dry_run == DryRun::yes; }
  bool forced() const { return m_opt.force == ForceRenewal::yes; }
  void log(LogLevel level, const std::string& text);
  void check(Work& w, std::size_t worker);
  void renew(Work& w);
  void fail(Work& w, const Error& error, std::string_view what);
  void save(Work& w);
  void save_if_changed(Work& w);
  void record_check_failure(Work& w);
  void note_stale(Work& w);
  void run_failed_hooks(RunSummary& summary, HookRunner& hooks);

  const RenewOptions& m_opt;
  const RenewContext& m_ctx;
  sys::TimePoint m_now;
  std::mutex m_log_mutex;
  std::mutex m_rng_mutex;
  std::mt19937_64 m_rng;
  Uniform01 m_uniform;
  std::vector<std::unique_ptr<AriLookup>> m_lookups;  // one per worker, made on first use
  std::mutex m_serial_mutex;
  std::map<std::string, std::unique_ptr<std::mutex>> m_serial;  // serial_key -> its lock
};

void Run::log(LogLevel level, const std::string& text) {
  if (!m_ctx.log) return;
  std::lock_guard lock(m_log_mutex);
  m_ctx.log(level, text);
}

void Run::save(Work& w) {
  if (dry()) return;  // a rehearsal changes nothing, not even the bookkeeping
  if (auto saved = store::save_status(m_ctx.paths, w.name, w.status); !saved) {
    log(LogLevel::warning, w.name + ": cannot record its status: " + saved.error().describe());
  }
}

// A not-due check changes only last_checked, which record_check_times() keeps for the whole run
// in one file: rewriting a thousand status files would cost a thousand file creations.
void Run::save_if_changed(Work& w) {
  store::LineageStatus before = w.loaded;
  before.last_checked = w.status.last_checked;
  if (before != w.status) save(w);
}

void Run::fail(Work& w, const Error& error, std::string_view what) {
  w.report.outcome = Outcome::failed;
  w.report.reason = std::string(what) + ": " + error.describe();
  if (!error.hint.empty()) w.report.reason += " (" + error.hint + ")";
}

void Run::record_check_failure(Work& w) {
  w.status.last_checked = m_now;
  w.status.last_error = w.report.reason;
  w.status.failure_count += 1;
  w.status.next_due = m_now;
  save(w);
}

// A lineage that went stale is told to the failed hooks once per certificate (stale_alerted).
void Run::note_stale(Work& w) {
  const store::Lineage& lin = *w.lineage;
  if (!goes_stale(lin.cert, w.report.outcome, w.report.next_due, m_now)) return;
  if (w.status.stale_alerted == lin.cert.sha256_fingerprint) return;
  w.report.stale = true;
  if (!dry()) w.status.stale_alerted = lin.cert.sha256_fingerprint;
}

void Run::check(Work& w, std::size_t worker) {
  w.report.name = w.name;
  auto status = store::load_status(m_ctx.paths, w.name);
  if (status) {
    w.status = std::move(*status);
    w.loaded = w.status;
  } else {
    log(LogLevel::warning, w.name + ": ignoring its unreadable status file: " +
                               status.error().describe());
  }
  auto lineage = load_for_check(m_ctx.paths, w.name, w.status.cert);
  if (!lineage) {
    fail(w, lineage.error(), "cannot load the lineage");
    record_check_failure(w);
    return;
  }
  w.lineage = std::move(*lineage);
  const store::Lineage& lin = *w.lineage;
  w.report.names = lin.names;
  w.report.not_after = lin.cert.not_after;
  if (auto renewable = lin.conf.check_renewable(); !renewable) {
    fail(w, renewable.error(), "cannot be renewed");
    record_check_failure(w);
    return;
  }
  if (!lin.conf.renew_before_expiry.empty()) {
    auto rbe = store::parse_interval(lin.conf.renew_before_expiry);
    if (!rbe) {
      fail(w, std::move(rbe).error().with_context("while reading " + lin.conf_path.string()),
           "bad renew_before_expiry");
      record_check_failure(w);
      return;
    }
    w.renew_before_expiry = *rbe;
  }
  if (lin.conf.params.autorenew == false && !forced() && !dry()) {
    w.report.outcome = Outcome::skipped;
    w.report.reason = "autorenew is False in " + lin.conf_path.string();
    note_stale(w);
    save_if_changed(w);
    return;
  }

  std::string cert_id;
  if (auto id = crypto::ari_cert_id(lin.cert); id) cert_id = *id;
  w.cert_id = cert_id;

  // A rateLimited answer or a Retry-After defers the next attempt (unless forced).
  if (!forced() && !dry() && w.status.failure_count > 0 && !w.status.last_error.empty() &&
      w.status.next_due && *w.status.next_due > m_now) {
    w.report.outcome = Outcome::failed;
    w.report.next_due = w.status.next_due;
    w.report.reason = "backing off until " + sys::format_rfc3339(*w.status.next_due) +
                      " after: " + w.status.last_error;
    w.report.urgency = failure_urgency(lin.cert, m_now, m_opt.critical_within);
    return;
  }

  // An expired certificate renews at once: no ARI answer is needed for that, and `replaces`
  // (about a certificate the CA may have forgotten) could only get the order refused.
  if (m_now >= lin.cert.not_after) {
    w.status.last_checked = m_now;
    w.status.next_due = lin.cert.not_after;
    w.report.next_due = lin.cert.not_after;
    w.due = true;
    w.report.reason =
        "expired " +
        format_duration(std::chrono::duration_cast<seconds>(m_now - lin.cert.not_after)) +
        " ago; renewing now";
    log(LogLevel::warning, w.name + ": " + w.report.reason);
    return;
  }

  std::optional<store::AriState> usable;
  if (!forced() && !dry() && m_ctx.make_ari && !cert_id.empty()) {
    if (!m_lookups[worker]) m_lookups[worker] = m_ctx.make_ari();
    Uniform01 uniform = [this] {
      std::lock_guard lock(m_rng_mutex);
      return m_uniform();
    };
    AriResult ari = refresh_ari(lin, cert_id, w.status.ari, m_now, *m_lookups[worker], uniform);
    w.report.ari_requested = ari.requested;
    if (!ari.note.empty()) {
      bool trouble = !ari.usable && ari.requested && ari.state == std::nullopt;
      log(trouble ? LogLevel::warning : LogLevel::debug, w.name + ": " + ari.note);
      if (ari.usable && ari.requested && !ari.state->explanation_url.empty()) {
        log(LogLevel::info, w.name + ": " + ari.note);
      }
    }
    w.status.ari = ari.state;
    if (ari.usable) usable = ari.state;
  } else if (w.status.ari && w.status.ari->cert_id == cert_id && w.status.ari->chosen_time) {
    usable = w.status.ari;  // known from an earlier run: still worth sending `replaces`
  }
  // RFC 9773 section 5: `replaces` only for a certificate the CA told us about, and not again
  // once the CA refused it for this certificate.
  if (usable && w.status.replaces_refused != cert_id) w.replaces = cert_id;

  Decision decision = decide(lin.cert, w.renew_before_expiry, usable, m_now);
  w.status.last_checked = m_now;
  w.status.next_due = decision.due_at;
  w.report.next_due = decision.due_at;
  if (forced() || dry() || decision.due) {
    w.due = true;
    w.report.reason = forced() ? "forced" : dry() ? "dry run" : decision.reason;
    log(LogLevel::info, w.name + ": " + w.report.reason);
    return;
  }
  w.report.outcome = Outcome::not_due;
  w.report.reason = decision.reason;
  log(LogLevel::debug, w.name + ": " + decision.reason);
  note_stale(w);
  save_if_changed(w);
}

void Run::renew(Work& w) {
  // The check read only the conf and the certificate; renewing needs the whole lineage, checked
  // (versions, links, key matching the certificate) by the store.
  auto full = store::load_lineage(m_ctx.paths, w.name);
  if (!full) {
    fail(w, full.error(), "cannot load the lineage");
    record_check_failure(w);
    return;
  }
  w.lineage = std::move(*full);
  const store::Lineage& lin = *w.lineage;
  RenewAttempt attempt;
  attempt.params = apply_overrides(lin.conf.params, m_opt);
  attempt.replaces = w.replaces;
  attempt.dry_run = m_opt.dry_run;
  attempt.replaces_refused = [this, &w](std::string_view why) {
    log(LogLevel::warning, w.name + ": the CA refused `replaces` (" + std::string(why) +
                               "); ordered without it and will not send it again for " + w.cert_id);
    w.status.replaces_refused = w.cert_id;
  };
  log(LogLevel::info, w.name + ": renewing" + (dry() ? " (dry run)" : "") +
                          (attempt.replaces.empty() ? "" : ", replacing " + attempt.replaces));
  std::string key = m_ctx.serial_key ? m_ctx.serial_key(lin) : default_serial_key(lin);
  std::unique_lock<std::mutex> serial;
  if (!key.empty()) {
    std::mutex* m = nullptr;
    {
      std::lock_guard lock(m_serial_mutex);
      auto& slot = m_serial[key];
      if (!slot) slot = std::make_unique<std::mutex>();
      m = slot.get();
    }
    serial = std::unique_lock<std::mutex>(*m);
  }
  // (alreadyReplaced is handled by the ACME client: it orders again without `replaces`.)
  w.status.last_attempt = m_ctx.clock->now();
  auto result = m_ctx.renew(lin, attempt);
  if (serial.owns_lock()) serial.unlock();
  sys::TimePoint now = m_ctx.clock->now();
  if (!result) {
    const Error& error = result.error();
    fail(w, error, "renewal failed");
    w.status.failure_count += 1;
    w.status.last_error = error.describe();
    auto retry = acme::retry_after(error);
    if (retry) {
      w.status.next_due = now + *retry;
    } else if (error.code == Errc::rate_limited) {
      w.status.next_due = now + rate_limit_backoff(w.status.failure_count);
    } else {
      w.status.next_due = now;  // try again at the next run
    }
    w.report.next_due = w.status.next_due;
    w.report.urgency = failure_urgency(lin.cert, now, m_opt.critical_within);
    save(w);
    return;
  }
  if (!result->skipped.empty()) {
    w.report.outcome = Outcome::skipped;
    w.report.reason = std::move(result->skipped);
    log(LogLevel::info, w.name + ": skipped: " + w.report.reason);
    return;
  }
  w.renewed = std::move(*result);
  w.report.outcome = Outcome::renewed;
  w.report.names = w.renewed->names;
  w.report.not_after = w.renewed->cert.not_after;
  sys::TimePoint next = lifetime_due_time(w.renewed->cert, w.renew_before_expiry);
  w.report.next_due = next;
  w.report.reason = dry() ? "dry run: a test certificate was obtained and discarded"
                          : "version " + std::to_string(w.renewed->version) +
                                " written; expires " +
                                sys::format_rfc3339(w.renewed->cert.not_after);
  w.status.last_checked = now;
  w.status.last_renewed = now;
  w.status.last_error.clear();
  w.status.failure_count = 0;
  w.status.ari.reset();  // that answer was about the old certificate
  w.status.replaces_refused.clear();
  w.status.cert.reset();  // read again from the new file at the next check
  w.status.next_due = next;
  save(w);
}

Result<RunSummary> Run::execute() {
  std::vector<std::string> names;
  if (m_opt.cert_names.empty()) {
    ACMED_TRY(names, store::lineage_names(m_ctx.paths));
  } else {
    for (const auto& name : m_opt.cert_names) {
      std::error_code ec;
      if (!std::filesystem::exists(m_ctx.paths.renewal_conf(name), ec)) {
        return Error(Errc::not_found, "no certificate named '" + name + "' (no " +
                                          m_ctx.paths.renewal_conf(name).string() + ")",
                     "`acmed certificates` lists the names");
      }
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
    std::sort(names.begin(), names.end());
  }

  // A lineage that is due or failed keeps its Work for the later steps; of the others only the
  // report is kept, so memory does not grow with the number of lineages that are not due.
  std::vector<std::unique_ptr<Work>> work(names.size());
  std::vector<LineageReport> reports(names.size());
  int jobs = std::max(1, m_opt.jobs);
  m_lookups.resize(static_cast<std::size_t>(jobs));
  for_each_parallel(names.size(), jobs, [&](std::size_t i, std::size_t worker) {
    auto w = std::make_unique<Work>();
    w->name = names[i];
    check(*w, worker);
    if (w->due || w->report.outcome == Outcome::failed) {
      work[i] = std::move(w);
    } else {
      reports[i] = std::move(w->report);
    }
  });
  m_lookups.clear();
  if (!dry()) {
    store::CheckTimes checked;
    for (const auto& name : names) checked.emplace(name, m_now);
    if (auto saved = store::record_check_times(m_ctx.paths, checked); !saved) {
      log(LogLevel::warning, "cannot record when lineages were checked: " +
                                 saved.error().describe());
    }
  }

  RunSummary summary;
  summary.dry_run = m_opt.dry_run;
  summary.started = m_now;
  HookRunner hooks(m_ctx.paths.config_dir, *m_ctx.processes,
                   [this](HookLogLevel level, std::string_view text) {
                     log(level == HookLogLevel::warning ? LogLevel::warning : LogLevel::info,
                         std::string(text));
                   },
                   m_opt.directory_hooks == DirectoryHooks::run);

  std::vector<Work*> due;
  for (auto& w : work) {
    if (w && w->due) due.push_back(w.get());
  }
  if (!due.empty()) {
    // Pre hooks once, before the first renewal (certbot runs them lazily for the same reason:
    // a run with nothing to renew must not stop the web server).
    for (Work* w : due) {
      hooks.run_pre(apply_overrides(w->lineage->conf.params, m_opt).pre_hook);
    }
    for_each_parallel(due.size(), jobs, [&](std::size_t i, std::size_t) { renew(*due[i]); });

    bool deploy = !dry() || m_opt.run_deploy_hooks;
    std::vector<store::Lineage> renewed;
    for (Work* w : due) {
      if (!w->renewed) continue;
      // Reloaded with the installer the lineage now has (renew -i changes it).
      renewed.push_back(*w->lineage);
      renewed.back().conf.params = apply_overrides(renewed.back().conf.params, m_opt);
      if (deploy) {
        hooks.run_deploy(apply_overrides(w->lineage->conf.params, m_opt).deploy_hook,
                         m_ctx.paths.live_dir(w->name), w->renewed->names);
      }
    }
    if (!renewed.empty() && !dry() && m_ctx.reload) {
      if (auto reloaded = m_ctx.reload(renewed); !reloaded) {
        summary.reload_error = reloaded.error().describe();
        log(LogLevel::error, "reloading the web server failed: " + summary.reload_error);
      }
    }
    std::vector<std::string> renewed_names, failed_names;
    for (Work* w : due) {
      hooks.add_post(apply_overrides(w->lineage->conf.params, m_opt).post_hook);
      auto& into = w->renewed ? renewed_names : failed_names;
      into.insert(into.end(), w->lineage->names.begin(), w->lineage->names.end());
    }
    hooks.run_post(renewed_names, failed_names);
  }

  summary.lineages.reserve(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!work[i]) {
      summary.lineages.push_back(std::move(reports[i]));
      continue;
    }
    Work& w = *work[i];
    if (w.report.outcome == Outcome::failed) {
      std::string line = w.name + ": " + w.report.reason;
      if (w.lineage) {
        line += "; " + urgency_text(w.report.urgency, w.lineage->cert, m_now);
      }
      log(w.report.urgency == Urgency::critical ? LogLevel::error : LogLevel::warning, line);
    } else if (w.report.outcome == Outcome::renewed) {
      log(LogLevel::info, w.name + ": renewed: " + w.report.reason);
    }
    summary.lineages.push_back(std::move(w.report));
  }
  if (!dry()) run_failed_hooks(summary, hooks);
  summary.hook_failures = hooks.failures();
  summary.hook_history = hooks.history();
  summary.finished = m_ctx.clock->now();
  return summary;
}

void Run::run_failed_hooks(RunSummary& summary, HookRunner& hooks) {
  for (const auto& l : summary.lineages) {
    std::string error;
    if (l.outcome == Outcome::failed) {
      error = l.reason;
    } else if (l.outcome == Outcome::renewed && !summary.reload_error.empty()) {
      error = "renewed, but the web server was not reloaded: " + summary.reload_error;
    } else if (l.stale) {
      error = "not renewed with less than a third of its lifetime left: " + l.reason;
    } else {
      continue;
    }
    summary.alerts.push_back({l.name, l.names, std::move(error), l.not_after, l.next_due});
  }
  if (summary.alerts.empty()) return;
  std::vector<std::string> lineages, domains;
  for (const auto& a : summary.alerts) {
    lineages.push_back(a.lineage);
    domains.insert(domains.end(), a.names.begin(), a.names.end());
  }
  hooks.run_failed(m_opt.failed_hook, lineages, domains,
                   failures_json(summary.alerts, m_now)
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

Result<store::Lineage> load_for_check(const store::Paths& paths, const std::string& name,
                                      std::optional<store::CertCache>& cache) {
  store::Lineage lin;
  lin.name = name;
  lin.conf_path = paths.renewal_conf(name);
  ACMED_TRY(lin.conf, store::read_renewal_conf(paths, name));
  std::filesystem::path cert_path = paths.live_dir(name) / "cert.pem";
  auto stamp = sys::stamp_file(cert_path);
  if (!stamp) return std::move(stamp).error().with_context("while reading lineage " + name);
  if (cache && cache->file == *stamp) {
    lin.cert = cache->info;
  } else {
    auto pem = sys::read_file(cert_path);
    if (!pem) return std::move(pem).error().with_context("while reading lineage " + name);
    auto cert = crypto::parse_certificate(*pem);
    if (!cert) return std::move(cert).error().with_context("while reading " + cert_path.string());
    lin.cert = std::move(*cert);
    cache = store::CertCache{*stamp, lin.cert};
  }
  lin.names = lin.cert.dns_names;
  lin.names.insert(lin.names.end(), lin.cert.ips.begin(), lin.cert.ips.end());
  return lin;
}

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::renewed: return "renewed";
    case Outcome::not_due: return "not due";
    case Outcome::skipped: return "skipped";
    case Outcome::failed: return "failed";
  }
  return "?";
}

std::size_t RunSummary::count(Outcome outcome) const {
  return static_cast<std::size_t>(std::count_if(
      lineages.begin(), lineages.end(), [&](const auto& l) { return l.outcome == outcome; }));
}

std::size_t RunSummary::ari_requests() const {
  return static_cast<std::size_t>(std::count_if(lineages.begin(), lineages.end(),
                                                [](const auto& l) { return l.ari_requested; }));
}

bool RunSummary::ok() const {
  return count(Outcome::failed) == 0 && hook_failures.empty() && reload_error.empty() &&
         metrics_error.empty();
}

nlohmann::json failures_json(const std::vector<FailureAlert>& alerts, sys::TimePoint now) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& a : alerts) {
    nlohmann::json j = {{"lineage", a.lineage}, {"domains", a.names}, {"error", a.error}};
    if (a.not_after) {
      double days = std::chrono::duration<double>(*a.not_after - now).count() / 86400.0;
      j["days_left"] = std::round(days * 10.0) / 10.0;
      j["not_after"] = sys::format_rfc3339(*a.not_after);
    } else {
      j["days_left"] = nullptr;
      j["not_after"] = nullptr;
    }
    j["next_retry"] = a.next_retry ? nlohmann::json(sys::format_rfc3339(*a.next_retry)) : nullptr;
    list.push_back(std::move(j));
  }
  return list;
}

namespace {
nlohmann::json time_or_null(const std::optional<sys::TimePoint>& t) {
  return t ? nlohmann::json(sys::format_rfc3339(*t)) : nlohmann::json(nullptr);
}
nlohmann::json text_or_null(const std::string& text) {
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}
const char* outcome_id(Outcome o) {
  return o == Outcome::not_due ? "not_due" : to_string(o);
}
}  // namespace

nlohmann::json summary_json(const RunSummary& s) {
  nlohmann::json lineages = nlohmann::json::array();
  for (const auto& l : s.lineages) {
    const char* urgency = l.urgency == Urgency::critical  ? "critical"
                          : l.urgency == Urgency::warning ? "warning"
                                                          : "normal";
    lineages.push_back({{"name", l.name},
                        {"outcome", outcome_id(l.outcome)},
                        {"reason", l.reason},
                        {"domains", l.names},
                        {"not_after", time_or_null(l.not_after)},
                        {"next_due", time_or_null(l.next_due)},
                        {"urgency", urgency}});
  }
  nlohmann::json hooks = nlohmann::json::array();
  for (const auto& h : s.hook_failures) {
    hooks.push_back({{"kind", to_string(h.kind)}, {"hook", h.hook}, {"message", h.message}});
  }
  nlohmann::json counts = nlohmann::json::object();
  for (Outcome o : {Outcome::renewed, Outcome::not_due, Outcome::skipped, Outcome::failed}) {
    counts[outcome_id(o)] = s.count(o);
  }
  return {{"version", 1},
          {"dry_run", s.dry_run == DryRun::yes},
          {"ok", s.ok()},
          {"started", sys::format_rfc3339(s.started)},
          {"finished", sys::format_rfc3339(s.finished)},
          {"counts", std::move(counts)},
          {"lineages", std::move(lineages)},
          {"hook_failures", std::move(hooks)},
          {"reload_error", text_or_null(s.reload_error)},
          {"metrics_error", text_or_null(s.metrics_error)},
          {"alerts", failures_json(s.alerts, s.finished)}};
}

std::vector<std::string> RunSummary::lines() const {
  std::vector<std::string> out;
  std::string prefix = dry_run == DryRun::yes ? "dry run: " : "";
  std::string head = prefix + "checked " + std::to_string(lineages.size()) + ", " +
                     (dry_run == DryRun::yes ? "simulated " : "renewed ") +
                     std::to_string(count(Outcome::renewed)) + ", not due " +
                     std::to_string(count(Outcome::not_due)) + ", failed " +
                     std::to_string(count(Outcome::failed));
  if (count(Outcome::skipped) > 0) head += ", skipped " + std::to_string(count(Outcome::skipped));
  out.push_back(head);
  for (const auto& l : lineages) {
    if (l.outcome != Outcome::failed) continue;
    std::string level = l.urgency == Urgency::critical  ? "CRITICAL "
                        : l.urgency == Urgency::warning ? "WARNING "
                                                        : "";
    out.push_back("  " + level + "failed: " + l.name + ": " + l.reason);
  }
  for (const auto& h : hook_failures) {
    out.push_back(std::string("  hook failed: ") + to_string(h.kind) + " '" + h.hook + "' " +
                  h.message);
  }
  if (!reload_error.empty()) out.push_back("  reload failed: " + reload_error);
  if (!metrics_error.empty()) out.push_back("  metrics not written: " + metrics_error);
  return out;
}

store::RenewalParams apply_overrides(store::RenewalParams params, const RenewOptions& options) {
  if (options.pre_hook) params.pre_hook = *options.pre_hook;
  if (options.post_hook) params.post_hook = *options.post_hook;
  if (options.deploy_hook) params.deploy_hook = *options.deploy_hook;
  if (options.edit_params) options.edit_params(params);
  return params;
}

std::string default_serial_key(const store::Lineage& lineage) {
  const store::RenewalParams& p = lineage.conf.params;
  if (p.authenticator == "webroot") return "";
  if (p.authenticator == "standalone") {
    std::string port = p.settings.get("http01_port");
    return "standalone:" + p.settings.get("http01_address") + ":" + (port.empty() ? "80" : port);
  }
  return p.authenticator;
}

void for_each_parallel(std::size_t n, int jobs,
                       const std::function<void(std::size_t, std::size_t)>& fn) {
  std::size_t threads = std::min(n, static_cast<std::size_t>(std::max(1, jobs)));
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (std::size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (std::size_t i = next++; i < n; i = next++) fn(i, t);
    });
  }
  for (auto& th : pool) th.join();
}

Result<RunSummary> run_renewals(const RenewOptions& options, const RenewContext& context) {
  if (!context.clock || !context.processes || !context.renew) {
    return Error(Errc::internal, "run_renewals needs a clock, a process runner and a renew function");
  }
  Run run(options, context);
  return run.execute();
}

}  // namespace acmed::renew
