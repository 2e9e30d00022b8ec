#include "acmed/util/strings.hpp"
#include "plugins/nginx/edit.hpp"
#include "plugins/nginx/nginx.hpp"
#include "plugins/nginx/servers.hpp"
#include "plugins/webconf/http01.hpp"
#include "plugins/webconf/tls_check.hpp"

#include "acmed/sys/fs.hpp"

#include <algorithm>
#include <map>

namespace acmed::plugins::nginx {

namespace {

// Directives the options file sets: a server that sets any of them itself does not get the
// include (nginx rejects a duplicate directive in one context).
const std::vector<std::string> k_option_directives = {
    "ssl_protocols",     "ssl_ciphers",         "ssl_prefer_server_ciphers",
    "ssl_session_cache", "ssl_session_timeout", "ssl_session_tickets",
    "ssl_dhparam"};

bool has_marker(const Node& node) {
  return node.after.find(k_marker) != std::string::npos;
}

const Node* find_in(const Server& s, std::string_view name) {
  for (const auto& d : s.body)
    if (d.node->name() == name) return d.node;
  return nullptr;
}

constexpr std::string_view k_challenge_path = "/.well-known/acme-challenge/";

// The prefix location of `node` when it is `location [^~] /.well-known/acme-challenge/ { }`:
// nginx refuses a second one with the same path ("duplicate location").
bool is_challenge_location(const Node& node) {
  if (node.name() != "location" || node.kind != NodeKind::block) return false;
  if (node.arg_count() == 1) return node.arg(0) == k_challenge_path;
  return node.arg_count() == 2 && node.arg(0) == "^~" && node.arg(1) == k_challenge_path;
}

// acmed's `if ($request_uri ~ "^/\.well-known/acme-challenge/") { break; }`, which ends the
// server-level rewrite directives for the challenge path before a `return` can answer it.
bool is_challenge_break(const Node& node) {
  return node.name() == "if" && has_marker(node) && node.children.size() == 1 &&
         node.children[0].name() == "break";
}

// Lines to insert into one server block, gathered over all names first (inserting moves nodes):
// `lines` after its last listen, `first` at the top of its body.
struct ServerEdit {
  std::vector<std::string> lines;
  std::vector<std::string> first;
  void add(std::string line) { add_to(lines, std::move(line)); }
  void add_first(std::string line) { add_to(first, std::move(line)); }

 private:
  static void add_to(std::vector<std::string>& to, std::string line) {
    if (std::find(to.begin(), to.end(), line) == to.end()) to.push_back(std::move(line));
  }
};

class NginxInstaller final : public install::Installer {
 public:
  NginxInstaller(const Options& options, sys::ProcessRunner& runner)
      : m_options(options), m_control(options, runner) {}

  std::string name() const override { return "nginx"; }
  std::map<std::string, std::string> settings() const override {
    return {{"server_root", m_options.server_root.string()}, {"ctl", m_options.ctl}};
  }
  Status config_test() override { return m_control.config_test(); }
  Status reload() override { return m_control.reload(); }

  Result<install::Plan> plan_deploy(const install::DeployRequest& request) override {
    if (request.names.empty()) return Error(Errc::usage, "no names to install a certificate for");
    ACMED_CHECK(check_challenge_dir());
    ACMED_TRY(Config config, m_control.load());
    ACMED_TRY(Version version, m_control.version());
    auto servers = http_servers(config);
    std::map<std::size_t, ServerEdit> edits;
    install::Plan plan;
    fs::path options_path = m_options.config_dir / k_options_file;

    std::vector<std::size_t> tls_targets;
    for (const auto& host : request.names) {
      auto targets = select_servers(servers, host, m_options.https_port, Tls::ssl);
      if (targets.empty())
        targets = select_servers(servers, host, m_options.http01_port, Tls::plain);
      if (targets.empty()) {
        return Error(Errc::not_found,
                     "no nginx server block for " + host + " listens on port " +
                         std::to_string(m_options.http01_port) + " or " +
                         std::to_string(m_options.https_port) + " with a matching server_name",
                     "add " + host + " to the server_name of the site's server block in " +
                         m_options.server_root.string() + ", then run acmed again");
      }
      for (auto t : targets)
        if (std::find(tls_targets.begin(), tls_targets.end(), t) == tls_targets.end())
          tls_targets.push_back(t);
    }

    for (std::size_t t : tls_targets) {
      Server& s = servers[t];
      ServerEdit& e = edits[t];
      const std::string where =
          config.file(s.block.file).path.string() + ":" + std::to_string(s.block.node->line);
      bool has_tls_listen = std::any_of(s.listens.begin(), s.listens.end(), [&](const Listen& l) {
        return l.ssl && l.port == m_options.https_port;
      });
      if (!has_tls_listen) {
        bool ipv6 =
            std::any_of(s.listens.begin(), s.listens.end(), [](const Listen& l) { return l.ipv6; });
        // http2: `listen ... http2` until 1.25.1 deprecated it for the `http2` directive.
        bool directive_http2 = version.at_least(1, 25, 1);
        std::string port = std::to_string(m_options.https_port);
        std::string flags = directive_http2 ? " ssl" : " ssl http2";
        e.add("listen " + port + flags + ";");
        if (ipv6) e.add("listen [::]:" + port + flags + ";");
        if (directive_http2 && !find_in(s, "http2")) e.add("http2 on;");
        plan.notes.push_back(where + ": listen on " + port + " with TLS");
      }
      ACMED_CHECK(set_path(config, s, "ssl_certificate", request.fullchain_path, e, where));
      ACMED_CHECK(set_path(config, s, "ssl_certificate_key", request.key_path, e, where));
      bool includes_options = std::any_of(s.body.begin(), s.body.end(), [&](const DirectiveRef& d) {
        return d.node->name() == "include" && d.node->arg(0) == options_path.string();
      });
      bool sets_options = std::any_of(s.body.begin(), s.body.end(), [](const DirectiveRef& d) {
        return std::find(k_option_directives.begin(), k_option_directives.end(), d.node->name()) !=
               k_option_directives.end();
      });
      if (!includes_options && !sets_options) {
        e.add("include " + quote_word(options_path.string()) + ";");
      } else if (sets_options && !includes_options) {
        plan.notes.push_back(where + ": keeps its own ssl_* settings, options file not included");
      }
    }
    ACMED_CHECK(plan_enhancements(config, servers, request.names, request.enhancements, tls_targets,
                                  edits, plan.notes));
    ACMED_CHECK(apply_edits(servers, edits));
    install::Plan edited = plan_from(config);
    ACMED_CHECK(check_inside_root(edited));
    for (auto& c : edited.changes) plan.set(std::move(c));
    webconf::add_options_file(plan, options_path, tls_options_text());
    return plan;
  }

  Result<install::Plan> plan_enhance(std::span<const std::string> names,
                                     std::span<const install::Enhancement> enhancements) override {
    ACMED_CHECK(check_challenge_dir());
    ACMED_TRY(Config config, m_control.load());
    auto servers = http_servers(config);
    std::vector<std::size_t> tls_targets;
    for (const auto& host : names) {
      auto targets = select_servers(servers, host, m_options.https_port, Tls::ssl);
      if (targets.empty()) {
        return Error(Errc::not_found,
                     "no nginx server serves " + host + " with TLS on port " +
                         std::to_string(m_options.https_port),
                     "install a certificate first: acmed install --nginx --cert-name NAME");
      }
      tls_targets.insert(tls_targets.end(), targets.begin(), targets.end());
    }
    std::map<std::size_t, ServerEdit> edits;
    install::Plan plan;
    std::vector<std::string> name_list(names.begin(), names.end());
    std::vector<install::Enhancement> wanted(enhancements.begin(), enhancements.end());
    ACMED_CHECK(
        plan_enhancements(config, servers, name_list, wanted, tls_targets, edits, plan.notes));
    ACMED_CHECK(apply_edits(servers, edits));
    install::Plan edited = plan_from(config);
    ACMED_CHECK(check_inside_root(edited));
    for (auto& c : edited.changes) plan.set(std::move(c));
    return plan;
  }

  Status check_deployed(const install::DeployRequest& request) override {
    ACMED_TRY(Config config, Config::load(m_control.main_conf()));
    auto servers = http_servers(config);
    for (const auto& host : request.names) {
      std::vector<std::string> hosts;
      for (std::size_t t : select_servers(servers, host, m_options.https_port, Tls::ssl))
        for (const auto& l : servers[t].listens)
          if (l.ssl && l.port == m_options.https_port) hosts.push_back(l.address);
      webconf::TlsCheck check{
          "nginx", webconf::check_address(hosts, m_options.tls_check_address),
          m_options.tls_check_port != 0 ? m_options.tls_check_port : m_options.https_port,
          m_options.reload_wait};
      ACMED_CHECK(webconf::check_served(check, host, request.fullchain_path));
    }
    return {};
  }

 private:
  // Points `directive` (ssl_certificate / ssl_certificate_key) of server `s` at `path`: replaces
  // the value of the server's own directive in place, or adds one.
  Status set_path(Config& config, Server& s, const std::string& directive, const fs::path& path,
                  ServerEdit& e, const std::string& where) {
    const std::string value = path.string();
    std::vector<const DirectiveRef*> found;
    for (const auto& d : s.body)
      if (d.node->name() == directive) found.push_back(&d);
    if (found.empty()) {
      e.add(directive + " " + quote_word(value) + ";");
      return {};
    }
    if (found.size() > 1) {
      return Error(Errc::conflict,
                   where + ": the server has " + std::to_string(found.size()) + " " + directive +
                       " directives (one per key type?)",
                   "acmed replaces only a single certificate; edit this server by hand");
    }
    Node& node = *found.front()->node;
    if (node.arg_count() == 1 && node.arg(0) == value) return {};
    if (found.front()->file != s.block.file) {
      return Error(Errc::conflict,
                   where + ": " + directive + " comes from the shared file " +
                       config.file(found.front()->file).path.string(),
                   "acmed does not edit files other servers may include; remove that include "
                   "from this server or point it at " +
                       value + " yourself");
    }
    node.words.resize(2);
    node.words[1].raw = quote_word(value);
    node.words[1].value = value;
    if (!has_marker(node)) node.after += std::string(" ") + k_marker;
    return {};
  }

  Status plan_enhancements(const Config& config, std::vector<Server>& servers,
                           const std::vector<std::string>& names,
                           const std::vector<install::Enhancement>& wanted,
                           const std::vector<std::size_t>& tls_targets,
                           std::map<std::size_t, ServerEdit>& edits,
                           std::vector<std::string>& notes) {
    auto want = [&](install::Enhancement e) {
      return std::find(wanted.begin(), wanted.end(), e) != wanted.end();
    };
    if (want(install::Enhancement::redirect)) {
      for (const auto& host : names) {
        for (std::size_t p : select_servers(servers, host, m_options.http01_port, Tls::plain)) {
          if (has_redirect(servers[p])) continue;
          std::string target = "https://$host";
          if (m_options.https_port != 443) target += ":" + std::to_string(m_options.https_port);
          target += "$request_uri";
          // Server-level rewrite directives run in order before locations: plain HTTP gets a
          // 301 except the ACME challenge path, which stays answerable.
          ServerEdit& e = edits[p];
          if (serves_only(servers[p], names)) {
            e.add("set $acmed_redirect $scheme;");
          } else {
            // The block also answers names the certificate does not cover: redirect only ours.
            e.add("set $acmed_redirect no;");
            e.add("if ($host ~* \"" + host_regex(names) + "\") { set $acmed_redirect $scheme; }");
          }
          e.add(
              "if ($request_uri ~ \"^/\\.well-known/acme-challenge/\") { set $acmed_redirect "
              "challenge; }");
          e.add("if ($acmed_redirect = http) { return 301 " + target + "; }");
          notes.push_back(host + ": redirect plain HTTP to HTTPS");
        }
      }
    }
    if (!m_options.challenge_dir.empty()) {
      ACMED_TRY(std::string dir,
                webconf::challenge_dir("--nginx-challenge-dir", m_options.challenge_dir));
      std::vector<std::size_t> done;
      for (const auto& host : names) {
        auto plain = select_servers(servers, host, m_options.http01_port, Tls::plain);
        if (plain.empty()) {
          notes.push_back(host + ": no server block listens on port " +
                          std::to_string(m_options.http01_port) +
                          " without TLS, so the challenge directory is not served for it");
        }
        for (std::size_t p : plain) {
          if (std::find(done.begin(), done.end(), p) != done.end()) continue;
          done.push_back(p);
          const std::string where = config.file(servers[p].block.file).path.string() + ":" +
                                    std::to_string(servers[p].block.node->line);
          serve_challenge_dir(servers[p], where, dir, edits[p], notes);
        }
      }
    }
    for (std::size_t t : tls_targets) {
      if (want(install::Enhancement::hsts) &&
          !has_header(servers[t], "strict-transport-security")) {
        edits[t].add("add_header Strict-Transport-Security \"max-age=31536000\" always;");
      }
      if (want(install::Enhancement::uir) && !has_header(servers[t], "content-security-policy")) {
        edits[t].add("add_header Content-Security-Policy \"upgrade-insecure-requests\" always;");
      }
    }
    return {};
  }

  Status check_challenge_dir() const {
    if (m_options.challenge_dir.empty()) return {};
    ACMED_CHECK(webconf::challenge_dir("--nginx-challenge-dir", m_options.challenge_dir));
    return {};
  }

  // Plain-HTTP server `s` serves files from `dir` under /.well-known/acme-challenge/ (the fleet
  // agent's directory): a `^~` location, which no regex location overrides, and, when the server
  // has rewrite directives of its own at server level (a `return 301` runs before any location is
  // chosen), a first `if` that ends them for the challenge path. acmed's redirect lets the path
  // through by itself. Idempotent: acmed's location is found again (its root updated when `dir`
  // changed); a location of the user's for the path is left alone, with a note.
  void serve_challenge_dir(Server& s, const std::string& where, const std::string& dir,
                           ServerEdit& e, std::vector<std::string>& notes) {
    bool has_location = false;
    for (const auto& d : s.body) {
      Node& n = *d.node;
      if (!is_challenge_location(n)) continue;
      has_location = true;
      if (!has_marker(n) || d.file != s.block.file) {
        notes.push_back(where + ": the server block has its own location " +
                        std::string(k_challenge_path) + " (line " + std::to_string(n.line) +
                        "), left as it is: make it serve " + dir + " yourself");
        continue;
      }
      for (Node& c : n.children) {
        if (c.name() != "root" || c.arg_count() != 1 || c.arg(0) == dir) continue;
        c.words[1].raw = quote_word(dir);
        c.words[1].value = dir;
        notes.push_back(where + ": challenge directory changed to " + dir);
      }
    }
    if (!has_location) {
      e.add("location ^~ " + std::string(k_challenge_path) + " { root " + quote_word(dir) +
            "; default_type text/plain; }");
      notes.push_back(where + ": serve " + std::string(k_challenge_path) + " from " + dir);
    }
    bool own_rewrites = std::any_of(s.body.begin(), s.body.end(), [](const DirectiveRef& d) {
      const Node& n = *d.node;
      return (n.name() == "return" || n.name() == "rewrite" || n.name() == "if") && !has_marker(n);
    });
    bool has_break = std::any_of(s.body.begin(), s.body.end(),
                                 [](const DirectiveRef& d) { return is_challenge_break(*d.node); });
    if (own_rewrites && !has_break)
      e.add_first("if ($request_uri ~ \"^/\\.well-known/acme-challenge/\") { break; }");
  }

  // acmed edits config files only under the server root (as nginx names them).
  Status check_inside_root(const install::Plan& plan) const {
    std::error_code ec;
    fs::path root = fs::absolute(m_options.server_root, ec).lexically_normal();
    for (const auto& c : plan.changes) {
      fs::path named = fs::absolute(c.path, ec).lexically_normal();
      auto rel = named.lexically_relative(root);
      if (rel.empty() || *rel.begin() == "..") {
        return Error(
            Errc::conflict,
            "the server block to edit is in " + c.path.string() + ", outside " + root.string(),
            "acmed only edits files under --nginx-server-root; install the certificate "
            "there by hand");
      }
    }
    return {};
  }

  // True if every server_name of `s` is one of the certificate's `names` (or under one of its
  // "*." names).
  static bool serves_only(const Server& s, const std::vector<std::string>& names) {
    return std::all_of(s.names.begin(), s.names.end(), [&](const std::string& n) {
      return std::any_of(names.begin(), names.end(), [&](const std::string& c) {
        std::string cert = util::ascii_lower(c);
        if (cert == n) return true;
        if (cert.rfind("*.", 0) != 0 || n.find_first_of("*~") != std::string::npos) return false;
        std::string_view suffix = std::string_view(cert).substr(1);  // ".b.test"
        if (n.size() <= suffix.size() ||
            n.compare(n.size() - suffix.size(), suffix.size(), suffix) != 0)
          return false;
        return n.substr(0, n.size() - suffix.size()).find('.') == std::string::npos;
      });
    });
  }

  // "^(a\.test|[^.]+\.b\.test)$": the certificate's names as one anchored regex.
  static std::string host_regex(const std::vector<std::string>& names) {
    std::string out = "^(";
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (i) out += '|';
      std::string_view n = names[i];
      if (n.rfind("*.", 0) == 0) {
        out += "[^.]+";
        n.remove_prefix(1);
      }
      for (char c : n) {
        if (c == '.')
          out += "\\.";
        else
          out += c;
      }
    }
    return out + ")$";
  }

  static bool has_redirect(const Server& s) {
    for (const auto& d : s.body) {
      const Node& n = *d.node;
      if (n.name() == "set" && n.arg(0) == "$acmed_redirect") return true;
      if (n.name() == "return" && n.arg_count() >= 2 &&
          (n.arg(0) == "301" || n.arg(0) == "302" || n.arg(0) == "307" || n.arg(0) == "308") &&
          n.arg(1).rfind("https://", 0) == 0)
        return true;
    }
    return false;
  }

  static bool has_header(const Server& s, std::string_view header) {
    for (const auto& d : s.body) {
      if (d.node->name() != "add_header") continue;
      std::string h = util::ascii_lower(d.node->arg(0));
      if (h == header) return true;
    }
    return false;
  }

  Status apply_edits(std::vector<Server>& servers, const std::map<std::size_t, ServerEdit>& edits) {
    for (const auto& [index, edit] : edits) {
      Node& block = *servers[index].block.node;
      ACMED_CHECK(insert_lines(block, position_after_last(block, "listen"), edit.lines,
                               body_indent(block), k_marker));
      ACMED_CHECK(insert_lines(block, 0, edit.first, body_indent(block), k_marker));
    }
    return {};
  }

  Options m_options;
  Control m_control;
};

}  // namespace

std::string tls_options_text() {
  return "# TLS settings for servers whose certificates acmed installs.\n"
         "# Written once by acmed; edit it if you must, acmed will not overwrite it.\n"
         "# TLS 1.2 and 1.3 only; ECDHE key exchange with AEAD ciphers, so no ssl_dhparam.\n"
         "ssl_protocols TLSv1.2 TLSv1.3;\n"
         "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
         "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
         "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;\n"
         "ssl_prefer_server_ciphers off;\n"
         "ssl_session_cache shared:acmed_tls:10m;\n"
         "ssl_session_timeout 1d;\n"
         "ssl_session_tickets off;\n";
}

std::unique_ptr<install::Installer> make_installer(const Options& options,
                                                   sys::ProcessRunner& runner) {
  return std::make_unique<NginxInstaller>(options, runner);
}

}  // namespace acmed::plugins::nginx
