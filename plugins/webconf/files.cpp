#include "plugins/webconf/files.hpp"

#include <fnmatch.h>
#include <glob.h>

#include <algorithm>
#include <set>
#include <system_error>

namespace acmed::plugins::webconf {

void add_options_file(install::Plan& plan, const fs::path& path, std::string text) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(path, ec))) return;
  plan.set(install::FileChange{path, std::nullopt, std::move(text), 0644});
  plan.notes.push_back("TLS options written once to " + path.string());
}

Status IncludeStack::enter(const fs::path& real, const fs::path& shown, std::string_view at) {
  if (m_reentry == Reentry::refuse &&
      std::find(m_stack.begin(), m_stack.end(), real) != m_stack.end()) {
    return Error(Errc::config, std::string(at) + ": include cycle through " + shown.string(),
                 "remove the include that loops back");
  }
  if (m_stack.size() >= m_max) {
    return Error(Errc::config,
                 std::string(at) + ": includes nest deeper than " + std::to_string(m_max) + " at " +
                     shown.string(),
                 "look for a file that includes itself");
  }
  m_stack.push_back(real);
  return {};
}

Result<fs::path> real_path_of(const fs::path& path) {
  std::error_code ec;
  fs::path real = fs::canonical(path, ec);
  if (ec) return Error(Errc::config, "cannot read " + path.string() + ": " + ec.message());
  return real;
}

bool has_glob(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

namespace {

Result<std::vector<fs::path>> glob_whole(const fs::path& pattern) {
  glob_t g{};
  int rc = ::glob(pattern.c_str(), 0, nullptr, &g);  // sorted; no dot files unless named
  std::vector<fs::path> out;
  if (rc == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  if (rc != 0 && rc != GLOB_NOMATCH) {
    return Error(Errc::io, "cannot expand the include pattern " + pattern.string());
  }
  return out;
}

Result<std::vector<fs::path>> glob_per_component(const fs::path& pattern) {
  std::vector<fs::path> bases = {pattern.root_path()};
  std::vector<std::string> parts;
  for (const fs::path& c : pattern.relative_path()) parts.push_back(c.string());
  for (std::size_t k = 0; k < parts.size(); ++k) {
    bool last = k + 1 == parts.size();
    std::vector<fs::path> next;
    for (const fs::path& b : bases) {
      std::error_code ec;
      if (!has_glob(parts[k])) {
        fs::path m = b / parts[k];
        if (last ? fs::exists(m, ec) : fs::is_directory(m, ec)) next.push_back(m);
        continue;
      }
      std::vector<std::string> names;
      for (fs::directory_iterator it(b, ec), end; !ec && it != end; it.increment(ec))
        names.push_back(it->path().filename().string());
      std::sort(names.begin(), names.end());
      for (const std::string& name : names) {
        if (::fnmatch(parts[k].c_str(), name.c_str(), FNM_PERIOD) != 0) continue;
        fs::path m = b / name;
        if (!last && !fs::is_directory(m, ec)) continue;
        next.push_back(m);
      }
    }
    bases = std::move(next);
  }
  return bases;
}

}  // namespace

Result<std::vector<fs::path>> expand_glob(const fs::path& pattern, GlobOrder order) {
  return order == GlobOrder::whole_path ? glob_whole(pattern) : glob_per_component(pattern);
}

Status compare_file_sets(std::span<const fs::path> ours, std::span<const fs::path> theirs,
                         std::string_view server, std::string_view source, std::string_view hint) {
  std::set<fs::path> a(ours.begin(), ours.end());
  std::set<fs::path> b(theirs.begin(), theirs.end());
  std::string only_theirs, only_ours;
  for (const auto& p : b)
    if (!a.count(p)) only_theirs += " " + p.string();
  for (const auto& p : a)
    if (!b.count(p)) only_ours += " " + p.string();
  if (only_theirs.empty() && only_ours.empty()) return {};
  std::string msg = "the files acmed read differ from the files " + std::string(server) +
                    " loads (" + std::string(source) + "):";
  if (!only_theirs.empty()) msg += " only " + std::string(server) + " loads" + only_theirs + ";";
  if (!only_ours.empty()) msg += " only acmed read" + only_ours + ";";
  return Error(Errc::config, msg, std::string(hint));
}

std::string after_last_newline(std::string_view text) {
  auto nl = text.rfind('\n');
  return nl == std::string_view::npos ? std::string() : std::string(text.substr(nl + 1));
}

std::string indent_step(std::string_view outer, std::string_view inner) {
  if (inner.size() <= outer.size() || inner.substr(0, outer.size()) != outer) return {};
  return std::string(inner.substr(outer.size()));
}

}  // namespace acmed::plugins::webconf

namespace acmed::plugins::webconf {

bool names_path(std::string_view value, std::span<const fs::path> paths) {
  if (value.empty() || value.front() != '/') return false;
  fs::path named = fs::path(value).lexically_normal();
  for (const fs::path& p : paths) {
    fs::path base = p.lexically_normal();
    auto rel = named.lexically_relative(base);
    if (!rel.empty() && *rel.begin() != "..") return true;
  }
  return false;
}

}  // namespace acmed::plugins::webconf
