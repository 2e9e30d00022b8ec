// The apache plugin as the CLI sees it: options (certbot's --apache-* flags), an Installer that
// deploys certificates into Debian's apache2 layout, and an http-01 Authenticator that answers
// challenges through the running apache.
#pragma once

#include "acmed/challenge/authenticator.hpp"
#include "acmed/install/installer.hpp"
#include "acmed/sys/process.hpp"
#include "plugins/plugin.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>

namespace acmed::plugins::apache {

namespace fs = std::filesystem;

enum class CrossCheck { yes, no };

struct Options {
  fs::path server_root = "/etc/apache2";  // --apache-server-root
  fs::path vhost_root;             // --apache-vhost-root; empty: <server_root>/sites-available
  std::string ctl = "apache2ctl";  // --apache-ctl; run with APACHE_CONFDIR=<server_root>
  // --apache-enmod / --apache-ensite: acmed makes the symlinks a2enmod / a2ensite would make
  // itself, inside its transaction, so that a rollback removes them. Running those programs
  // instead is not supported yet: a non-empty value is refused (Errc::usage).
  std::string enmod;
  std::string ensite;
  std::string http01_port = "80";  // --http-01-port: the plain-HTTP port vhosts are matched on
  std::string https_port = "443";  // where HTTPS vhosts listen, and the post-reload TLS check
  // --apache-challenge-dir (fleet mode, docs/fleet.md): the installer aliases
  // /.well-known/acme-challenge/ to <dir>/.well-known/acme-challenge/ in the names' port-80
  // vhosts. Empty: none. The authenticator ignores it.
  fs::path challenge_dir;
  // The post-reload TLS check connects here unless the vhost listens on one numeric address.
  std::string tls_check_address = "127.0.0.1";
  fs::path config_dir = "/etc/letsencrypt";    // acmed-apache-tls.conf is written here, once
  fs::path work_dir = "/var/lib/letsencrypt";  // http-01 files: <work_dir>/http_challenges/
  // Compare acmed's view with `apache2ctl -D DUMP_INCLUDES` and `-S` before editing.
  CrossCheck cross_check = CrossCheck::yes;
  // How long a graceful reload is given to take effect before the CA is told to validate.
  std::chrono::milliseconds reload_settle{1000};
  // How long the post-reload TLS check keeps asking before it calls the deploy failed.
  std::chrono::milliseconds tls_check_wait{5000};
};

// Name of the TLS options file acmed manages under Options::config_dir (its own name, not
// certbot's options-ssl-apache.conf: a certbot file there must not change what acmed deploys).
inline constexpr const char* k_options_file = "acmed-apache-tls.conf";

// apache as an install::ServerControl: configtest and graceful reload through Options::ctl.
class ApacheControl : public install::ServerControl {
 public:
  ApacheControl(Options options, sys::ProcessRunner& runner)
      : m_options(std::move(options)), m_runner(runner) {}

  std::string name() const override { return "apache"; }
  // `ctl configtest`. Errc::server with apache's message; Errc::not_found if ctl is missing.
  Status config_test() override;
  // `ctl graceful`, refusing (Errc::server) when apache is not running: a reload must never be
  // the thing that starts a stopped server. Waits Options::reload_settle afterwards.
  Status reload() override;
  // server_root and ctl, saved with checkpoints so `acmed rollback` reloads this same apache.
  std::map<std::string, std::string> settings() const override {
    return {{"server_root", m_options.server_root.string()}, {"ctl", m_options.ctl}};
  }

  // `ctl <args...>` with the environment that selects Options::server_root.
  Result<sys::ProcessResult> run(const std::vector<std::string>& args);
  // True if the PidFile apache reports (`ctl -S`) names a live process.
  Result<bool> running();

  const Options& options() const { return m_options; }
  sys::ProcessRunner& runner() { return m_runner; }

 private:
  Options m_options;
  sys::ProcessRunner& m_runner;
};

// The installer for `--apache`, `install --apache`, `enhance`. `runner` must outlive it. Its
// check_deployed() is the shared post-reload TLS check (plugins/webconf/tls_check.hpp) on the
// HTTPS vhost's own address and Options::https_port.
std::unique_ptr<install::Installer> make_installer(const Options& options,
                                                   sys::ProcessRunner& runner);

// The http-01 authenticator for `--apache` / `certonly --apache`.
std::unique_ptr<challenge::Authenticator> make_authenticator(const Options& options,
                                                             sys::ProcessRunner& runner);

// The directives of the config apache loads from <server_root>/apache2.conf that name a path equal
// to or under one of `paths` (absolute arguments only). Empty when apache2.conf does not exist;
// Errc::config (file:line) when the config cannot be read completely. Reads only.
Result<std::vector<ConfigReference>> config_references(const Options& options,
                                                       std::span<const fs::path> paths);

}  // namespace acmed::plugins::apache
