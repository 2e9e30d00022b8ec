// Renewal bookkeeping of one lineage, kept by acmed (certbot has no equivalent) in
// <work_dir>/acmed/status/<name>.json:
//
//   {"format": 1,
//    "last_checked": "2026-11-26T22:48:27Z", "last_attempt": "...", "last_renewed": "...",
//    "next_due": "...",
//    "last_error": "...", "failure_count": 2,
//    "ari": {"cert_id": "<RFC 9773 id>", "window_start": "...", "window_end": "...",
//            "retry_after_until": "...", "explanation_url": "https://...", "chosen_time": "..."},
//    "replaces_refused": "<RFC 9773 id>", "stale_alerted": "<sha256 fingerprint>",
//    "cert": {"file": {"dev": 2049, "ino": 1234, "size": 1289, "mtime_ns": ..., "ctime_ns": ...},
//             "not_before": "...", "not_after": "...", "serial": "<base64url>", ...}}
//
// Times are RFC 3339 UTC; an absent time is left out. Unknown keys are ignored when reading. The
// file is a cache: when it is missing the lineage simply has no history yet.
#pragma once

#include "acmed/crypto/x509.hpp"
#include "acmed/store/paths.hpp"
#include "acmed/sys/clock.hpp"
#include "acmed/sys/fs.hpp"
#include "acmed/util/result.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>
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

// What was read from the lineage's current certificate, so that a run over lineages that are
// not due parses no certificate whose file did not change since the last run.
struct CertCache {
  sys::FileStamp file;  // of live/NAME/cert.pem when it was read
  crypto::CertInfo info;
  bool operator==(const CertCache&) const = default;
};

struct LineageStatus {
  std::optional<sys::TimePoint> last_checked;
  std::optional<sys::TimePoint> last_attempt;  // of a renewal, successful or not
  std::optional<sys::TimePoint> last_renewed;
  std::optional<sys::TimePoint> next_due;
  std::string last_error;  // empty after a success
  int failure_count = 0;   // consecutive failed renewals
  std::optional<AriState> ari;
  // RFC 9773 id of the certificate whose `replaces` the CA refused: not sent again for it.
  std::string replaces_refused;
  // Fingerprint of the certificate the failed hooks were told about because it entered the last
  // part of its lifetime without a renewal being scheduled (told once per certificate).
  std::string stale_alerted;
  std::optional<CertCache> cert;
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

// When each lineage was last checked by a renewal run, in one file:
// <work_dir>/acmed/checked.json, {"format": 1, "checked": {"<name>": "<RFC 3339 time>", ...}}.
// A run rewrites a lineage's own status file only when something other than last_checked changed,
// so a run over a thousand lineages that are not due writes this one file instead of a thousand.
using CheckTimes = std::map<std::string, sys::TimePoint, std::less<>>;

// Empty when the file does not exist; Errc::config naming the file when it is not valid.
Result<CheckTimes> load_check_times(const Paths& paths);
// Merges `checked` into the file (later times win) under a lock on <work_dir>/acmed (several
// config dirs may share a work dir), dropping names not checked for 90 days before the newest
// time in `checked`. A file that is not valid is replaced; one that cannot be read is an error.
Status record_check_times(const Paths& paths, const CheckTimes& checked);
// load_status with last_checked raised to the lineage's entry in `times`, if later.
Result<LineageStatus> load_status(const Paths& paths, std::string_view name,
                                  const CheckTimes& times);

}  // namespace acmed::store
