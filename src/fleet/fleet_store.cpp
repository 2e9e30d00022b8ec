#include "acmed/fleet/fleet_store.hpp"

#include "acmed/crypto/encoding.hpp"
#include "acmed/crypto/x509.hpp"
#include "acmed/store/account.hpp"
#include "acmed/sys/fs.hpp"
#include "acmed/util/domain.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <system_error>

namespace acmed::fleet {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t k_max_state = std::size_t{1} << 20;

std::string text_of(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::optional<int> parse_version(std::string_view text) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 1) return std::nullopt;
  return v;
}

fs::path state_path(const store::Paths& paths) {
  return paths.work_dir / "acmed" / "fleet.json";
}

}  // namespace

FleetStore::FleetStore(EtcdClient client, crypto::FleetKey key, std::string prefix)
    : m_etcd(std::move(client)), m_key(std::move(key)), m_prefix(std::move(prefix)) {}

Status FleetStore::check_key() {
  const std::string marker = key("keycheck");
  ACMED_TRY(RangeResponse r, m_etcd.range({marker, "", 0}));
  if (r.kvs.empty()) {
    // The first writer to get here (fleet import, or a renewal in a fleet made before the key
    // check existed) seals it with its key.
    ACMED_TRY(std::string box, crypto::seal(m_key, k_fleet_format, marker));
    TxnRequest txn;
    txn.compare.push_back({marker, CompareTarget::create_revision, CompareOp::equal, 0, ""});
    txn.success.push_back(PutRequest{marker, box, 0});
    ACMED_TRY(TxnResponse t, m_etcd.txn(txn));
    if (t.succeeded) return ok_status();
    return check_key();  // another node sealed it meanwhile
  }
  if (!crypto::open(m_key, r.kvs.front().value, marker))
    return Error(Errc::crypto,
                 "this node's fleet key is not the one the fleet under " + m_prefix +
                     " is sealed with (" + marker + " does not open)",
                 "every node needs the same --fleet-key file; copy it from a node of the fleet");
  return ok_status();
}

Status FleetStore::check_format(bool create) {
  const std::string format_key = key("format");
  ACMED_TRY(RangeResponse r, m_etcd.range({format_key, "", 0}));
  if (!r.kvs.empty()) {
    if (r.kvs.front().value == k_fleet_format) return ok_status();
    return Error(Errc::config,
                 "etcd prefix " + m_prefix + " holds data of another format ('" +
                     r.kvs.front().value.substr(0, 40) + "' in " + format_key + ")",
                 "choose another --etcd-prefix for acmed");
  }
  ACMED_TRY(RangeResponse any, m_etcd.range({m_prefix, prefix_end(m_prefix), 1}));
  if (any.count > 0)
    return Error(Errc::config,
                 "etcd prefix " + m_prefix + " holds keys but no " + format_key +
                     ": it is not an acmed fleet",
                 "choose another --etcd-prefix for acmed");
  if (!create)
    return Error(Errc::config, "there is no acmed fleet under etcd prefix " + m_prefix,
                 "run `acmed fleet import` on the node whose certificates the fleet starts with");
  TxnRequest txn;
  txn.compare.push_back({format_key, CompareTarget::create_revision, CompareOp::equal, 0, ""});
  txn.success.push_back(PutRequest{format_key, std::string(k_fleet_format), 0});
  ACMED_TRY(TxnResponse t, m_etcd.txn(txn));
  if (!t.succeeded) return check_format(false);  // another node created it meanwhile
  return ok_status();
}

Result<std::string> FleetStore::open_value(const KeyValue& kv, std::string_view what) {
  Result<std::string> plain = crypto::open(m_key, kv.value, kv.key);
  if (!plain)
    return Error(Errc::crypto,
                 std::string(what) + " in etcd does not open with this node's fleet key",
                 "every node needs the same --fleet-key file");
  return plain;
}

Result<std::map<std::string, int>> FleetStore::current_versions() {
  const std::string p = key("current/");
  ACMED_TRY(RangeResponse r, m_etcd.range({p, prefix_end(p), 0}));
  std::map<std::string, int> out;
  for (const KeyValue& kv : r.kvs) {
    const std::string name = kv.key.substr(p.size());
    std::optional<int> v = parse_version(kv.value);
    if (!util::is_safe_lineage_name(name) || !v)
      return Error(Errc::protocol, "etcd key " + kv.key + " is not a lineage version");
    out[name] = *v;
  }
  return out;
}

Result<FleetStore::Current> FleetStore::current_version(std::string_view lineage) {
  const std::string k = key("current/" + std::string(lineage));
  ACMED_TRY(RangeResponse r, m_etcd.range({k, "", 0}));
  if (r.kvs.empty()) return Current{};
  std::optional<int> v = parse_version(r.kvs.front().value);
  if (!v) return Error(Errc::protocol, "etcd key " + k + " is not a lineage version");
  return Current{*v, r.kvs.front().mod_revision};
}

Result<std::int64_t> FleetStore::revision() {
  ACMED_TRY(RangeResponse r, m_etcd.range({key("format"), "", 0}));
  return r.revision;
}

Result<VersionRecord> FleetStore::read_version(std::string_view lineage, int version) {
  const std::string k = key("versions/" + std::string(lineage) + "/" + std::to_string(version));
  ACMED_TRY(RangeResponse r, m_etcd.range({k, "", 0}));
  if (r.kvs.empty())
    return Error(Errc::not_found, "version " + std::to_string(version) + " of " +
                                      std::string(lineage) + " is not in etcd (" + k + ")");
  ACMED_TRY(std::string plain, open_value(r.kvs.front(), "lineage " + std::string(lineage)));
  json j = json::parse(plain, nullptr, false);
  crypto::wipe(plain);
  VersionRecord rec;
  rec.files = {text_of(j, "cert"), text_of(j, "chain"), text_of(j, "fullchain"),
               text_of(j, "privkey")};
  rec.renewal_conf = text_of(j, "renewal_conf");
  rec.node = text_of(j, "node");
  rec.written = text_of(j, "written");
  if (j.is_object() && j.contains("privkey") && j["privkey"].is_string())
    crypto::wipe(j["privkey"].get_ref<std::string&>());
  if (rec.files.cert.empty() || rec.files.privkey.empty() || rec.renewal_conf.empty())
    return Error(Errc::protocol, "version " + std::to_string(version) + " of " +
                                     std::string(lineage) + " in etcd is incomplete");
  return rec;
}

Result<std::optional<int>> FleetStore::publish_version(std::string_view lineage, int expected,
                                                       const VersionRecord& record,
                                                       std::optional<Compare> guard) {
  if (!util::is_safe_lineage_name(lineage))
    return Error(Errc::invalid_input, "'" + std::string(lineage) + "' is not a lineage name");
  const int next = expected + 1;
  const std::string current = key("current/" + std::string(lineage));
  const std::string version_key =
      key("versions/" + std::string(lineage) + "/" + std::to_string(next));
  json j = {{"cert", record.files.cert},
            {"chain", record.files.chain},
            {"fullchain", record.files.fullchain},
            {"privkey", record.files.privkey},
            {"renewal_conf", record.renewal_conf},
            {"node", record.node},
            {"written", record.written}};
  std::string plain = j.dump();
  Result<std::string> box = crypto::seal(m_key, plain, version_key);
  crypto::wipe(plain);
  if (!box) return std::move(box).error();
  TxnRequest txn;
  if (expected == 0)
    txn.compare.push_back({current, CompareTarget::create_revision, CompareOp::equal, 0, ""});
  else
    txn.compare.push_back(
        {current, CompareTarget::value, CompareOp::equal, 0, std::to_string(expected)});
  if (guard) txn.compare.push_back(*guard);
  txn.success.push_back(PutRequest{version_key, std::move(*box), 0});
  txn.success.push_back(PutRequest{current, std::to_string(next), 0});
  ACMED_TRY(TxnResponse t, m_etcd.txn(txn));
  if (!t.succeeded) return std::optional<int>{};
  return std::optional<int>{next};
}

Result<bool> FleetStore::put_account(const AccountRecord& account) {
  const std::string k =
      key("accounts/" + crypto::base64url_encode(account.server) + "/" + account.id);
  json j = {{"server", account.server},
            {"id", account.id},
            {"private_key", account.private_key},
            {"regr", account.regr},
            {"meta", account.meta}};
  std::string plain = j.dump();
  Result<std::string> box = crypto::seal(m_key, plain, k);
  crypto::wipe(plain);
  if (!box) return std::move(box).error();
  TxnRequest txn;
  txn.compare.push_back({k, CompareTarget::create_revision, CompareOp::equal, 0, ""});
  txn.success.push_back(PutRequest{k, std::move(*box), 0});
  ACMED_TRY(TxnResponse t, m_etcd.txn(txn));
  return t.succeeded;
}

Result<std::vector<AccountRecord>> FleetStore::accounts() {
  const std::string p = key("accounts/");
  ACMED_TRY(RangeResponse r, m_etcd.range({p, prefix_end(p), 0}));
  std::vector<AccountRecord> out;
  for (const KeyValue& kv : r.kvs) {
    std::string name = kv.key.substr(p.size());
    if (auto slash = name.find('/'); slash != std::string::npos) {
      Result<std::string> server = crypto::base64url_decode(name.substr(0, slash));
      if (server) name = name.substr(slash + 1) + " of " + *server;
    }
    ACMED_TRY(std::string plain, open_value(kv, "account " + name));
    json j = json::parse(plain, nullptr, false);
    crypto::wipe(plain);
    AccountRecord a{text_of(j, "server"), text_of(j, "id"), text_of(j, "private_key"),
                    text_of(j, "regr"), text_of(j, "meta")};
    if (a.server.empty() || a.id.empty() || a.private_key.empty())
      return Error(Errc::protocol, "account " + kv.key + " in etcd is incomplete");
    out.push_back(std::move(a));
  }
  return out;
}

Status FleetStore::put_heartbeat(const NodeStatus& node) {
  json lineages = json::object();
  for (const auto& [name, version] : node.served) lineages[name] = {{"version", version}};
  json j = {{"name", node.name}, {"last_heartbeat", node.last_heartbeat}, {"lineages", lineages}};
  ACMED_CHECK(m_etcd.put({key("nodes/" + node.name), j.dump(), 0}));
  return ok_status();
}

Result<std::vector<NodeStatus>> FleetStore::nodes() {
  const std::string p = key("nodes/");
  ACMED_TRY(RangeResponse r, m_etcd.range({p, prefix_end(p), 0}));
  std::vector<NodeStatus> out;
  for (const KeyValue& kv : r.kvs) {
    json j = json::parse(kv.value, nullptr, false);
    NodeStatus n{text_of(j, "name"), text_of(j, "last_heartbeat"), {}};
    if (n.name.empty()) continue;
    if (j.contains("lineages") && j["lineages"].is_object())
      for (auto& [name, v] : j["lineages"].items())
        if (v.is_object() && v.contains("version") && v["version"].is_number_integer())
          n.served[name] = v["version"].get<int>();
    out.push_back(std::move(n));
  }
  return out;
}

Result<MaterializedVersions> load_materialized(const store::Paths& paths) {
  MaterializedVersions out;
  std::error_code ec;
  if (!fs::exists(state_path(paths), ec)) return out;
  ACMED_TRY(std::string text, sys::read_file_limited(state_path(paths), k_max_state));
  json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("lineages") || !j["lineages"].is_object())
    return Error(Errc::config, state_path(paths).string() + " is not acmed's fleet state",
                 "remove it: the next `acmed fleet agent` copies every lineage again");
  for (auto& [name, v] : j["lineages"].items())
    if (v.is_number_integer()) out[name] = v.get<int>();
  return out;
}

Status save_materialized(const store::Paths& paths, const MaterializedVersions& versions) {
  json j = {{"version", 1}, {"lineages", versions}};
  ACMED_CHECK(sys::make_dirs(state_path(paths).parent_path(), 0700));
  return sys::write_file_atomic(state_path(paths), j.dump(2) + "\n", 0600);
}

Result<MaterializeResult> materialize(FleetStore& fleet, const store::Paths& paths) {
  ACMED_TRY(auto current, fleet.current_versions());
  ACMED_TRY(MaterializedVersions have, load_materialized(paths));
  MaterializeResult result;
  for (const auto& [name, version] : current) {
    if (have.count(name) && have[name] == version) continue;
    auto copy = [&]() -> Status {
      ACMED_TRY(VersionRecord rec, fleet.read_version(name, version));
      // Its paths are the writing node's: create_lineage and add_version put this node's in.
      ACMED_TRY(store::RenewalConf conf,
                store::parse_renewal_conf(rec.renewal_conf, "etcd:" + name));
      std::error_code ec;
      if (fs::exists(paths.renewal_dir() / (name + ".conf"), ec)) {
        ACMED_CHECK(store::add_version(paths, name, rec.files, std::move(conf)));
      } else {
        ACMED_CHECK(store::create_lineage(paths, name, rec.files, std::move(conf)));
      }
      crypto::wipe(rec.files.privkey);
      return ok_status();
    };
    if (Status s = copy(); !s) {
      result.failed.push_back(std::move(s).error().with_context("lineage " + name));
      continue;
    }
    have[name] = version;
    ACMED_CHECK(save_materialized(paths, have));
    result.changed.push_back(name);
  }
  // Accounts every node needs to renew: the ones it lacks.
  Result<std::vector<AccountRecord>> accounts = fleet.accounts();
  if (!accounts) {
    if (accounts.error().code == Errc::network) return std::move(accounts).error();
    result.failed.push_back(std::move(accounts).error());
    return result;
  }
  for (const AccountRecord& a : *accounts) {
    auto copy = [&]() -> Status {
      ACMED_TRY(std::vector<std::string> ids, store::list_accounts(paths, a.server));
      if (std::find(ids.begin(), ids.end(), a.id) != ids.end()) return ok_status();
      json jwk = json::parse(a.private_key, nullptr, false);
      json regr = json::parse(a.regr, nullptr, false);
      ACMED_TRY(crypto::PrivateKey key, crypto::PrivateKey::from_private_jwk(jwk));
      const std::string url = text_of(regr, "uri");
      json body = regr.is_object() && regr.contains("body") ? regr["body"] : json::object();
      json meta = json::parse(a.meta, nullptr, false);
      sys::TimePoint created{};
      sys::parse_rfc3339(text_of(meta, "creation_dt"), created);
      Result<std::string> saved = store::save_account(paths, a.server, key, url, body, created);
      if (!saved) return std::move(saved).error();
      return ok_status();
    };
    if (Status s = copy(); !s) result.failed.push_back(std::move(s).error());
  }
  return result;
}

Result<ImportResult> import_store(FleetStore& fleet, const store::Paths& paths,
                                  std::string_view node, std::string_view now) {
  ACMED_CHECK(fleet.check_format(true));
  ACMED_CHECK(fleet.check_key());
  ACMED_TRY(auto current, fleet.current_versions());
  ACMED_TRY(MaterializedVersions have, load_materialized(paths));
  ACMED_TRY(std::vector<std::string> names, store::lineage_names(paths));
  ImportResult result;
  for (const std::string& name : names) {
    ACMED_TRY(store::Lineage lineage, store::load_lineage(paths, name));
    int expected = 0;
    if (auto it = current.find(name); it != current.end()) {
      // In etcd already: this node's version goes in only when it is newer (renewed here).
      ACMED_TRY(VersionRecord there, fleet.read_version(name, it->second));
      ACMED_TRY(crypto::CertInfo cert, crypto::parse_certificate(there.files.cert));
      crypto::wipe(there.files.privkey);
      if (lineage.cert.not_before <= cert.not_before) {
        if (there.files.cert ==
            sys::read_file_limited(paths.live_dir(name) / "cert.pem", k_max_state).value_or("")) {
          have[name] = it->second;
          ACMED_CHECK(save_materialized(paths, have));
        }
        result.skipped.push_back(name);
        continue;
      }
      expected = it->second;
    }
    VersionRecord rec;
    const fs::path live = paths.live_dir(name);
    ACMED_TRY(rec.files.cert, sys::read_file_limited(live / "cert.pem", k_max_state));
    ACMED_TRY(rec.files.chain, sys::read_file_limited(live / "chain.pem", k_max_state));
    ACMED_TRY(rec.files.fullchain, sys::read_file_limited(live / "fullchain.pem", k_max_state));
    ACMED_TRY(rec.files.privkey, sys::read_file_limited(live / "privkey.pem", k_max_state));
    ACMED_TRY(rec.renewal_conf, sys::read_file_limited(lineage.conf_path, k_max_state));
    rec.node = std::string(node);
    rec.written = std::string(now);
    ACMED_TRY(std::optional<int> written, fleet.publish_version(name, expected, rec));
    crypto::wipe(rec.files.privkey);
    if (!written) {
      result.skipped.push_back(name);
      continue;
    }
    have[name] = *written;
    ACMED_CHECK(save_materialized(paths, have));
    (expected ? result.updated : result.imported).push_back(name);
  }
  // Accounts: every server directory under accounts/, each account's three files.
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(paths.accounts_dir(), ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename() != "private_key.json") continue;
    const fs::path dir = it->path().parent_path();
    // What an interrupted save or removal left (".<id>.acmed-tmp-..."): not an account.
    if (dir.filename().string().starts_with(".")) continue;
    ACMED_TRY(std::string regr, sys::read_file_limited(dir / "regr.json", k_max_state));
    ACMED_TRY(std::string key_text, sys::read_file_limited(dir / "private_key.json", k_max_state));
    std::string meta = sys::read_file_limited(dir / "meta.json", k_max_state).value_or("{}");
    // The directory URL: certbot's layout keeps it only as host/path; regr.json's uri gives the
    // scheme's host, the path below accounts/ the rest.
    const fs::path rel = dir.parent_path().lexically_relative(paths.accounts_dir());
    const std::string server = "https://" + rel.generic_string();
    AccountRecord a{server, dir.filename().string(), key_text, regr, meta};
    ACMED_TRY(bool added, fleet.put_account(a));
    crypto::wipe(a.private_key);
    crypto::wipe(key_text);
    if (added) ++result.accounts;
  }
  return result;
}

}  // namespace acmed::fleet
