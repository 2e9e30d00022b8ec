// `acmed update_symlinks [--cert-name NAME]` -> src/app/symlinks.cpp.
#include "acmed/app/symlinks.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"

namespace acmed::cli {

void add_update_symlinks_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags) {
  auto* sub =
      app.add_subcommand("update_symlinks",
                         "Repair the live/ links of every certificate (or --cert-name) from\n"
                         "archive/: all four at one complete version");
  sub->fallthrough();
  set_body(sub, [&globals, &flags] {
    return app::update_symlinks(store_paths(globals), flags.cert_name, log_line);
  });
}

}  // namespace acmed::cli
