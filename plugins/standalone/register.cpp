// The standalone plugin's registration: a temporary built-in web server on --http-01-port and a
// TLS server for tls-alpn-01 on --tls-alpn-01-port; and --tls-alpn-01, the same server answering
// tls-alpn-01 only.
#include "plugins/plugin.hpp"
#include "plugins/standalone/standalone.hpp"

namespace acmed::plugins {

namespace {

std::vector<Setting> tls_alpn_settings() {
  return {{"tls_alpn_01_port", "--tls-alpn-01-port", "Port the CA validates tls-alpn-01 on", "443",
           SettingKind::number, 1, 65535},
          {"tls_alpn_01_address", "--tls-alpn-01-address",
           "Address the tls-alpn-01 server listens on (default: all)", ""}};
}

Result<std::unique_ptr<challenge::Authenticator>> build(const BuildContext& ctx, bool alpn_only) {
  ACMED_TRY(int port, number_setting(ctx.settings, "http01_port"));
  ACMED_TRY(int alpn_port, number_setting(ctx.settings, "tls_alpn_01_port"));
  return std::unique_ptr<challenge::Authenticator>(
      std::make_unique<standalone::StandaloneAuthenticator>(standalone::Options{
          ctx.settings.get("http01_address"), port, ctx.settings.get("tls_alpn_01_address"),
          alpn_port, alpn_only}));
}

}  // namespace

const Plugin& standalone_plugin() {
  static const Plugin plugin{
      .name = "standalone",
      .description = "Run a temporary built-in web server on port 80 (and 443 for tls-alpn-01)",
      .settings = {http01_port_setting(), http01_address_setting(), tls_alpn_settings()[0],
                   tls_alpn_settings()[1]},
      .chosen_by_its_flags = false,
      .complete = nullptr,
      .authenticator = [](const BuildContext& ctx) { return build(ctx, false); },
      .installer = nullptr,
  };
  return plugin;
}

const Plugin& tls_alpn_plugin() {
  static const Plugin plugin{
      .name = "tls-alpn-01",
      .description = "Answer tls-alpn-01 with a built-in TLS server on port 443",
      .settings = {http01_port_setting(), http01_address_setting(), tls_alpn_settings()[0],
                   tls_alpn_settings()[1]},
      .chosen_by_its_flags = false,
      .complete = nullptr,
      .authenticator = [](const BuildContext& ctx) { return build(ctx, true); },
      .installer = nullptr,
  };
  return plugin;
}

}  // namespace acmed::plugins
