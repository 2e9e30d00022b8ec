// The standalone plugin's registration: a temporary built-in web server on --http-01-port.
#include "plugins/plugin.hpp"
#include "plugins/standalone/standalone.hpp"

namespace acmed::plugins {

namespace {

Result<std::unique_ptr<challenge::Authenticator>> authenticator(const BuildContext& ctx) {
  ACMED_TRY(int port, number_setting(ctx.settings, "http01_port"));
  return std::unique_ptr<challenge::Authenticator>(
      std::make_unique<standalone::StandaloneAuthenticator>(
          standalone::Options{ctx.settings.get("http01_address"), port}));
}

}  // namespace

const Plugin& standalone_plugin() {
  static const Plugin plugin{
      .name = "standalone",
      .description = "Run a temporary built-in web server on port 80",
      .settings = {http01_port_setting(), http01_address_setting()},
      .chosen_by_its_flags = false,
      .complete = nullptr,
      .authenticator = authenticator,
      .installer = nullptr,
  };
  return plugin;
}

}  // namespace acmed::plugins
