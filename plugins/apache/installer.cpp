#include "plugins/apache/installer.hpp"

#include "plugins/apache/vhost.hpp"
#include "plugins/webconf/http01.hpp"
#include "plugins/webconf/tls_check.hpp"

#include "acmed/install/transaction.hpp"
#include "acmed/sys/fs.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

namespace acmed::plugins::apache {

namespace {

// Every comment acmed writes into a user's config starts with this.
constexpr const char* k_marker = "# acmed:";
constexpr const char* k_redirect_marker = "# acmed: redirect to HTTPS";

bool starts_with_icase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool is_marker(const Node& n) {
  return n.head.kind == LineKind::comment && n.head.words[0].value.rfind(k_marker, 0) == 0;
}

// A rule or redirect that sends the client to https: pointless (or a loop) on the 443 vhost.
bool redirects_to_https(const Line& l) {
  if (l.is("RewriteRule")) {
    auto a = l.args();
    return a.size() >= 2 && starts_with_icase(a[1], "https://");
  }
  if (l.is("Redirect") || l.is("RedirectMatch") || l.is("RedirectPermanent") ||
      l.is("RedirectTemp")) {
    auto a = l.args();
    return std::any_of(a.begin(), a.end(),
                       [](const std::string& v) { return starts_with_icase(v, "https://"); });
  }
  return false;
}

// Directives the HTTPS vhost sets itself.
bool is_ssl_directive(const Line& l) {
  return l.kind == LineKind::directive && starts_with_icase(l.name(), "SSL");
}

// The port-80 vhost's body, minus what must not be copied to port 443: redirects to https (with
// the RewriteCond lines that belong to them), SSL* lines, and acmed's own marker comments.
std::vector<Node> carry_over(const std::vector<Node>& body) {
  std::vector<Node> out;
  std::vector<Node> conds;  // RewriteCond lines waiting for their RewriteRule
  for (const Node& n : body) {
    if (n.is_directive() && n.head.is("RewriteCond")) {
      conds.push_back(n);
      continue;
    }
    if (n.is_directive() && redirects_to_https(n.head)) {
      conds.clear();
      continue;
    }
    out.insert(out.end(), conds.begin(), conds.end());
    conds.clear();
    if (is_marker(n) || (n.is_directive() && is_ssl_directive(n.head))) continue;
    out.push_back(n);
  }
  out.insert(out.end(), conds.begin(), conds.end());
  return out;
}

// "*:80" -> "*:443", "[::]:80" -> "[::]:443", "example.com" -> "example.com:443".
std::string https_address(const std::string& address, const std::string& https_port) {
  std::string port = address_port(address);
  std::string host = port.empty() ? address : address.substr(0, address.size() - port.size() - 1);
  return host + ":" + https_port;
}

std::string lineage_comment(std::span<const std::string> names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : " ") + n;
  return s;
}

Node* find_vhost(std::vector<Node>& nodes) {
  for (Node& n : nodes) {
    if (!n.is_section()) continue;
    if (n.head.is("VirtualHost")) return &n;
    if (Node* inner = find_vhost(n.children)) return inner;
  }
  return nullptr;
}

bool has_header(const Node& vhost, std::string_view header) {
  for (const Node& c : vhost.children) {
    if (!c.is_directive() || !c.head.is("Header")) continue;
    for (const std::string& a : c.head.args())
      if (iequals(a, header)) return true;
  }
  return false;
}

class Planner {
 public:
  Planner(Config& config, const Options& options) : m_config(config), m_options(options) {}

  Result<install::Plan> run(std::span<const std::string> names,
                            const install::DeployRequest* deploy,
                            std::span<const install::Enhancement> enhancements) {
    if (names.empty()) return Error(Errc::usage, "no names to install a certificate for");
    // certbot's defaults name Debian's a2enmod/a2ensite, which acmed imitates itself (inside
    // the transaction, so rollback undoes them); any other program is refused.
    bool debian_enmod =
        m_options.enmod.empty() || fs::path(m_options.enmod).filename() == "a2enmod";
    bool debian_ensite =
        m_options.ensite.empty() || fs::path(m_options.ensite).filename() == "a2ensite";
    if (!debian_enmod || !debian_ensite) {
      return Error(
          Errc::usage, "--apache-enmod/--apache-ensite accept only a2enmod/a2ensite",
          "leave them out: acmed makes the same symlinks itself, so rollback can undo them");
    }
    std::optional<std::string> challenge_dir;
    if (!m_options.challenge_dir.empty()) {
      ACMED_TRY(challenge_dir,
                webconf::challenge_dir("--apache-challenge-dir", m_options.challenge_dir));
    }
    bool redirect = has(enhancements, install::Enhancement::redirect);
    bool hsts = has(enhancements, install::Enhancement::hsts);
    bool uir = has(enhancements, install::Enhancement::uir);

    // Each name goes to the HTTPS vhost that already serves it (its certificate lines are
    // updated in place: a second vhost for the name would never be reached), or else to a new
    // -le-ssl.conf made from the port-80 vhost. The redirect always goes to the port-80 vhost.
    using Groups = std::vector<std::pair<std::size_t, std::vector<std::string>>>;
    auto add = [](Groups& g, std::size_t v, const std::string& name) {
      auto it = std::find_if(g.begin(), g.end(), [&](auto& e) { return e.first == v; });
      if (it == g.end()) {
        g.push_back({v, {name}});
      } else {
        it->second.push_back(name);
      }
    };
    Groups from_port80, existing_ssl, redirects, challenges;
    for (const std::string& name : names) {
      auto ssl = select_ssl_vhost(name);
      auto plain = select_vhost(m_config, name, m_options.http01_port);
      if (ssl) {
        add(existing_ssl, *ssl, name);
      } else if (!plain) {
        return std::move(plain).error();
      } else {
        add(from_port80, *plain, name);
      }
      if (redirect && plain) {
        add(redirects, *plain, name);
      } else if (redirect) {
        m_plan.notes.push_back(name + ": no vhost on port " + m_options.http01_port +
                               ", so no redirect");
      }
      if (challenge_dir && plain) {
        add(challenges, *plain, name);
      } else if (challenge_dir) {
        m_plan.notes.push_back(name + ": no vhost on port " + m_options.http01_port +
                               ", so the challenge directory is not served for it");
      }
    }

    if (deploy || hsts || uir) ACMED_CHECK(enable_module("ssl"));
    if (redirect && !redirects.empty()) ACMED_CHECK(enable_module("rewrite"));
    if (hsts || uir) ACMED_CHECK(enable_module("headers"));
    if (!challenges.empty()) ACMED_CHECK(enable_module("alias"));

    for (auto& [v, group] : existing_ssl) edit_ssl_in_place(v, group, deploy, hsts, uir);
    for (auto& [v, group] : from_port80) ACMED_CHECK(ssl_vhost(v, group, deploy, hsts, uir));
    for (auto& [v, group] : redirects) add_redirect(v, group);
    for (auto& [v, group] : challenges) serve_challenge_dir(v, group, *challenge_dir);
    if (deploy)
      webconf::add_options_file(m_plan, m_options.config_dir / k_options_file, options_file_text());
    for (std::size_t f : m_edited)
      webconf::add_if_edited(m_plan, m_config.files[f], webconf::WritePath::real);
    if (m_unwritable) {
      std::string shown;
      for (char c : *m_unwritable)
        shown += c == '\n' ? "\\n" : c == '\r' ? "\\r" : std::string(1, c);
      return Error(Errc::invalid_input,
                   "acmed will not write \"" + shown +
                       "\" into apache's configuration: apache has no way to express a line "
                       "break (CR or LF) in a value",
                   "use paths and names without line breaks");
    }
    for (const std::string& w : m_config.warnings) m_plan.notes.push_back("warning: " + w);
    return std::move(m_plan);
  }

 private:
  // The directive writers: make_directive/make_section, refusing (for run() to report) a value
  // with CR or LF, which apache cannot read back.
  Line directive(std::string_view indent, std::string_view name,
                 const std::vector<std::string>& args, std::string_view eol) {
    note_unwritable(args);
    return make_directive(indent, name, args, eol);
  }
  Node section(std::string_view indent, std::string_view name, const std::vector<std::string>& args,
               std::string_view eol) {
    note_unwritable(args);
    return make_section(indent, name, args, eol);
  }
  void note_unwritable(const std::vector<std::string>& args) {
    for (const std::string& a : args)
      if (!writable_value(a) && !m_unwritable) m_unwritable = a;
  }

  static bool has(std::span<const install::Enhancement> list, install::Enhancement e) {
    return std::find(list.begin(), list.end(), e) != list.end();
  }

  fs::path vhost_root() const {
    return m_options.vhost_root.empty() ? m_config.server_root / "sites-available"
                                        : m_options.vhost_root;
  }

  // a2enmod: mods-enabled/<m>.load (and .conf) -> ../mods-available/..., dependencies first.
  Status enable_module(const std::string& module, int depth = 0) {
    if (depth > 10) return Error(Errc::config, "module dependencies of " + module + " loop");
    if (m_config.has_module(module + "_module") ||
        std::find(m_enabled.begin(), m_enabled.end(), module) != m_enabled.end())
      return ok_status();
    fs::path avail = m_config.server_root / "mods-available";
    fs::path load = avail / (module + ".load");
    auto text = sys::read_file(load);
    if (!text) {
      return Error(Errc::not_found,
                   "apache module " + module + " is not installed (no " + load.string() + ")",
                   "install it (for mod_ssl: the apache2 package ships it) or enable it by hand");
    }
    m_enabled.push_back(module);
    // a2enmod reads "# Depends: a b" from the .load file and enables those first.
    auto parsed = parse(*text, load);
    if (parsed) {
      for (const Node& n : parsed->nodes) {
        if (n.head.kind != LineKind::comment) continue;
        std::string c = n.head.words[0].value;
        const std::string tag = "# Depends:";
        if (c.rfind(tag, 0) != 0) continue;
        std::string rest = c.substr(tag.size());
        for (std::size_t p = 0; p < rest.size();) {
          std::size_t s = rest.find_first_not_of(" \t,", p);
          if (s == std::string::npos) break;
          std::size_t e = rest.find_first_of(" \t,", s);
          std::string dep = rest.substr(s, e == std::string::npos ? std::string::npos : e - s);
          ACMED_CHECK(enable_module(dep, depth + 1));
          p = e == std::string::npos ? rest.size() : e;
        }
      }
    }
    fs::path enabled = m_config.server_root / "mods-enabled";
    for (const char* ext : {".load", ".conf"}) {
      std::error_code ec;
      if (!fs::exists(avail / (module + ext), ec)) continue;
      m_plan.links.push_back(install::LinkChange{enabled / (module + ext),
                                                 fs::path("../mods-available") / (module + ext)});
    }
    m_plan.notes.push_back("apache module " + module + " enabled (mods-enabled/" + module +
                           ".load)");
    return ok_status();
  }

  // The enabled HTTPS vhost on the https port serving `name`, as apache chooses (vhost.hpp).
  std::optional<std::size_t> select_ssl_vhost(const std::string& name) const {
    for (std::size_t i = 0; i < m_config.vhosts.size(); ++i) {
      const VirtualHost& vh = m_config.vhosts[i];
      if (!vh.ssl || vh.in_macro || !listens_on(vh, m_options.https_port)) continue;
      if (iequals(vh.server_name, name)) return i;
      for (const std::string& alias : vh.aliases)
        if (name_matches(alias, name)) return i;
    }
    return std::nullopt;
  }

  void edit_ssl_in_place(std::size_t v, const std::vector<std::string>& names,
                         const install::DeployRequest* deploy, bool hsts, bool uir) {
    const VirtualHost& vh = m_config.vhosts[v];
    configure(m_config.node(vh.ref), m_config.files[vh.ref.file].tree, deploy, hsts, uir,
              Fresh::no);
    mark_edited(vh.ref.file);
    m_plan.notes.push_back(lineage_comment(names) + ": HTTPS vhost " +
                           m_config.files[vh.ref.file].path.string() + ":" +
                           std::to_string(vh.line) + " serves them");
  }

  void mark_edited(std::size_t file) {
    if (std::find(m_edited.begin(), m_edited.end(), file) == m_edited.end())
      m_edited.push_back(file);
  }

  enum class Fresh { no, yes };

  // Puts the certificate lines (and, in a vhost acmed just made, SSLEngine and the options
  // Include; in a user's vhost the Include only when it sets no TLS protocol or ciphers itself)
  // and the requested headers into the HTTPS vhost `ssl`, in `tree`'s own style.
  void configure(Node& ssl_node, const ConfigFile& tree, const install::DeployRequest* deploy,
                 bool hsts, bool uir, Fresh fresh) {
    Node* ssl = &ssl_node;
    std::string eol = file_eol(tree);
    std::string indent = child_indent(*ssl, indent_unit(tree));
    auto ensure = [&](std::string_view name, const std::string& value) {
      for (Node& c : ssl->children) {
        if (!c.is_directive() || !c.head.is(name)) continue;
        auto args = c.head.args();
        if (args.size() == 1 && args[0] == value) return;
        c.head = directive(c.head.indent, c.head.words[0].raw, {value}, c.head.eol);
        return;
      }
      append_node(ssl->children, Node{directive(indent, name, {value}, eol), {}, {}}, eol);
    };
    if (deploy) {
      if (fresh == Fresh::yes) {
        append_node(ssl->children,
                    Node{make_comment(indent, "acmed: certificate and TLS settings", eol), {}, {}},
                    eol);
        append_node(ssl->children, Node{directive(indent, "SSLEngine", {"on"}, eol), {}, {}}, eol);
      }
      ensure("SSLCertificateFile", deploy->fullchain_path.string());
      ensure("SSLCertificateKeyFile", deploy->key_path.string());
      bool own_tls = std::any_of(ssl->children.begin(), ssl->children.end(), [](const Node& c) {
        return c.is_directive() && (c.head.is("SSLProtocol") || c.head.is("SSLCipherSuite") ||
                                    c.head.is("Include") || c.head.is("IncludeOptional"));
      });
      if (fresh == Fresh::yes || !own_tls) {
        fs::path opts = m_options.config_dir / k_options_file;
        append_node(ssl->children, Node{directive(indent, "Include", {opts.string()}, eol), {}, {}},
                    eol);
      }
    }
    if (hsts && !has_header(*ssl, "Strict-Transport-Security")) {
      append_node(ssl->children, Node{make_comment(indent, "acmed: HSTS", eol), {}, {}}, eol);
      append_node(
          ssl->children,
          Node{directive(indent, "Header",
                         {"always", "set", "Strict-Transport-Security", "max-age=31536000"}, eol),
               {},
               {}},
          eol);
    }
    if (uir && !has_header(*ssl, "Content-Security-Policy")) {
      append_node(ssl->children,
                  Node{make_comment(indent, "acmed: upgrade insecure requests", eol), {}, {}}, eol);
      append_node(
          ssl->children,
          Node{directive(indent, "Header",
                         {"always", "set", "Content-Security-Policy", "upgrade-insecure-requests"},
                         eol),
               {},
               {}},
          eol);
    }
  }

  Status ssl_vhost(std::size_t v, const std::vector<std::string>& names,
                   const install::DeployRequest* deploy, bool hsts, bool uir) {
    const VirtualHost& vh = m_config.vhosts[v];
    const LoadedFile& src = m_config.files[vh.ref.file];
    std::string stem = src.real_path.stem().string();
    // One HTTPS file per port-80 vhost: a file holding several gets the vhost's name in it.
    std::size_t in_file = static_cast<std::size_t>(
        std::count_if(m_config.vhosts.begin(), m_config.vhosts.end(),
                      [&](const VirtualHost& o) { return o.ref.file == vh.ref.file && !o.ssl; }));
    if (in_file > 1)
      stem += "-" + (vh.server_name.empty() ? std::to_string(vh.line) : vh.server_name);
    fs::path path = vhost_root() / (stem + "-le-ssl.conf");
    std::error_code ec;
    bool exists = fs::exists(path, ec);
    if (!exists && !deploy) {
      return Error(Errc::conflict,
                   "no HTTPS vhost for " + names.front() + " (" + path.string() + " is missing)",
                   "install the certificate first: acmed install --apache --cert-name NAME");
    }
    std::string before;
    ConfigFile tree;
    if (exists) {
      ACMED_TRY(before, sys::read_file(path));
      ACMED_TRY(tree, parse(before, path));
    } else {
      tree = new_ssl_file(vh, src, names);
    }
    Node* ssl = find_vhost(tree.nodes);
    if (!ssl) {
      return Error(Errc::config, path.string() + " has no <VirtualHost>",
                   "move the file away; acmed will write it again");
    }
    configure(*ssl, tree, deploy, hsts, uir, exists ? Fresh::no : Fresh::yes);
    std::string after = print(tree);
    if (!exists) {
      m_plan.set(install::FileChange{path, std::nullopt, after, 0644});
      m_plan.notes.push_back(lineage_comment(names) + ": HTTPS vhost " + path.string() + " from " +
                             src.path.string() + ":" + std::to_string(vh.line));
    } else if (after != before) {
      m_plan.set(install::FileChange{path, before, after, 0644});
      m_plan.notes.push_back(lineage_comment(names) + ": HTTPS vhost " + path.string() +
                             " updated");
    }
    // a2ensite: sites-enabled/<file> -> ../sites-available/<file>, unless apache loads it already.
    fs::path real = fs::weakly_canonical(path, ec);
    if (m_config.find_file(real) == m_config.files.size() && !would_include(m_config, path)) {
      fs::path link = m_config.server_root / "sites-enabled" / path.filename();
      if (!fs::is_directory(link.parent_path(), ec) || !would_include(m_config, link)) {
        return Error(Errc::config,
                     "apache would not load " + path.string() + ": no Include covers it and " +
                         link.parent_path().string() + " is not an included directory",
                     "give --apache-vhost-root a directory apache includes");
      }
      fs::path target =
          m_options.vhost_root.empty() ? fs::path("../sites-available") / path.filename() : path;
      m_plan.links.push_back(install::LinkChange{link, target});
      m_plan.notes.push_back("site " + path.filename().string() + " enabled");
    }
    return ok_status();
  }

  // The new file: the port-80 vhost's body copied under <IfModule mod_ssl.c><VirtualHost ...:443>.
  ConfigFile new_ssl_file(const VirtualHost& vh, const LoadedFile& src,
                          const std::vector<std::string>& names) {
    const Node& port80 = m_config.node(vh.ref);
    std::string eol = file_eol(src.tree);
    std::vector<std::string> addresses;
    for (const std::string& a : vh.addresses)
      addresses.push_back(https_address(a, m_options.https_port));
    ConfigFile f;
    f.path = vhost_root();
    f.nodes.push_back(
        Node{make_comment("",
                          "acmed: HTTPS for " + lineage_comment(names) + ", made from " +
                              src.path.string() + ":" + std::to_string(vh.line),
                          eol),
             {},
             {}});
    f.nodes.push_back(Node{
        make_comment(
            "", "acmed: keeps SSLCertificateFile/SSLCertificateKeyFile current; the rest is yours",
            eol),
        {},
        {}});
    Node ifmod = section("", "IfModule", {"mod_ssl.c"}, eol);
    if (!listens_on_https()) {
      append_node(ifmod.children,
                  Node{directive("", "Listen", {m_options.https_port}, eol), {}, {}}, eol);
    }
    Node vhost = section("", "VirtualHost", addresses, eol);
    vhost.head.words[0].raw = port80.head.words[0].raw;  // keep the user's spelling
    vhost.close.words[0].raw = port80.close.words[0].raw;
    vhost.children = carry_over(port80.children);
    // Drop trailing blank lines so the new lines follow the body directly.
    while (!vhost.children.empty() && vhost.children.back().head.kind == LineKind::blank)
      vhost.children.pop_back();
    ifmod.children.push_back(std::move(vhost));
    f.nodes.push_back(std::move(ifmod));
    return f;
  }

  // True if some Listen (in any file, in any <IfModule>) already opens the https port.
  bool listens_on_https() const {
    for (const LoadedFile& f : m_config.files)
      if (listen_in(f.tree.nodes)) return true;
    return false;
  }
  bool listen_in(const std::vector<Node>& nodes) const {
    for (const Node& n : nodes) {
      if (n.is_section() && listen_in(n.children)) return true;
      if (!n.is_directive() || !n.head.is("Listen")) continue;
      auto a = n.head.args();
      if (a.empty()) continue;
      std::string v = resolve_vars(a[0], m_config.vars);
      std::string port = address_port(v);
      if ((port.empty() ? v : port) == m_options.https_port) return true;
    }
    return false;
  }

  // RewriteRule to https in the port-80 vhost, answering ACME challenges over plain HTTP.
  void add_redirect(std::size_t v, const std::vector<std::string>& names) {
    const VirtualHost& vh = m_config.vhosts[v];
    LoadedFile& src = m_config.files[vh.ref.file];
    Node& port80 = m_config.node(vh.ref);
    for (const Node& c : port80.children) {
      if (is_marker(c) && c.head.words[0].value.rfind(k_redirect_marker, 0) == 0) return;
      if (c.is_directive() && redirects_to_https(c.head)) {
        m_plan.notes.push_back(names.front() + ": " + src.path.string() + ":" +
                               std::to_string(c.head.line_no) + " already redirects to https");
        return;
      }
    }
    std::string eol = file_eol(src.tree);
    std::string indent = child_indent(port80, indent_unit(src.tree));
    std::vector<Node> lines;
    lines.push_back(Node{
        make_comment(indent, "acmed: redirect to HTTPS, ACME challenges excepted", eol), {}, {}});
    lines.push_back(Node{directive(indent, "RewriteEngine", {"on"}, eol), {}, {}});
    for (std::size_t i = 0; i < names.size(); ++i) {
      std::vector<std::string> args = {"%{SERVER_NAME}", "=" + names[i]};
      if (i + 1 < names.size()) args.push_back("[OR]");
      lines.push_back(Node{directive(indent, "RewriteCond", args, eol), {}, {}});
    }
    lines.push_back(Node{directive(indent, "RewriteCond",
                                   {"%{REQUEST_URI}", "!^/\\.well-known/acme-challenge/"}, eol),
                         {},
                         {}});
    std::string port = m_options.https_port == "443" ? "" : ":" + m_options.https_port;
    lines.push_back(Node{
        directive(indent, "RewriteRule",
                  {"^", "https://%{SERVER_NAME}" + port + "%{REQUEST_URI}", "[END,NE,R=permanent]"},
                  eol),
        {},
        {}});
    append_lines(port80, lines, eol);
    mark_edited(vh.ref.file);
    m_plan.notes.push_back(lineage_comment(names) + ": redirect added in " + src.path.string() +
                           ":" + std::to_string(vh.line));
  }

  // Inserts `lines` after the last non-blank child of `section`, so a trailing blank line stays
  // before its close tag.
  static void append_lines(Node& section, const std::vector<Node>& lines, std::string_view eol) {
    auto& body = section.children;
    std::size_t at = body.size();
    while (at > 0 && body[at - 1].head.kind == LineKind::blank) --at;
    if (at > 0) {
      Node& prev = body[at - 1];
      Line& last = prev.is_section() ? prev.close : prev.head;
      if (last.eol.empty()) last.eol = eol;
    }
    body.insert(body.begin() + static_cast<std::ptrdiff_t>(at), lines.begin(), lines.end());
  }

  // The port-80 vhost serves <dir>/.well-known/acme-challenge/ (the fleet agent's directory):
  // an Alias and a <Directory> that grants it, never overridden by .htaccess files or the
  // vhost's DocumentRoot. acmed's redirect exempts the path before mod_alias runs; a redirect of
  // the user's that does not is reported in the notes. Idempotent: acmed's block is found by
  // its marker (and pointed at `dir` when that changed); an Alias of the user's for the path is
  // left alone, with a note.
  void serve_challenge_dir(std::size_t v, const std::vector<std::string>& names,
                           const std::string& dir) {
    const VirtualHost& vh = m_config.vhosts[v];
    LoadedFile& src = m_config.files[vh.ref.file];
    Node& port80 = m_config.node(vh.ref);
    const std::string where = src.path.string() + ":" + std::to_string(vh.line);
    const std::string base = (dir == "/" ? "" : dir) + "/.well-known/acme-challenge";
    bool ours = false, exempted = false, changed = false;
    for (Node& c : port80.children) {
      if (is_marker(c) && c.head.words[0].value.rfind(k_challenge_dir_marker, 0) == 0) {
        ours = true;
        continue;
      }
      if (c.is_directive() && c.head.is("RewriteCond")) {
        auto a = c.head.args();
        exempted = exempted || (a.size() >= 2 && a[1].find("acme-challenge") != std::string::npos);
      }
      if (c.is_directive() && c.head.is("Alias") && c.head.args().size() == 2 &&
          c.head.args()[0].rfind("/.well-known/acme-challenge", 0) == 0) {
        if (!ours) {
          m_plan.notes.push_back(where + ": the vhost has its own Alias for " + c.head.args()[0] +
                                 " (line " + std::to_string(c.head.line_no) +
                                 "), left as it is: make it serve " + base + "/ yourself");
          return;
        }
        if (c.head.args()[1] != base + "/") {
          set_last_arg(c.head, base + "/");
          changed = true;
        }
      }
      if (ours && c.is_section() && c.head.is("Directory") && c.head.args().size() == 1 &&
          c.head.args()[0].find("/.well-known/acme-challenge") != std::string::npos &&
          c.head.args()[0] != base) {
        set_last_arg(c.head, base);
        changed = true;
      }
      bool alias_redirect =
          c.is_directive() && !c.head.is("RewriteRule") && redirects_to_https(c.head);
      bool unexempted_rule =
          c.is_directive() && c.head.is("RewriteRule") && redirects_to_https(c.head) && !exempted;
      if (alias_redirect || unexempted_rule) {
        m_plan.notes.push_back(where + ": line " + std::to_string(c.head.line_no) +
                               " redirects /.well-known/acme-challenge/ to https too: exempt the "
                               "path there, or the fleet's challenges are answered only over "
                               "HTTPS");
      }
      if (c.is_directive() && c.head.is("RewriteRule")) exempted = false;
    }
    if (changed) {
      mark_edited(vh.ref.file);
      m_plan.notes.push_back(where + ": challenge directory changed to " + dir);
    }
    if (ours) return;
    std::string eol = file_eol(src.tree);
    std::string unit = indent_unit(src.tree);
    std::string indent = child_indent(port80, unit);
    std::vector<Node> lines;
    lines.push_back(Node{
        make_comment(
            indent,
            std::string(k_challenge_dir_marker + 2) + " (acmed fleet agent --challenge-dir)", eol),
        {},
        {}});
    lines.push_back(Node{
        directive(indent, "Alias", {"/.well-known/acme-challenge/", base + "/"}, eol), {}, {}});
    Node grant = section(indent, "Directory", {base}, eol);
    std::string inner = indent + unit;
    for (const std::vector<std::string>& d :
         std::vector<std::vector<std::string>>{{"Require", "all", "granted"},
                                               {"Options", "None"},
                                               {"AllowOverride", "None"},
                                               {"ForceType", "text/plain"}}) {
      append_node(
          grant.children,
          Node{directive(inner, d[0], std::vector<std::string>(d.begin() + 1, d.end()), eol),
               {},
               {}},
          eol);
    }
    lines.push_back(std::move(grant));
    append_lines(port80, lines, eol);
    mark_edited(vh.ref.file);
    m_plan.notes.push_back(lineage_comment(names) + ": " + where + " serves " + base + "/");
  }

  // Replaces the last argument of `line` with `value`, quoted as apache reads it back.
  void set_last_arg(Line& line, const std::string& value) {
    note_unwritable({value});
    Word& w = line.words.back();
    w.raw = quote_word(value);
    w.value = value;
  }

  Config& m_config;
  const Options& m_options;
  install::Plan m_plan;
  std::vector<std::size_t> m_edited;        // files whose tree changed
  std::vector<std::string> m_enabled;       // modules planned for enabling
  std::optional<std::string> m_unwritable;  // first value a directive writer refused
};

}  // namespace

std::string options_file_text() {
  return "# acmed: TLS settings for apache, written once by acmed and included by every HTTPS\n"
         "# vhost it made. acmed never rewrites this file: your changes stay.\n"
         "SSLProtocol -all +TLSv1.2 +TLSv1.3\n"
         "SSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
         "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
         "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305\n"
         "SSLHonorCipherOrder off\n"
         "SSLCompression off\n"
         "SSLSessionTickets off\n";
}

Result<install::Plan> plan_changes(Config& config, const Options& options,
                                   std::span<const std::string> names,
                                   const install::DeployRequest* deploy,
                                   std::span<const install::Enhancement> enhancements) {
  return Planner(config, options).run(names, deploy, enhancements);
}

Result<Config> load_checked(const Options& options, ApacheControl& control) {
  ACMED_TRY(Config config, load(LoadOptions{options.server_root, {}, {}, {}}));
  if (options.cross_check == CrossCheck::no) return config;
  ACMED_TRY(auto inc, control.run({"-D", "DUMP_INCLUDES"}));
  if (inc.exit_code != 0) {
    return Error(Errc::server,
                 "apache rejects its configuration as it is, before acmed changed anything: " +
                     inc.err + inc.out,
                 "fix the configuration (`" + options.ctl + " configtest`), then run acmed again");
  }
  ACMED_CHECK(compare_includes(config, parse_dump_includes(inc.out + inc.err)));
  ACMED_TRY(auto vhosts, control.run({"-S"}));
  ACMED_CHECK(compare_vhosts(config, parse_dump_vhosts(vhosts.out + vhosts.err)));
  return config;
}

namespace {

class ApacheInstaller final : public install::Installer {
 public:
  ApacheInstaller(const Options& options, sys::ProcessRunner& runner)
      : m_control(options, runner) {}

  std::string name() const override { return "apache"; }
  std::map<std::string, std::string> settings() const override { return m_control.settings(); }
  Status config_test() override { return m_control.config_test(); }
  Status reload() override { return m_control.reload(); }

  Result<install::Plan> plan_deploy(const install::DeployRequest& request) override {
    ACMED_TRY(Config config, load_checked(m_control.options(), m_control));
    return plan_changes(config, m_control.options(), request.names, &request, request.enhancements);
  }

  Result<install::Plan> plan_enhance(std::span<const std::string> names,
                                     std::span<const install::Enhancement> enhancements) override {
    ACMED_TRY(Config config, load_checked(m_control.options(), m_control));
    return plan_changes(config, m_control.options(), names, nullptr, enhancements);
  }

  // The served certificate, asked on each name's HTTPS vhost address and the https port.
  Status check_deployed(const install::DeployRequest& request) override {
    const Options& o = m_control.options();
    int port = 0;
    auto [end, ec] =
        std::from_chars(o.https_port.data(), o.https_port.data() + o.https_port.size(), port);
    if (ec != std::errc() || end != o.https_port.data() + o.https_port.size() || port <= 0 ||
        port > 65535) {
      return Error(Errc::usage, "the HTTPS port " + o.https_port + " is not a port number");
    }
    ACMED_TRY(Config config, load(LoadOptions{o.server_root, {}, {}, {}}));
    for (const std::string& name : request.names) {
      webconf::TlsCheck check{
          "apache", webconf::check_address(vhost_hosts(config, name), o.tls_check_address), port,
          o.tls_check_wait};
      ACMED_CHECK(webconf::check_served(check, name, request.fullchain_path));
    }
    return ok_status();
  }

 private:
  // Host parts of the addresses of the SSL vhosts on the https port that serve `name`.
  std::vector<std::string> vhost_hosts(const Config& config, const std::string& name) const {
    const Options& o = m_control.options();
    std::vector<std::string> out;
    for (const VirtualHost& vh : config.vhosts) {
      if (!vh.ssl || vh.in_macro) continue;
      bool serves = iequals(vh.server_name, name) ||
                    std::any_of(vh.aliases.begin(), vh.aliases.end(),
                                [&](const std::string& a) { return name_matches(a, name); });
      if (!serves) continue;
      for (const std::string& a : vh.addresses) {
        std::string port = address_port(a);
        if (port != o.https_port) continue;
        out.push_back(a.substr(0, a.size() - port.size() - 1));
      }
    }
    return out;
  }

  ApacheControl m_control;
};

}  // namespace

std::unique_ptr<install::Installer> make_installer(const Options& options,
                                                   sys::ProcessRunner& runner) {
  return std::make_unique<ApacheInstaller>(options, runner);
}

}  // namespace acmed::plugins::apache
