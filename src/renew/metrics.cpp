#include "acmed/renew/metrics.hpp"

#include "acmed/store/lineage.hpp"
#include "acmed/store/status.hpp"
#include "acmed/sys/fs.hpp"

#include <chrono>
#include <cstdio>
#include <functional>

namespace acmed::renew {

namespace {

std::string label_value(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string seconds_of(sys::TimePoint t) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

// One metric family: its HELP and TYPE lines, then one sample per lineage that has a value.
void family(std::string& out, const char* name, const char* help,
            const std::vector<LineageMetrics>& lineages,
            const std::function<std::optional<std::string>(const LineageMetrics&)>& value) {
  std::string samples;
  for (const auto& l : lineages) {
    if (auto v = value(l)) {
      samples += std::string(name) + "{lineage=\"" + label_value(l.name) + "\"} " + *v + "\n";
    }
  }
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + samples;
}

std::function<std::optional<std::string>(const LineageMetrics&)> time_of(
    std::optional<sys::TimePoint> LineageMetrics::*member) {
  return [member](const LineageMetrics& l) -> std::optional<std::string> {
    if (!(l.*member)) return std::nullopt;
    return seconds_of(*(l.*member));
  };
}

void single(std::string& out, const char* name, const char* help, const std::string& value) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " +
         value + "\n";
}

}  // namespace

Result<std::vector<LineageMetrics>> collect_lineage_metrics(const store::Paths& paths) {
  ACMED_TRY(std::vector<std::string> names, store::lineage_names(paths));
  store::CheckTimes times;
  if (auto loaded = store::load_check_times(paths); loaded) times = std::move(*loaded);
  std::vector<LineageMetrics> out;
  out.reserve(names.size());
  for (const auto& name : names) {
    LineageMetrics m;
    m.name = name;
    store::LineageStatus status;
    if (auto loaded = store::load_status(paths, name, times); loaded) status = std::move(*loaded);
    m.last_checked = status.last_checked;
    m.last_attempt = status.last_attempt;
    m.last_renewed = status.last_renewed;
    m.next_due = status.next_due;
    m.failure_count = status.failure_count;
    std::optional<store::CertCache> cache = status.cert;
    if (auto lineage = load_for_check(paths, name, cache); lineage) {
      m.not_before = lineage->cert.not_before;
      m.not_after = lineage->cert.not_after;
      auto id = crypto::ari_cert_id(lineage->cert);
      if (status.ari && id && status.ari->cert_id == *id) {
        m.ari_window_start = status.ari->window_start;
        m.ari_window_end = status.ari->window_end;
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::string render_metrics(const std::vector<LineageMetrics>& lineages, const RunSummary& summary) {
  std::string out;
  using L = LineageMetrics;
  family(out, "acmed_certificate_expiry_timestamp_seconds",
         "When the lineage's current certificate expires (notAfter), Unix time.", lineages,
         time_of(&L::not_after));
  family(out, "acmed_certificate_not_before_timestamp_seconds",
         "When the lineage's current certificate became valid (notBefore), Unix time.", lineages,
         time_of(&L::not_before));
  family(out, "acmed_renewal_last_check_timestamp_seconds",
         "When a renewal run last checked the lineage, Unix time.", lineages,
         time_of(&L::last_checked));
  family(out, "acmed_renewal_last_attempt_timestamp_seconds",
         "When the lineage's renewal was last attempted, successful or not, Unix time.", lineages,
         time_of(&L::last_attempt));
  family(out, "acmed_renewal_last_success_timestamp_seconds",
         "When the lineage was last renewed by acmed renew, Unix time.", lineages,
         time_of(&L::last_renewed));
  family(out, "acmed_renewal_next_due_timestamp_seconds",
         "When the lineage is next due for renewal (or retried after a failure), Unix time.",
         lineages, time_of(&L::next_due));
  family(out, "acmed_renewal_consecutive_failures",
         "Failed renewal attempts of the lineage since its last success.", lineages,
         [](const L& l) { return std::optional<std::string>(std::to_string(l.failure_count)); });
  family(out, "acmed_ari_window_start_timestamp_seconds",
         "Start of the renewal window the CA suggests (RFC 9773 ARI), Unix time.", lineages,
         time_of(&L::ari_window_start));
  family(out, "acmed_ari_window_end_timestamp_seconds",
         "End of the renewal window the CA suggests (RFC 9773 ARI), Unix time.", lineages,
         time_of(&L::ari_window_end));

  single(out, "acmed_renew_last_run_timestamp_seconds",
         "When the last acmed renew run finished, Unix time.", seconds_of(summary.finished));
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.3f",
                std::chrono::duration<double>(summary.finished - summary.started).count());
  single(out, "acmed_renew_last_run_duration_seconds", "How long the last acmed renew run took.",
         duration);
  single(out, "acmed_renew_last_run_success",
         "1 if the last run had no failed lineage, hook or reload, else 0.",
         summary.ok() ? "1" : "0");
  const char* runs = "acmed_renew_last_run_lineages";
  out += std::string("# HELP ") + runs + " Lineages of the last run, by outcome.\n# TYPE " + runs +
         " gauge\n";
  for (Outcome o : {Outcome::renewed, Outcome::not_due, Outcome::skipped, Outcome::failed}) {
    std::string label = o == Outcome::not_due ? "not_due" : to_string(o);
    out += std::string(runs) + "{outcome=\"" + label + "\"} " + std::to_string(summary.count(o)) +
           "\n";
  }
  return out;
}

std::filesystem::path default_metrics_file(const store::Paths& paths) {
  return paths.work_dir / "acmed" / "acmed.prom";
}

Status write_metrics_file(const std::filesystem::path& file, const store::Paths& paths,
                          const RunSummary& summary) {
  ACMED_TRY(auto lineages, collect_lineage_metrics(paths));
  return sys::write_file_atomic(file, render_metrics(lineages, summary), 0644);
}

}  // namespace acmed::renew
