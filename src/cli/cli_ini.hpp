// -c/--config FILE (certbot's cli.ini); see cli_ini.cpp.
#pragma once

#include <CLI/CLI.hpp>

namespace acmed::cli {

// Adds -c/--config to `app` (default: app::default_cli_ini) and the reader for its format. Call
// after every option of `app` is defined.
void add_config_option(CLI::App& app);

}  // namespace acmed::cli
