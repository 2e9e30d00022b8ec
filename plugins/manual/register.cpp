// The manual plugin's registration: certbot's --manual-auth-hook / --manual-cleanup-hook.
#include "plugins/dns_settings.hpp"
#include "plugins/manual/manual.hpp"

namespace acmed::plugins {

namespace {

Result<std::unique_ptr<challenge::Authenticator>> authenticator(const BuildContext& ctx) {
  manual::Options o;
  o.auth_hook = ctx.settings.get("manual_auth_hook");
  o.cleanup_hook = ctx.settings.get("manual_cleanup_hook");
  ACMED_TRY(int timeout, number_setting(ctx.settings, "manual_hook_timeout"));
  o.hook_timeout = std::chrono::seconds(timeout);
  o.interactive = ctx.env.interactive ? manual::Interactive::yes : manual::Interactive::no;
  ACMED_TRY(o.dns, dns_options(ctx.settings, "", ctx.env.progress));
  if (ctx.env.runner == nullptr) return Error(Errc::internal, "manual needs a process runner");
  return manual::make_authenticator(std::move(o), *ctx.env.runner);
}

}  // namespace

const Plugin& manual_plugin() {
  static const Plugin plugin = [] {
    std::vector<Setting> settings{
        {"manual_auth_hook", "--manual-auth-hook",
         "Shell command that publishes each challenge (certbot's CERTBOT_* environment)", ""},
        {"manual_cleanup_hook", "--manual-cleanup-hook",
         "Shell command that removes each challenge (CERTBOT_AUTH_OUTPUT too)", ""},
        {"manual_hook_timeout", "--manual-hook-timeout",
         "Seconds a manual hook may run before it is killed", "300", SettingKind::number, 1,
         86400},
    };
    for (auto& s : dns_settings()) settings.push_back(s);
    return Plugin{
        .name = "manual",
        .description = "Answer http-01 or dns-01 with your own hook scripts (or by hand)",
        .settings = settings,
        .chosen_by_its_flags = false,
        .complete = nullptr,
        .authenticator = authenticator,
        .installer = nullptr,
    };
  }();
  return plugin;
}

}  // namespace acmed::plugins
