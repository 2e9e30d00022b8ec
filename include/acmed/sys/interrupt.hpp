// Interrupts: SIGINT, SIGTERM and SIGHUP end a run at its next waiting point instead of killing
// it where it stands, so the cleanup of a failed run (challenge records, temporary web-server
// edits, the lineage left untouched) also runs after Ctrl-C or `systemctl stop`. A second signal
// of the same kind kills at once, as usual.
#pragma once

#include "acmed/util/result.hpp"

#include <chrono>

namespace acmed::sys {

// Installs the handlers (leaving alone a signal that was ignored when acmed started, as with
// nohup); main() calls it once. Child processes get the default dispositions back
// at exec, as POSIX does for caught signals.
void catch_interrupts();

// The signal that interrupted this run, or 0.
int interrupt_signal();
inline bool interrupted() {
  return interrupt_signal() != 0;
}

// An Errc::interrupted error naming the signal when interrupted, ok otherwise.
Status check_interrupt();

// Sleeps for `duration` in short steps; returns early (false) once interrupted.
bool sleep_unless_interrupted(std::chrono::milliseconds duration);

// Clears the flag (tests only).
void reset_interrupt_for_tests();

}  // namespace acmed::sys
