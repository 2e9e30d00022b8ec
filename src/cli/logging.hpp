// Logging for the CLI: concise progress lines on stderr, full detail in
// <logs-dir>/letsencrypt.log (certbot's name and rotation, so log shippers keep working).
// Keys, EAB secrets and key authorizations are never logged.
#pragma once

#include "acmed/acme/client.hpp"
#include "cli/context.hpp"

#include <filesystem>

namespace acmed::cli {

// Sets up the stderr sink (level from -q/-v) and, when the logs dir is writable, the file sink.
void setup_logging(const GlobalOptions& globals);

// certbot's rotation at the start of a run: LOG.N-1 -> LOG.N ... LOG -> LOG.1, the oldest beyond
// `backups` removed; nothing when `backups` is 0 (one file, appended to) or LOG does not exist.
void rotate_run_logs(const std::filesystem::path& log, int backups);

// A log callback for the ACME client that forwards to spdlog.
acme::LogFn acme_log();

}  // namespace acmed::cli
