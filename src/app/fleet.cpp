#include "acmed/app/fleet.hpp"

#include "acmed/challenge/authenticator.hpp"
#include "acmed/crypto/encoding.hpp"
#include "acmed/fleet/key_file.hpp"
#include "acmed/sys/clock.hpp"
#include "acmed/sys/fs.hpp"
#include "acmed/sys/interrupt.hpp"

#include <nlohmann/json.hpp>

#include <set>
#include <system_error>

namespace acmed::app {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A key authorization (token "." base64url thumbprint) as etcd hands it to this node: the
// content of a file in a document root, so nothing else gets through. The token itself is
// checked with challenge::token_is_safe (it becomes the file's name).
bool valid_key_authorization(std::string_view token, std::string_view key_auth) {
  return key_auth.size() > token.size() + 1 && key_auth.size() <= 512 &&
         key_auth.starts_with(token) && key_auth[token.size()] == '.' &&
         crypto::is_base64url(key_auth.substr(token.size() + 1));
}

// Serves the published challenges from config.challenge_dir and acknowledges each; returns how
// many are served.
Result<std::size_t> sync_challenges(fleet::FleetStore& fleet, const FleetConfig& config,
                                    const RenewEnvironment& env) {
  if (config.challenge_dir.empty()) return std::size_t{0};
  const fs::path dir = config.challenge_dir / ".well-known" / "acme-challenge";
  ACMED_CHECK(sys::make_dirs(dir, 0755));
  const std::string p = fleet.key("challenges/");
  ACMED_TRY(fleet::RangeResponse r, fleet.etcd().range({p, fleet::prefix_end(p), 0}));
  std::set<std::string> live;
  for (const fleet::KeyValue& kv : r.kvs) {
    const std::string token = kv.key.substr(p.size());
    if (!challenge::token_is_safe(token) || !valid_key_authorization(token, kv.value)) {
      env.log(renew::LogLevel::warning,
              "etcd key " + kv.key + " is not an http-01 response; ignored");
      continue;
    }
    live.insert(token);
    ACMED_CHECK(sys::write_file_atomic(dir / token, kv.value, 0644));
    // The acknowledgement lives and dies with the challenge (the same lease).
    ACMED_CHECK(
        fleet.etcd().put({fleet.key("acks/" + token + "/" + config.node_name), "1", kv.lease}));
  }
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!live.count(name) && challenge::token_is_safe(name)) fs::remove(it->path(), ec);
  }
  return live.size();
}

}  // namespace

Result<fleet::FleetStore> open_fleet(const FleetConfig& config) {
  if (config.etcd.endpoints.empty())
    return Error(Errc::usage, "fleet mode needs --etcd-endpoints URL,URL,...");
  if (config.key_file.empty())
    return Error(Errc::usage, "fleet mode needs --fleet-key FILE",
                 "copy the key `acmed fleet init --fleet-key FILE` made to every node");
  ACMED_TRY(crypto::FleetKey key, fleet::read_fleet_key(config.key_file));
  ACMED_TRY(fleet::EtcdClient client, fleet::EtcdClient::open(config.etcd));
  return fleet::FleetStore(std::move(client), std::move(key), config.prefix);
}

Result<AgentPass> agent_pass(fleet::FleetStore& fleet, const FleetConfig& config,
                             const RenewEnvironment& env) {
  ACMED_CHECK(fleet.check_format(false));
  AgentPass pass;
  ACMED_TRY(fleet::MaterializeResult m, fleet::materialize(fleet, env.paths));
  pass.changed = m.changed;
  pass.failed = m.failed;
  for (const Error& e : pass.failed) env.log(renew::LogLevel::error, e.message);
  if (!pass.changed.empty()) {
    std::vector<store::Lineage> lineages;
    for (const std::string& name : pass.changed) {
      env.log(renew::LogLevel::info, name + ": new version from etcd");
      if (Result<store::Lineage> l = store::load_lineage(env.paths, name); l)
        lineages.push_back(std::move(*l));
    }
    if (Status s = reload_installers(lineages, env.plugins, env.log); !s)
      env.log(renew::LogLevel::error, s.error().message);
  }
  ACMED_TRY(pass.challenges, sync_challenges(fleet, config, env));
  ACMED_TRY(fleet::MaterializedVersions served, fleet::load_materialized(env.paths));
  ACMED_CHECK(
      fleet.put_heartbeat({config.node_name, sys::format_rfc3339(env.clock->now()), served}));
  return pass;
}

Status run_agent(fleet::FleetStore& fleet, const FleetConfig& config, const RenewEnvironment& env,
                 bool once, std::chrono::milliseconds interval) {
  bool was_down = false;
  while (true) {
    Result<AgentPass> pass = agent_pass(fleet, config, env);
    if (once) {
      if (!pass) return std::move(pass).error();
      if (!pass->failed.empty())
        return Error(pass->failed.front().code,
                     std::to_string(pass->failed.size()) +
                         " lineage(s) or account(s) could not be copied from etcd: " +
                         pass->failed.front().message,
                     pass->failed.front().hint);
      return ok_status();
    }
    if (!pass && !was_down)
      env.log(renew::LogLevel::error,
              pass.error().message + " (the local files keep being served; retrying)");
    if (pass && was_down) env.log(renew::LogLevel::info, "etcd answers again");
    was_down = !pass;
    if (!sys::sleep_unless_interrupted(interval)) return ok_status();
  }
}

Result<json> fleet_status(fleet::FleetStore& fleet) {
  ACMED_CHECK(fleet.check_format(false));
  ACMED_TRY(auto current, fleet.current_versions());
  ACMED_TRY(std::vector<fleet::NodeStatus> nodes, fleet.nodes());
  json out = {{"version", 1}, {"nodes", json::array()}, {"lineages", json::object()}};
  for (const auto& [name, version] : current) out["lineages"][name] = {{"version", version}};
  for (const fleet::NodeStatus& n : nodes) {
    json lineages = json::object();
    json stale = json::array();
    for (const auto& [name, version] : n.served) {
      lineages[name] = {{"version", version}};
      if (current.count(name) && current[name] != version) stale.push_back(name);
    }
    for (const auto& [name, version] : current)
      if (!n.served.count(name)) stale.push_back(name);
    out["nodes"].push_back({{"name", n.name},
                            {"last_heartbeat", n.last_heartbeat},
                            {"lineages", lineages},
                            {"outdated", stale}});
  }
  return out;
}

}  // namespace acmed::app
