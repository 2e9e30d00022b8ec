// Renewal bookkeeping of one lineage, kept by acmed (certbot has no equivalent) in
// <work_dir>/acmed/status/<name>.json:
//
//   {"format": 1,
//    "last_checked": "2026-11-26T22:48:27Z", "last_renewed": "...", "next_due": "...",
//    "last_error": "...", "failure_count": 2,
//    "ari": {"cert_id": "<RFC 9773 id>", "window_start": "...", "window_end": "...",
//            "retry_after_until": "...", "explanation_url": "https://...", "chosen_time": "..."}}
//
// Times are RFC 3339 UTC; an absent time is left out. Unknown keys are ignored when reading. The
// file is a cache: when it is missing the lineage simply has no history yet.
#pragma once

#include "acmed/store/paths.hpp"
#include "acmed/sys/clock.hpp"
#include "acmed/util/result.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace acmed::store {

// The last ACME Renewal Information answer (RFC 9773) for the lineage's current certificate.
struct AriState {
  std::string cert_id;  // RFC 9773 section 4.1 certificate identifier the answer is about
  std::optional<sys::TimePoint> window_start;
  std::optional<sys::TimePoint> window_end;
  std::optional<sys::TimePoint> retry_after_until;  // do not ask again before this (Retry-After)
  std::string explanation_url;
  std::optional<sys::TimePoint> chosen_time;  // the moment picked inside the window
  bool operator==(const AriState&) const = default;
};

struct LineageStatus {
  std::optional<sys::TimePoint> last_checked;
  std::optional<sys::TimePoint> last_renewed;
  std::optional<sys::TimePoint> next_due;
  std::string last_error;  // empty after a success
  int failure_count = 0;   // consecutive failed renewals
  std::optional<AriState> ari;
  bool operator==(const LineageStatus&) const = default;
};

nlohmann::json status_to_json(const LineageStatus& status);
// Errc::config when a member has the wrong type or a time does not parse.
Result<LineageStatus> status_from_json(const nlohmann::json& json);

// The status of lineage `name`; a default (empty) status when the file does not exist.
// Errc::config naming the file if it is not valid status JSON.
Result<LineageStatus> load_status(const Paths& paths, std::string_view name);

// Writes the status of lineage `name` atomically (0600, dirs 0700). Idempotent.
Status save_status(const Paths& paths, std::string_view name, const LineageStatus& status);

}  // namespace acmed::store
