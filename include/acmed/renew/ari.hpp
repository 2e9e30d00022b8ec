// ACME Renewal Information (RFC 9773): asking the CA when to renew, and remembering its answer.
//
// The answer is kept in the lineage's status (store::AriState): the suggested window, the moment
// chosen inside it, and until when the CA asked us not to ask again (Retry-After). A run inside
// that time sends no request at all. The chosen moment is kept as long as the window does not
// change, so runs agree with each other (RFC 9773 section 4.2 asks for one uniformly random
// moment per window).
#pragma once

#include "acmed/acme/messages.hpp"
#include "acmed/crypto/x509.hpp"
#include "acmed/store/lineage.hpp"
#include "acmed/store/status.hpp"
#include "acmed/sys/clock.hpp"
#include "acmed/util/result.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace acmed::renew {

// Asks a CA for renewal information. The runner makes one per worker thread, so an
// implementation may keep connections (one acme::Client per server) without locking.
class AriLookup {
 public:
  virtual ~AriLookup() = default;
  // The CA's renewalInfo answer for `cert_id` of `lineage` (whose renewal conf names the server).
  // Errc::not_found when the CA has no renewalInfo endpoint; any other error for failures and
  // malformed answers.
  virtual Result<acme::RenewalInfo> renewal_info(const store::Lineage& lineage,
                                                 std::string_view cert_id) = 0;
};

// How long an answer without Retry-After is trusted (RFC 9773 section 4.3 suggests re-checking a
// few times a day), and the bounds put on the CA's Retry-After: not more often than the hourly
// timer runs anyway, and never frozen for longer than a week.
inline constexpr std::chrono::seconds k_ari_default_retry{6 * 3600};
inline constexpr std::chrono::seconds k_ari_min_retry{3600};
inline constexpr std::chrono::seconds k_ari_max_retry{7 * 24 * 3600};

// How much of a window is left after the chosen moment: the timer runs hourly (systemd/
// acmed.timer), so the first run after the moment may come up to an hour later, plus a few
// minutes for a slow run. Moments are picked in [start, end - margin], so that run still lands
// inside the window.
inline constexpr std::chrono::seconds k_run_margin{3600 + 10 * 60};

// Returns a number uniformly distributed in [0, 1). Must be safe to call from one thread at a
// time (the runner serialises calls).
using Uniform01 = std::function<double()>;

struct AriResult {
  // The state to store: the cached answer (also when nothing was sent), a fresh one, a
  // "no ARI at this CA" marker, or nullopt when there is nothing worth keeping.
  std::optional<store::AriState> state;
  bool usable = false;     // state has a window and a chosen_time for this certificate
  bool requested = false;  // a request was sent to the CA
  std::string note;        // for the log: why ARI is not used, or the explanationURL
};

// Brings the ARI state of a certificate (`lineage.cert`, whose id is `cert_id`) up to date:
// - `cached` about the same cert_id and still inside its Retry-After: used as is, nothing sent
//   (an answer about another certificate, e.g. the version before, is never used);
// - otherwise asks `lookup`. A window equal to the cached one keeps its chosen moment; a new
//   window gets a fresh uniformly random moment inside it (`uniform`, see k_run_margin). A window
//   that has passed since the certificate was issued yields a moment in the past: renew now (RFC
//   9773 section 4.2; CAs do this before revoking).
// - the CA has no renewalInfo (Errc::not_found): remembered for k_ari_default_retry, not usable;
// - any other failure, or a window that cannot be about this certificate (end not after start,
//   ending before the certificate was issued, or starting when it has already expired): not
//   usable, the lifetime rule applies, nothing is cached so the next run asks again.
// Retry-After is clamped to [k_ari_min_retry, k_ari_max_retry].
// Never fails: ARI only ever refines the fallback rule.
AriResult refresh_ari(const store::Lineage& lineage, std::string_view cert_id,
                      const std::optional<store::AriState>& cached, sys::TimePoint now,
                      AriLookup& lookup, const Uniform01& uniform);

// Why the CA's window [start, end] cannot be used for `cert`, or "" when it can.
std::string window_problem(sys::TimePoint start, sys::TimePoint end, const crypto::CertInfo& cert);

// The moment for u in [0, 1) in a window the CA suggested for `cert`: uniform over [start,
// min(end, not_after) - k_run_margin] (just `start` when that is empty).
sys::TimePoint choose_moment(sys::TimePoint start, sys::TimePoint end, const crypto::CertInfo& cert,
                             double u);

// A uniformly random moment in [start, end] for u in [0, 1).
sys::TimePoint pick_in_window(sys::TimePoint start, sys::TimePoint end, double u);

}  // namespace acmed::renew
