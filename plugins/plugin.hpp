// What a plugin registers: its name, a one-line description, its settings (each with certbot's
// renewal-conf key and the command-line flag that fills it) and how to build its authenticator
// and/or installer from those settings. Every command builds plugins only through this record
// (plugins/registry.hpp), from the flags on first issuance and from the renewal conf afterwards,
// so a setting cannot be honoured by one and forgotten by the other.
//
// Adding a plugin: write plugins/<name>/register.cpp defining `const Plugin& <name>_plugin()`
// and add it to the table in plugins/registry.cpp (see docs/architecture.md, "Adding a plugin").
#pragma once

#include "acmed/challenge/authenticator.hpp"
#include "acmed/install/installer.hpp"
#include "acmed/sys/process.hpp"
#include "acmed/util/result.hpp"
#include "acmed/util/settings.hpp"

#include <charconv>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace acmed::plugins {

enum class SettingKind {
  text,    // one value; the last flag given wins
  number,  // a whole number in [min, max]
  list,    // every value given, in order, without repeats (webroot_path = /a, /b,)
  table,   // name = value lines in a [[key]] subsection; filled by Plugin::complete, no flag
};

struct Setting {
  std::string key;   // certbot's renewal-conf key in [renewalparams]: "nginx_ctl"
  std::string flag;  // CLI11 spelling of its flag: "--nginx-ctl", "-w,--webroot-path"; may be empty
  std::string help;  // one line for --help
  std::string default_value;  // used when neither the flags nor the conf give one; empty: none
  SettingKind kind = SettingKind::text;
  int min = 0, max = 0;  // range of a number
};

// Settings given on the command line in command-line order, as (renewal-conf key, value), with
// each -d name interleaved as (k_domain_key, name) so a setting that applies to the names after
// it (webroot's -w) can be resolved.
using GivenFlags = std::vector<std::pair<std::string, std::string>>;
inline constexpr const char* k_domain_key = "";

// What every plugin is built with besides its settings.
struct Environment {
  std::filesystem::path config_dir = "/etc/letsencrypt";    // --config-dir
  std::filesystem::path work_dir = "/var/lib/letsencrypt";  // --work-dir
  sys::ProcessRunner* runner = nullptr;  // runs web-server programs; outlives the plugins
  bool interactive = false;              // a terminal to ask on, and no -n (manual without hooks)
  // Progress lines for the user ("Publishing TXT ...", "Waiting for ..."); may be empty.
  std::function<void(const std::string&)> progress;
};

// A place where the config a web server loads names a file: `delete` refuses to remove a
// lineage while one exists (the server's next reload would fail).
struct ConfigReference {
  std::filesystem::path file;  // the config file, as the server names it
  std::size_t line = 0;        // 1-based
  std::string directive;       // "ssl_certificate /etc/letsencrypt/live/a/fullchain.pem"
};

struct BuildContext {
  const util::Settings& settings;  // every setting of the plugin, defaults filled in
  std::vector<std::string> names;  // the certificate's names (webroot: names without a root)
  const Environment& env;
};

struct Plugin {
  std::string name;         // "--<name>" chooses it; stored as authenticator/installer = <name>
  std::string description;  // one line, for --help and `acmed plugins`
  std::vector<Setting> settings;
  // Giving one of its own flags chooses the plugin too (certbot: -w implies --webroot).
  bool chosen_by_its_flags = false;
  // Optional: derives settings that depend on the order of flags (webroot: -w/-d -> webroot_map).
  std::function<Status(util::Settings&, const GivenFlags&)> complete;
  // Optional (empty: not an authenticator / not an installer).
  std::function<Result<std::unique_ptr<challenge::Authenticator>>(const BuildContext&)>
      authenticator;
  std::function<Result<std::unique_ptr<install::Installer>>(const BuildContext&)> installer;
  // Optional (installers): every directive of the config the server loads that names a path
  // equal to or under one of `paths` (absolute). Empty when the server's main config file does
  // not exist (no such server here); Errc::config naming file:line when the config cannot be
  // read completely. Reads only.
  std::function<Result<std::vector<ConfigReference>>(const BuildContext&,
                                                     std::span<const std::filesystem::path>)>
      config_references = nullptr;
};

// The settings several plugins share (certbot's general http-01 options).
inline Setting http01_port_setting() {
  return {"http01_port", "--http-01-port",    "Port the CA validates http-01 on",
          "80",          SettingKind::number, 1,
          65535};
}
// certbot's --https-port: where the web server serves HTTPS (the installer's listen port, the
// redirect's target and the post-reload check).
inline Setting https_port_setting() {
  return {"https_port", "--https-port",      "Port the web server serves HTTPS on",
          "443",        SettingKind::number, 1,
          65535};
}
inline Setting http01_address_setting() {
  return {"http01_address", "--http-01-address",
          "Address the standalone server listens on (default: all)", ""};
}

// A number setting's value. Errc::config naming the key when it is not a whole number.
inline Result<int> number_setting(const util::Settings& settings, const std::string& key) {
  std::string text = settings.get(key);
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Error(Errc::config, key + " must be a whole number, not '" + text + "'",
                 "correct it in the lineage's renewal conf");
  }
  return n;
}

}  // namespace acmed::plugins
