#include "plugins/webroot/webroot.hpp"

#include "acmed/sys/fs.hpp"

#include <algorithm>
#include <system_error>

namespace acmed::plugins::webroot {

namespace fs = std::filesystem;

Result<WebrootMap> map_from_arguments(
    const std::vector<std::pair<std::string, std::string>>& ordered) {
  WebrootMap map;
  std::string current;
  std::vector<std::string> before_first;
  for (const auto& [flag, value] : ordered) {
    if (flag == "w") {
      current = value;
      for (const auto& name : before_first) map[name] = current;
      before_first.clear();
    } else if (current.empty()) {
      before_first.push_back(value);
    } else {
      map.emplace(value, current);  // the first -w given for a name wins, as in certbot
    }
  }
  if (!before_first.empty()) {
    return Error(Errc::usage, "--webroot needs a document root for " + before_first.front(),
                 "give -w /path/to/docroot before the -d names it serves");
  }
  return map;
}

Status WebrootAuthenticator::perform(std::span<const challenge::Task> tasks) {
  for (const auto& task : tasks) {
    if (task.type != "http-01") {
      return Error(Errc::internal, "webroot cannot answer a " + task.type + " challenge");
    }
    if (!challenge::token_is_safe(task.token)) {
      return Error(Errc::protocol, "the CA sent an unsafe challenge token for " + task.identifier);
    }
    auto it = m_map.find(task.identifier);
    if (it == m_map.end()) {
      return Error(Errc::config, "no webroot given for " + task.identifier,
                   "add -w DIR before -d " + task.identifier);
    }
    std::error_code ec;
    if (!fs::is_directory(it->second, ec)) {
      return Error(Errc::config, "webroot " + it->second.string() + " for " + task.identifier +
                                     " is not a directory");
    }
    fs::path dir = it->second / ".well-known" / "acme-challenge";
    for (fs::path p : {it->second / ".well-known", dir}) {
      if (!fs::exists(p, ec)) {
        ACMED_CHECK(sys::make_dirs(p, 0755));
        m_created_dirs.push_back(p);
      }
    }
    fs::path file = dir / task.token;
    auto st = sys::write_file_atomic(file, task.key_authorization, 0644);
    if (!st) return std::move(st).error().with_context("while answering the challenge for " + task.identifier);
    m_written.push_back(file);
  }
  return {};
}

void WebrootAuthenticator::cleanup(std::span<const challenge::Task>) noexcept {
  for (const auto& file : m_written) (void)sys::remove_file(file);
  m_written.clear();
  // Remove the directories we created, deepest first, only when they are empty.
  std::sort(m_created_dirs.begin(), m_created_dirs.end(),
            [](const fs::path& a, const fs::path& b) { return a.string().size() > b.string().size(); });
  for (const auto& dir : m_created_dirs) {
    std::error_code ec;
    if (fs::is_empty(dir, ec)) fs::remove(dir, ec);
  }
  m_created_dirs.clear();
}

}  // namespace acmed::plugins::webroot
