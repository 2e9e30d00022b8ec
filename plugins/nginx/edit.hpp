// Helpers shared by the nginx installer and authenticator: running nginx, and inserting lines
// into a server block in the file's own indentation.
#pragma once

#include "plugins/nginx/config.hpp"
#include "plugins/nginx/nginx.hpp"

#include "acmed/install/installer.hpp"
#include "acmed/sys/process.hpp"

#include <optional>
#include <string>
#include <vector>

namespace acmed::plugins::nginx {

// One nginx instance driven through `<ctl> [-p prefix] -c <root>/nginx.conf ...`.
class Control final : public install::ServerControl {
 public:
  Control(const Options& options, sys::ProcessRunner& runner)
      : m_options(options), m_runner(runner) {}
  std::string name() const override { return "nginx"; }
  Status config_test() override;
  // Sends `-s reload`, then waits (at most reload_wait) until the workers that ran before the
  // reload have exited, so that what answers afterwards is the new config.
  Status reload() override;
  // `nginx -v`, cached. Errc::not_found if nginx cannot be run.
  Result<Version> version();
  fs::path main_conf() const { return m_options.server_root / "nginx.conf"; }
  // Loads the config (and cross-checks it with `nginx -T` when the options say so).
  Result<Config> load();

 private:
  std::vector<std::string> base_argv() const;
  // PID of the nginx master from the `pid` file the main config names (nginx's default path
  // /run/nginx.pid when it names none); nullopt when it cannot be read.
  std::optional<int> master_pid() const;

  Options m_options;
  sys::ProcessRunner& m_runner;
  std::optional<Version> m_version;
};

// Indentation of the directives inside `block` ("    " or "\t"...), from its first child on its
// own line; the block's own indentation plus four spaces when it has none.
std::string body_indent(const Node& block);

// Index just after the last direct child of `block` named `name`; 0 when there is none.
std::size_t position_after_last(const Node& block, std::string_view name);

// Inserts `lines` (complete directives, each "x y;" or "x { ... }", without indentation) into
// `block` at `pos`, each on its own line in `indent`, each followed by `comment`. The text after
// the insertion keeps its own line. Errc::internal if a line does not parse (a bug).
Status insert_lines(Node& block, std::size_t pos, const std::vector<std::string>& lines,
                    std::string_view indent, std::string_view comment);

// The plan that writes the modified trees of `config` back (only files that changed).
install::Plan plan_from(const Config& config);

}  // namespace acmed::plugins::nginx
