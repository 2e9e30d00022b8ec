#include "acmed/sys/interrupt.hpp"
#include "acmed/sys/progress.hpp"

#include <doctest/doctest.h>

#include <mutex>
#include <string>
#include <vector>

using namespace acmed;

namespace {

struct Seen {
  std::mutex mutex;
  std::vector<std::string> whats;
  std::vector<std::size_t> others;
};

// Sets an observer recording what it is told, and removes it again at the end of the test.
struct Observing {
  Seen seen;
  Observing() {
    sys::set_wait_observer([this](std::string_view what, std::chrono::seconds, std::size_t n) {
      std::lock_guard lock(seen.mutex);
      seen.whats.emplace_back(what);
      seen.others.push_back(n);
    });
  }
  ~Observing() { sys::set_wait_observer(nullptr); }
};

}  // namespace

TEST_CASE("the newest open wait is reported while sleeping, and the end of the last one clears") {
  Observing o;
  {
    sys::WaitScope outer("the CA to validate a.test");
    sys::note_waiting();
    {
      sys::WaitScope inner("the DNS records to propagate");
      CHECK(sys::sleep_unless_interrupted(std::chrono::milliseconds(150)));
    }
    sys::note_waiting();
  }
  REQUIRE(o.seen.whats.size() >= 4);
  CHECK(o.seen.whats.front() == "the CA to validate a.test");
  CHECK(o.seen.others.front() == 0);
  CHECK(o.seen.whats[1] == "the DNS records to propagate");
  CHECK(o.seen.others[1] == 1);
  // the inner scope's end clears nothing (another wait is open); the outer one's does
  CHECK(o.seen.whats[o.seen.whats.size() - 2] == "the CA to validate a.test");
  CHECK(o.seen.whats.back().empty());
}

TEST_CASE("without an observer, or without an open wait, nothing is reported") {
  sys::WaitScope wait("nobody watches");
  sys::note_waiting();  // no observer: must not crash
  Observing o;
  {
    sys::WaitScope w("x");
  }
  o.seen.whats.clear();
  sys::set_wait_observer(nullptr);
  sys::note_waiting();
  CHECK(o.seen.whats.empty());
}
