#include "acmed/app/cli_ini.hpp"

#include "acmed/util/strings.hpp"

#include <algorithm>
#include <array>

namespace acmed::app {

namespace {

constexpr std::string_view k_blanks = " \t\r";

bool key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

Error malformed(std::size_t line, const std::string& why) {
  return Error(Errc::config, "line " + std::to_string(line) + ": " + why,
               "write `key = value` (a flag name without the dashes) or a bare key for a flag");
}

}  // namespace

Result<std::vector<IniEntry>> parse_cli_ini(std::string_view text) {
  std::vector<IniEntry> out;
  std::size_t line_no = 0;
  while (!text.empty() || line_no == 0) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view line = util::trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#' || line.front() == ';') {
      if (text.empty()) break;
      continue;
    }
    if (line.front() == '[') {
      if (line.back() != ']') return malformed(line_no, "a section header needs its ']'");
      if (text.empty()) break;
      continue;
    }
    std::size_t k = 0;
    while (k < line.size() && key_char(line[k])) ++k;
    if (k == 0 || line.front() == '-') {
      return malformed(line_no, "expected a key (a flag name without the dashes), not '" +
                                    std::string(line.substr(0, 40)) + "'");
    }
    IniEntry entry{std::string(line.substr(0, k)), "true", line_no};
    std::string_view rest = line.substr(k);
    if (!rest.empty()) {
      bool separated = k_blanks.find(rest.front()) != std::string_view::npos;
      rest = util::trim(rest);
      if (!rest.empty() && (rest.front() == '=' || rest.front() == ':')) {
        rest = util::trim(rest.substr(1));
        if (rest.empty()) return malformed(line_no, "'" + entry.key + "' has no value");
      } else if (!separated) {
        return malformed(
            line_no, "unexpected '" + std::string(1, rest.front()) + "' after '" + entry.key + "'");
      }
      // A comment after the value: a blank, then # or ;.
      for (std::size_t i = 1; i < rest.size(); ++i) {
        if ((rest[i] == '#' || rest[i] == ';') &&
            k_blanks.find(rest[i - 1]) != std::string_view::npos) {
          rest = util::trim(rest.substr(0, i));
          break;
        }
      }
      if (!rest.empty() && (rest.front() == '"' || rest.front() == '\'')) {
        if (rest.size() < 2 || rest.back() != rest.front()) {
          return malformed(line_no, "unclosed quote in the value of '" + entry.key + "'");
        }
        rest = rest.substr(1, rest.size() - 2);
      }
      if (!rest.empty()) entry.value = std::string(rest);
    }
    out.push_back(std::move(entry));
    if (text.empty()) break;
  }
  return out;
}

bool certbot_only_key(std::string_view key) {
  // certbot options with no meaning for acmed (interface, self-update, logging backends, OCSP).
  if (certbot_package_key(key)) return true;
  static constexpr std::array<std::string_view, 20> k_keys = {
      "text",
      "agree-eula",
      "no-autorenew",
      "no-random-sleep-on-renew",
      "eff-email",
      "no-eff-email",
      "no-self-upgrade",
      "no-bootstrap",
      "debug",
      "debug-challenges",
      "strict-permissions",
      "disable-hook-validation",
      "dialog",
      "no-directory-hooks",
      "must-staple",
      "staple-ocsp",
      "os-packages-only",
      "no-permissions-check",
      "enable-hook-validation",
      "renew-by-default",
  };
  return std::find(k_keys.begin(), k_keys.end(), key) != k_keys.end();
}

bool certbot_package_key(std::string_view key) {
  return key == "max-log-backups" || key == "preconfigured-renewal";
}

std::string default_cli_ini(bool is_root, const char* xdg_config_home, const char* home) {
  if (is_root) return "/etc/letsencrypt/cli.ini";
  std::string base;
  if (xdg_config_home != nullptr && *xdg_config_home != '\0') {
    base = xdg_config_home;
  } else {
    base = std::string(home != nullptr ? home : "") + "/.config";
  }
  return base + "/letsencrypt/cli.ini";
}

}  // namespace acmed::app
