// When a certificate is due for renewal, without ARI (the fallback rule) and with it.
//
// Fallback rule (used when the CA has no renewalInfo, or its answer is unusable): renew once less
// than one third of the certificate's own lifetime remains (30 days of a 90-day certificate, 15
// of a 45-day one), or half of it for certificates shorter than 10 days (6-day "shortlived"
// ones), or at the lineage's renew_before_expiry when that is set. No lifetime is assumed.
//
// With ARI (RFC 9773 section 4.2) the moment chosen inside the CA's suggestedWindow decides;
// renew_before_expiry, when set, can only make renewal earlier (the user asked for it).
//
// Everything here is a pure function of its inputs, so timing is tested without a clock.
#pragma once

#include "acmed/crypto/x509.hpp"
#include "acmed/store/status.hpp"
#include "acmed/sys/clock.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace acmed::renew {

// Which rule set the due time.
enum class DueRule {
  ari,                  // the moment chosen inside the CA's suggested window
  lifetime_fraction,    // 1/3 (or 1/2 below 10 days) of the lifetime remaining
  renew_before_expiry,  // the lineage's renew_before_expiry
};

// "ARI window", "lifetime rule", "renew_before_expiry".
const char* to_string(DueRule rule);

struct Decision {
  bool due = false;
  sys::TimePoint due_at;  // when renewal is (or was) due
  DueRule rule = DueRule::lifetime_fraction;
  std::string reason;     // one line for the log: why it is or is not due
};

// Certificates shorter than this renew at half their lifetime instead of a third.
inline constexpr std::chrono::hours k_short_lived_limit{24 * 10};

// The fallback due time: not_after minus renew_before_expiry when set, otherwise minus one third
// (one half below k_short_lived_limit) of not_after - not_before. A certificate whose validity is
// empty or reversed is due at not_before.
sys::TimePoint lifetime_due_time(const crypto::CertInfo& cert,
                                 std::optional<std::chrono::seconds> renew_before_expiry);

// Decides whether `cert` is due at `now`. `ari` is used only when it has a chosen_time (a usable
// answer for this certificate); otherwise the fallback rule decides.
Decision decide(const crypto::CertInfo& cert,
                std::optional<std::chrono::seconds> renew_before_expiry,
                const std::optional<store::AriState>& ari, sys::TimePoint now);

// How loudly a failure to renew must be reported.
enum class Urgency {
  normal,    // plenty of time left
  warning,   // less than a third (half for short-lived certificates) of the lifetime left
  critical,  // less than `critical_within` (capped at a quarter of the lifetime) left, or expired
};

// The urgency of a lineage whose renewal failed, from the time left on its certificate.
Urgency failure_urgency(const crypto::CertInfo& cert, sys::TimePoint now,
                        std::chrono::seconds critical_within);

// "3 days 4 hours", "5 hours 2 minutes", "40 seconds"; negative durations get a leading '-'.
std::string format_duration(std::chrono::seconds d);

}  // namespace acmed::renew
