// What fleet mode keeps in etcd, under a prefix (default "/acmed/"), and how each node copies it
// to its own certbot-layout store:
//
//   <prefix>format                    "acmed-fleet 1": the prefix is ours (checked by every
//                                     command)
//   <prefix>keycheck                  the format marker sealed with the fleet key: a node with
//                                     another key is refused before it reads or writes anything
//   <prefix>current/<lineage>         "N": the lineage's current version
//   <prefix>versions/<lineage>/<N>    sealed {cert, chain, fullchain, privkey, renewal_conf, node,
//                                     written}: one version, whole
//   <prefix>accounts/<server>/<id>    sealed {server, id, private_key, regr, meta} (<server> is the
//                                     directory URL in base64url)
//   <prefix>nodes/<node>              {"name", "last_heartbeat", "lineages":
//                                     {NAME: {"version": N}}}
//   <prefix>alive/<node>              the node's name while its agent runs (its lease)
//   <prefix>locks/<lineage>           the node renewing it (its claim's lease: fleet/claim.hpp)
//   <prefix>challenges/<token>        the key authorization of a pending http-01 challenge
//                                     (the renewing node's claim lease)
//   <prefix>acks/<token>/<node>       that node serves the token (the same lease)
//
// Every value that holds a private key is sealed (crypto/aead.hpp) with the fleet key and bound to
// its etcd key; etcd is not trusted with secrets. A new version is one transaction: the version
// and `current` are written together, guarded by `current` still being the version the writer
// read, so a reader sees the old version or the new one, never half, and two writers never both
// win.
#pragma once

#include "acmed/crypto/aead.hpp"
#include "acmed/fleet/etcd.hpp"
#include "acmed/store/lineage.hpp"
#include "acmed/util/result.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::fleet {

inline constexpr std::string_view k_fleet_format = "acmed-fleet 1";

// One version of a lineage as the fleet keeps it.
struct VersionRecord {
  store::CertFiles files;
  std::string renewal_conf;  // the renewal conf's text (its paths are each node's own)
  std::string node;          // who wrote it
  std::string written;       // RFC 3339
};

// An account in the fleet: the three files of certbot's layout, as text.
struct AccountRecord {
  std::string server;
  std::string id;
  std::string private_key;  // private_key.json
  std::string regr;         // regr.json
  std::string meta;         // meta.json
};

struct NodeStatus {
  std::string name;
  std::string last_heartbeat;         // RFC 3339 (as the node's clock said)
  std::map<std::string, int> served;  // lineage -> version materialised on that node
};

class FleetStore {
 public:
  FleetStore(EtcdClient client, crypto::FleetKey key, std::string prefix);

  // Checks <prefix>format. With `create`, an empty prefix gets the marker (atomically: only if
  // no other writer put one first). Errc::config when the prefix holds data of another format,
  // or (without `create`) when it holds no fleet yet ("run `acmed fleet import` first");
  // Errc::network when etcd cannot be reached.
  Status check_format(bool create);
  // Before a node writes for the fleet: Errc::crypto when <prefix>keycheck does not open with
  // this node's key (the first node to find it missing seals it), so a node with another key
  // never publishes what the others cannot open.
  Status check_key();

  // lineage -> current version.
  Result<std::map<std::string, int>> current_versions();
  // The current version of one lineage (0 when etcd has none) and the etcd revision that wrote
  // it.
  struct Current {
    int version = 0;
    std::int64_t mod_revision = 0;
  };
  Result<Current> current_version(std::string_view lineage);
  // The store's revision now: anything written later has a higher mod_revision.
  Result<std::int64_t> revision();
  // Version `version` of `lineage`, opened. Errc::crypto naming the lineage when it does not open
  // with this node's fleet key; Errc::not_found when it is not there; Errc::protocol when the
  // opened record is not one.
  Result<VersionRecord> read_version(std::string_view lineage, int version);
  // Writes `record` as version `expected + 1` of `lineage` (expected 0: a new lineage) if
  // `current` is still `expected`, and `guard` holds (a lock the writer must still own).
  // Returns the version written, or nullopt when another writer won (nothing is written).
  Result<std::optional<int>> publish_version(std::string_view lineage, int expected,
                                             const VersionRecord& record,
                                             std::optional<Compare> guard = std::nullopt);

  // Puts the account unless it is there. Returns whether it was written.
  Result<bool> put_account(const AccountRecord& account);
  // Every account, opened (Errc::crypto as read_version).
  Result<std::vector<AccountRecord>> accounts();

  Status put_heartbeat(const NodeStatus& node);
  // Every node's last heartbeat; a record that does not parse is skipped.
  Result<std::vector<NodeStatus>> nodes();

  EtcdClient& etcd() { return m_etcd; }
  // <prefix>`suffix`.
  std::string key(std::string_view suffix) const { return m_prefix + std::string(suffix); }

 private:
  Result<std::string> open_value(const KeyValue& kv, std::string_view what);
  EtcdClient m_etcd;
  crypto::FleetKey m_key;
  std::string m_prefix;
};

// The lineage versions this node has copied from etcd, kept in <work-dir>/acmed/fleet.json.
using MaterializedVersions = std::map<std::string, int>;
Result<MaterializedVersions> load_materialized(const store::Paths& paths);
Status save_materialized(const store::Paths& paths, const MaterializedVersions& versions);

struct MaterializeResult {
  std::vector<std::string> changed;  // lineages that got a new version on this node
  std::vector<Error> failed;         // per lineage (a version that does not open, a bad file)
};

// Copies every lineage whose etcd version differs from what this node has into the local store
// (store::create_lineage / store::add_version: atomic, the live links switched at once), then
// records it. A version that does not open (wrong fleet key) is a failure naming the lineage, and
// nothing of it is written. Errc::network when etcd cannot be reached (the local files stay).
Result<MaterializeResult> materialize(FleetStore& fleet, const store::Paths& paths);

// Puts every lineage of the local store (its current version) and every account into etcd. A
// lineage already in etcd gets this node's version as its next one only when this node's
// certificate is newer (renewed here); else it is left as it is (named in `skipped`). The local
// store is marked as having the versions it put, so materialize does not copy them back.
struct ImportResult {
  std::vector<std::string> imported;  // new in etcd
  std::vector<std::string> updated;   // a newer version put
  std::vector<std::string> skipped;
  std::size_t accounts = 0;
};
Result<ImportResult> import_store(FleetStore& fleet, const store::Paths& paths,
                                  std::string_view node, std::string_view now);

}  // namespace acmed::fleet
