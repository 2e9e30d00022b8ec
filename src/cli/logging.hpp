// Logging for the CLI: concise progress lines on stderr, full detail in <logs-dir>/acmed.log.
// Keys, EAB secrets and key authorizations are never logged.
#pragma once

#include "acmed/acme/client.hpp"
#include "cli/context.hpp"

namespace acmed::cli {

// Sets up the stderr sink (level from -q/-v) and, when the logs dir is writable, the file sink.
void setup_logging(const GlobalOptions& globals);

// A log callback for the ACME client that forwards to spdlog.
acme::LogFn acme_log();

}  // namespace acmed::cli
