#include "acmed/renew/hooks.hpp"

#include <algorithm>
#include <system_error>
#include <unistd.h>

namespace acmed::renew {

namespace fs = std::filesystem;

namespace {

const char* dir_name(HookKind kind) {
  switch (kind) {
    case HookKind::pre: return "pre";
    case HookKind::deploy: return "deploy";
    case HookKind::post: return "post";
    case HookKind::failed:
      return "failed";
  }
  return "?";
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : " ") + n;
  return out;
}

std::string trim_output(std::string text) {
  constexpr std::size_t k_max = 2000;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.size() > k_max) text = text.substr(0, k_max) + "...";
  return text;
}

}  // namespace

const char* to_string(HookKind kind) {
  switch (kind) {
    case HookKind::pre: return "pre-hook";
    case HookKind::deploy: return "deploy-hook";
    case HookKind::post: return "post-hook";
    case HookKind::failed:
      return "failed-hook";
  }
  return "?";
}

std::vector<fs::path> directory_hooks(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return out;
  for (const auto& entry : it) {
    std::error_code type_ec;
    if (!entry.is_regular_file(type_ec)) continue;  // follows symlinks
    if (::access(entry.path().c_str(), X_OK) != 0) continue;
    out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  return out;
}

HookRunner::HookRunner(fs::path config_dir, sys::ProcessRunner& processes, HookLog log,
                       bool use_directory_hooks)
    : m_hooks_dir(std::move(config_dir) / "renewal-hooks"),
      m_processes(processes),
      m_log(std::move(log)),
      m_use_dirs(use_directory_hooks) {}

void HookRunner::run_one(HookKind kind, std::vector<std::string> argv, const std::string& shown,
                         const std::map<std::string, std::string>& env) {
  m_history.push_back(std::string(to_string(kind)) + ": " + shown);
  if (m_log) m_log(HookLogLevel::info, std::string("running ") + to_string(kind) + ": " + shown);
  sys::ProcessOptions options;
  options.extra_env = env;
  options.timeout = k_timeout;
  auto result = m_processes.run(argv, options);
  std::string message;
  if (!result) {
    message = "could not be started: " + result.error().describe();
  } else if (result->timed_out) {
    message = "was killed after " + std::to_string(k_timeout.count()) + " minutes";
  } else if (result->exit_code != 0) {
    message = "exited with status " + std::to_string(result->exit_code);
    std::string err = trim_output(result->err);
    if (!err.empty()) message += ": " + err;
  }
  if (result && m_log) {
    std::string out = trim_output(result->out);
    if (!out.empty()) m_log(HookLogLevel::info, std::string(to_string(kind)) + " output: " + out);
  }
  if (!message.empty()) {
    if (m_log) {
      m_log(HookLogLevel::warning,
            std::string(to_string(kind)) + " '" + shown + "' " + message);
    }
    m_failures.push_back({kind, shown, message});
  }
}

void HookRunner::run_dir(HookKind kind, const std::map<std::string, std::string>& env) {
  if (!m_use_dirs) return;
  for (const auto& path : directory_hooks(m_hooks_dir / dir_name(kind))) {
    run_one(kind, {path.string()}, path.string(), env);
  }
}

void HookRunner::run_pre(std::string_view command) {
  if (!m_pre_dir_done) {
    m_pre_dir_done = true;
    run_dir(HookKind::pre, {});
  }
  if (command.empty() || !m_pre_done.insert(std::string(command)).second) return;
  run_one(HookKind::pre, {"/bin/sh", "-c", std::string(command)}, std::string(command), {});
}

void HookRunner::add_post(std::string_view command) {
  if (command.empty()) return;
  if (std::find(m_post.begin(), m_post.end(), command) != m_post.end()) return;
  m_post.emplace_back(command);
}

void HookRunner::run_deploy(std::string_view command, const fs::path& live_dir,
                            const std::vector<std::string>& domains) {
  std::map<std::string, std::string> env{{"RENEWED_LINEAGE", live_dir.string()},
                                         {"RENEWED_DOMAINS", joined(domains)}};
  if (!command.empty()) {
    run_one(HookKind::deploy, {"/bin/sh", "-c", std::string(command)}, std::string(command), env);
  }
  run_dir(HookKind::deploy, env);
}

void HookRunner::run_post(const std::vector<std::string>& renewed_domains,
                          const std::vector<std::string>& failed_domains) {
  if (m_post_done) return;
  m_post_done = true;
  std::map<std::string, std::string> env{{"RENEWED_DOMAINS", joined(renewed_domains)},
                                         {"FAILED_DOMAINS", joined(failed_domains)}};
  for (const auto& command : m_post) {
    run_one(HookKind::post, {"/bin/sh", "-c", command}, command, env);
  }
  run_dir(HookKind::post, env);
}

void HookRunner::run_failed(std::string_view command, const std::vector<std::string>& lineages,
                            const std::vector<std::string>& domains,
                            const std::string& failures_json) {
  std::map<std::string, std::string> env{{"FAILED_LINEAGES", joined(lineages)},
                                         {"FAILED_DOMAINS", joined(domains)},
                                         {"ACMED_FAILURES", failures_json}};
  if (!command.empty()) {
    run_one(HookKind::failed, {"/bin/sh", "-c", std::string(command)}, std::string(command), env);
  }
  run_dir(HookKind::failed, env);
}

}  // namespace acmed::renew
