#include "acmed/local/lineage.hpp"

#include "acmed/store/lock.hpp"

#include <algorithm>

namespace acmed::local {

namespace {

store::CertFiles files_of(const LocalCa& ca, const LeafCert& leaf) {
  store::CertFiles files;
  files.cert = leaf.cert_pem;
  files.chain = ca.cert_pem();
  files.fullchain = leaf.cert_pem + ca.cert_pem();
  files.privkey = leaf.key_pem;
  return files;
}

store::RenewalConf local_conf(store::RenewalConf conf, crypto::KeyType key_type, Purpose purpose) {
  conf.params.server = k_local_server;
  conf.params.authenticator = k_local_authenticator;
  if (key_type == crypto::KeyType::rsa) {
    conf.params.key_type = "rsa";
    conf.params.rsa_key_size = 2048;
    conf.params.elliptic_curve.clear();
  } else {
    conf.params.key_type = "ecdsa";
    conf.params.elliptic_curve = "secp256r1";
    conf.params.rsa_key_size.reset();
  }
  // Not a core [renewalparams] key: it is kept as a setting, which is what the conf writes back.
  if (purpose == Purpose::client) {
    conf.params.settings.text[std::string(k_local_client_key)] = "True";
  } else {
    conf.params.settings.text.erase(std::string(k_local_client_key));
  }
  return conf;
}

// A lineage lists DNS names then IPs; the order given on the command line may differ.
bool same_names(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

Purpose purpose_of(const store::RenewalConf& conf) {
  return conf.params.settings.get(k_local_client_key) == "True" ? Purpose::client : Purpose::server;
}

}  // namespace

bool is_local_lineage(const store::RenewalConf& conf) {
  return conf.params.server == k_local_server;
}

Result<std::string> save_lineage(const store::Paths& paths, const LocalCa& ca, const LeafCert& leaf,
                                 crypto::KeyType key_type, Purpose purpose) {
  store::CertFiles files = files_of(ca, leaf);
  // Which lineage to write and writing it are one critical section.
  ACMED_TRY(auto lock, store::StoreLock::acquire(paths));
  ACMED_TRY(auto existing, store::list_lineages(paths));
  for (const auto& entry : existing) {
    if (!entry.lineage || !is_local_lineage(entry.lineage->conf)) continue;
    if (!same_names(entry.lineage->names, leaf.names.all)) continue;
    ACMED_CHECK(store::add_version(paths, entry.name, files,
                                   local_conf(entry.lineage->conf, key_type, purpose)));
    return entry.name;
  }
  ACMED_TRY(std::string name, store::new_lineage_name(paths, leaf.names.all.front()));
  ACMED_CHECK(store::create_lineage(paths, name, files, local_conf({}, key_type, purpose)));
  return name;
}

Result<store::CertFiles> renew_lineage_files(const LocalCa& ca, const store::Lineage& lineage,
                                             std::string_view user_at_host, crypto::TimePoint now) {
  if (!is_local_lineage(lineage.conf)) {
    return Error(Errc::invalid_input,
                 "lineage " + lineage.name + " was not issued by the local CA");
  }
  ACMED_TRY(LeafCert leaf, make_leaf(ca, lineage.names, lineage.key.type, purpose_of(lineage.conf),
                                     user_at_host, now));
  return files_of(ca, leaf);
}

}  // namespace acmed::local
