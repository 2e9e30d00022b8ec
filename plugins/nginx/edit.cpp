#include "plugins/nginx/edit.hpp"

#include "acmed/sys/fs.hpp"

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <thread>

namespace acmed::plugins::nginx {

using webconf::after_last_newline;

namespace {

// True if `trivia` starts a new line before anything else (blanks and '\r' allowed).
bool starts_new_line(const std::string& trivia) {
  for (char c : trivia) {
    if (c == '\n') return true;
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return false;
}

// Children of `pid` (nginx workers, cache manager) from /proc; empty if unknown.
std::vector<int> children_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::vector<int> out;
  int child = 0;
  while (in >> child) out.push_back(child);
  return out;
}

std::string process_failure(const std::string& what, const Result<sys::ProcessResult>& res) {
  if (!res) return what + ": " + res.error().describe();
  std::string out = res->err.empty() ? res->out : res->err;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return what + (res->timed_out ? " (timed out)" : "") + ": " + out;
}

}  // namespace

bool Version::at_least(int ma, int mi, int pa) const {
  if (major != ma) return major > ma;
  if (minor != mi) return minor > mi;
  return patch >= pa;
}

std::optional<Version> parse_version(std::string_view text) {
  auto at = text.find("nginx/");
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t pos = at + 6;
  int parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    if (i > 0) {
      if (pos >= text.size() || text[pos] != '.') return std::nullopt;
      ++pos;
    }
    std::size_t start = pos;
    while (pos < text.size() && pos - start < 6 && text[pos] >= '0' && text[pos] <= '9') {
      parts[i] = parts[i] * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  return Version{parts[0], parts[1], parts[2]};
}

std::vector<std::string> Control::base_argv() const {
  std::vector<std::string> argv{m_options.ctl};
  if (!m_options.prefix.empty()) {
    argv.push_back("-p");
    argv.push_back(m_options.prefix.string());
  }
  argv.push_back("-c");
  argv.push_back(main_conf().string());
  return argv;
}

Status Control::config_test() {
  auto argv = base_argv();
  argv.push_back("-t");
  auto res = m_runner.run(argv, {});
  if (res && res->exit_code == 0) return {};
  return Error(Errc::server, process_failure("nginx rejects the configuration", res),
               "see the message above; acmed restores its edits when this happens");
}

std::optional<int> Control::master_pid() const {
  auto text = sys::read_file(main_conf());
  if (!text) return std::nullopt;
  auto tree = parse(*text, main_conf().string());
  if (!tree) return std::nullopt;
  fs::path pid_file = "/run/nginx.pid";
  for (const auto& node : tree->nodes) {
    if (node.name() == "pid" && node.arg_count() == 1) pid_file = node.arg(0);
  }
  if (pid_file.is_relative()) {
    pid_file =
        (m_options.prefix.empty() ? fs::path("/usr/share/nginx") : m_options.prefix) / pid_file;
  }
  auto pid_text = sys::read_file_limited(pid_file, 64);
  if (!pid_text) return std::nullopt;
  try {
    int pid = std::stoi(*pid_text);
    return pid > 1 ? std::optional<int>(pid) : std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Status Control::reload() {
  auto master = master_pid();
  std::vector<int> old_workers = master ? children_of(*master) : std::vector<int>{};
  auto argv = base_argv();
  argv.push_back("-s");
  argv.push_back("reload");
  auto res = m_runner.run(argv, {});
  if (!res || res->exit_code != 0) {
    return Error(Errc::server, process_failure("cannot reload nginx", res),
                 "is nginx running with " + main_conf().string() + "? start it and retry");
  }
  // The reload is asynchronous: old workers keep accepting until the master tells them to quit.
  auto deadline = std::chrono::steady_clock::now() + m_options.reload_wait;
  while (master && !old_workers.empty() && std::chrono::steady_clock::now() < deadline) {
    auto now = children_of(*master);
    bool any_old = std::any_of(old_workers.begin(), old_workers.end(), [&](int pid) {
      return std::find(now.begin(), now.end(), pid) != now.end();
    });
    if (!any_old) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return {};
}

Result<Version> Control::version() {
  if (m_version) return *m_version;
  ACMED_TRY(auto res, m_runner.run({m_options.ctl, "-v"}, {}));
  auto v = parse_version(res.err + res.out);
  if (!v) {
    return Error(Errc::server, "cannot tell the nginx version from `" + m_options.ctl +
                                   " -v`: " + res.err + res.out);
  }
  m_version = *v;
  return *v;
}

Result<Config> Control::load() {
  ACMED_TRY(Config config, Config::load(main_conf()));
  if (m_options.cross_check == CrossCheck::yes) {
    std::vector<std::string> argv{m_options.ctl};
    if (!m_options.prefix.empty()) argv.insert(argv.end(), {"-p", m_options.prefix.string()});
    ACMED_CHECK(cross_check_with_nginx(config, m_runner, std::move(argv)));
  }
  return config;
}

std::string body_indent(const Node& block) {
  for (const auto& child : block.children) {
    if (child.before.find('\n') != std::string::npos) return after_last_newline(child.before);
  }
  return after_last_newline(block.before) + std::string(webconf::k_default_indent);
}

std::size_t position_after_last(const Node& block, std::string_view name) {
  std::size_t pos = 0;
  for (std::size_t i = 0; i < block.children.size(); ++i) {
    if (block.children[i].name() == name) pos = i + 1;
  }
  return pos;
}

Status insert_lines(Node& block, std::size_t pos, const std::vector<std::string>& lines,
                    std::string_view indent, std::string_view comment) {
  if (lines.empty()) return {};
  std::string text;
  for (const auto& line : lines) {
    text += "\n" + std::string(indent) + line + " " + std::string(comment);
  }
  auto parsed = parse(text, "<acmed edit>");
  if (!parsed) return Error(Errc::internal, "acmed built an invalid nginx line: " + text);
  std::vector<Node> nodes = std::move(parsed->nodes);
  // Whatever followed the insertion point must still start its own line, or our trailing
  // comment would swallow it.
  std::string& next = pos < block.children.size() ? block.children[pos].before : block.before_close;
  if (!starts_new_line(next)) {
    std::string next_indent =
        pos < block.children.size() ? std::string(indent) : after_last_newline(block.before);
    next = "\n" + next_indent +
           next.substr(next.find_first_not_of(" \t") == std::string::npos
                           ? next.size()
                           : next.find_first_not_of(" \t"));
  }
  block.children.insert(block.children.begin() + static_cast<std::ptrdiff_t>(pos),
                        std::make_move_iterator(nodes.begin()),
                        std::make_move_iterator(nodes.end()));
  return {};
}

install::Plan plan_from(const Config& config) {
  install::Plan plan;
  // As nginx names the file: the installer only edits files under the server root.
  for (std::size_t i = 0; i < config.file_count(); ++i)
    webconf::add_if_edited(plan, config.file(i), webconf::WritePath::as_named);
  return plan;
}

}  // namespace acmed::plugins::nginx
