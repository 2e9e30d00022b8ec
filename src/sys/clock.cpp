#include "acmed/sys/clock.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace acmed::sys {

bool parse_rfc3339(const std::string& text, TimePoint& out) {
  int y, mo, d, h, mi, s;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) != 6) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return false;
  std::size_t i = static_cast<std::size_t>(consumed);
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  }
  long offset = 0;
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) {
    ++i;
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    int oh, om;
    if (std::sscanf(text.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return false;
    offset = (text[i] == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
    i += 6;
  } else {
    return false;
  }
  if (i != text.size()) return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  long long t = static_cast<long long>(::timegm(&tm)) - offset;
  // A TimePoint counts nanoseconds in 64 bits (about 1677 to 2262): a time outside that range
  // cannot be held (converting it would overflow), so it is refused like any malformed one.
  const long long limit =
      std::chrono::duration_cast<std::chrono::seconds>(TimePoint::duration::max()).count();
  if (t >= limit || t <= -limit) return false;
  out = std::chrono::system_clock::from_time_t(static_cast<time_t>(t));
  return true;
}

std::string format_rfc3339(TimePoint t) {
  time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace acmed::sys
