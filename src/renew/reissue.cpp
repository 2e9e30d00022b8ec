#include "acmed/renew/reissue.hpp"
#include "acmed/local/environment.hpp"
#include "acmed/local/lineage.hpp"
#include "acmed/local/local_ca.hpp"
#include "acmed/sys/fs.hpp"

#include <map>

namespace acmed::renew {

std::string renewal_server(const store::RenewalParams& params, std::string_view server_override,
                           DryRun dry_run) {
  if (!server_override.empty()) return std::string(server_override);
  std::string server = params.server.empty() ? k_le_production : params.server;
  if (dry_run == DryRun::yes && server == k_le_production) return k_le_staging;
  return server;
}

namespace {

Result<crypto::KeySpec> key_spec_of(const store::RenewalParams& p) {
  return crypto::parse_key_spec(p.key_type_or_rsa(), p.rsa_key_size.value_or(2048),
                                p.elliptic_curve.empty() ? "secp256r1" : p.elliptic_curve);
}

bool same_key_kind(const crypto::KeySpec& a, const crypto::KeySpec& b) {
  if (a.type != b.type) return false;
  return a.type == crypto::KeyType::rsa ? a.rsa_bits == b.rsa_bits : a.curve == b.curve;
}

}  // namespace

Result<IssueRequest> reissue_request(const store::Lineage& lineage, const RenewAttempt& attempt,
                                     const ReissueSettings& settings) {
  const store::RenewalParams& stored = lineage.conf.params;
  const std::string where =
      "while renewing " + lineage.name + " (" + lineage.conf_path.string() + ")";
  IssueRequest req;
  req.paths = settings.paths;
  req.server = renewal_server(stored, settings.server_override, attempt.dry_run);
  req.transport = settings.transport;
  req.client = settings.client;
  if (req.server == stored.server) {
    req.account.account_id = stored.account;
  } else {
    req.account = settings.new_account;  // any stored account there, or a new one
  }
  for (const auto& name : lineage.names) {
    auto id = util::parse_identifier(name);
    if (!id) return std::move(id).error().with_context(where);
    req.identifiers.push_back(std::move(*id));
  }
  if (req.identifiers.empty()) {
    return Error(Errc::config, "the certificate of " + lineage.name + " names no domain",
                 "obtain it again with `acmed certonly -d ...`");
  }
  req.target = attempt.dry_run == DryRun::yes ? Target::dry_run : Target::existing_lineage;
  req.cert_name = lineage.name;
  // Key settings as the attempt has them: `renew --key-type ...` overrides the stored ones.
  const store::RenewalParams& keyed = attempt.params;
  auto key = key_spec_of(keyed);
  if (!key) {
    Error e = std::move(key).error();
    e.code = Errc::config;
    return std::move(e).with_context(where);
  }
  req.key = *key;
  req.reuse_key = keyed.reuse_key.value_or(false);
  req.new_key = settings.new_key;
  // certbot: a kept key cannot change type or size; `renew --key-type ...` on a lineage with
  // reuse_key is refused rather than silently keeping the old key.
  auto before = key_spec_of(stored);
  if (req.reuse_key && !req.new_key && before && !same_key_kind(*before, req.key)) {
    return Error(
        Errc::usage,
        "the key of " + lineage.name + " cannot change type or size while reuse_key is set",
        "add --new-key for one new key of the new type (reuse_key stays on), or "
        "--no-reuse-key");
  }
  req.preferred_profile = stored.preferred_profile;
  req.required_profile = stored.required_profile;
  req.preferred_chain = stored.preferred_chain;
  if (auto prefs = challenge::parse_preferred_challenges(stored.pref_challs)) {
    req.preferred_challenges = std::move(*prefs);
  } else {
    return std::move(prefs).error().with_context("in pref_challs of the renewal conf");
  }
  if (!attempt.replaces.empty()) {
    std::string why_not = replaces_problem(lineage, req, settings.paths);
    if (why_not.empty()) {
      req.replaces = attempt.replaces;
      req.replaces_refused = attempt.replaces_refused;
    } else if (settings.client.log) {
      settings.client.log(acme::LogLevel::info,
                          lineage.name + ": not sending `replaces`: " + why_not);
    }
  }
  req.params = attempt.params;
  req.before_store = attempt.before_store;
  return req;
}

std::string replaces_problem(const store::Lineage& lineage, const IssueRequest& req,
                             const store::Paths& paths) {
  const store::RenewalParams& stored = lineage.conf.params;
  if (req.server != stored.server)
    return "the renewal goes to " + req.server + ", not to the CA that issued the certificate";
  if (stored.account.empty() || req.account.account_id != stored.account)
    return "the renewal does not use the account that obtained the certificate";
  // The certificate must really be from the CA of its lineage: its AKI names the key of the
  // first certificate of the stored chain (a certificate copied in from elsewhere is not).
  auto chain = sys::read_file(paths.live_dir(lineage.name) / "chain.pem");
  if (!chain) return "its chain cannot be read (" + chain.error().describe() + ")";
  auto issuer = crypto::parse_certificate(*chain);
  if (!issuer) return "its chain does not parse (" + issuer.error().describe() + ")";
  if (lineage.cert.authority_key_id.empty() ||
      lineage.cert.authority_key_id != issuer->subject_key_id)
    return "the certificate's authority key identifier does not match the issuer in its chain";
  return {};
}

namespace {

// A lineage saved by `acmed local cert --save` is renewed by the local CA, not by an ACME CA.
Result<RenewedCert> renew_local(const store::Lineage& lineage, const RenewAttempt& attempt,
                                const store::Paths& paths) {
  ACMED_TRY(auto env, local::detect_environment(local::process_env));
  auto now = std::chrono::system_clock::now();
  ACMED_TRY(auto ca, local::LocalCa::load(env.ca_root, now));
  ACMED_TRY(auto files, local::renew_lineage_files(ca, lineage, env.user_at_host, now));
  RenewedCert out;
  ACMED_TRY(out.cert, crypto::parse_certificate(files.cert));
  out.names = out.cert.dns_names;
  out.names.insert(out.names.end(), out.cert.ips.begin(), out.cert.ips.end());
  if (attempt.dry_run == DryRun::yes) return out;
  ACMED_TRY(out.version, store::add_version(paths, lineage.name, files, lineage.conf));
  return out;
}

}  // namespace

RenewFn reissue_with(ReissueSettings settings, AuthenticatorFactory make_authenticator) {
  return [settings = std::move(settings), make_authenticator = std::move(make_authenticator)](
             const store::Lineage& lineage, const RenewAttempt& attempt) -> Result<RenewedCert> {
    if (local::is_local_lineage(lineage.conf)) return renew_local(lineage, attempt, settings.paths);
    ACMED_TRY(IssueRequest req, reissue_request(lineage, attempt, settings));
    ACMED_TRY(auto authenticator, make_authenticator(lineage, attempt.params));
    ACMED_TRY(IssueOutcome outcome, issue(req, *authenticator));
    RenewedCert out;
    out.cert = outcome.info;
    out.names = outcome.info.dns_names;
    out.names.insert(out.names.end(), outcome.info.ips.begin(), outcome.info.ips.end());
    out.version = outcome.version;
    return out;
  };
}

namespace {

class ClientAriLookup final : public AriLookup {
 public:
  ClientAriLookup(acme::TransportOptions transport, acme::ClientOptions client,
                  std::string server_override)
      : m_transport(std::move(transport)),
        m_client(std::move(client)),
        m_override(std::move(server_override)) {}

  Result<acme::RenewalInfo> renewal_info(const store::Lineage& lineage,
                                         std::string_view cert_id) override {
    if (local::is_local_lineage(lineage.conf)) {
      return Error(Errc::not_found, "the local development CA has no renewal information");
    }
    std::string server = renewal_server(lineage.conf.params, m_override, DryRun::no);
    auto it = m_clients.find(server);
    if (it == m_clients.end()) {
      ACMED_TRY(acme::Client client, acme::Client::connect(server, m_transport, m_client));
      it = m_clients.emplace(server, std::move(client)).first;
    }
    return it->second.renewal_info(cert_id);
  }

 private:
  acme::TransportOptions m_transport;
  acme::ClientOptions m_client;
  std::string m_override;
  std::map<std::string, acme::Client> m_clients;
};

}  // namespace

std::unique_ptr<AriLookup> make_client_ari_lookup(acme::TransportOptions transport,
                                                  acme::ClientOptions client,
                                                  std::string server_override) {
  return std::make_unique<ClientAriLookup>(std::move(transport), std::move(client),
                                           std::move(server_override));
}

}  // namespace acmed::renew
