// The nginx plugin as the CLI sees it: an Installer (deploy a certificate, enhancements, config
// test, reload, TLS check) and an http-01 Authenticator that answers challenges through the
// running nginx. Both edit the config only through install::Transaction.
#pragma once

#include "acmed/challenge/authenticator.hpp"
#include "acmed/install/installer.hpp"
#include "acmed/sys/process.hpp"
#include "plugins/plugin.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

namespace acmed::plugins::nginx {

namespace fs = std::filesystem;

enum class CrossCheck { no, yes };

struct Options {
  fs::path server_root = "/etc/nginx";  // --nginx-server-root; nginx.conf lives here
  std::string ctl = "nginx";            // --nginx-ctl; run as `<ctl> -c <root>/nginx.conf -t`
  fs::path prefix;                      // passed as `-p` when set (tests); empty: nginx's default
  fs::path config_dir = "/etc/letsencrypt";  // --config-dir: live/NAME/ and the TLS options file
  int http01_port = 80;  // --http-01-port: where the CA validates, the redirect lives
  int https_port = 443;  // the port TLS servers listen on
  // --nginx-challenge-dir (fleet mode, docs/fleet.md): the installer gives every plain-HTTP
  // server block of the names a permanent `location ^~ /.well-known/acme-challenge/` with this
  // root. Empty: none. The authenticator ignores it.
  fs::path challenge_dir;
  std::string tls_check_address = "127.0.0.1";  // check_deployed() and the http-01 probe connect
                                                // here unless the server listens on one address
  int tls_check_port = 0;                       // where check_deployed() connects; 0: https_port
  // How long to wait after a reload for nginx to answer with the new config (a reload is
  // asynchronous: the master starts new workers after `nginx -s reload` returns).
  // The authenticator asks nginx on tls_check_address:http01_port for each challenge until it
  // answers; when nothing listens there it pauses for challenge_settle instead.
  std::chrono::milliseconds reload_wait{5000};
  std::chrono::milliseconds challenge_settle{1000};
  CrossCheck cross_check = CrossCheck::yes;  // compare the files read with `nginx -T`
};

// Name of the acmed-managed TLS options file under `config_dir`, included by deployed servers.
// (Not certbot's options-ssl-nginx.conf, which may sit in the same directory.)
inline constexpr const char* k_options_file = "acmed-nginx-tls.conf";
// Comment that marks every line acmed adds to a user's config.
inline constexpr const char* k_marker = "# managed by acmed";

// The installer. `runner` runs nginx and must outlive the installer.
std::unique_ptr<install::Installer> make_installer(const Options& options,
                                                   sys::ProcessRunner& runner);

// The http-01 authenticator ("nginx"). `runner` must outlive it.
std::unique_ptr<challenge::Authenticator> make_authenticator(const Options& options,
                                                             sys::ProcessRunner& runner);

// Bytes of the TLS options file acmed writes once (TLSv1.2/1.3, ECDHE AEAD ciphers only, so no
// dhparam is needed; session cache; tickets off).
std::string tls_options_text();

// (major, minor, patch) from `nginx -v` output ("nginx version: nginx/1.22.1"); nullopt if absent.
struct Version {
  int major = 0, minor = 0, patch = 0;
  bool at_least(int ma, int mi, int pa) const;
};
std::optional<Version> parse_version(std::string_view nginx_v_output);

// The directives of the config nginx loads from <server_root>/nginx.conf that name a path equal
// to or under one of `paths` (absolute arguments only). Empty when nginx.conf does not exist;
// Errc::config (file:line) when the config cannot be read completely. Reads only.
Result<std::vector<ConfigReference>> config_references(const Options& options,
                                                       std::span<const fs::path> paths);

}  // namespace acmed::plugins::nginx
