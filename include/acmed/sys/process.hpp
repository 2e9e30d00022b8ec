// Running other programs (nginx -t, apache2ctl, hooks, certutil). Arguments are passed as a
// vector straight to execve: no shell is involved unless the caller runs "/bin/sh -c" itself.
#pragma once

#include "acmed/util/result.hpp"

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace acmed::sys {

struct ProcessResult {
  int exit_code = -1;  // exit status, or 128+signal when killed by a signal
  std::string out;     // captured stdout (capped)
  std::string err;     // captured stderr (capped)
  bool timed_out = false;
};

struct ProcessOptions {
  std::map<std::string, std::string> extra_env;  // added to (and overriding) the current env
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
  std::string stdin_data;                        // written to the child's stdin
  std::size_t max_output = 1 << 20;              // per stream
  // Long-running hooks: an interrupt (sys/interrupt.hpp) kills the child's process group and
  // run_process returns Errc::interrupted. Short server commands (nginx -t, reload) run to the
  // end instead, so an interrupt never leaves a web server half-reloaded.
  bool stop_on_interrupt = false;
};

// Runs argv[0] (looked up in PATH when it has no '/'), waits for it, and returns its status and
// output. Fails only when it could not be started (Errc::not_found if the program is missing);
// a non-zero exit is a normal result. On timeout the child is killed (SIGKILL) and reaped.
Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const ProcessOptions& options = {});

// An injectable process runner, so planners and installers are unit-tested without real programs.
class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  virtual Result<ProcessResult> run(const std::vector<std::string>& argv,
                                    const ProcessOptions& options) = 0;
};

class RealProcessRunner final : public ProcessRunner {
 public:
  Result<ProcessResult> run(const std::vector<std::string>& argv,
                            const ProcessOptions& options) override {
    return run_process(argv, options);
  }
};

// Full path of `program` found in PATH, or empty.
std::string find_in_path(const std::string& program);

}  // namespace acmed::sys
