// The executable's entry point; everything else in src/cli is the acmed_cli library (so
// tests/unit/cli can build the real command line).
#include "cli/context.hpp"

#include <csignal>
#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a peer reset (TLS check, hook pipe) is an error, not death
  try {
    return acmed::cli::main_impl(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "acmed: internal error: %s\n", e.what());
    return acmed::cli::k_exit_failure;
  }
}
