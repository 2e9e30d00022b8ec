// The nginx plugin's registration: authenticator and installer, both through the running nginx.
#include "plugins/nginx/nginx.hpp"
#include "plugins/plugin.hpp"

namespace acmed::plugins {

namespace {

Result<nginx::Options> options(const BuildContext& ctx) {
  nginx::Options o;
  o.server_root = ctx.settings.get("nginx_server_root");
  o.ctl = ctx.settings.get("nginx_ctl");
  o.challenge_dir = ctx.settings.get("nginx_challenge_dir");
  o.config_dir = ctx.env.config_dir;
  ACMED_TRY(o.http01_port, number_setting(ctx.settings, "http01_port"));
  ACMED_TRY(o.https_port, number_setting(ctx.settings, "https_port"));
  return o;
}

}  // namespace

const Plugin& nginx_plugin() {
  static const Plugin plugin{
      .name = "nginx",
      .description = "Use and configure the running nginx",
      .settings =
          {
              {"nginx_server_root", "--nginx-server-root", "nginx configuration root",
               "/etc/nginx"},
              {"nginx_ctl", "--nginx-ctl", "nginx binary (run as NGINX -c ROOT/nginx.conf -t)",
               "nginx"},
              {"nginx_challenge_dir", "--nginx-challenge-dir",
               "Serve DIR/.well-known/acme-challenge/ on the names' port-80 servers (fleet mode)",
               ""},
              http01_port_setting(),
              https_port_setting(),
          },
      .chosen_by_its_flags = false,
      .complete = nullptr,
      .authenticator =
          [](const BuildContext& ctx) -> Result<std::unique_ptr<challenge::Authenticator>> {
        ACMED_TRY(auto o, options(ctx));
        return nginx::make_authenticator(o, *ctx.env.runner);
      },
      .installer = [](const BuildContext& ctx) -> Result<std::unique_ptr<install::Installer>> {
        ACMED_TRY(auto o, options(ctx));
        return nginx::make_installer(o, *ctx.env.runner);
      },
      .config_references = [](const BuildContext& ctx, std::span<const std::filesystem::path> paths)
          -> Result<std::vector<ConfigReference>> {
        ACMED_TRY(auto o, options(ctx));
        return nginx::config_references(o, paths);
      },
  };
  return plugin;
}

}  // namespace acmed::plugins
