// Running a piece of a test in a forked child process, for tests of what two processes do at once.
#pragma once

#include <doctest/doctest.h>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace acmed::test {

// Runs `body` in a child process and returns its pid; the child exits 0 when body() is true.
template <typename F>
pid_t in_child(F body) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(body() ? 0 : 1);
  return pid;
}

// Waits for child `pid`: its exit code, or 128 when a signal ended it.
inline int exit_code(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

}  // namespace acmed::test
