// certbot's configuration file (cli.ini) as configargparse reads it: `key = value` (or
// `key: value`, `key value`), keys are long flag names without the dashes, a bare key sets a
// flag, `#` and `;` start comments (whole lines, or after a blank following a value), `[section]`
// lines are ignored, a value may be quoted. Only the syntax is here; which keys exist is the
// command line's business (src/cli/cli_ini.cpp maps the entries onto the CLI11 options).
#pragma once

#include "acmed/util/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::app {

struct IniEntry {
  std::string key;    // "rsa-key-size"
  std::string value;  // "4096"; "true" for a bare key
  std::size_t line = 0;
};

// The entries of `text` in file order. Errc::config "line N: ..." for the first malformed line
// (a key with characters a flag name cannot have, `key =` without a value, an unclosed quote).
Result<std::vector<IniEntry>> parse_cli_ini(std::string_view text);

// True for keys certbot accepts that acmed has no use for (they only get a warning).
bool certbot_only_key(std::string_view key);

// True for the certbot-only keys Debian's certbot package writes into its own
// /etc/letsencrypt/cli.ini (max-log-backups, preconfigured-renewal): they describe certbot's
// packaging, not a choice of the user, so acmed ignores them without a warning on every run.
bool certbot_package_key(std::string_view key);

// The default configuration file: /etc/letsencrypt/cli.ini for root, else
// $XDG_CONFIG_HOME/letsencrypt/cli.ini ($XDG_CONFIG_HOME defaulting to ~/.config).
std::string default_cli_ini(bool is_root, const char* xdg_config_home, const char* home);

}  // namespace acmed::app
