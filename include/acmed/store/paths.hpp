// Where acmed keeps its files: certbot's three directories and the layout inside them.
//
//   <config_dir>/archive/<name>/{cert,chain,fullchain,privkey}N.pem  every version, never changed
//   <config_dir>/live/<name>/{cert,chain,fullchain,privkey}.pem  relative links to version N
//   <config_dir>/live/<name>/README
//   <config_dir>/renewal/<name>.conf                  how to renew the lineage
//   <config_dir>/accounts/<host[:port]>/<path>/<id>/  one ACME account
//   <work_dir>/acmed/status/<name>.json               renewal bookkeeping (ours)
//
// The status files are acmed's own and live in the work dir because they are state, not
// configuration: losing them only costs a fresh check. Nothing outside these three directories is
// ever written by the store.
#pragma once

#include "acmed/util/result.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace acmed::store {

namespace fs = std::filesystem;

struct Paths {
  fs::path config_dir = "/etc/letsencrypt";
  fs::path work_dir = "/var/lib/letsencrypt";
  fs::path logs_dir = "/var/log/letsencrypt";

  fs::path live_dir() const { return config_dir / "live"; }
  fs::path archive_dir() const { return config_dir / "archive"; }
  fs::path renewal_dir() const { return config_dir / "renewal"; }
  fs::path accounts_dir() const { return config_dir / "accounts"; }
  fs::path status_dir() const { return work_dir / "acmed" / "status"; }

  fs::path live_dir(std::string_view name) const { return live_dir() / std::string(name); }
  fs::path archive_dir(std::string_view name) const { return archive_dir() / std::string(name); }
  fs::path renewal_conf(std::string_view name) const {
    return renewal_dir() / (std::string(name) + ".conf");
  }
  fs::path status_file(std::string_view name) const {
    return status_dir() / (std::string(name) + ".json");
  }
};

// Errc::invalid_input unless `name` is usable as a lineage name: not empty, no '/', no "..", no
// leading '.', printable ASCII.
Status validate_lineage_name(std::string_view name);

// True if anything of lineage `name` exists: its renewal conf, live dir or archive dir.
bool lineage_exists(const Paths& paths, std::string_view name);

// The name certbot would give a new lineage whose first identifier is `first_domain`: the domain
// itself ("*." stripped from a wildcard), or with "-0001", "-0002", ... appended when that name is
// taken. Errc::invalid_input for an unusable name, Errc::conflict when all 9999 suffixes are taken.
Result<std::string> new_lineage_name(const Paths& paths, std::string_view first_domain);

}  // namespace acmed::store
