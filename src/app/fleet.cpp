#include "acmed/app/fleet.hpp"

#include "acmed/challenge/authenticator.hpp"
#include "acmed/crypto/encoding.hpp"
#include "acmed/fleet/claim.hpp"
#include "acmed/fleet/key_file.hpp"
#include "acmed/sys/clock.hpp"
#include "acmed/sys/fs.hpp"
#include "acmed/sys/interrupt.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <mutex>
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

// The fleet's http-01 authenticator: what one node publishes, every node serves. Each response
// goes to etcd under the renewing node's lock lease (so it vanishes with a dead holder), and
// perform() returns once every live agent (alive/<node>, this node's own included) has
// acknowledged every token: the CA may ask any node behind the name.
class FleetHttpAuthenticator final : public challenge::Authenticator {
 public:
  FleetHttpAuthenticator(fleet::FleetStore& fleet, const fleet::LineageClaim& claim,
                         const FleetConfig& config, std::string lineage)
      : m_fleet(fleet), m_claim(claim), m_config(config), m_lineage(std::move(lineage)) {}

  std::string name() const override { return "fleet"; }
  std::vector<std::string> supported_types() const override { return {"http-01"}; }

  Status perform(std::span<const challenge::Task> tasks) override {
    // This node's own agent, when it runs, serves the responses like every other (and removes
    // files etcd does not list, so writing them here too would race with it); without one, this
    // node writes them itself.
    ACMED_TRY(fleet::RangeResponse own_agent,
              m_fleet.etcd().range({m_fleet.key("alive/" + m_config.node_name), "", 0}));
    m_write_here = own_agent.kvs.empty() && !m_config.challenge_dir.empty();
    for (const challenge::Task& t : tasks) {
      if (t.type != "http-01" || !challenge::token_is_safe(t.token))
        return Error(Errc::internal, "the fleet authenticator got a " + t.type + " challenge");
      ACMED_CHECK(m_fleet.etcd().put(
          {m_fleet.key("challenges/" + t.token), t.key_authorization, m_claim.lease()}));
      if (m_write_here) {
        const fs::path dir = m_config.challenge_dir / ".well-known" / "acme-challenge";
        ACMED_CHECK(sys::make_dirs(dir, 0755));
        ACMED_CHECK(sys::write_file_atomic(dir / t.token, t.key_authorization, 0644));
        ACMED_CHECK(m_fleet.etcd().put(
            {m_fleet.key("acks/" + t.token + "/" + m_config.node_name), "1", m_claim.lease()}));
      }
    }
    return wait_for_acks(tasks);
  }

  void cleanup(std::span<const challenge::Task> tasks) noexcept override {
    std::error_code ec;
    for (const challenge::Task& t : tasks) {
      if (!challenge::token_is_safe(t.token)) continue;
      (void)m_fleet.etcd().delete_range({m_fleet.key("challenges/" + t.token), ""});
      const std::string acks = m_fleet.key("acks/" + t.token + "/");
      (void)m_fleet.etcd().delete_range({acks, fleet::prefix_end(acks)});
      if (m_write_here)
        fs::remove(m_config.challenge_dir / ".well-known" / "acme-challenge" / t.token, ec);
    }
  }

 private:
  Status wait_for_acks(std::span<const challenge::Task> tasks) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + m_config.ack_timeout;
    const std::string alive_prefix = m_fleet.key("alive/");
    const std::string acks_prefix = m_fleet.key("acks/");
    while (true) {
      if (m_claim.lost()) return lock_lost(m_lineage);
      ACMED_TRY(fleet::RangeResponse alive,
                m_fleet.etcd().range({alive_prefix, fleet::prefix_end(alive_prefix), 0}));
      ACMED_TRY(fleet::RangeResponse acks,
                m_fleet.etcd().range({acks_prefix, fleet::prefix_end(acks_prefix), 0}));
      std::set<std::string> acked;
      for (const fleet::KeyValue& kv : acks.kvs) acked.insert(kv.key.substr(acks_prefix.size()));
      std::string silent;
      for (const fleet::KeyValue& kv : alive.kvs) {
        const std::string node = kv.key.substr(alive_prefix.size());
        bool all = std::all_of(tasks.begin(), tasks.end(), [&](const challenge::Task& t) {
          return acked.count(t.token + "/" + node) > 0;
        });
        if (!all) silent += (silent.empty() ? "" : ", ") + node;
      }
      if (silent.empty()) return ok_status();
      if (clock::now() >= deadline)
        return Error(Errc::network,
                     "fleet node(s) " + silent + " did not serve the http-01 responses for " +
                         m_lineage + " within " + std::to_string(m_config.ack_timeout.count()) +
                         " s",
                     "is `acmed fleet agent` running there (systemctl status "
                     "acmed-fleet-agent)? A node that is gone drops out once its alive key "
                     "expires");
      if (!sys::sleep_unless_interrupted(std::chrono::milliseconds(200)))
        return Error(Errc::interrupted, "interrupted while waiting for the fleet's agents");
    }
  }

  static Error lock_lost(const std::string& lineage) {
    return Error(Errc::network,
                 "the fleet lock on " + lineage +
                     " was lost (its lease expired); the order is "
                     "abandoned and nothing was written",
                 "another node's run takes the lineage over; check this node's link to etcd");
  }

  fleet::FleetStore& m_fleet;
  const fleet::LineageClaim& m_claim;
  const FleetConfig& m_config;
  std::string m_lineage;
  bool m_write_here = false;  // no agent of this node's runs: perform() writes the files
};

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

namespace {

// Keeps alive/<node> under the agent's lease, granting a new one when it has expired (etcd was
// away longer than its TTL).
Status keep_alive_marker(fleet::FleetStore& fleet, const FleetConfig& config, AgentState& state) {
  if (state.alive_lease != 0) {
    Result<std::int64_t> renewed = fleet.etcd().keep_alive(state.alive_lease);
    if (renewed) return ok_status();
    if (renewed.error().code != Errc::not_found) return std::move(renewed).error();
  }
  ACMED_TRY(fleet::Lease lease, fleet.etcd().grant_lease(config.alive_ttl.count()));
  state.alive_lease = lease.id;
  ACMED_CHECK(
      fleet.etcd().put({fleet.key("alive/" + config.node_name), config.node_name, lease.id}));
  return ok_status();
}

}  // namespace

Result<AgentPass> agent_pass(fleet::FleetStore& fleet, const FleetConfig& config,
                             const RenewEnvironment& env, AgentState* state) {
  ACMED_CHECK(fleet.check_format(false));
  if (state) ACMED_CHECK(keep_alive_marker(fleet, config, *state));
  AgentPass pass;
  ACMED_TRY(fleet::MaterializeResult m, fleet::materialize(fleet, env.paths));
  pass.changed = m.changed;
  pass.failed = m.failed;
  for (const Error& e : pass.failed) {
    // A renewal running here holds the store: the copy waits for the next pass.
    if (e.code == Errc::locked) {
      env.log(renew::LogLevel::debug, e.message + " (copied at a later pass)");
    } else {
      env.log(renew::LogLevel::error, e.message);
    }
  }
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
  AgentState state;
  while (true) {
    Result<AgentPass> pass = agent_pass(fleet, config, env, once ? nullptr : &state);
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
    if (!sys::sleep_unless_interrupted(interval)) {
      // Stopped: renewing nodes need not wait for this node any more.
      if (state.alive_lease != 0) (void)fleet.etcd().revoke_lease(state.alive_lease);
      return ok_status();
    }
  }
}

Result<std::int64_t> prepare_fleet_renewal(const FleetConfig& config, const RenewEnvironment& env,
                                           bool dry_run) {
  ACMED_TRY(fleet::FleetStore fleet, open_fleet(config));
  ACMED_CHECK(fleet.check_format(false));
  ACMED_TRY(std::int64_t revision, fleet.revision());
  if (dry_run) {
    ACMED_CHECK(fleet.check_key());
    return revision;
  }
  ACMED_TRY(fleet::MaterializeResult m, fleet::materialize(fleet, env.paths));
  for (const std::string& name : m.changed)
    env.log(renew::LogLevel::info, name + ": copied the fleet's current version from etcd");
  for (const Error& e : m.failed) {
    // A fleet key that opens nothing here: this node must not renew for the fleet.
    if (e.code == Errc::crypto) return e;
    env.log(renew::LogLevel::warning, e.describe());
  }
  ACMED_CHECK(fleet.check_key());
  return revision;
}

bool fleet_answers_for(const challenge::Authenticator& authenticator) {
  // dns-01 is answered by the DNS, the same for every node; http-01 must be by all of them.
  const std::vector<std::string> types = authenticator.supported_types();
  return !types.empty() && types.front() == "http-01" &&
         std::find(types.begin(), types.end(), "dns-01") == types.end();
}

renew::RenewFn fleet_renew_fn(const FleetConfig& config, std::int64_t run_revision,
                              renew::ReissueSettings settings, renew::AuthenticatorFactory own,
                              renew::Logger log) {
  // fleet.json is read and written by the renewing threads in turn.
  auto state_mutex = std::make_shared<std::mutex>();
  auto say = [log](renew::LogLevel level, const std::string& text) {
    if (log) log(level, text);
  };
  return [config, run_revision, settings = std::move(settings), own = std::move(own), say,
          state_mutex](const store::Lineage& lineage,
                       const renew::RenewAttempt& attempt) -> Result<renew::RenewedCert> {
    const std::string& name = lineage.name;
    ACMED_TRY(fleet::FleetStore fleet, open_fleet(config));
    ACMED_TRY(fleet::FleetStore::Current listed, fleet.current_version(name));
    if (listed.version == 0) {
      say(renew::LogLevel::warning, name +
                                        " is not in the fleet: renewed on this node alone "
                                        "(`acmed fleet import` shares it)");
      return renew::reissue_with(settings, own)(lineage, attempt);
    }
    using Taken = std::variant<std::unique_ptr<fleet::LineageClaim>, fleet::LineageClaim::Held>;
    ACMED_TRY(Taken taken,
              fleet::LineageClaim::take(fleet.etcd(), config.etcd, fleet.key("locks/" + name),
                                        config.node_name, config.lock_ttl));
    if (auto* held = std::get_if<fleet::LineageClaim::Held>(&taken)) {
      renew::RenewedCert skipped;
      skipped.skipped = "node " + held->holder + " is renewing it";
      return skipped;
    }
    const fleet::LineageClaim& claim = *std::get<std::unique_ptr<fleet::LineageClaim>>(taken);
    // Under the lock, the version again: a node that renewed it during this run.
    ACMED_TRY(fleet::FleetStore::Current now, fleet.current_version(name));
    const int current = now.version;
    int have = 0;
    {
      std::lock_guard lock(*state_mutex);
      ACMED_TRY(fleet::MaterializedVersions versions, fleet::load_materialized(settings.paths));
      if (auto it = versions.find(name); it != versions.end()) have = it->second;
    }
    if (current != have || now.mod_revision > run_revision) {
      renew::RenewedCert skipped;
      skipped.skipped = "the fleet has version " + std::to_string(current) +
                        (current != have ? " (this node has " + std::to_string(have) + ")"
                                         : ", written during this run") +
                        ": another node renewed it; `acmed fleet agent` copies it here";
      return skipped;
    }
    int published = 0;
    renew::RenewAttempt mine = attempt;
    mine.before_store = [&](const store::CertFiles& files,
                            const store::RenewalConf& conf) -> Status {
      fleet::VersionRecord record;
      record.files = files;
      record.renewal_conf = store::render_renewal_conf(conf);
      record.node = config.node_name;
      record.written = sys::format_rfc3339(std::chrono::system_clock::now());
      Result<std::optional<int>> written =
          claim.lost() ? Result<std::optional<int>>(std::nullopt)
                       : fleet.publish_version(name, current, record, claim.guard());
      crypto::wipe(record.files.privkey);
      if (!written) return std::move(written).error();
      if (!*written)
        return Error(Errc::network,
                     "the fleet lock on " + name +
                         " was lost before the new version was published; the certificate is "
                         "discarded and nothing was written",
                     "another node's run renews it; check this node's link to etcd");
      published = **written;
      return ok_status();
    };
    auto authenticator = [&](const store::Lineage& l, const store::RenewalParams& params)
        -> Result<std::unique_ptr<challenge::Authenticator>> {
      ACMED_TRY(std::unique_ptr<challenge::Authenticator> a, own(l, params));
      if (!fleet_answers_for(*a)) return a;
      return std::unique_ptr<challenge::Authenticator>(
          std::make_unique<FleetHttpAuthenticator>(fleet, claim, config, name));
    };
    ACMED_TRY(renew::RenewedCert renewed,
              renew::reissue_with(settings, authenticator)(lineage, mine));
    if (published > 0) {
      std::lock_guard lock(*state_mutex);
      ACMED_TRY(fleet::MaterializedVersions versions, fleet::load_materialized(settings.paths));
      versions[name] = published;
      ACMED_CHECK(fleet::save_materialized(settings.paths, versions));
      say(renew::LogLevel::info,
          name + ": version " + std::to_string(published) + " published to the fleet");
    }
    return renewed;
  };
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
