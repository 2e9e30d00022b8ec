// `acmed certonly`: flags -> app::obtain() -> what was stored.
#include "acmed/app/issue.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"
#include "cli/logging.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace acmed::cli {

Status run_certonly(const GlobalOptions& globals, IssueFlags& f) {
  ACMED_CHECK(app::check_flag_conflicts(f));
  ACMED_TRY(auto auth, app::make_authenticator(f, plugin_environment(globals)));
  app::ObtainContext ctx;
  ctx.paths = store_paths(globals);
  ctx.client.log = acme_log();
  ctx.log = log_line;
  ctx.now = std::chrono::system_clock::now();
  ctx.processes = &process_runner();
  ACMED_TRY(auto obtained, app::obtain(f, ctx, *auth));
  if (!obtained.outcome) return {};
  if (f.dry_run) {
    spdlog::info("The dry run was successful: the CA issued a test certificate (not saved).");
    return app::hook_status(obtained.hook_failures);
  }
  if (!f.csr_path.empty()) {
    spdlog::info("Successfully received certificate.");
    spdlog::info("Certificate is saved at: {}", obtained.cert_path);
    spdlog::info("Chain is saved at:       {}", obtained.chain_path);
    spdlog::info("Full chain is saved at:  {}", obtained.fullchain_path);
    spdlog::info("This certificate expires on {}.",
                 sys::format_rfc3339(obtained.outcome->info.not_after));
    return {};
  }
  auto live = ctx.paths.live_dir(obtained.lineage);
  spdlog::info("Successfully received certificate.");
  spdlog::info("Certificate is saved at: {}", (live / "fullchain.pem").string());
  spdlog::info("Key is saved at:         {}", (live / "privkey.pem").string());
  spdlog::info("This certificate expires on {}.",
               sys::format_rfc3339(obtained.outcome->info.not_after));
  return app::hook_status(obtained.hook_failures);
}

}  // namespace acmed::cli
