// Time, injectable so renewal timing is tested without waiting.
#pragma once

#include <chrono>

namespace acmed::sys {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

class FixedClock final : public Clock {
 public:
  explicit FixedClock(TimePoint t) : m_now(t) {}
  TimePoint now() const override { return m_now; }
  void set(TimePoint t) { m_now = t; }
  void advance(std::chrono::seconds s) { m_now += s; }

 private:
  TimePoint m_now;
};

// "2026-11-26T22:48:27Z" <-> time point (RFC 3339, as ACME uses). Fractional seconds and
// numeric offsets are accepted when parsing. Returns false on malformed input.
bool parse_rfc3339(const std::string& text, TimePoint& out);
std::string format_rfc3339(TimePoint t);

}  // namespace acmed::sys
