// The dns-rfc2136 plugin's registration: certbot's flags and renewal-conf keys.
#include "plugins/dns-rfc2136/rfc2136.hpp"
#include "plugins/dns_settings.hpp"

#include <filesystem>

namespace acmed::plugins {

namespace {

Status complete(util::Settings& s, const GivenFlags&) {
  std::string creds = s.get("dns_rfc2136_credentials");
  if (creds.empty())
    return Error(Errc::usage, "--dns-rfc2136 needs --dns-rfc2136-credentials FILE");
  std::error_code ec;
  auto abs = std::filesystem::absolute(creds, ec);
  if (!ec) s.text["dns_rfc2136_credentials"] = abs.lexically_normal().string();
  // Refuse a bad value now, before anything is asked of the CA.
  ACMED_CHECK(dns_options(s, "dns_rfc2136_propagation_seconds"));
  return ok_status();
}

Result<std::unique_ptr<challenge::Authenticator>> authenticator(const BuildContext& ctx) {
  ACMED_TRY(dns::Options o, dns_options(ctx.settings, "dns_rfc2136_propagation_seconds",
                                                ctx.env.progress));
  return dns_rfc2136::make_authenticator(
      dns_rfc2136::Options{ctx.settings.get("dns_rfc2136_credentials"), std::move(o)});
}

}  // namespace

const Plugin& dns_rfc2136_plugin() {
  static const Plugin plugin = [] {
    std::vector<Setting> settings{
        {"dns_rfc2136_credentials", "--dns-rfc2136-credentials",
         "certbot's dns-rfc2136 credentials file (mode 600)", ""},
        {"dns_rfc2136_propagation_seconds", "--dns-rfc2136-propagation-seconds",
         "Upper bound for the DNS propagation check (certbot's name)", "", SettingKind::number, 0,
         3600},
    };
    for (auto& s : dns_settings()) settings.push_back(s);
    return Plugin{
        .name = "dns-rfc2136",
        .description = "Answer dns-01 with TSIG-signed RFC 2136 updates (certbot's dns-rfc2136)",
        .settings = settings,
        .chosen_by_its_flags = false,
        .complete = complete,
        .authenticator = authenticator,
        .installer = nullptr,
    };
  }();
  return plugin;
}

}  // namespace acmed::plugins
