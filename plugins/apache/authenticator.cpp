// http-01 through the running apache: the token files go to a directory of their own, and a
// temporary, clearly marked conf-enabled/ file aliases /.well-known/acme-challenge/ to it for
// every vhost (a server-wide Alias is inherited by all of them); vhosts whose own mod_rewrite
// rules would catch the path first get a temporary exemption rule at the top. The file goes in
// through an install::Transaction (not persisted: it is never a checkpoint for `acmed rollback`),
// with a configtest before the graceful reload; cleanup() rolls the transaction back, which removes
// the file and reloads again, also after a failure.
#include "plugins/apache/apache.hpp"
#include "plugins/apache/installer.hpp"
#include "plugins/apache/vhost.hpp"
#include "plugins/webconf/http01.hpp"

#include "acmed/sys/fs.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <cstdio>

#include <algorithm>

namespace acmed::plugins::apache {

namespace {

constexpr const char* k_http01_conf = "acmed-http01.conf";
constexpr const char* k_snippet_marker = "# acmed: TEMPORARY file for ACME http-01";

class ApacheAuthenticator final : public challenge::Authenticator {
 public:
  ApacheAuthenticator(const Options& options, sys::ProcessRunner& runner)
      : m_control(options, runner) {}
  ~ApacheAuthenticator() override { cleanup({}); }

  std::string name() const override { return "apache"; }
  std::vector<std::string> supported_types() const override { return {"http-01"}; }

  Status perform(std::span<const challenge::Task> tasks) override {
    const Options& o = m_control.options();
    ACMED_CHECK(webconf::check_http01_tasks(name(), tasks));
    cleanup({});
    // A snippet left by an acmed that was killed mid-validation is ours (marked); drop it.
    fs::path stale = o.server_root / "conf-enabled" / k_http01_conf;
    if (auto text = sys::read_file(stale); text && text->rfind(k_snippet_marker, 0) == 0)
      ACMED_CHECK(sys::remove_file(stale));
    ACMED_TRY(Config config, load_checked(o, m_control));
    if (!config.has_module("alias_module")) {
      return Error(Errc::config, "apache's mod_alias is not enabled; acmed needs it for http-01",
                   "run a2enmod alias, or use --webroot");
    }
    fs::path conf = config.server_root / "conf-enabled" / k_http01_conf;
    if (!would_include(config, conf)) {
      return Error(Errc::config,
                   "no Include in " + config.server_root.string() + " loads conf-enabled/*.conf",
                   "use --webroot, or add IncludeOptional conf-enabled/*.conf");
    }
    // Token files: a directory apache (www-data) can read.
    fs::path base = o.work_dir / "http_challenges";
    if (!writable_value(base.string())) {
      return Error(Errc::invalid_input,
                   "the work directory " + o.work_dir.string() +
                       " contains a line break (CR or LF), which apache configuration cannot hold",
                   "choose a --work-dir without line breaks");
    }
    m_dir = base / ("acmed-" + std::to_string(::getpid()));
    ACMED_CHECK(sys::make_dirs(m_dir, 0755, sys::EnforceMode::yes));
    for (fs::path p = m_dir.parent_path(); !p.empty() && p != p.parent_path();
         p = p.parent_path()) {
      struct stat st {};
      if (::stat(p.c_str(), &st) == 0 && (st.st_mode & S_IXOTH) == 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return Error(Errc::config,
                     "apache's user cannot enter " + p.string() + " (mode " + mode + ")",
                     "let others traverse it (chmod o+x) or choose another --work-dir");
      }
    }
    for (const auto& t : tasks) {
      ACMED_CHECK(sys::write_file_atomic(m_dir / t.token, t.key_authorization, 0644));
      m_files.push_back(m_dir / t.token);
    }
    install::Plan plan;
    std::string names;
    for (const auto& t : tasks) names += " " + t.identifier;
    plan.changes.push_back(install::FileChange{conf, std::nullopt, snippet(m_dir, names), 0644});
    add_rewrite_exemptions(config, tasks, plan);
    return m_edit.apply(m_control, plan);
  }

  void cleanup(std::span<const challenge::Task>) noexcept override {
    m_edit.undo();  // removes the snippet, and reloads if apache loaded it
    for (const auto& f : m_files) (void)sys::remove_file(f);
    m_files.clear();
    if (!m_dir.empty()) {
      ::rmdir(m_dir.c_str());
      m_dir.clear();
    }
  }

 private:
  // mod_rewrite rules in a vhost run before any Alias (translate_name, hooked first), so a
  // front-controller rule there ("RewriteRule ^ /index.php") would swallow the challenge. Into
  // each vhost serving a name with RewriteEngine on, a first rule sends the challenge path to
  // the token directory and ends rewriting. Vhosts without RewriteEngine on are left alone
  // (turning it on could wake rules the user switched off); the server-wide Alias serves them.
  //
  // A vhost holding acmed's fleet challenge directory (installer.hpp) has its own Alias for the
  // path, which wins over the server-wide one: without RewriteEngine on, it gets a first Alias
  // for each token (mod_alias takes the first match), so the fleet's other tokens stay served.
  void add_rewrite_exemptions(Config& config, std::span<const challenge::Task> tasks,
                              install::Plan& plan) {
    std::vector<std::size_t> done;
    std::vector<std::size_t> edited_files;
    for (const auto& t : tasks) {
      auto v = select_vhost(config, t.identifier, m_control.options().http01_port);
      if (!v || std::find(done.begin(), done.end(), *v) != done.end()) continue;
      done.push_back(*v);
      const VirtualHost& vh = config.vhosts[*v];
      Node& node = config.node(vh.ref);
      bool engine_on = config.has_module("rewrite_module") &&
                       std::any_of(node.children.begin(), node.children.end(), [](const Node& c) {
                         auto a = c.head.args();
                         return c.is_directive() && c.head.is("RewriteEngine") && !a.empty() &&
                                iequals(a[0], "on");
                       });
      bool fleet_alias = std::any_of(node.children.begin(), node.children.end(), [](const Node& c) {
        return c.head.kind == LineKind::comment &&
               c.head.words[0].value.rfind(k_challenge_dir_marker, 0) == 0;
      });
      if (!engine_on && !fleet_alias) continue;
      LoadedFile& f = config.files[vh.ref.file];
      std::string eol = file_eol(f.tree);
      std::string indent = child_indent(node, indent_unit(f.tree));
      std::vector<Node> lines;
      if (!engine_on) {
        lines.push_back(Node{
            make_comment(indent,
                         "acmed: TEMPORARY aliases for ACME http-01, removed when validation ends",
                         eol),
            {},
            {}});
        for (const auto& task : tasks) {
          lines.push_back(Node{make_directive(indent, "Alias",
                                              {"/.well-known/acme-challenge/" + task.token,
                                               (m_dir / task.token).string()},
                                              eol),
                               {},
                               {}});
        }
        node.children.insert(node.children.begin(), lines.begin(), lines.end());
        if (std::find(edited_files.begin(), edited_files.end(), vh.ref.file) == edited_files.end())
          edited_files.push_back(vh.ref.file);
        continue;
      }
      lines.push_back(Node{
          make_comment(indent,
                       "acmed: TEMPORARY rule for ACME http-01, removed when validation ends", eol),
          {},
          {}});
      lines.push_back(Node{make_directive(indent, "RewriteEngine", {"on"}, eol), {}, {}});
      // Beside the fleet directory, only this run's tokens (the check above keeps them to
      // [A-Za-z0-9_-]).
      std::string tokens = "[A-Za-z0-9_-]+";
      if (fleet_alias) {
        tokens.clear();
        for (const auto& task : tasks) tokens += (tokens.empty() ? "" : "|") + task.token;
      }
      lines.push_back(Node{make_directive(indent, "RewriteRule",
                                          {"^/\\.well-known/acme-challenge/(" + tokens + ")$",
                                           (m_dir / "$1").string(), "[END]"},
                                          eol),
                           {},
                           {}});
      node.children.insert(node.children.begin(), lines.begin(), lines.end());
      if (std::find(edited_files.begin(), edited_files.end(), vh.ref.file) == edited_files.end())
        edited_files.push_back(vh.ref.file);
    }
    for (std::size_t i : edited_files)
      webconf::add_if_edited(plan, config.files[i], webconf::WritePath::real);
  }

  static std::string snippet(const fs::path& dir, const std::string& names) {
    std::string d = dir.string();
    return std::string(k_snippet_marker) + " challenges (" + names.substr(1) +
           ").\n"
           "# acmed removes it when validation ends. If acmed is not running, delete it and\n"
           "# reload apache.\n"
           "Alias /.well-known/acme-challenge/ " +
           quote_word(d + "/") +
           "\n"
           "<Directory " +
           quote_word(d) +
           ">\n"
           "    Require all granted\n"
           "    Options None\n"
           "    AllowOverride None\n"
           "    ForceType text/plain\n"
           "</Directory>\n";
  }

  ApacheControl m_control;
  webconf::TemporaryEdit m_edit;
  fs::path m_dir;
  std::vector<fs::path> m_files;
};

}  // namespace

std::unique_ptr<challenge::Authenticator> make_authenticator(const Options& options,
                                                             sys::ProcessRunner& runner) {
  return std::make_unique<ApacheAuthenticator>(options, runner);
}

}  // namespace acmed::plugins::apache
