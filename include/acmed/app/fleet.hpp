// `acmed fleet ...`: several servers share their lineages through etcd (fleet/fleet_store.hpp).
// Each node keeps the certbot layout on its own disk, copied from etcd by `acmed fleet agent`,
// so its web server reads local files and keeps serving while etcd is down.
#pragma once

#include "acmed/app/renew.hpp"
#include "acmed/fleet/fleet_store.hpp"
#include "acmed/renew/reissue.hpp"

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
  // `renew`: the TTL of a lineage's lock (kept alive while the node works on it), and how long
  // the renewing node waits for every live agent to acknowledge its http-01 responses.
  std::chrono::seconds lock_ttl{30};
  std::chrono::seconds ack_timeout{60};
  // The agent: seconds its alive/<node> key outlives its last pass (at least 3 passes).
  std::chrono::seconds alive_ttl{15};
};

// The etcd client and fleet key of `config`. Errc::usage without endpoints or --fleet-key,
// Errc::not_found / Errc::config from the key file (fleet/key_file.hpp).
Result<fleet::FleetStore> open_fleet(const FleetConfig& config);

struct AgentPass {
  std::vector<std::string> changed;  // lineages that got a new version here
  std::vector<Error> failed;         // lineages that could not be copied (named)
  std::size_t challenges = 0;        // http-01 responses served
};

// What an agent keeps between passes: the lease of its alive/<node> key (0: none yet).
struct AgentState {
  std::int64_t alive_lease = 0;
};

// One pass of the agent: copies new versions into the local store, reloads the web servers of
// the changed lineages once, writes the published http-01 responses into challenge_dir (and
// acknowledges each under the challenge's own lease), removes the ones withdrawn, and writes the
// node's heartbeat. With `state`, it also keeps alive/<node> (under a lease of
// config.alive_ttl), which tells renewing nodes to wait for this agent's acknowledgements; a
// one-shot pass (null) does not. Errc::network when etcd cannot be reached (nothing local
// changes).
Result<AgentPass> agent_pass(fleet::FleetStore& fleet, const FleetConfig& config,
                             const RenewEnvironment& env, AgentState* state = nullptr);

// Runs agent passes every `interval` until SIGINT/SIGTERM (or once). A pass that fails is logged
// and the next one tries again; with `once` its error is returned.
Status run_agent(fleet::FleetStore& fleet, const FleetConfig& config, const RenewEnvironment& env,
                 bool once, std::chrono::milliseconds interval);

// `acmed renew --store etcd`, before the run: the prefix must be a fleet (Errc::network when etcd
// cannot be reached), and the versions and accounts other nodes wrote are copied into the local
// store first (not in a dry run, which changes nothing here), so the due decisions see the
// fleet's current certificates. Returns etcd's revision when the run started. Errc::crypto when
// this node's fleet key is not the fleet's (naming the lineage when one had to be copied;
// nothing of it is written).
Result<std::int64_t> prepare_fleet_renewal(const FleetConfig& config, const RenewEnvironment& env,
                                           bool dry_run);

// The RenewFn of `renew --store etcd`: per lineage, on the renewing thread,
//   1. take the lineage's lock (fleet/claim.hpp); another node holds it: skipped, named;
//   2. read its current version again: another node wrote one since `run_revision` (the run's
//      start), or one this node does not have: skipped (the agent copies it here), so a forced
//      renewal started on every node at once makes one new version;
//   3. renew through `settings` and `own` (the lineage's authenticator), except that an
//      authenticator that answers only http-01 is replaced by the fleet's: the responses go to
//      etcd under the lock's lease, and the order waits (config.ack_timeout) until every live
//      agent serves them, since the CA may ask any node;
//   4. the new version goes to etcd in one transaction guarded by the lock, then to the local
//      store; a lock lost on the way abandons the order with nothing written anywhere.
// A lineage etcd does not have is renewed as on one machine (with a warning).
// Lineages whose authenticator is replaced renew in parallel (renew::RenewContext::serial_key).
// True when fleet mode answers for `authenticator` (it answers http-01 first and no dns-01): the
// CA may ask any node, so the fleet's agents must serve the responses.
bool fleet_answers_for(const challenge::Authenticator& authenticator);

renew::RenewFn fleet_renew_fn(const FleetConfig& config, std::int64_t run_revision,
                              renew::ReissueSettings settings, renew::AuthenticatorFactory own,
                              renew::Logger log);

// `acmed fleet status --json` (version 1): nodes, their last heartbeat and the version of each
// lineage they serve, plus the current version of each lineage in etcd.
Result<nlohmann::json> fleet_status(fleet::FleetStore& fleet);

}  // namespace acmed::app
