#include "cli/issue_flags.hpp"

#include "cli/logging.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <map>

namespace acmed::cli {

namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

}  // namespace

void add_issue_flags(CLI::App& app, IssueFlags& f) {
  const char* g_what = "What to get";
  app.add_option("-d,--domains,--domain", f.domains,
                 "Domain name or IP address for the certificate; repeat or use commas. The first\n"
                 "names the lineage")
      ->group(g_what)
      ->type_name("NAME");
  app.add_option("--ip-address", f.ip_addresses,
                 "IP address for the certificate: the same as -d ADDR")
      ->group(g_what)
      ->type_name("ADDR");
  app.add_flag("--keep-until-expiring,--keep,--reinstall", f.keep,
               "Keep a certificate that is not due (acmed's default; accepted for certbot)")
      ->group(g_what);
  app.add_option("--cert-name", f.cert_name, "Lineage name (default: the first domain)")
      ->group(g_what);
  app.add_flag("--expand", f.expand,
               "Replace an existing lineage's certificate with one for more names")
      ->group(g_what);
  app.add_flag("--duplicate", f.duplicate,
               "Make a new lineage even when one has the same names (both are renewed)")
      ->group(g_what);
  app.add_flag("--allow-subset-of-names", f.allow_subset_of_names,
               "When some names fail validation, get the certificate for the others (stored;\n"
               "renewals do the same)")
      ->group(g_what);
  app.add_flag("--renew-with-new-domains", f.renew_with_new_domains,
               "With --cert-name: replace the lineage's certificate with one for the requested\n"
               "names now, even when that drops names it covers")
      ->group(g_what);
  app.add_flag("--force-renewal,--renew-by-default", f.force_renewal,
               "Get a new certificate even if the existing one is not due")
      ->group(g_what);
  app.add_flag("--local", f.local,
               "Use the local development CA (acmed local install) instead of an ACME CA")
      ->group(g_what);
  app.add_flag("--dry-run", f.dry_run,
               "Rehearse against the staging CA (or --server) and save nothing")
      ->group(g_what);

  const char* g_auth = "How to prove control of the names (plugins)";
  for (const plugins::Plugin* p : plugins::all_plugins()) {
    app.add_flag("--" + p->name, f.use_plugin[p->name], p->description)->group(g_auth);
  }
  app.add_option("-a,--authenticator", f.authenticator,
                 "Authenticator plugin by name (acmed plugins --authenticators)")
      ->group(g_auth)
      ->type_name("NAME");
  app.add_option("-i,--installer", f.installer,
                 "Installer plugin by name (nginx, apache; null: none)")
      ->group(g_auth)
      ->type_name("NAME");
  app.add_option("--configurator", f.configurator, "Authenticator and installer: -a NAME -i NAME")
      ->group(g_auth)
      ->type_name("NAME");
  const char* g_settings = "Plugin settings (stored for renewal)";
  for (const plugins::Setting& s : plugins::all_settings()) {
    if (s.flag.empty()) continue;
    // No variable and every occurrence kept: collect_flag_order() reads them in command-line
    // order (for -w before the -d names it serves). No trigger_on_parse(): CLI11 2.3 then keeps
    // only the last value in results().
    CLI::Option* opt = app.add_option(s.flag, s.help)
                           ->group(g_settings)
                           ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    if (!s.default_value.empty()) opt->default_str(s.default_value);
    if (s.kind == plugins::SettingKind::number) opt->check(CLI::Range(s.min, s.max));
    f.setting_options.emplace_back(opt, s.key);
  }

  const char* g_ca = "Certificate authority and account";
  app.add_option("--server", f.server, "ACME directory URL (default: Let's Encrypt production)")
      ->group(g_ca)
      ->type_name("URL");
  app.add_flag("--staging,--test-cert", f.staging, "Use Let's Encrypt's staging CA")->group(g_ca);
  app.add_option("--ca-bundle", f.ca_bundle,
                 "PEM file of roots to trust for the CA's HTTPS (also $ACMED_CA_BUNDLE)")
      ->group(g_ca)
      ->type_name("FILE");
  app.add_option("--issuance-timeout", f.issuance_timeout,
                 "Seconds one issuance may take talking to the CA, retries and waits included")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400))
      ->group(g_ca)
      ->type_name("SECONDS");
  app.add_option("-m,--email", f.emails, "Contact e-mail for the account (repeat or use commas)")
      ->group(g_ca);
  app.add_flag("--agree-tos", f.agree_tos, "Agree to the CA's terms of service")->group(g_ca);
  app.add_flag("--register-unsafely-without-email", f.no_email,
               "Register an account without a contact e-mail (with -m, the address is used)")
      ->group(g_ca);
  app.add_flag("--eff-email,!--no-eff-email", f.eff_email,
               "Accepted for certbot; acmed shares no address with the EFF")
      ->group(g_ca);
  app.add_flag("--no-verify-ssl", f.no_verify_ssl,
               "Do not verify the CA's TLS certificate; only with a loopback --server (a test CA)")
      ->group(g_ca);
  app.add_option("--user-agent", f.user_agent, "User-Agent sent to the CA")->group(g_ca);
  app.add_option("--account", f.account,
                 "The stored account to use (its id: the directory name under accounts/)")
      ->group(g_ca)
      ->type_name("ID");
  app.add_option("--eab-kid", f.eab_kid, "External Account Binding key id")->group(g_ca);
  app.add_option("--eab-hmac-key", f.eab_hmac_key, "External Account Binding HMAC key (base64url)")
      ->group(g_ca);
  app.add_option("--preferred-challenges", f.preferred_challenges,
                 "Challenge types in order of preference (dns-01, http-01, tls-alpn-01; commas)")
      ->type_name("TYPES");
  app.add_option("--preferred-chain", f.preferred_chain,
                 "Prefer the chain whose top issuer has this common name")
      ->group(g_ca);
  app.add_option(
         "--preferred-profile", f.preferred_profile,
         "ACME profile to ask for (classic, tlsserver, shortlived); the CA's default if absent")
      ->group(g_ca);
  app.add_option("--required-profile", f.required_profile,
                 "ACME profile that must be used; fail if the CA does not offer it")
      ->group(g_ca);

  const char* g_key = "Certificate key";
  app.add_option("--key-type", f.key_type, "Key type")
      ->capture_default_str()
      ->check(CLI::IsMember({"ecdsa", "rsa"}))
      ->group(g_key);
  app.add_option("--rsa-key-size", f.rsa_key_size, "RSA key size")
      ->capture_default_str()
      ->check(CLI::IsMember({2048, 3072, 4096}))
      ->group(g_key);
  app.add_option("--elliptic-curve", f.elliptic_curve, "ECDSA curve")
      ->capture_default_str()
      ->check(CLI::IsMember({"secp256r1", "secp384r1", "secp521r1"}))
      ->group(g_key);
  app.add_flag("--reuse-key", f.reuse_key, "Keep the lineage's private key when renewing")
      ->group(g_key);
  app.add_flag("--no-reuse-key", f.no_reuse_key, "Get a new private key on each renewal (stored)")
      ->group(g_key);
  app.add_flag("--new-key", f.new_key, "A new private key this time, even with --reuse-key")
      ->group(g_key);
  app.add_flag("--must-staple", f.must_staple, "Refused: Let's Encrypt ended OCSP in 2025")
      ->group(g_key);
  app.add_flag("--staple-ocsp", f.staple_ocsp, "Refused: Let's Encrypt ended OCSP in 2025")
      ->group("Installers");

  const char* g_inst = "Installers";
  app.add_flag("--redirect", f.redirect, "Redirect port 80 to HTTPS (the default)")->group(g_inst);
  app.add_flag("--no-redirect", f.no_redirect, "Leave port 80 serving the site")->group(g_inst);
  app.add_flag("--hsts", f.hsts, "Add a Strict-Transport-Security header")->group(g_inst);
  app.add_flag("--uir", f.uir, "Add Content-Security-Policy: upgrade-insecure-requests")
      ->group(g_inst);

  const char* g_hooks = "Hooks (stored for renewal)";
  app.add_option("--pre-hook", f.pre_hook, "Shell command run before obtaining certificates")
      ->group(g_hooks);
  app.add_option("--post-hook", f.post_hook, "Shell command run after obtaining certificates")
      ->group(g_hooks);
  app.add_option(
         "--deploy-hook", f.deploy_hook,
         "Shell command run after each successful issuance (RENEWED_LINEAGE, RENEWED_DOMAINS)")
      ->group(g_hooks);
  app.add_flag(
         "--no-random-sleep-on-renew", f.no_random_sleep,
         "Accepted for certbot's cron lines: acmed never sleeps; acmed.timer spreads the load")
      ->group(g_hooks);
  app.add_flag("--run-deploy-hooks", f.run_deploy_hooks,
               "With --dry-run: run the deploy hooks too (they are skipped otherwise)")
      ->group(g_hooks);
}

void collect_flag_order(CLI::App& app, IssueFlags& f) {
  // CLI11 records options in the order they were given; pair each occurrence with its value.
  std::map<const CLI::Option*, std::string> keys(f.setting_options.begin(),
                                                 f.setting_options.end());
  const CLI::Option* d = app.get_option("--domains");
  const CLI::Option* ip = app.get_option("--ip-address");
  f.key_type_given = app.get_option("--key-type")->count() > 0;
  f.rsa_key_size_given = app.get_option("--rsa-key-size")->count() > 0;
  f.elliptic_curve_given = app.get_option("--elliptic-curve")->count() > 0;
  std::map<const CLI::Option*, std::size_t> taken;
  f.domains.clear();
  for (const CLI::Option* opt : app.parse_order()) {
    auto key = keys.find(opt);
    if (opt != d && opt != ip && key == keys.end()) continue;
    std::size_t& i = taken[opt];
    const auto& results = opt->results();
    if (i >= results.size()) continue;
    const std::string& value = results[i++];
    if (opt != d && opt != ip) {
      f.plugin_flags.emplace_back(key->second, value);
      continue;
    }
    for (auto& name : split_commas(value)) {
      f.plugin_flags.emplace_back(plugins::k_domain_key, name);
      f.domains.push_back(name);
    }
  }
  // Options a config file (-c) filled never appear in the parse order; they come first, as if
  // given before the command line (certbot/configargparse), plugin settings then -d names.
  plugins::GivenFlags from_file;
  std::vector<std::string> file_domains;
  for (const auto& [opt, key] : f.setting_options) {
    if (taken[opt] == 0) {
      for (const auto& value : opt->results()) from_file.emplace_back(key, value);
    }
  }
  if (taken[d] == 0) {
    for (const auto& value : d->results()) {
      for (auto& name : split_commas(value)) {
        from_file.emplace_back(plugins::k_domain_key, name);
        file_domains.push_back(name);
      }
    }
  }
  f.plugin_flags.insert(f.plugin_flags.begin(), from_file.begin(), from_file.end());
  f.domains.insert(f.domains.begin(), file_domains.begin(), file_domains.end());
  std::vector<std::string> emails;
  for (const auto& e : f.emails)
    for (auto& part : split_commas(e)) emails.push_back(part);
  f.emails = emails;
  std::vector<std::string> challenges;
  for (const auto& c : f.preferred_challenges)
    for (auto& part : split_commas(c)) challenges.push_back(part);
  f.preferred_challenges = challenges;
  // A plugin chosen by its own flags (-w chooses --webroot).
  for (const plugins::Plugin* p : plugins::all_plugins()) {
    if (!p->chosen_by_its_flags) continue;
    for (const auto& [key, value] : f.plugin_flags) {
      for (const auto& s : p->settings) {
        if (s.key == key) f.use_plugin[p->name] = true;
      }
    }
  }
}

plugins::Environment plugin_environment(const GlobalOptions& g) {
  return plugins::Environment{g.config_dir, g.work_dir, &process_runner(),
                              !g.non_interactive && ::isatty(STDIN_FILENO) == 1,
                              [](const std::string& line) { spdlog::info("{}", line); }};
}

app::RenewEnvironment renew_environment(const GlobalOptions& g, const sys::Clock& clock) {
  app::RenewEnvironment env;
  env.paths = store_paths(g);
  env.plugins = plugin_environment(g);
  env.client.log = acme_log();
  env.log = log_line;
  env.clock = &clock;
  return env;
}

sys::ProcessRunner& process_runner() {
  static sys::RealProcessRunner runner;
  return runner;
}

void log_line(renew::LogLevel level, std::string_view text) {
  switch (level) {
    case renew::LogLevel::debug:
      spdlog::debug("{}", text);
      break;
    case renew::LogLevel::info:
      spdlog::info("{}", text);
      break;
    case renew::LogLevel::warning:
      spdlog::warn("{}", text);
      break;
    case renew::LogLevel::error:
      spdlog::error("{}", text);
      break;
  }
}

store::Paths store_paths(const GlobalOptions& g) {
  return store::Paths{g.config_dir, g.work_dir, g.logs_dir};
}

}  // namespace acmed::cli
