// ACME Renewal Information (RFC 9773): asking the CA when to renew, and remembering its answer.
//
// The answer is kept in the lineage's status (store::AriState): the suggested window, the moment
// chosen inside it, and until when the CA asked us not to ask again (Retry-After). A run inside
// that time sends no request at all. The chosen moment is kept as long as the window does not
// change, so runs agree with each other (RFC 9773 section 4.2 asks for one uniformly random
// moment per window).
#pragma once

#include "acmed/acme/messages.hpp"
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
// few times a day), and the bounds put on the CA's Retry-After.
inline constexpr std::chrono::seconds k_ari_default_retry{6 * 3600};
inline constexpr std::chrono::seconds k_ari_min_retry{60};
inline constexpr std::chrono::seconds k_ari_max_retry{24 * 3600};

// Returns a number uniformly distributed in [0, 1). Must be safe to call from one thread at a
// time (the runner serialises calls).
using Uniform01 = std::function<double()>;

struct AriResult {
  // The state to store: the cached answer (also when nothing was sent), a fresh one, a
  // "no ARI at this CA" marker, or nullopt when there is nothing worth keeping.
  std::optional<store::AriState> state;
  bool usable = false;    // state has a window and a chosen_time for this certificate
  bool requested = false; // a request was sent to the CA
  std::string note;       // for the log: why ARI is not used, or the explanationURL
};

// Brings the ARI state of a certificate up to date:
// - `cached` about the same cert_id and still inside its Retry-After: used as is, nothing sent;
// - otherwise asks `lookup`. A window equal to the cached one keeps its chosen moment; a new
//   window gets a fresh uniformly random moment inside it (`uniform`). A window in the past yields
//   a moment in the past: renew now.
// - the CA has no renewalInfo (Errc::not_found): remembered for k_ari_default_retry, not usable;
// - any other failure or a malformed window (end not after start): not usable, the lifetime rule
//   applies, nothing is cached so the next run asks again.
// Never fails: ARI only ever refines the fallback rule.
AriResult refresh_ari(const store::Lineage& lineage, std::string_view cert_id,
                      const std::optional<store::AriState>& cached, sys::TimePoint now,
                      AriLookup& lookup, const Uniform01& uniform);

// A uniformly random moment in [start, end] for u in [0, 1).
sys::TimePoint pick_in_window(sys::TimePoint start, sys::TimePoint end, double u);

}  // namespace acmed::renew
