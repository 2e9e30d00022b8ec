#include "plugins/nginx/servers.hpp"
#include "acmed/util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <map>
// GCC 12 reports a false -Wmaybe-uninitialized inside <regex> when building with sanitizers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop

namespace acmed::plugins::nginx {

namespace {

using util::ascii_lower;

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int to_port(std::string_view s) {
  if (!all_digits(s) || s.size() > 5) return -1;
  int port = std::stoi(std::string(s));
  return port >= 1 && port <= 65535 ? port : -1;
}

// PCRE named groups have no std::regex spelling: "(?<n>" and "(?P<n>" become plain "(".
std::string to_ecmascript(std::string_view pcre) {
  std::string out;
  for (std::size_t i = 0; i < pcre.size(); ++i) {
    if (pcre.substr(i, 3) == "(?<" && i + 3 < pcre.size() && pcre[i + 3] != '=' &&
        pcre[i + 3] != '!') {
      auto close = pcre.find('>', i);
      if (close != std::string_view::npos) {
        out += '(';
        i = close;
        continue;
      }
    }
    if (pcre.substr(i, 4) == "(?P<") {
      auto close = pcre.find('>', i);
      if (close != std::string_view::npos) {
        out += '(';
        i = close;
        continue;
      }
    }
    out += pcre[i];
  }
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::optional<Listen> parse_listen(const Node& node) {
  if (node.arg_count() == 0) return std::nullopt;
  std::string spec = node.arg(0);
  if (spec.rfind("unix:", 0) == 0) return std::nullopt;
  Listen l;
  if (spec.front() == '[') {
    auto close = spec.find(']');
    if (close == std::string::npos) return std::nullopt;
    l.address = spec.substr(0, close + 1);
    l.ipv6 = true;
    if (close + 1 < spec.size()) {
      if (spec[close + 1] != ':') return std::nullopt;
      l.port = to_port(spec.substr(close + 2));
    }
  } else if (auto colon = spec.rfind(':'); colon != std::string::npos) {
    l.address = spec.substr(0, colon);
    l.port = to_port(spec.substr(colon + 1));
  } else if (all_digits(spec)) {
    l.port = to_port(spec);
  } else {
    l.address = spec;
  }
  if (l.port < 0) return std::nullopt;
  for (std::size_t i = 1; i < node.arg_count(); ++i) {
    std::string flag = node.arg(i);
    if (flag == "ssl") l.ssl = true;
    if (flag == "http2") l.http2 = true;
    if (flag == "quic") return std::nullopt;  // HTTP/3 over UDP: not where http-01 or TLS land
  }
  return l;
}

std::vector<Server> http_servers(Config& config) {
  std::vector<Server> out;
  config.walk([&](DirectiveRef ref, const std::vector<std::string>& context) {
    if (ref.node->kind != NodeKind::block || ref.node->name() != "server") return;
    if (context != std::vector<std::string>{"http"}) return;
    Server s;
    s.block = ref;
    s.body = config.body(ref.file, *ref.node);
    for (const auto& d : s.body) {
      if (d.node->name() == "listen") {
        if (auto l = parse_listen(*d.node)) s.listens.push_back(*l);
      } else if (d.node->name() == "server_name") {
        for (std::size_t i = 0; i < d.node->arg_count(); ++i)
          s.names.push_back(ascii_lower(d.node->arg(i)));
      }
    }
    bool any_listen = std::any_of(s.body.begin(), s.body.end(),
                                  [](const DirectiveRef& d) { return d.node->name() == "listen"; });
    if (!any_listen) {
      Listen implicit;
      implicit.implicit = true;
      s.listens.push_back(implicit);
    }
    out.push_back(std::move(s));
  });
  return out;
}

std::optional<NameMatch> match_name(std::string_view pattern, std::string_view host) {
  if (pattern.empty() || host.empty()) return std::nullopt;
  std::string h = ascii_lower(host);
  if (pattern.front() == '~') {
    try {
      std::regex re(to_ecmascript(pattern.substr(1)), std::regex::ECMAScript | std::regex::icase);
      if (std::regex_search(h, re)) return NameMatch{3, 0};
    } catch (const std::regex_error&) {
      // A PCRE feature std::regex lacks: treat the name as not matching rather than guess.
    }
    return std::nullopt;
  }
  std::string p = ascii_lower(pattern);
  if (p.rfind("*.", 0) == 0) {
    std::string_view suffix = std::string_view(p).substr(1);  // ".example.com"
    if (h.size() > suffix.size() && ends_with(h, suffix)) return NameMatch{1, suffix.size()};
    return std::nullopt;
  }
  if (p.front() == '.') {  // ".example.com" = "example.com" and "*.example.com"
    if (h == p.substr(1) || ends_with(h, p)) return NameMatch{1, p.size()};
    return std::nullopt;
  }
  if (ends_with(p, ".*")) {
    std::string_view prefix = std::string_view(p).substr(0, p.size() - 1);  // "www.example."
    if (h.size() > prefix.size() && h.rfind(prefix, 0) == 0) return NameMatch{2, prefix.size()};
    return std::nullopt;
  }
  if (h == p) return NameMatch{0, p.size()};
  return std::nullopt;
}

std::vector<std::size_t> select_servers(const std::vector<Server>& servers, std::string_view host,
                                        int port, Tls tls) {
  // nginx resolves names among the servers of one listening address:port.
  std::map<std::string, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < servers.size(); ++i) {
    for (const auto& l : servers[i].listens) {
      if (l.port != port || l.ssl != (tls == Tls::ssl)) continue;
      auto& g = groups[l.address + ":" + std::to_string(l.port)];
      if (g.empty() || g.back() != i) g.push_back(i);
    }
  }
  std::vector<std::size_t> chosen;
  for (const auto& [address, members] : groups) {
    std::optional<std::size_t> best;
    NameMatch best_match{99, 0};
    for (std::size_t i : members) {
      for (const auto& name : servers[i].names) {
        auto m = match_name(name, host);
        if (!m) continue;
        bool better = m->rank < best_match.rank ||
                      (m->rank == best_match.rank && (m->rank == 1 || m->rank == 2) &&
                       m->length > best_match.length);
        if (better) {
          best = i;
          best_match = *m;
        }
      }
    }
    if (best && std::find(chosen.begin(), chosen.end(), *best) == chosen.end())
      chosen.push_back(*best);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace acmed::plugins::nginx
