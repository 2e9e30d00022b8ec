// http-01 through the running apache: the token files go to a directory of their own, and a
// temporary, clearly marked conf-enabled/ file aliases /.well-known/acme-challenge/ to it for
// every vhost (a server-wide Alias is inherited by all of them). The file goes in through an
// install::Transaction (not persisted: it is never a checkpoint for `acmed rollback`), with a
// configtest before the graceful reload; cleanup() rolls the transaction back, which removes the
// file and reloads again, also after a failure.
#include "plugins/apache/apache.hpp"
#include "plugins/apache/installer.hpp"

#include "acmed/install/transaction.hpp"
#include "acmed/sys/fs.hpp"

#include <sys/stat.h>
#include <cstdio>
#include <unistd.h>

namespace acmed::plugins::apache {

namespace {

constexpr const char* k_http01_conf = "acmed-http01.conf";

class ApacheAuthenticator final : public challenge::Authenticator {
 public:
  ApacheAuthenticator(const Options& options, sys::ProcessRunner& runner)
      : m_control(options, runner) {}
  ~ApacheAuthenticator() override { cleanup({}); }

  std::string name() const override { return "apache"; }
  std::vector<std::string> supported_types() const override { return {"http-01"}; }

  Status perform(std::span<const challenge::Task> tasks) override {
    const Options& o = m_control.options();
    for (const auto& t : tasks) {
      if (t.type != "http-01")
        return Error(Errc::internal, "apache cannot answer a " + t.type + " challenge");
      if (!challenge::token_is_safe(t.token))
        return Error(Errc::protocol, "the CA sent an unsafe challenge token for " + t.identifier);
    }
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
    m_dir = base / ("acmed-" + std::to_string(::getpid()));
    ACMED_CHECK(sys::make_dirs(m_dir, 0755, sys::EnforceMode::yes));
    for (fs::path p = m_dir.parent_path(); !p.empty() && p != p.parent_path(); p = p.parent_path()) {
      struct stat st {};
      if (::stat(p.c_str(), &st) == 0 && (st.st_mode & S_IXOTH) == 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return Error(Errc::config, "apache's user cannot enter " + p.string() + " (mode " + mode + ")",
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
    m_tx = std::make_unique<install::Transaction>(m_control, o.work_dir / "backups",
                                                  install::Persist::no);
    ACMED_CHECK(m_tx->apply(plan));
    return m_tx->test_and_reload();
  }

  void cleanup(std::span<const challenge::Task>) noexcept override {
    if (m_tx) {
      (void)m_tx->rollback();  // removes the snippet, and reloads if apache loaded it
      m_tx.reset();
    }
    for (const auto& f : m_files) (void)sys::remove_file(f);
    m_files.clear();
    if (!m_dir.empty()) {
      ::rmdir(m_dir.c_str());
      m_dir.clear();
    }
  }

 private:
  static std::string snippet(const fs::path& dir, const std::string& names) {
    std::string d = dir.string();
    return "# acmed: TEMPORARY file for ACME http-01 challenges (" + names.substr(1) +
           ").\n"
           "# acmed removes it when validation ends. If acmed is not running, delete it and\n"
           "# reload apache.\n"
           "Alias /.well-known/acme-challenge/ " + quote_word(d + "/") + "\n"
           "<Directory " + quote_word(d) + ">\n"
           "    Require all granted\n"
           "    Options None\n"
           "    AllowOverride None\n"
           "    ForceType text/plain\n"
           "</Directory>\n";
  }

  ApacheControl m_control;
  std::unique_ptr<install::Transaction> m_tx;
  fs::path m_dir;
  std::vector<fs::path> m_files;
};

}  // namespace

std::unique_ptr<challenge::Authenticator> make_authenticator(const Options& options,
                                                             sys::ProcessRunner& runner) {
  return std::make_unique<ApacheAuthenticator>(options, runner);
}

}  // namespace acmed::plugins::apache
