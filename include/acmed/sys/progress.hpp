// What the program is waiting for, for the progress line a terminal shows during long waits
// (DNS propagation, the CA validating or issuing). Core code marks a wait with a WaitScope;
// sys::sleep_unless_interrupted reports the newest open scope to the observer at each of its
// steps. Nothing is shown unless the CLI sets an observer (it does only for a terminal, and not
// under -q); the core never writes to the terminal itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace acmed::sys {

// `what` is empty when the last open wait ended (the line is to be cleared); `others` counts
// the other waits open at the same time (parallel renewals).
using WaitObserver =
    std::function<void(std::string_view what, std::chrono::seconds elapsed, std::size_t others)>;

// Sets (or, with null, removes) the process's observer. Thread-safe.
void set_wait_observer(WaitObserver observer);

// Marks a wait for as long as it lives: "the CA to validate example.com".
class WaitScope {
 public:
  explicit WaitScope(std::string what);
  ~WaitScope();
  WaitScope(const WaitScope&) = delete;
  WaitScope& operator=(const WaitScope&) = delete;

 private:
  std::uint64_t m_id;
};

// Tells the observer about the newest open wait, if there is an observer and a wait.
void note_waiting();

}  // namespace acmed::sys
