// The settings every dns-01 plugin shares (--dns-resolver, --dns-propagation-check,
// --dns-propagation-seconds), and the dns::Options they make.
#pragma once

#include "acmed/dns/dns01.hpp"
#include "plugins/plugin.hpp"

namespace acmed::plugins {

inline std::vector<Setting> dns_settings() {
  return {
      {"dns_resolver", "--dns-resolver",
       "DNS server for zone, CNAME and NS lookups instead of the system's (repeatable, IP[:PORT])",
       "", SettingKind::list},
      {"dns_propagation_check", "--dns-propagation-check",
       "authoritative (every name server of the zone, default), resolver, or none", ""},
      {"dns_propagation_seconds", "--dns-propagation-seconds",
       "Upper bound for the DNS propagation check (default 60; with none: the wait)", "",
       SettingKind::number, 0, 3600},
  };
}

// dns::Options from the shared settings; `fallback_seconds` is the plugin's own spelling
// (dns_rfc2136_propagation_seconds) used when dns_propagation_seconds is unset.
// `progress` receives the lines shown to the user (Environment::progress).
inline Result<dns::Options> dns_options(const util::Settings& s,
                                        const std::string& fallback_seconds_key = "",
                                        std::function<void(const std::string&)> progress = {}) {
  std::optional<int> seconds;
  for (const std::string& key : {std::string("dns_propagation_seconds"), fallback_seconds_key}) {
    if (key.empty() || s.get(key).empty() || seconds) continue;
    ACMED_TRY(int n, number_setting(s, key));
    seconds = n;
  }
  ACMED_TRY(dns::Options o,
            dns::make_options(s.list("dns_resolver"), s.get("dns_propagation_check"), seconds));
  o.log = std::move(progress);
  return o;
}

}  // namespace acmed::plugins
