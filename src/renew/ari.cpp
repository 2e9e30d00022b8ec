#include "acmed/renew/ari.hpp"

#include <algorithm>

namespace acmed::renew {

namespace {

using std::chrono::seconds;

bool cache_is_fresh(const std::optional<store::AriState>& cached, std::string_view cert_id,
                    sys::TimePoint now) {
  return cached && cached->cert_id == cert_id && cached->retry_after_until &&
         now < *cached->retry_after_until;
}

bool has_window(const store::AriState& s) {
  return s.window_start && s.window_end && s.chosen_time && *s.window_start < *s.window_end;
}

}  // namespace

sys::TimePoint pick_in_window(sys::TimePoint start, sys::TimePoint end, double u) {
  if (end <= start) return start;
  u = std::clamp(u, 0.0, 1.0);
  auto span = std::chrono::duration_cast<seconds>(end - start);
  auto offset = seconds(static_cast<long long>(static_cast<double>(span.count()) * u));
  return start + std::min(offset, span);
}

std::string window_problem(sys::TimePoint start, sys::TimePoint end, const crypto::CertInfo& cert) {
  std::string range = " (" + sys::format_rfc3339(start) + " .. " + sys::format_rfc3339(end) + ")";
  if (end <= start) return "the CA's renewalInfo window does not end after it starts" + range;
  // A window over before this certificate existed is about an earlier one (a stale answer
  // reused across versions would renew again and again).
  if (end <= cert.not_before)
    return "the CA's renewalInfo window ended before the certificate was issued" + range;
  if (start >= cert.not_after)
    return "the CA's renewalInfo window starts after the certificate expires" + range;
  return {};
}

sys::TimePoint choose_moment(sys::TimePoint start, sys::TimePoint end, const crypto::CertInfo& cert,
                             double u) {
  sys::TimePoint last = std::min(end, cert.not_after) - k_run_margin;
  return pick_in_window(start, std::max(start, last), u);
}

AriResult refresh_ari(const store::Lineage& lineage, std::string_view cert_id,
                      const std::optional<store::AriState>& cached, sys::TimePoint now,
                      AriLookup& lookup, const Uniform01& uniform) {
  AriResult result;
  if (cache_is_fresh(cached, cert_id, now)) {
    result.state = cached;
    result.usable = has_window(*cached);
    result.note = result.usable
                      ? "ARI answer cached until " + sys::format_rfc3339(*cached->retry_after_until)
                      : "the CA had no renewalInfo; asking again after " +
                            sys::format_rfc3339(*cached->retry_after_until);
    return result;
  }

  result.requested = true;
  auto answer = lookup.renewal_info(lineage, cert_id);
  if (!answer) {
    if (answer.error().code == Errc::not_found) {
      // Remember that this CA has no ARI, so a run within the next hours sends nothing.
      store::AriState none;
      none.cert_id = std::string(cert_id);
      none.retry_after_until = now + k_ari_default_retry;
      result.state = none;
      result.note = "the CA has no renewalInfo endpoint; using the lifetime rule";
    } else {
      result.note = "ARI unavailable (" + answer.error().describe() + "); using the lifetime rule";
    }
    return result;
  }

  const acme::RenewalInfo& info = *answer;
  if (std::string problem = window_problem(info.window_start, info.window_end, lineage.cert);
      !problem.empty()) {
    result.note = problem + "; using the lifetime rule";
    return result;
  }

  store::AriState state;
  state.cert_id = std::string(cert_id);
  state.window_start = info.window_start;
  state.window_end = info.window_end;
  state.explanation_url = info.explanation_url;
  // RFC 9773 section 4.3: ask again after Retry-After; bound it so a bogus value neither
  // hammers the CA nor freezes a stale answer for long.
  seconds retry =
      std::clamp(info.retry_after.value_or(k_ari_default_retry), k_ari_min_retry, k_ari_max_retry);
  state.retry_after_until = now + retry;
  bool same_window =
      cached && cached->cert_id == cert_id && cached->window_start == state.window_start &&
      cached->window_end == state.window_end && cached->chosen_time &&
      *cached->chosen_time >= info.window_start && *cached->chosen_time <= info.window_end;
  state.chosen_time =
      same_window ? *cached->chosen_time
                  : choose_moment(info.window_start, info.window_end, lineage.cert, uniform());
  result.state = state;
  result.usable = true;
  if (!info.explanation_url.empty()) {
    result.note = "the CA explains its renewal window at " + info.explanation_url;
  }
  return result;
}

}  // namespace acmed::renew
