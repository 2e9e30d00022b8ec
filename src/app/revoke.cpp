#include "acmed/app/revoke.hpp"

#include "acmed/app/delete.hpp"
#include "acmed/app/install.hpp"
#include "acmed/app/plugins.hpp"
#include "acmed/app/renew.hpp"
#include "acmed/renew/reissue.hpp"
#include "acmed/store/compromised.hpp"
#include "acmed/store/lock.hpp"
#include "acmed/sys/fs.hpp"

#include <nlohmann/json.hpp>

#include <system_error>

namespace acmed::app {

namespace {

namespace fs = std::filesystem;

// Lower-case hex of a DER serial without leading zero bytes (how Pebble and `openssl x509 -serial`
// name a certificate, apart from case).
std::string serial_hex(std::string_view raw) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += k_digits[c >> 4];
    out += k_digits[c & 0xf];
  }
  std::size_t first = out.find_first_not_of('0');
  return first == std::string::npos ? "0" : out.substr(first);
}

// The directory URL: --server/--staging when given, else the lineage's own, else the default.
std::string revoke_server(const IssueOptions& o, const store::Lineage* lineage) {
  if (!o.server.empty() || o.staging || !lineage || lineage->conf.params.server.empty()) {
    return chosen_server(o);
  }
  return lineage->conf.params.server;
}

}  // namespace

Result<std::string> lineage_of_cert(const store::Paths& paths, const fs::path& cert_path) {
  std::error_code ec;
  const fs::path given = fs::weakly_canonical(cert_path, ec);
  if (ec) return std::string();
  ACMED_TRY(auto names, store::lineage_names(paths));
  for (const auto& name : names) {
    auto conf = store::read_renewal_conf(paths, name);
    if (!conf) continue;
    const fs::path archive = fs::weakly_canonical(conf->archive_dir, ec);
    if (!ec && given.parent_path() == archive) return name;
  }
  return std::string();
}

Result<Revoked> revoke_certificate(const IssueOptions& o, const RevokeOptions& r,
                                   const RevokeEnvironment& env) {
  const store::Paths& paths = env.paths;
  const acme::ClientOptions& base = env.client;
  if (o.cert_name.empty() == r.cert_path.empty()) {
    return Error(Errc::usage, "revoke needs exactly one of --cert-name and --cert-path",
                 "see the names with 'acmed certificates'");
  }
  ACMED_TRY(auto reason, acme::parse_revocation_reason(r.reason));

  Revoked out;
  std::optional<store::Lineage> lineage;
  if (!o.cert_name.empty()) {
    auto loaded = store::load_lineage(paths, o.cert_name);
    if (!loaded && loaded.error().code == Errc::not_found) {
      return Error(Errc::not_found,
                   "no certificate named '" + o.cert_name + "' in " + paths.config_dir.string(),
                   "see the names with 'acmed certificates'");
    }
    if (!loaded) return std::move(loaded).error();
    lineage = std::move(*loaded);
    out.cert_path = lineage->conf.cert.string();
  } else {
    out.cert_path = r.cert_path;
    ACMED_TRY(auto name, lineage_of_cert(paths, r.cert_path));
    if (!name.empty()) {
      ACMED_TRY(auto loaded, store::load_lineage(paths, name));
      lineage = std::move(loaded);
    } else if (r.key_path.empty()) {
      return Error(Errc::usage,
                   r.cert_path + " is not a certificate of a lineage in " +
                       paths.config_dir.string() + ", so no account is known to revoke it with",
                   "sign the request with the certificate's own key: --key-path KEYFILE");
    }
  }
  if (lineage) out.lineage = lineage->name;

  ACMED_TRY(auto pem, sys::read_file_limited(out.cert_path, 1 << 20));
  auto info = crypto::parse_certificate(pem);
  if (!info) return std::move(info).error().with_context("in " + out.cert_path);
  out.serial = serial_hex(info->serial);

  std::optional<crypto::PrivateKey> cert_key;
  if (!r.key_path.empty()) {
    ACMED_TRY(auto key_pem, sys::read_file_limited(r.key_path, 1 << 20));
    auto key = crypto::PrivateKey::from_pem(key_pem);
    if (!key) return std::move(key).error().with_context("in " + r.key_path);
    if (!crypto::certificate_matches_key(pem, *key)) {
      return Error(Errc::invalid_input,
                   "the key " + r.key_path + " does not belong to the certificate " + out.cert_path,
                   "give the certificate's private key with --key-path");
    }
    cert_key = std::move(*key);
  }

  const std::string server = revoke_server(o, lineage ? &*lineage : nullptr);
  ACMED_TRY(auto client,
            acme::Client::connect(server, transport_options(o), client_options(o, base)));
  Status sent;
  if (cert_key) {
    sent = client.revoke_with_certificate_key(pem, reason, *cert_key);
  } else {
    const std::string id = lineage->conf.params.account;
    ACMED_TRY(auto account, renew::stored_account(paths, server, id));
    if (!account) {
      return Error(Errc::not_found,
                   "the account " + (id.empty() ? std::string("for ") : id + " of ") + server +
                       " that would sign the revocation is not stored in " +
                       paths.accounts_dir().string(),
                   "sign the request with the certificate's own key: --key-path " +
                       lineage->conf.privkey.string());
    }
    client.use_account(std::make_shared<const crypto::PrivateKey>(std::move(account->key)),
                       account->url);
    sent = client.revoke(pem, reason);
  }
  if (!sent && acme::is_already_revoked(sent.error())) {
    out.already_revoked = true;
  } else if (!sent) {
    return std::move(sent).error().with_context("while revoking " + out.cert_path);
  }
  if (!lineage || r.delete_after == DeleteAfterRevoke::no) return out;
  if (r.delete_after == DeleteAfterRevoke::ask && r.confirm_delete &&
      !r.confirm_delete(lineage->name)) {
    return out;
  }
  DeleteRequest request;
  request.cert_name = lineage->name;
  request.plugin_flags = o.plugin_flags;
  Status deleted = delete_certificate(request, paths, env.plugins, env.log);
  out.deleted = deleted.ok();
  if (!deleted) out.not_deleted = deleted.error().describe();
  return out;
}

namespace {

fs::path recovery_state_file(const store::Paths& paths, const std::string& lineage) {
  return paths.work_dir / "acmed" / "compromise" / (lineage + ".json");
}

// The compromised version an interrupted recovery of `lineage` recorded; nullopt when none runs.
Result<std::optional<int>> recovery_in_progress(const store::Paths& paths,
                                                const std::string& lineage) {
  const fs::path file = recovery_state_file(paths, lineage);
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::optional<int>();
  ACMED_TRY(auto text, sys::read_file_limited(file, 4096));
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object() || !doc.contains("old_version") || !doc["old_version"].is_number_integer()) {
    return Error(Errc::config, file.string() + " is damaged",
                 "remove it if no key-compromise recovery of " + lineage + " is under way");
  }
  return std::optional<int>(doc["old_version"].get<int>());
}

// How to go on after step `step` failed: the old certificate is still valid and served.
Error step_failed(Error e, const std::string& step, const std::string& lineage, bool served_new) {
  e.with_context("while " + step);
  e.hint =
      (e.hint.empty() ? std::string() : e.hint + "; ") +
      (served_new ? "the new certificate is served, " : "the site still serves the old one, ") +
      "the old certificate is NOT revoked yet: fix this, then run 'acmed revoke --cert-name " +
      lineage + " --reason keycompromise --reissue' again to resume";
  return e;
}

}  // namespace

Result<Recovered> recover_compromised_key(const IssueOptions& o, const RevokeOptions& r,
                                          const RevokeEnvironment& env) {
  if (o.cert_name.empty() || !r.cert_path.empty() || !r.key_path.empty()) {
    return Error(Errc::usage, "--reissue needs --cert-name NAME (and no --cert-path or --key-path)",
                 "the lineage's own key signs the revocation");
  }
  ACMED_TRY(auto reason, acme::parse_revocation_reason(r.reason));
  if (reason != acme::RevocationReason::key_compromise) {
    return Error(Errc::usage,
                 "--reissue is the key-compromise recovery: it needs --reason "
                 "keycompromise",
                 "for a plain revocation leave out --reissue");
  }
  if (r.delete_after == DeleteAfterRevoke::yes) {
    return Error(Errc::usage,
                 "--reissue keeps the lineage (with its new certificate); "
                 "--delete-after-revoke contradicts it");
  }
  auto say = [&env](const std::string& text) {
    if (env.log) env.log(renew::LogLevel::info, text);
  };
  ACMED_TRY(auto lock, store::StoreLock::acquire(env.paths));
  auto loaded = store::load_lineage(env.paths, o.cert_name);
  if (!loaded && loaded.error().code == Errc::not_found) {
    return Error(Errc::not_found,
                 "no certificate named '" + o.cert_name + "' in " + env.paths.config_dir.string(),
                 "see the names with 'acmed certificates'");
  }
  if (!loaded) return std::move(loaded).error();
  store::Lineage lineage = std::move(*loaded);
  ACMED_CHECK(lineage.conf.check_renewable());
  ACMED_TRY(auto installer, lineage_installer(lineage, env.plugins));
  if (!installer) {
    return Error(Errc::usage,
                 "the lineage " + lineage.name + " names no installer, so acmed cannot check " +
                     "that the server serves the new certificate before revoking the old one",
                 "run 'acmed renew --cert-name " + lineage.name +
                     " --force-renewal', reload the server, then revoke the old version with "
                     "--cert-path and --key-path from " +
                     lineage.conf.archive_dir.string());
  }

  Recovered out;
  out.lineage = lineage.name;
  ACMED_TRY(auto in_progress, recovery_in_progress(env.paths, lineage.name));
  out.resumed = in_progress.has_value();
  out.old_version = in_progress.value_or(lineage.version);
  const fs::path archive = lineage.conf.archive_dir;
  const fs::path old_cert = archive / ("cert" + std::to_string(out.old_version) + ".pem");
  const fs::path old_key = archive / ("privkey" + std::to_string(out.old_version) + ".pem");
  ACMED_TRY(auto old_cert_pem, sys::read_file_limited(old_cert, 1 << 20));
  ACMED_TRY(auto old_key_pem, sys::read_file_limited(old_key, 1 << 20));
  auto key = crypto::PrivateKey::from_pem(old_key_pem);
  if (!key) return std::move(key).error().with_context("in " + old_key.string());
  ACMED_TRY(auto old_info, crypto::parse_certificate(old_cert_pem));
  out.old_serial = serial_hex(old_info.serial);

  // Step 1: on record before anything else, so nothing can request a certificate for it again.
  if (!in_progress) {
    ACMED_CHECK(store::record_compromised_key(env.paths, *key, lineage.name));
    const fs::path state = recovery_state_file(env.paths, lineage.name);
    ACMED_CHECK(sys::make_dirs(state.parent_path(), 0700));
    ACMED_CHECK(sys::write_file_atomic(
        state,
        nlohmann::json{{"old_version", out.old_version}, {"old_serial", out.old_serial}}.dump(),
        0600));
    say("1/4: the key of " + lineage.name + " version " + std::to_string(out.old_version) +
        " is recorded as compromised");
  } else {
    say("resuming the key-compromise recovery of " + lineage.name + " (compromised version " +
        std::to_string(out.old_version) + ")");
  }

  // Step 2: a new key and certificate, unless an interrupted run got that far.
  if (lineage.version == out.old_version) {
    renew::ReissueSettings settings;
    settings.paths = env.paths;
    settings.server_override = o.staging ? renew::k_le_staging : o.server;
    settings.transport = transport_options(o);
    settings.client = client_options(o, env.client);
    renew::RenewAttempt attempt;
    attempt.params = lineage.conf.params;
    auto issued = [&]() -> Result<renew::IssueOutcome> {
      ACMED_TRY(auto req, renew::reissue_request(lineage, attempt, settings));
      req.reuse_key = false;  // the whole point
      ACMED_TRY(auto auth, lineage_authenticator(lineage, attempt.params, env.plugins));
      return renew::issue(req, *auth);
    }();
    if (!issued) {
      return step_failed(std::move(issued).error(), "obtaining the new certificate", lineage.name,
                         false);
    }
    say("2/4: new key and certificate for " + lineage.name + " (version " +
        std::to_string(issued->version) + ")");
    ACMED_TRY(lineage, store::load_lineage(env.paths, lineage.name));
  } else {
    say("2/4: already done (version " + std::to_string(lineage.version) + ")");
  }
  out.new_version = lineage.version;
  out.new_serial = serial_hex(lineage.cert.serial);

  // Step 3: the server reloaded and serving the new certificate.
  Status deployed = reload_installers({lineage}, env.plugins, env.log);
  if (deployed) {
    const fs::path live = env.paths.live_dir(lineage.name);
    install::DeployRequest check{
        lineage.name, dns_names(lineage.names), live / "fullchain.pem", live / "privkey.pem", {}};
    deployed = installer->check_deployed(check);
  }
  if (!deployed) {
    return step_failed(std::move(deployed).error(), "deploying the new certificate", lineage.name,
                       false);
  }
  say("3/4: " + installer->name() + " serves the new certificate (serial " + out.new_serial + ")");

  // Step 4: only now the old certificate, signed by its own (compromised) key.
  const std::string server = revoke_server(o, &lineage);
  ACMED_TRY(auto client,
            acme::Client::connect(server, transport_options(o), client_options(o, env.client)));
  Status revoked = client.revoke_with_certificate_key(old_cert_pem,
                                                      acme::RevocationReason::key_compromise, *key);
  if (!revoked && acme::is_already_revoked(revoked.error())) {
    out.already_revoked = true;
  } else if (!revoked) {
    return step_failed(std::move(revoked).error(), "revoking the old certificate", lineage.name,
                       true);
  }
  say("4/4: the old certificate (serial " + out.old_serial + ") is revoked for keyCompromise");
  ACMED_CHECK(sys::remove_file(recovery_state_file(env.paths, lineage.name)));
  return out;
}

}  // namespace acmed::app
