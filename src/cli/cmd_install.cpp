// Installing certificates into nginx/apache: `acmed --nginx|--apache` (run), `install`, `enhance`
// and `rollback`: flags -> src/app/install.cpp, which does the work through install::Transaction.
#include "acmed/app/install.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"
#include "cli/logging.hpp"

#include <chrono>
#include <cstdio>
#include <memory>

namespace acmed::cli {

namespace {

struct InstallFlags {
  bool force = false;
};

app::InstallEnvironment install_environment(const GlobalOptions& g) {
  app::InstallEnvironment env;
  env.paths = store_paths(g);
  env.plugins = plugin_environment(g);
  env.log = log_line;
  env.print_diff = [](std::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); };
  return env;
}

}  // namespace

Status run_install_flow(const GlobalOptions& g, IssueFlags& f) {
  app::ObtainContext ctx;
  ctx.paths = store_paths(g);
  ctx.client.log = acme_log();
  ctx.log = log_line;
  ctx.now = std::chrono::system_clock::now();
  ctx.processes = &process_runner();
  return app::obtain_and_install(f, ctx, install_environment(g));
}

void add_install_commands(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags) {
  auto* install = app.add_subcommand(
      "install",
      "Install an existing certificate (--cert-name, or files with --fullchain-path\n"
      "and --key-path) into nginx or apache; --dry-run prints the diff instead");
  install->fallthrough();
  install->add_option("--fullchain-path", flags.fullchain_path,
                      "Serve this certificate + chain file (instead of a lineage's)");
  install->add_option("--key-path", flags.key_path, "... with this private key");
  install->add_option("--cert-path", flags.cert_path,
                      "The certificate alone: served when it holds its chain, or checked\n"
                      "against --fullchain-path");
  install->add_option("--chain-path", flags.chain_path,
                      "Accepted as certbot's; nginx and apache need --fullchain-path with it");
  set_body(install, [&globals, &flags] { return app::install_lineage(flags, install_environment(globals)); });

  auto* enhance = app.add_subcommand(
      "enhance", "Add --redirect, --hsts or --uir to an installed certificate's servers");
  enhance->fallthrough();
  set_body(enhance, [&globals, &flags] { return app::enhance(flags, install_environment(globals)); });

  auto* rollback = app.add_subcommand("rollback", "Undo the last change acmed made to nginx or apache");
  rollback->fallthrough();
  auto rb = std::make_shared<InstallFlags>();
  rollback->add_flag("--force", rb->force, "Restore even files that changed since acmed wrote them");
  set_body(rollback, [&globals, &flags, rb] { return app::rollback(flags, rb->force, install_environment(globals)); });
}

}  // namespace acmed::cli
