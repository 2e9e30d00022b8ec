// -c/--config FILE: certbot's cli.ini read through CLI11's config-file support, with the
// syntax of app::parse_cli_ini. CLI11 applies an entry only to an option the command line did not
// give, so flags win. Every key must name an option of the main command (certbot's namespace is
// flat too): an unknown key is an error naming file:line, a key only certbot has a warning.
#include "cli/cli_ini.hpp"

#include "acmed/app/cli_ini.hpp"
#include "acmed/sys/fs.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>

namespace acmed::cli {

namespace {

class CliIniError : public CLI::ParseError {
 public:
  explicit CliIniError(std::string message)
      : CLI::ParseError("CliIniError", std::move(message), CLI::ExitCodes::ConfigError) {}
};

class CliIni : public CLI::Config {
 public:
  explicit CliIni(const CLI::App& app) : m_app(app) {}

  std::string to_config(const CLI::App*, bool, bool, std::string) const override { return {}; }

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::string file = m_app.get_config_ptr()->as<std::string>();
    std::ostringstream text;
    text << input.rdbuf();
    auto entries = app::parse_cli_ini(text.str());
    if (!entries) throw CliIniError(file + ":" + entries.error().message.substr(5));
    std::vector<CLI::ConfigItem> out;
    for (const auto& e : *entries) {
      std::string where = file + ":" + std::to_string(e.line);
      std::string name = e.key;
      std::string value = e.value;
      // certbot's `authenticator = NAME` / `installer = NAME`: acmed chooses a plugin by --NAME.
      if ((name == "authenticator" || name == "installer") &&
          m_app.get_option_no_throw("--" + name) == nullptr) {
        name = value;
        value = "true";
        if (m_app.get_option_no_throw("--" + name) == nullptr) {
          throw CliIniError(where + ": acmed has no plugin called '" + name + "'");
        }
      }
      if (m_app.get_option_no_throw("--" + name) == nullptr || name == "config") {
        if (app::certbot_package_key(name)) continue;
        if (app::certbot_only_key(name)) {
          std::fprintf(stderr,
                       "acmed: warning: %s: '%s' is a certbot option acmed does not use; "
                       "ignored\n",
                       where.c_str(), name.c_str());
          continue;
        }
        throw CliIniError(where + ": unknown option '" + name + "'");
      }
      CLI::ConfigItem item;
      item.name = name;
      item.inputs = {value};
      out.push_back(std::move(item));
    }
    return out;
  }

 private:
  const CLI::App& m_app;
};

}  // namespace

void add_config_option(CLI::App& app) {
  std::string fallback =
      app::default_cli_ini(::geteuid() == 0, std::getenv("XDG_CONFIG_HOME"), std::getenv("HOME"));
  app.set_config("-c,--config", fallback,
                 "certbot-style configuration file (key = value); command-line flags win")
      ->group("Paths");
  app.config_formatter(std::make_shared<CliIni>(app));
}

}  // namespace acmed::cli
