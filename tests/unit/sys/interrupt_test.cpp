// sys/interrupt: a signal sets the flag and cuts waits short; hooks marked stop_on_interrupt are
// killed, others run to their end; the second signal is left to its default action.
#include "acmed/sys/interrupt.hpp"
#include "acmed/sys/process.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <thread>

using namespace acmed;
using namespace std::chrono_literals;

namespace {

struct Caught {
  Caught() {
    sys::reset_interrupt_for_tests();
    // catch_interrupts leaves inherited SIG_IGN alone; start from the defaults.
    for (int s : {SIGINT, SIGTERM, SIGHUP}) std::signal(s, SIG_DFL);
    sys::catch_interrupts();
  }
  ~Caught() {
    sys::reset_interrupt_for_tests();
    for (int s : {SIGINT, SIGTERM, SIGHUP}) std::signal(s, SIG_DFL);
  }
};

}  // namespace

TEST_CASE("no signal: nothing is interrupted and sleeps run their full length") {
  Caught caught;
  CHECK_FALSE(sys::interrupted());
  CHECK(sys::check_interrupt());
  const auto start = std::chrono::steady_clock::now();
  CHECK(sys::sleep_unless_interrupted(150ms));
  CHECK(std::chrono::steady_clock::now() - start >= 150ms);
}

TEST_CASE("SIGTERM sets the flag, names itself and cuts a long sleep short") {
  Caught caught;
  std::thread killer([] {
    std::this_thread::sleep_for(100ms);
    std::raise(SIGTERM);
  });
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(sys::sleep_unless_interrupted(30s));
  killer.join();
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(sys::interrupt_signal() == SIGTERM);
  auto st = sys::check_interrupt();
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::interrupted);
  CHECK(st.error().message.find("SIGTERM") != std::string::npos);
}

TEST_CASE("the handler is reset after the first signal, so a second one is not caught") {
  Caught caught;
  std::raise(SIGHUP);
  CHECK(sys::interrupt_signal() == SIGHUP);
  struct sigaction now {};
  REQUIRE(::sigaction(SIGHUP, nullptr, &now) == 0);
  const bool is_default = now.sa_handler == SIG_DFL;
  CHECK(is_default);
}

TEST_CASE("an interrupt kills a hook run with stop_on_interrupt, and not one without") {
  Caught caught;
  std::raise(SIGINT);
  sys::ProcessOptions stop;
  stop.stop_on_interrupt = true;
  stop.timeout = 20s;
  const auto start = std::chrono::steady_clock::now();
  auto r = sys::run_process({"/bin/sh", "-c", "sleep 10"}, stop);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::interrupted);

  sys::ProcessOptions finish;  // a cleanup hook or `nginx -t`: runs to its end
  finish.timeout = 20s;
  auto done = sys::run_process({"/bin/sh", "-c", "sleep 0.3; echo done"}, finish);
  REQUIRE(done);
  CHECK(done->exit_code == 0);
  CHECK(done->out == "done\n");
}
