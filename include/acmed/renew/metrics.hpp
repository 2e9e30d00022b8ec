// The Prometheus textfile-collector file `acmed renew` writes after each run (not a dry run), so
// that node_exporter (--collector.textfile.directory) exports what the timer did and alerting
// notices a renewal that keeps failing long before the certificate expires. Every lineage of the
// config dir is in it, whichever ones the run was told to renew. docs/monitoring.md lists the
// metrics; they are gauges of Unix times in seconds (0 never appears: a time that is not known
// leaves its sample out).
#pragma once

#include "acmed/renew/runner.hpp"
#include "acmed/store/paths.hpp"
#include "acmed/util/result.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace acmed::renew {

// What the file says about one lineage.
struct LineageMetrics {
  std::string name;
  std::optional<sys::TimePoint> not_before, not_after;  // absent when its cert cannot be read
  std::optional<sys::TimePoint> last_checked, last_attempt, last_renewed, next_due;
  int failure_count = 0;
  std::optional<sys::TimePoint> ari_window_start, ari_window_end;  // for the current cert
};

// Every lineage's metrics from the store (status files, check times, current certificates).
// A lineage whose status or certificate cannot be read is listed with what could be read.
Result<std::vector<LineageMetrics>> collect_lineage_metrics(const store::Paths& paths);

// The file's text (Prometheus text exposition format 0.0.4) for `lineages` and the run `summary`.
std::string render_metrics(const std::vector<LineageMetrics>& lineages, const RunSummary& summary);

// Where the file goes without --metrics-file: <work_dir>/acmed/acmed.prom.
std::filesystem::path default_metrics_file(const store::Paths& paths);

// collect + render + an atomic write (0644: the exporter runs as another user) of `file`.
Status write_metrics_file(const std::filesystem::path& file, const store::Paths& paths,
                          const RunSummary& summary);

}  // namespace acmed::renew
