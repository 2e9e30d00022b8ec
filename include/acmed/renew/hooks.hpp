// certbot's renewal hooks.
//
//   pre    --pre-hook / the lineage's pre_hook, and <config_dir>/renewal-hooks/pre/*: run once,
//          before the first renewal that is attempted (each distinct command only once).
//   deploy --deploy-hook / the lineage's renew_hook, and renewal-hooks/deploy/*: run once per
//          renewed lineage, with RENEWED_LINEAGE (its live dir) and RENEWED_DOMAINS (its names,
//          space separated) in the environment.
//   post   --post-hook / the lineage's post_hook, and renewal-hooks/post/*: run once at the end
//          if any renewal was attempted (each distinct command only once, in first-seen order),
//          with RENEWED_DOMAINS (names of the lineages renewed) and FAILED_DOMAINS (names of the
//          lineages that failed), each space separated and possibly empty.
//   failed --failed-hook and renewal-hooks/failed/*: run once at the end of a run (not a dry run)
//          in which a lineage failed, a renewed lineage's reload failed, or a certificate went
//          stale (runner.hpp), with FAILED_LINEAGES (lineage names), FAILED_DOMAINS (their
//          names) and ACMED_FAILURES (JSON, runner.hpp). acmed's own: certbot has no such hook.
//
// A hook command is the user's own text and runs as `/bin/sh -c <text>` (certbot's contract).
// Nothing that came from the CA or from a certificate is ever put into that text: such data
// reaches hooks only through environment variables. Directory hooks are executed directly (no
// shell), in byte order of their names; only executable regular files (or links to them) run.
// A hook that fails is reported and remembered; it never stops the run or undoes a renewal.
#pragma once

#include "acmed/sys/process.hpp"
#include "acmed/util/result.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::renew {

enum class HookKind { pre, deploy, post, failed };

// "pre-hook", "deploy-hook", "post-hook", "failed-hook".
const char* to_string(HookKind kind);

struct HookFailure {
  HookKind kind;
  std::string hook;     // the command text or the directory hook's path
  std::string message;  // "exited with status 3: <stderr>" or why it could not start
};

enum class HookLogLevel { info, warning };
using HookLog = std::function<void(HookLogLevel, std::string_view)>;

// Executable regular files in `dir`, sorted by name. Missing dir: empty.
std::vector<std::filesystem::path> directory_hooks(const std::filesystem::path& dir);

class HookRunner {
 public:
  // `config_dir` holds renewal-hooks/; `use_directory_hooks` off skips them (certbot's
  // --no-directory-hooks). `processes` is borrowed and must outlive the runner.
  HookRunner(std::filesystem::path config_dir, sys::ProcessRunner& processes, HookLog log,
             bool use_directory_hooks = true);

  // Runs the directory pre hooks (the first time only) and `command` unless it is empty or has
  // already run in this HookRunner.
  void run_pre(std::string_view command);

  // Remembers `command` (if not empty and not yet remembered) for run_post().
  void add_post(std::string_view command);

  // Runs `command` (if not empty) and then the directory deploy hooks for one renewed lineage.
  void run_deploy(std::string_view command, const std::filesystem::path& live_dir,
                  const std::vector<std::string>& domains);

  // Runs the remembered post commands in order, then the directory post hooks, with
  // RENEWED_DOMAINS / FAILED_DOMAINS. Only once.
  void run_post(const std::vector<std::string>& renewed_domains = {},
                const std::vector<std::string>& failed_domains = {});

  // Runs `command` (if not empty), then the directory failed hooks, with FAILED_LINEAGES,
  // FAILED_DOMAINS and ACMED_FAILURES = `failures_json`.
  void run_failed(std::string_view command, const std::vector<std::string>& lineages,
                  const std::vector<std::string>& domains, const std::string& failures_json);

  const std::vector<HookFailure>& failures() const { return m_failures; }
  // Everything that ran, in order ("pre-hook: <command>"), for tests and the log.
  const std::vector<std::string>& history() const { return m_history; }

  // A hook gets at most this long; then it is killed and reported as failed.
  static constexpr std::chrono::minutes k_timeout{10};

 private:
  void run_one(HookKind kind, std::vector<std::string> argv, const std::string& shown,
               const std::map<std::string, std::string>& env);
  void run_dir(HookKind kind, const std::map<std::string, std::string>& env);

  std::filesystem::path m_hooks_dir;
  sys::ProcessRunner& m_processes;
  HookLog m_log;
  bool m_use_dirs;
  bool m_pre_dir_done = false;
  bool m_post_done = false;
  std::set<std::string> m_pre_done;
  std::vector<std::string> m_post;
  std::vector<HookFailure> m_failures;
  std::vector<std::string> m_history;
};

}  // namespace acmed::renew
