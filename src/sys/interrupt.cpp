#include "acmed/sys/interrupt.hpp"
#include "acmed/sys/progress.hpp"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <string>
#include <thread>

namespace acmed::sys {

namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_interrupt(int signo) {
  g_signal = signo;
}

}  // namespace

void catch_interrupts() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  // No SA_RESTART: a blocking poll or read returns EINTR and its loop sees the flag.
  // SA_RESETHAND: a second signal of the same kind takes the default action (ends the process).
  sa.sa_flags = SA_RESETHAND;
  for (int signo : {SIGINT, SIGTERM, SIGHUP}) {
    // A signal ignored by whoever started us (nohup, a shell's background job) stays ignored.
    struct sigaction old;
    if (::sigaction(signo, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    ::sigaction(signo, &sa, nullptr);
  }
}

int interrupt_signal() {
  return g_signal;
}

Status check_interrupt() {
  const int signo = g_signal;
  if (signo == 0) return ok_status();
  const char* name = signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "SIGHUP";
  return Error(Errc::interrupted,
               std::string("interrupted by ") + name + "; what this run had set up was undone",
               "run the command again when you are ready");
}

bool sleep_unless_interrupted(std::chrono::milliseconds duration) {
  constexpr std::chrono::steady_clock::duration k_step = std::chrono::milliseconds(100);
  const auto until = std::chrono::steady_clock::now() + duration;
  while (!interrupted()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    note_waiting();  // a terminal's progress line (progress.hpp), if the CLI set one up
    std::this_thread::sleep_for(std::min(until - now, k_step));
  }
  return false;
}

void reset_interrupt_for_tests() {
  g_signal = 0;
}

}  // namespace acmed::sys
