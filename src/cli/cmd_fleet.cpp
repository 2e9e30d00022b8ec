// `acmed fleet init|import|status|agent`: flags -> app/fleet.hpp.
#include "acmed/app/fleet.hpp"
#include "acmed/fleet/key_file.hpp"
#include "acmed/sys/clock.hpp"
#include "acmed/util/json.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <memory>

namespace acmed::cli {

namespace {

// The options only the fleet subcommands have.
struct FleetFlags {
  bool json = false;
  bool once = false;
  int interval = 2;
};

std::string host_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

}  // namespace

Result<app::FleetConfig> fleet_config(const FleetOptions& ff) {
  app::FleetConfig c;
  c.etcd.endpoints = ff.endpoints;
  c.etcd.ca_file = ff.cacert;
  c.etcd.client_cert = ff.cert;
  c.etcd.client_key = ff.key;
  c.etcd.request_timeout = std::chrono::seconds(ff.timeout);
  c.prefix = ff.prefix;
  if (c.prefix.empty() || c.prefix.back() != '/') c.prefix += '/';
  c.key_file = ff.fleet_key;
  c.node_name = ff.node_name.empty() ? host_name() : ff.node_name;
  if (c.node_name.find('/') != std::string::npos)
    return Error(Errc::usage, "--node-name '" + c.node_name + "' has a '/'");
  c.challenge_dir = ff.challenge_dir;
  c.lock_ttl = std::chrono::seconds(ff.lock_ttl);
  c.ack_timeout = std::chrono::seconds(ff.ack_timeout);
  return c;
}

namespace {

Status run_init(const FleetOptions& ff) {
  if (ff.fleet_key.empty())
    return Error(Errc::usage, "fleet init needs --fleet-key FILE (the new key's file)");
  ACMED_CHECK(fleet::generate_fleet_key(ff.fleet_key));
  spdlog::info(
      "wrote a new fleet key to {} (mode 0600): copy it to every node, and keep a copy "
      "offline: without it nothing sealed in etcd can be read",
      ff.fleet_key);
  return ok_status();
}

Status run_import(const GlobalOptions& g) {
  ACMED_TRY(app::FleetConfig config, fleet_config(g.fleet));
  ACMED_TRY(fleet::FleetStore fleet, app::open_fleet(config));
  sys::SystemClock clock;
  ACMED_TRY(fleet::ImportResult r, fleet::import_store(fleet, store_paths(g), config.node_name,
                                                       sys::format_rfc3339(clock.now())));
  for (const std::string& name : r.imported) spdlog::info("{}: imported into etcd", name);
  for (const std::string& name : r.updated)
    spdlog::info("{}: this node's newer version put into etcd", name);
  for (const std::string& name : r.skipped)
    spdlog::info("{}: etcd has this version or a newer one; left as it is there", name);
  spdlog::info("{} lineage(s) and {} account(s) imported under {}", r.imported.size(), r.accounts,
               config.prefix);
  return ok_status();
}

Status run_status(const GlobalOptions& g, const FleetFlags& ff) {
  ACMED_TRY(app::FleetConfig config, fleet_config(g.fleet));
  ACMED_TRY(fleet::FleetStore fleet, app::open_fleet(config));
  ACMED_TRY(nlohmann::json status, app::fleet_status(fleet));
  if (ff.json) {
    std::printf("%s\n", util::dump_json_lossy(status, 2).c_str());
    return ok_status();
  }
  for (const auto& [name, v] : status["lineages"].items())
    std::printf("lineage %s: version %d\n", name.c_str(), v["version"].get<int>());
  for (const auto& n : status["nodes"]) {
    std::string outdated;
    for (const auto& o : n["outdated"]) outdated += " " + o.get<std::string>();
    std::printf("node %s: last heartbeat %s%s%s\n", n["name"].get<std::string>().c_str(),
                n["last_heartbeat"].get<std::string>().c_str(),
                outdated.empty() ? "" : "; serves old versions of:", outdated.c_str());
  }
  return ok_status();
}

Status run_agent(const GlobalOptions& g, const FleetFlags& ff) {
  ACMED_TRY(app::FleetConfig config, fleet_config(g.fleet));
  // Its alive/<node> key outlives three missed passes, no fewer than 15 s.
  config.alive_ttl = std::chrono::seconds(std::max(15, 3 * ff.interval));
  ACMED_TRY(fleet::FleetStore fleet, app::open_fleet(config));
  sys::SystemClock clock;
  const app::RenewEnvironment env = renew_environment(g, clock);
  return app::run_agent(fleet, config, env, ff.once, std::chrono::seconds(ff.interval));
}

}  // namespace

void add_fleet_options(CLI::App& app, FleetOptions& ff) {
  const char* group = "Fleet (docs/fleet.md)";
  app.add_option("--store", ff.store,
                 "Where `renew` coordinates: filesystem (this machine alone) or etcd (the fleet:\n"
                 "one node renews each lineage, every node serves it)")
      ->capture_default_str()
      ->check(CLI::IsMember({"filesystem", "etcd"}))
      ->group(group);
  app.add_option("--etcd-endpoints", ff.endpoints, "etcd members' client URLs")
      ->delimiter(',')
      ->type_name("URL,URL,...")
      ->group(group);
  app.add_option("--etcd-cacert", ff.cacert, "PEM file of the CA of etcd's certificates")
      ->group(group);
  app.add_option("--etcd-cert", ff.cert, "PEM client certificate for etcd")->group(group);
  app.add_option("--etcd-key", ff.key, "The client certificate's key (default: in --etcd-cert)")
      ->group(group);
  app.add_option("--etcd-prefix", ff.prefix, "Where in etcd the fleet's keys live")
      ->capture_default_str()
      ->group(group);
  app.add_option("--etcd-timeout", ff.timeout, "Seconds one etcd request may take")
      ->capture_default_str()
      ->check(CLI::Range(1, 60))
      ->group(group);
  app.add_option("--fleet-key", ff.fleet_key,
                 "The fleet's encryption key (mode 0600; the same file on every node)")
      ->group(group);
  app.add_option("--node-name", ff.node_name, "This node's name (default: the host name)")
      ->group(group);
  app.add_option("--challenge-dir", ff.challenge_dir,
                 "Document root for the fleet's http-01 responses (.well-known/acme-challenge/\n"
                 "below it; the web server serves it on port 80)")
      ->group(group);
  app.add_option("--fleet-lock-ttl", ff.lock_ttl,
                 "Seconds a renewing node's lock on a lineage outlives its last keep-alive")
      ->capture_default_str()
      ->check(CLI::Range(5, 600))
      ->group(group);
  app.add_option("--fleet-ack-timeout", ff.ack_timeout,
                 "Seconds `renew` waits for every live agent to serve its http-01 responses")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600))
      ->group(group);
}

void add_fleet_commands(CLI::App& app, const GlobalOptions& globals) {
  auto ff = std::make_shared<FleetFlags>();
  auto* fleet = app.add_subcommand(
      "fleet",
      "Several servers behind one name share their certificates through etcd: `fleet init`\n"
      "makes the encryption key, `fleet import` puts this node's lineages into etcd, `fleet\n"
      "agent` copies them to each node's own store and serves http-01 responses, `fleet status`\n"
      "shows which node serves which version.");
  fleet->fallthrough();
  fleet->require_subcommand(1);

  auto* init = fleet->add_subcommand("init", "Write a new fleet key to --fleet-key FILE");
  init->fallthrough();
  set_body(init, [&globals] { return run_init(globals.fleet); });

  auto* import = fleet->add_subcommand(
      "import", "Put this node's lineages (current versions) and accounts into etcd");
  import->fallthrough();
  set_body(import, [&globals] { return run_import(globals); });

  auto* status = fleet->add_subcommand(
      "status", "Show the nodes, their last heartbeat, and the version of each lineage they serve");
  status->fallthrough();
  status->add_flag("--json", ff->json,
                   "Print {\"version\":1,\"nodes\":[...],\"lineages\":{...}} instead of text");
  set_body(status, [&globals, ff] { return run_status(globals, *ff); });

  auto* agent = fleet->add_subcommand(
      "agent",
      "Copy new versions from etcd into this node's store (reloading its web server once per\n"
      "batch), serve the http-01 responses any node published, and write a heartbeat; every\n"
      "--interval seconds until stopped");
  agent->fallthrough();
  agent->add_flag("--once", ff->once, "One pass, then exit (its error is the exit code)");
  agent->add_option("--interval", ff->interval, "Seconds between passes")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  set_body(agent, [&globals, ff] { return run_agent(globals, *ff); });
}

}  // namespace acmed::cli
