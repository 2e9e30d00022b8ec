#include "plugins/apache/vhost.hpp"

namespace acmed::plugins::apache {

namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool match_from(std::string_view p, std::string_view n) {
  // Iterative glob with single-star backtracking: linear in practice, no recursion depth.
  std::size_t pi = 0, ni = 0, star = std::string_view::npos, mark = 0;
  while (ni < n.size()) {
    if (pi < p.size() && (p[pi] == '?' || lower(p[pi]) == lower(n[ni]))) {
      ++pi;
      ++ni;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ni;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ni = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace

bool name_matches(std::string_view pattern, std::string_view name) {
  return match_from(pattern, name);
}

bool listens_on(const VirtualHost& vhost, std::string_view port) {
  for (const std::string& a : vhost.addresses) {
    std::string p = address_port(a);
    if (p.empty() || p == "*" || p == port) return true;
  }
  return false;
}

Result<std::size_t> select_vhost(const Config& config, std::string_view name,
                                 std::string_view port) {
  std::string seen;
  for (std::size_t i = 0; i < config.vhosts.size(); ++i) {
    const VirtualHost& vh = config.vhosts[i];
    if (vh.ssl || vh.in_macro || !listens_on(vh, port)) continue;
    if (!vh.server_name.empty()) {
      seen += " " + vh.server_name;
      if (iequals(vh.server_name, name)) return i;
    }
    for (const std::string& alias : vh.aliases) {
      seen += " " + alias;
      if (name_matches(alias, name)) return i;
    }
  }
  return Error(
      Errc::not_found,
      "no apache VirtualHost on port " + std::string(port) + " has ServerName or " +
          "ServerAlias " + std::string(name) +
          (seen.empty() ? std::string(" (none has a name)") : " (names found:" + seen + ")"),
      "add `ServerName " + std::string(name) + "` to the site's <VirtualHost *:" +
          std::string(port) + "> and run acmed again, or use --webroot");
}

}  // namespace acmed::plugins::apache
