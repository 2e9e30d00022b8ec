#include "acmed/app/install.hpp"

#include "acmed/app/plugins.hpp"
#include "acmed/crypto/key.hpp"
#include "acmed/crypto/x509.hpp"
#include "acmed/install/transaction.hpp"
#include "acmed/local/environment.hpp"
#include "acmed/local/leaf.hpp"
#include "acmed/local/lineage.hpp"
#include "acmed/local/local_ca.hpp"
#include "acmed/store/lock.hpp"
#include "acmed/sys/fs.hpp"
#include "acmed/util/strings.hpp"

#include <algorithm>
#include <optional>

namespace acmed::app {

namespace {

namespace fs = std::filesystem;

fs::path backup_root(const store::Paths& paths) {
  return paths.work_dir / "backups";
}

void say(const InstallEnvironment& env, renew::LogLevel level, const std::string& text) {
  if (env.log) env.log(level, text);
}

std::vector<install::Enhancement> enhancements(const IssueOptions& o, bool redirect_by_default) {
  std::vector<install::Enhancement> out;
  if (o.redirect || (redirect_by_default && !o.no_redirect)) {
    out.push_back(install::Enhancement::redirect);
  }
  if (o.hsts) out.push_back(install::Enhancement::hsts);
  if (o.uir) out.push_back(install::Enhancement::uir);
  return out;
}

install::DeployRequest deploy_request(const store::Paths& paths, const std::string& lineage,
                                      const std::vector<std::string>& names,
                                      std::vector<install::Enhancement> enh) {
  auto live = paths.live_dir(lineage);
  return install::DeployRequest{lineage, names, live / "fullchain.pem", live / "privkey.pem",
                                std::move(enh)};
}

// Applies `plan` in a transaction (or prints it for --dry-run).
Status apply_plan(const install::Plan& plan, install::Installer& installer,
                  const InstallEnvironment& env, bool dry_run, const std::string& description,
                  const std::function<Status()>& check) {
  if (plan.empty()) {
    say(env, renew::LogLevel::info,
        installer.name() + ": nothing to change; the configuration already has it.");
    return {};
  }
  for (const auto& note : plan.notes) say(env, renew::LogLevel::debug, note);
  if (dry_run) {
    if (env.print_diff) env.print_diff(install::diff(plan));
    say(env, renew::LogLevel::info,
        "dry run: " + installer.name() + " would be changed as shown; nothing was written.");
    return {};
  }
  ACMED_TRY(auto checkpoint,
            install::execute(plan, installer, backup_root(env.paths), description, check));
  say(env, renew::LogLevel::info,
      installer.name() + " now " + description + "; undo with 'acmed rollback' (checkpoint " +
          checkpoint.string() + ").");
  return {};
}

// What `install` deploys: a lineage's files, or with certbot's path flags the user's own.
struct InstallFiles {
  std::string lineage;  // "" for files that are not a lineage's
  std::vector<std::string> names;
  fs::path fullchain, key;
};

bool given_paths(const IssueOptions& o) {
  return !o.cert_path.empty() || !o.key_path.empty() || !o.fullchain_path.empty() ||
         !o.chain_path.empty();
}

// True if the certificate's subjectAltNames cover `id` (a wildcard covers one leftmost label).
bool covers(const crypto::CertInfo& cert, const util::Identifier& id) {
  if (id.kind == util::IdentifierKind::ip) {
    return std::find(cert.ips.begin(), cert.ips.end(), id.value) != cert.ips.end();
  }
  const auto dot = id.value.find('.');
  return std::any_of(cert.dns_names.begin(), cert.dns_names.end(), [&](const std::string& san) {
    const std::string s = util::ascii_lower(san);
    return s == id.value || (!id.is_wildcard() && s.rfind("*.", 0) == 0 && dot != 0 &&
                             dot != std::string::npos && s.substr(1) == id.value.substr(dot));
  });
}

Result<std::string> read_pem(const fs::path& path, const char* what) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return Error(Errc::invalid_input, std::string(what) + " " + path.string() + " is not a file");
  }
  return sys::read_file_limited(path, 1 << 20);
}

// The files of `install --cert-path/--key-path/--fullchain-path [--cert-name]`, checked before
// anything is edited: the served file is a certificate chain that is valid now, the key belongs
// to its leaf, and the leaf covers every name. certbot fills paths not given from --cert-name's
// lineage; nginx and apache need the leaf and its chain in one file.
Result<InstallFiles> user_files(const IssueOptions& o, const InstallEnvironment& env) {
  InstallFiles out;
  fs::path cert = o.cert_path, chain = o.chain_path, fullchain = o.fullchain_path, key = o.key_path;
  std::optional<store::Lineage> lineage;
  if (!o.cert_name.empty()) {
    ACMED_TRY(lineage, store::load_lineage(env.paths, o.cert_name));
    const auto live = env.paths.live_dir(lineage->name);
    if (key.empty()) key = live / "privkey.pem";
    if (fullchain.empty() && cert.empty()) fullchain = live / "fullchain.pem";
    out.lineage = lineage->name;
  }
  if (key.empty()) {
    return Error(Errc::usage, "install --cert-path needs --key-path",
                 "or install a stored certificate with --cert-name NAME");
  }
  if (fullchain.empty()) {
    if (cert.empty()) {
      return Error(Errc::usage, "install --key-path needs --fullchain-path (or --cert-path)");
    }
    if (!chain.empty()) {
      return Error(Errc::usage,
                   "nginx and apache serve the certificate and its chain from one file",
                   "give that file with --fullchain-path " + cert.parent_path().string() +
                       "/fullchain.pem (certbot's nginx plugin asks for the same)");
    }
    fullchain = cert;
  }
  fullchain = fs::absolute(fullchain);
  key = fs::absolute(key);
  ACMED_TRY(auto fullchain_pem, read_pem(fullchain, "the certificate"));
  auto blocks = crypto::split_pem_chain(fullchain_pem);
  if (!blocks) {
    return Error(Errc::invalid_input,
                 fullchain.string() + " is not a PEM certificate chain: " + blocks.error().message);
  }
  ACMED_TRY(auto leaf, crypto::parse_certificate(fullchain_pem));
  if (!cert.empty() && fs::absolute(cert) != fullchain) {
    ACMED_TRY(auto cert_pem, read_pem(cert, "the certificate"));
    auto cert_leaf = crypto::parse_certificate(cert_pem);
    if (!cert_leaf || cert_leaf->sha256_fingerprint != leaf.sha256_fingerprint) {
      return Error(Errc::invalid_input, "--cert-path " + cert.string() +
                                            " is not the first certificate of --fullchain-path " +
                                            fullchain.string());
    }
  }
  ACMED_TRY(auto key_pem, read_pem(key, "the key"));
  auto private_key = crypto::PrivateKey::from_pem(key_pem);
  if (!private_key) {
    return Error(Errc::invalid_input, key.string() + " is not a PEM private key");
  }
  if (!crypto::certificate_matches_key(fullchain_pem, *private_key)) {
    return Error(
        Errc::invalid_input,
        "the key " + key.string() + " does not belong to the certificate " + fullchain.string(),
        "give the certificate's own private key with --key-path");
  }
  const auto now = std::chrono::system_clock::now();
  if (leaf.not_after <= now || leaf.not_before > now) {
    return Error(Errc::invalid_input, "the certificate " + fullchain.string() +
                                          " is not valid now; serving it would break the site");
  }
  if (blocks->size() == 1 && leaf.issuer_cn != leaf.subject_cn) {
    say(env, renew::LogLevel::warning,
        fullchain.string() +
            " holds no intermediate certificate; clients that lack it cannot "
            "verify the site (give the full chain with --fullchain-path)");
  }
  std::vector<util::Identifier> wanted;
  if (!o.domains.empty()) {
    ACMED_TRY(wanted, parsed_identifiers(o));
  } else if (lineage) {
    for (const auto& n : lineage->names) {
      std::string ip;
      wanted.push_back(util::Identifier{
          util::parse_ip(n, ip) ? util::IdentifierKind::ip : util::IdentifierKind::dns, n});
    }
  } else {
    for (const auto& n : leaf.dns_names) {
      wanted.push_back(util::Identifier{util::IdentifierKind::dns, util::ascii_lower(n)});
    }
  }
  for (const auto& id : wanted) {
    if (!covers(leaf, id)) {
      return Error(Errc::invalid_input,
                   "the certificate " + fullchain.string() + " does not cover " + id.value);
    }
    out.names.push_back(id.value);
  }
  out.names = dns_names(out.names);
  if (out.names.empty()) {
    return Error(Errc::invalid_input,
                 "the certificate " + fullchain.string() + " names no DNS name to install for",
                 "name the sites with -d NAME");
  }
  out.fullchain = std::move(fullchain);
  out.key = std::move(key);
  return out;
}

// Deploys `files` into `installer` (the caller holds the store lock).
Status deploy_files(const IssueOptions& o, install::Installer& installer, const InstallFiles& files,
                    const InstallEnvironment& env) {
  const std::string what = files.lineage.empty() ? files.fullchain.string() : files.lineage;
  install::DeployRequest request{files.lineage.empty() ? files.names.front() : files.lineage,
                                 files.names, files.fullchain, files.key, enhancements(o, true)};
  ACMED_TRY(auto plan, installer.plan_deploy(request));
  return apply_plan(plan, installer, env, o.dry_run, "serves " + what + " over HTTPS",
                    [&] { return installer.check_deployed(request); });
}

// Deploys lineage `name` (loaded under the store lock) into `installer`.
Status deploy_lineage(const IssueOptions& o, install::Installer& installer, const std::string& name,
                      const InstallEnvironment& env) {
  ACMED_TRY(auto lock, store::StoreLock::acquire(env.paths));
  ACMED_TRY(auto lineage, store::load_lineage(env.paths, name));
  const auto live = env.paths.live_dir(lineage.name);
  return deploy_files(o, installer,
                      InstallFiles{lineage.name, dns_names(lineage.names), live / "fullchain.pem",
                                   live / "privkey.pem"},
                      env);
}

// --local: a certificate from the local development CA, stored as a lineage that `acmed renew`
// renews with the same CA. No ACME server and no challenge are involved.
Result<std::string> obtain_local(const IssueOptions& o, const std::vector<std::string>& names,
                                 const InstallEnvironment& env) {
  if (o.dry_run) return Error(Errc::usage, "--dry-run does not apply to --local");
  ACMED_TRY(auto local_env, local::detect_environment(local::process_env));
  auto now = std::chrono::system_clock::now();
  ACMED_TRY(auto ca, local::LocalCa::load(local_env.ca_root, now));
  auto key_type = o.key_type == "rsa" ? crypto::KeyType::rsa : crypto::KeyType::ecdsa;
  ACMED_TRY(auto leaf, local::make_leaf(ca, names, key_type, local::Purpose::server,
                                        local_env.user_at_host, now));
  ACMED_TRY(auto lineage,
            local::save_lineage(env.paths, ca, leaf, key_type, local::Purpose::server));
  say(env, renew::LogLevel::info,
      "Certificate from the local development CA saved as " + lineage + ".");
  return lineage;
}

}  // namespace

std::vector<std::string> dns_names(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names) {
    std::string canonical;
    if (!util::parse_ip(n, canonical)) out.push_back(n);
  }
  return out;
}

Status record_installer(const store::Paths& paths, const std::string& lineage,
                        const IssueOptions& o) {
  const plugins::Plugin* plugin = chosen_installer(o);
  if (!plugin) {
    return Error(Errc::usage, "no installer chosen",
                 "use " + plugins::flag_list(plugins::Role::installer));
  }
  ACMED_TRY(auto settings, plugins::settings_from_flags(*plugin, o.plugin_flags));
  // Waits for the lock: the certificate is stored already, and a short rewrite must not be lost
  // to another acmed that holds the lock for a moment.
  return store::update_renewal_conf(
      paths, lineage,
      [&](store::RenewalConf& conf) -> Status {
        record_installer(conf.params, *plugin, settings);
        return {};
      },
      sys::LockWait::yes);
}

Status install_lineage(const IssueOptions& o, const InstallEnvironment& env) {
  ACMED_CHECK(check_flag_conflicts(o));
  if (o.cert_name.empty() && !given_paths(o)) {
    return Error(Errc::usage, "install needs --cert-name NAME (or --fullchain-path and --key-path)",
                 "see the names with 'acmed certificates'");
  }
  ACMED_TRY(auto installer, make_installer(o, env.plugins));
  {
    ACMED_TRY(auto lock, store::StoreLock::acquire(env.paths));
    if (given_paths(o)) {
      ACMED_TRY(auto files, user_files(o, env));
      ACMED_CHECK(installer->config_test());
      ACMED_CHECK(deploy_files(o, *installer, files, env));
    } else {
      ACMED_CHECK(store::load_lineage(env.paths, o.cert_name));
      ACMED_CHECK(installer->config_test());
      ACMED_CHECK(deploy_lineage(o, *installer, o.cert_name, env));
    }
  }
  // Renewals reload this server with these settings (--https-port, --nginx-ctl ...) from now on.
  if (o.dry_run || o.cert_name.empty()) return {};
  return record_installer(env.paths, o.cert_name, o);
}

Status enhance(const IssueOptions& o, const InstallEnvironment& env) {
  ACMED_CHECK(check_flag_conflicts(o));
  auto wanted = enhancements(o, false);
  if (wanted.empty()) return Error(Errc::usage, "enhance needs --redirect, --hsts or --uir");
  ACMED_TRY(auto installer, make_installer(o, env.plugins));
  std::vector<std::string> names;
  if (!o.cert_name.empty()) {
    ACMED_TRY(auto lineage, store::load_lineage(env.paths, o.cert_name));
    names = dns_names(lineage.names);
  } else {
    ACMED_TRY(auto ids, parsed_identifiers(o));
    for (const auto& id : ids) names.push_back(id.value);
  }
  ACMED_TRY(auto lock, store::StoreLock::acquire(env.paths));
  ACMED_CHECK(installer->config_test());
  ACMED_TRY(auto plan, installer->plan_enhance(names, wanted));
  return apply_plan(plan, *installer, env, o.dry_run, "has the requested enhancements", nullptr);
}

Status rollback(IssueOptions o, bool force, const InstallEnvironment& env) {
  ACMED_TRY(auto checkpoint, install::last_checkpoint(backup_root(env.paths)));
  const std::string& server = checkpoint.server;
  const plugins::Plugin* plugin = plugins::find_plugin(server);
  if (!plugin || !plugin->installer) {
    return Error(Errc::config, "the last checkpoint belongs to an unknown server '" + server + "'");
  }
  // Reach the server the checkpoint was made for (its control settings, saved under certbot's
  // "<plugin>_<name>" spelling: server_root -> nginx_server_root), unless told otherwise.
  for (auto& [name, on] : o.use_plugin) on = false;
  o.use_plugin[plugin->name] = true;
  for (const auto& [name, value] : checkpoint.settings) {
    std::string key = plugin->name + "_" + name;
    bool given = std::any_of(o.plugin_flags.begin(), o.plugin_flags.end(),
                             [&](const auto& flag) { return flag.first == key; });
    if (!given && !value.empty()) o.plugin_flags.emplace_back(key, value);
  }
  ACMED_TRY(auto installer, make_installer(o, env.plugins));
  ACMED_TRY(auto lock, store::StoreLock::acquire(env.paths));
  ACMED_TRY(auto restored,
            install::rollback_last(backup_root(env.paths), *installer,
                                   force ? install::Force::yes : install::Force::no));
  say(env, renew::LogLevel::info, "Rolled back " + server + ": " + restored);
  return {};
}

Status obtain_and_install(const IssueOptions& o, const ObtainContext& obtain_ctx,
                          const InstallEnvironment& env) {
  if (!chosen_installer(o)) {
    return Error(Errc::usage,
                 "'acmed' without a subcommand obtains and installs a certificate, which needs an "
                 "installer",
                 "use " + plugins::flag_list(plugins::Role::installer) +
                     ", or 'acmed certonly' to only obtain the certificate");
  }
  ACMED_CHECK(check_flag_conflicts(o));
  ACMED_TRY(auto installer, make_installer(o, env.plugins));
  // A config the server itself rejects is reported and left alone, before anything is asked of
  // the CA; so is one where no server block serves the names.
  ACMED_CHECK(installer->config_test());
  ACMED_TRY(auto ids, parsed_identifiers(o));
  std::vector<std::string> names;
  for (const auto& id : ids) names.push_back(id.value);
  ACMED_CHECK(
      installer->plan_deploy(deploy_request(env.paths, "acmed-precheck", dns_names(names), {})));

  std::string lineage;
  if (o.local) {
    ACMED_TRY(lineage, obtain_local(o, names, env));
    ACMED_CHECK(record_installer(env.paths, lineage, o));
    return deploy_lineage(o, *installer, lineage, env);
  }
  ACMED_TRY(auto auth, make_authenticator(o, env.plugins));
  ACMED_TRY(auto obtained, obtain(o, obtain_ctx, *auth));
  lineage = obtained.lineage;
  if (o.dry_run) {
    say(env, renew::LogLevel::info,
        "The dry run was successful: the CA issued a test certificate (not saved).");
    if (lineage.empty()) return hook_status(obtained.hook_failures);
  } else if (obtained.outcome) {
    say(env, renew::LogLevel::info, "Successfully received certificate for " + lineage + ".");
    ACMED_CHECK(record_installer(env.paths, lineage, o));
  }
  ACMED_CHECK(deploy_lineage(o, *installer, lineage, env));
  return hook_status(obtained.hook_failures);
}

}  // namespace acmed::app
