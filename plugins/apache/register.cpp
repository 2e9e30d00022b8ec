// The apache plugin's registration: authenticator and installer, both through the running apache2.
#include "plugins/apache/apache.hpp"
#include "plugins/plugin.hpp"

namespace acmed::plugins {

namespace {

Result<apache::Options> options(const BuildContext& ctx) {
  apache::Options o;
  o.server_root = ctx.settings.get("apache_server_root");
  o.vhost_root = ctx.settings.get("apache_vhost_root");
  o.ctl = ctx.settings.get("apache_ctl");
  o.enmod = ctx.settings.get("apache_enmod");
  o.ensite = ctx.settings.get("apache_ensite");
  o.challenge_dir = ctx.settings.get("apache_challenge_dir");
  ACMED_TRY(int port, number_setting(ctx.settings, "http01_port"));
  o.http01_port = std::to_string(port);
  ACMED_TRY(int https_port, number_setting(ctx.settings, "https_port"));
  o.https_port = std::to_string(https_port);
  o.config_dir = ctx.env.config_dir;
  o.work_dir = ctx.env.work_dir;
  return o;
}

}  // namespace

const Plugin& apache_plugin() {
  static const Plugin plugin{
      .name = "apache",
      .description = "Use and configure the running apache2",
      .settings =
          {
              {"apache_server_root", "--apache-server-root", "apache configuration root",
               "/etc/apache2"},
              {"apache_vhost_root", "--apache-vhost-root",
               "Where new vhost files go (default: ROOT/sites-available)", ""},
              {"apache_ctl", "--apache-ctl", "apache control program", "apache2ctl"},
              {"apache_enmod", "--apache-enmod", "Program that enables modules (a2enmod)", ""},
              {"apache_ensite", "--apache-ensite", "Program that enables sites (a2ensite)", ""},
              {"apache_challenge_dir", "--apache-challenge-dir",
               "Serve DIR/.well-known/acme-challenge/ in the names' port-80 vhosts (fleet mode)",
               ""},
              http01_port_setting(),
              https_port_setting(),
          },
      .chosen_by_its_flags = false,
      .complete = nullptr,
      .authenticator =
          [](const BuildContext& ctx) -> Result<std::unique_ptr<challenge::Authenticator>> {
        ACMED_TRY(auto o, options(ctx));
        return apache::make_authenticator(o, *ctx.env.runner);
      },
      .installer = [](const BuildContext& ctx) -> Result<std::unique_ptr<install::Installer>> {
        ACMED_TRY(auto o, options(ctx));
        return apache::make_installer(o, *ctx.env.runner);
      },
      .config_references = [](const BuildContext& ctx, std::span<const std::filesystem::path> paths)
          -> Result<std::vector<ConfigReference>> {
        ACMED_TRY(auto o, options(ctx));
        return apache::config_references(o, paths);
      },
  };
  return plugin;
}

}  // namespace acmed::plugins
