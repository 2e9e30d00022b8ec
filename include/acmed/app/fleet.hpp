// `acmed fleet ...`: several servers share their lineages through etcd (fleet/fleet_store.hpp).
// Each node keeps the certbot layout on its own disk, copied from etcd by `acmed fleet agent`,
// so its web server reads local files and keeps serving while etcd is down.
#pragma once

#include "acmed/app/renew.hpp"
#include "acmed/fleet/fleet_store.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace acmed::app {

struct FleetConfig {
  fleet::EtcdOptions etcd;
  std::string prefix = "/acmed/";
  std::filesystem::path key_file;  // --fleet-key
  std::string node_name;           // --node-name (default: the host name)
  // Where the agent writes the http-01 responses any node published: a document root whose
  // .well-known/acme-challenge/ the web server serves.
  std::filesystem::path challenge_dir;
};

// The etcd client and fleet key of `config`. Errc::usage without endpoints or --fleet-key,
// Errc::not_found / Errc::config from the key file (fleet/key_file.hpp).
Result<fleet::FleetStore> open_fleet(const FleetConfig& config);

struct AgentPass {
  std::vector<std::string> changed;  // lineages that got a new version here
  std::vector<Error> failed;         // lineages that could not be copied (named)
  std::size_t challenges = 0;        // http-01 responses served
};

// One pass of the agent: copies new versions into the local store, reloads the web servers of
// the changed lineages once, writes the published http-01 responses into challenge_dir (and
// acknowledges each under the challenge's own lease), removes the ones withdrawn, and writes the
// node's heartbeat. Errc::network when etcd cannot be reached (nothing local changes).
Result<AgentPass> agent_pass(fleet::FleetStore& fleet, const FleetConfig& config,
                             const RenewEnvironment& env);

// Runs agent passes every `interval` until SIGINT/SIGTERM (or once). A pass that fails is logged
// and the next one tries again; with `once` its error is returned.
Status run_agent(fleet::FleetStore& fleet, const FleetConfig& config, const RenewEnvironment& env,
                 bool once, std::chrono::milliseconds interval);

// `acmed fleet status --json` (version 1): nodes, their last heartbeat and the version of each
// lineage they serve, plus the current version of each lineage in etcd.
Result<nlohmann::json> fleet_status(fleet::FleetStore& fleet);

}  // namespace acmed::app
