#include "cli/issue_flags.hpp"

#include "acmed/renew/reissue.hpp"
#include "plugins/apache/apache.hpp"
#include "plugins/nginx/nginx.hpp"
#include "plugins/standalone/standalone.hpp"
#include "plugins/webroot/webroot.hpp"

#include <cstdlib>
#include <set>

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
                 "names the lineage")->group(g_what)->type_name("NAME");
  app.add_option("--cert-name", f.cert_name, "Lineage name (default: the first domain)")->group(g_what);
  app.add_flag("--expand", f.expand, "Replace an existing lineage's certificate with one for more names")
      ->group(g_what);
  app.add_flag("--renew-with-new-domains", f.renew_with_new_domains,
               "With --cert-name: replace the lineage's certificate with one for the requested\n"
               "names now, even when that drops names it covers")
      ->group(g_what);
  app.add_flag("--force-renewal,--renew-by-default", f.force_renewal,
               "Get a new certificate even if the existing one is not due")->group(g_what);
  app.add_flag("--local", f.local,
               "Use the local development CA (acmed local install) instead of an ACME CA")
      ->group(g_what);
  app.add_flag("--dry-run", f.dry_run,
               "Rehearse against the staging CA (or --server) and save nothing")->group(g_what);

  const char* g_auth = "How to prove control of the names";
  app.add_flag("--webroot", f.webroot, "Write challenge files into a running server's document root")
      ->group(g_auth);
  app.add_option("-w,--webroot-path", "Document root for the -d names that follow it")
      ->group(g_auth)->type_name("DIR")->take_all()->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  // No trigger_on_parse(): CLI11 2.3 then keeps only the last -w value in results(), and
  // collect_webroot_order() needs every occurrence to pair -w DIR with the -d names after it.
  app.add_flag("--standalone", f.standalone, "Run a temporary built-in web server on port 80")
      ->group(g_auth);
  app.add_flag("--nginx", f.nginx, "Use and configure the running nginx")->group(g_auth);
  app.add_flag("--apache", f.apache, "Use and configure the running apache2")->group(g_auth);
  app.add_option("--http-01-port", f.http01_port, "Port the CA validates http-01 on")
      ->capture_default_str()->check(CLI::Range(1, 65535))->group(g_auth);
  app.add_option("--http-01-address", f.http01_address,
                 "Address the standalone server listens on (default: all)")->group(g_auth);

  const char* g_ca = "Certificate authority and account";
  app.add_option("--server", f.server,
                 "ACME directory URL (default: Let's Encrypt production)")->group(g_ca)->type_name("URL");
  app.add_flag("--staging,--test-cert", f.staging, "Use Let's Encrypt's staging CA")->group(g_ca);
  app.add_option("--ca-bundle", f.ca_bundle,
                 "PEM file of roots to trust for the CA's HTTPS (also $ACMED_CA_BUNDLE)")
      ->group(g_ca)->type_name("FILE");
  app.add_option("-m,--email", f.emails, "Contact e-mail for the account (repeat or use commas)")
      ->group(g_ca);
  app.add_flag("--agree-tos", f.agree_tos, "Agree to the CA's terms of service")->group(g_ca);
  app.add_flag("--register-unsafely-without-email", f.no_email,
               "Register an account without a contact e-mail")->group(g_ca);
  app.add_option("--eab-kid", f.eab_kid, "External Account Binding key id")->group(g_ca);
  app.add_option("--eab-hmac-key", f.eab_hmac_key, "External Account Binding HMAC key (base64url)")
      ->group(g_ca);
  app.add_option("--preferred-chain", f.preferred_chain,
                 "Prefer the chain whose top issuer has this common name")->group(g_ca);
  app.add_option("--preferred-profile", f.preferred_profile,
                 "ACME profile to ask for (classic, tlsserver, shortlived); the CA's default if absent")
      ->group(g_ca);
  app.add_option("--required-profile", f.required_profile,
                 "ACME profile that must be used; fail if the CA does not offer it")->group(g_ca);

  const char* g_key = "Certificate key";
  app.add_option("--key-type", f.key_type, "Key type")
      ->capture_default_str()->check(CLI::IsMember({"ecdsa", "rsa"}))->group(g_key);
  app.add_option("--rsa-key-size", f.rsa_key_size, "RSA key size")
      ->capture_default_str()->check(CLI::IsMember({2048, 3072, 4096}))->group(g_key);
  app.add_option("--elliptic-curve", f.elliptic_curve, "ECDSA curve")
      ->capture_default_str()->check(CLI::IsMember({"secp256r1", "secp384r1"}))->group(g_key);
  app.add_flag("--reuse-key", f.reuse_key, "Keep the lineage's private key when renewing")->group(g_key);

  const char* g_inst = "Installers";
  app.add_option("--nginx-server-root", f.nginx_server_root, "nginx configuration root")
      ->capture_default_str()->group(g_inst);
  app.add_option("--nginx-ctl", f.nginx_ctl, "nginx binary (run as NGINX -c ROOT/nginx.conf -t)")
      ->capture_default_str()->group(g_inst);
  app.add_option("--apache-server-root", f.apache_server_root, "apache configuration root")
      ->capture_default_str()->group(g_inst);
  app.add_option("--apache-vhost-root", f.apache_vhost_root,
                 "Where new vhost files go (default: ROOT/sites-available)")->group(g_inst);
  app.add_option("--apache-ctl", f.apache_ctl, "apache control program")
      ->capture_default_str()->group(g_inst);
  app.add_option("--apache-enmod", f.apache_enmod, "Program that enables modules (a2enmod)")
      ->group(g_inst);
  app.add_option("--apache-ensite", f.apache_ensite, "Program that enables sites (a2ensite)")
      ->group(g_inst);
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
  app.add_option("--deploy-hook", f.deploy_hook,
                 "Shell command run after each successful issuance (RENEWED_LINEAGE, RENEWED_DOMAINS)")
      ->group(g_hooks);
}

void collect_webroot_order(CLI::App& app, IssueFlags& f) {
  // CLI11 records options in the order they were given; pair each -w/-d occurrence with its value.
  std::map<const CLI::Option*, std::size_t> taken;
  const CLI::Option* w = app.get_option("--webroot-path");
  const CLI::Option* d = app.get_option("--domains");
  f.domains.clear();
  for (const CLI::Option* opt : app.parse_order()) {
    if (opt != w && opt != d) continue;
    std::size_t& i = taken[opt];
    const auto& results = opt->results();
    if (i >= results.size()) continue;
    const std::string& value = results[i++];
    if (opt == w) {
      f.ordered_webroot_args.emplace_back("w", value);
    } else {
      for (auto& name : split_commas(value)) {
        f.ordered_webroot_args.emplace_back("d", name);
        f.domains.push_back(name);
      }
    }
  }
  std::vector<std::string> emails;
  for (const auto& e : f.emails)
    for (auto& part : split_commas(e)) emails.push_back(part);
  f.emails = emails;
  if (!f.ordered_webroot_args.empty() && w->count() > 0) f.webroot = true;
}

std::string chosen_server(const IssueFlags& f) {
  if (!f.server.empty()) return f.server;
  if (f.staging || f.dry_run) return renew::k_le_staging;
  return renew::k_le_production;
}

acme::TransportOptions transport_options(const IssueFlags& f) {
  acme::TransportOptions t;
  t.ca_bundle = f.ca_bundle;
  if (t.ca_bundle.empty()) {
    if (const char* env = std::getenv("ACMED_CA_BUNDLE")) t.ca_bundle = env;
  }
  return t;
}

Result<std::vector<util::Identifier>> parsed_identifiers(const IssueFlags& f) {
  if (f.domains.empty()) {
    return Error(Errc::usage, "no domain names given", "name them with -d example.com (repeatable)");
  }
  std::vector<util::Identifier> ids;
  std::set<std::string> seen;
  for (const auto& d : f.domains) {
    ACMED_TRY(auto id, util::parse_identifier(d));
    if (seen.insert(id.value).second) ids.push_back(std::move(id));
  }
  return ids;
}

Status check_flag_conflicts(const IssueFlags& f) {
  int authenticators = int(f.webroot) + int(f.standalone) + int(f.nginx) + int(f.apache);
  if (authenticators > 1) {
    return Error(Errc::usage, "choose one of --webroot, --standalone, --nginx and --apache");
  }
  if (f.staging && !f.server.empty()) {
    return Error(Errc::usage, "--staging and --server contradict each other", "use only one");
  }
  if (!f.emails.empty() && f.no_email) {
    return Error(Errc::usage, "--email and --register-unsafely-without-email contradict each other");
  }
  if (f.redirect && f.no_redirect) {
    return Error(Errc::usage, "--redirect and --no-redirect contradict each other");
  }
  if (f.eab_kid.empty() != f.eab_hmac_key.empty()) {
    return Error(Errc::usage, "--eab-kid and --eab-hmac-key must be given together");
  }
  if (!f.preferred_profile.empty() && !f.required_profile.empty()) {
    return Error(Errc::usage, "--preferred-profile and --required-profile contradict each other");
  }
  if (f.reuse_key && f.key_type == "rsa" && f.elliptic_curve != "secp256r1") {
    return Error(Errc::usage, "--elliptic-curve applies only to --key-type ecdsa");
  }
  return {};
}

sys::ProcessRunner& process_runner() {
  static sys::RealProcessRunner runner;
  return runner;
}

plugins::nginx::Options nginx_options(const IssueFlags& f, const GlobalOptions& g) {
  plugins::nginx::Options o;
  o.server_root = f.nginx_server_root;
  o.ctl = f.nginx_ctl;
  o.config_dir = g.config_dir;
  o.http01_port = f.http01_port;
  return o;
}

plugins::apache::Options apache_options(const IssueFlags& f, const GlobalOptions& g) {
  plugins::apache::Options o;
  o.server_root = f.apache_server_root;
  o.vhost_root = f.apache_vhost_root;
  o.ctl = f.apache_ctl;
  o.enmod = f.apache_enmod;
  o.ensite = f.apache_ensite;
  o.http01_port = std::to_string(f.http01_port);
  o.config_dir = g.config_dir;
  o.work_dir = g.work_dir;
  return o;
}

Result<std::unique_ptr<challenge::Authenticator>> make_authenticator(const IssueFlags& f,
                                                                     const GlobalOptions& globals) {
  if (f.webroot) {
    ACMED_TRY(auto map, plugins::webroot::map_from_arguments(f.ordered_webroot_args));
    if (map.empty()) {
      return Error(Errc::usage, "--webroot needs a document root", "give -w /path/to/docroot before -d");
    }
    return std::unique_ptr<challenge::Authenticator>(
        std::make_unique<plugins::webroot::WebrootAuthenticator>(std::move(map)));
  }
  if (f.nginx) return plugins::nginx::make_authenticator(nginx_options(f, globals), process_runner());
  if (f.apache) return plugins::apache::make_authenticator(apache_options(f, globals), process_runner());
  if (f.standalone) {
    return std::unique_ptr<challenge::Authenticator>(
        std::make_unique<plugins::standalone::StandaloneAuthenticator>(
            plugins::standalone::Options{f.http01_address, f.http01_port}));
  }
  return Error(Errc::usage, "no way to prove control of the names was chosen",
               "use --webroot -w DIR, --standalone, --nginx or --apache");
}

store::Paths store_paths(const GlobalOptions& g) {
  return store::Paths{g.config_dir, g.work_dir, g.logs_dir};
}

}  // namespace acmed::cli
