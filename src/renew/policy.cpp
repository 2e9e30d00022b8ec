#include "acmed/renew/policy.hpp"

#include <algorithm>

namespace acmed::renew {

namespace {

using std::chrono::seconds;

seconds lifetime_of(const crypto::CertInfo& cert) {
  return std::chrono::duration_cast<seconds>(cert.not_after - cert.not_before);
}

}  // namespace

const char* to_string(DueRule rule) {
  switch (rule) {
    case DueRule::ari: return "ARI window";
    case DueRule::lifetime_fraction: return "lifetime rule";
    case DueRule::renew_before_expiry: return "renew_before_expiry";
  }
  return "?";
}

sys::TimePoint lifetime_due_time(const crypto::CertInfo& cert,
                                 std::optional<seconds> renew_before_expiry) {
  if (renew_before_expiry) return cert.not_after - *renew_before_expiry;
  seconds lifetime = lifetime_of(cert);
  if (lifetime <= seconds::zero()) return cert.not_before;
  seconds margin = lifetime < k_short_lived_limit ? lifetime / 2 : lifetime / 3;
  return cert.not_after - margin;
}

Decision decide(const crypto::CertInfo& cert, std::optional<seconds> renew_before_expiry,
                const std::optional<store::AriState>& ari, sys::TimePoint now) {
  Decision d;
  if (ari && ari->chosen_time) {
    d.due_at = *ari->chosen_time;
    d.rule = DueRule::ari;
    if (renew_before_expiry) {
      sys::TimePoint user = cert.not_after - *renew_before_expiry;
      if (user < d.due_at) {
        d.due_at = user;
        d.rule = DueRule::renew_before_expiry;
      }
    }
  } else {
    d.due_at = lifetime_due_time(cert, renew_before_expiry);
    d.rule = renew_before_expiry ? DueRule::renew_before_expiry : DueRule::lifetime_fraction;
  }
  d.due = now >= d.due_at;
  auto left = std::chrono::duration_cast<seconds>(cert.not_after - now);
  std::string expiry = left > seconds::zero() ? "expires in " + format_duration(left)
                                              : "expired " + format_duration(-left) + " ago";
  if (d.due) {
    d.reason = std::string("due since ") + sys::format_rfc3339(d.due_at) + " (" +
               to_string(d.rule) + "); " + expiry;
  } else {
    d.reason = std::string("not due until ") + sys::format_rfc3339(d.due_at) + " (" +
               to_string(d.rule) + "); " + expiry;
  }
  return d;
}

Urgency failure_urgency(const crypto::CertInfo& cert, sys::TimePoint now,
                        seconds critical_within) {
  seconds lifetime = std::max(lifetime_of(cert), seconds::zero());
  auto left = std::chrono::duration_cast<seconds>(cert.not_after - now);
  if (left <= std::min(critical_within, lifetime / 4)) return Urgency::critical;
  if (now >= lifetime_due_time(cert, std::nullopt)) return Urgency::warning;
  return Urgency::normal;
}

std::string format_duration(seconds d) {
  if (d < seconds::zero()) return "-" + format_duration(-d);
  struct Unit {
    long long size;
    const char* name;
  };
  static constexpr Unit k_units[] = {{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
  long long rest = d.count();
  std::string out;
  int parts = 0;
  for (const auto& unit : k_units) {
    long long n = rest / unit.size;
    if (n == 0 || parts == 2) continue;
    rest -= n * unit.size;
    if (!out.empty()) out += ' ';
    out += std::to_string(n) + " " + unit.name + (n == 1 ? "" : "s");
    ++parts;
    if (parts == 2) break;
  }
  return out.empty() ? "0 seconds" : out;
}

}  // namespace acmed::renew
