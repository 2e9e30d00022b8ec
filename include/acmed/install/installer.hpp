// What an installer plugin (nginx, apache) offers the CLI. Installers only plan and check; every
// change is applied by an install::Transaction, the one checkpoint/rollback mechanism of acmed.
#pragma once

#include "acmed/install/plan.hpp"
#include "acmed/util/result.hpp"

#include <map>
#include <span>
#include <string>
#include <vector>

namespace acmed::install {

// What a Transaction needs from a web server: its own config checker and a reload.
class ServerControl {
 public:
  virtual ~ServerControl() = default;
  // Short name for messages and checkpoints ("nginx", "apache").
  virtual std::string name() const = 0;
  // Runs the server's config test (nginx -t, apache2ctl configtest). Errc::server with its output.
  virtual Status config_test() = 0;
  // Makes the running server load its config (nginx -s reload, apache2ctl graceful).
  // Errc::server when the server is not running or refuses.
  virtual Status reload() = 0;
  // How this server is controlled (config root, control program...), saved with each checkpoint
  // so that `acmed rollback` can reach the same server without being told again.
  virtual std::map<std::string, std::string> settings() const { return {}; }
};

enum class Enhancement {
  redirect,  // port-80 server answers 301 to https (ACME challenge path still answered)
  hsts,      // Strict-Transport-Security on the HTTPS server
  uir,       // Content-Security-Policy: upgrade-insecure-requests on the HTTPS server
};

// "redirect", "hsts", "uir".
const char* to_string(Enhancement e);

struct DeployRequest {
  std::string lineage;             // lineage name: <config_dir>/live/<lineage>/
  std::vector<std::string> names;  // host names the certificate is for, as in the order
  fs::path fullchain_path;         // what the server is pointed at (normally live/NAME/...)
  fs::path key_path;
  std::vector<Enhancement> enhancements;  // applied in the same plan
};

class Installer : public ServerControl {
 public:
  // Edits that make the server serve `request.fullchain_path` for every name on 443, plus the
  // requested enhancements. Reads the config, writes nothing. Idempotent: a request already
  // deployed gives an empty plan. Errc::config (file:line) when the config cannot be read
  // completely, Errc::not_found when no server block serves a name.
  virtual Result<Plan> plan_deploy(const DeployRequest& request) = 0;

  // Edits that add `enhancements` for `names` (which must already be deployed). Idempotent.
  virtual Result<Plan> plan_enhance(std::span<const std::string> names,
                                    std::span<const Enhancement> enhancements) = 0;

  // After a reload: checks that the running server really serves the installed certificate for
  // every name (TLS handshake with SNI). Errc::server naming the name and what was served.
  virtual Status check_deployed(const DeployRequest& request) = 0;
};

}  // namespace acmed::install
