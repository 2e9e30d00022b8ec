// `acmed delete --cert-name NAME [--force]` -> src/app/delete.cpp.
#include "acmed/app/delete.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"

#include <memory>

namespace acmed::cli {

void add_delete_command(CLI::App& app, const GlobalOptions& globals, IssueFlags& flags) {
  auto* sub = app.add_subcommand(
      "delete",
      "Delete a certificate (--cert-name): its live/, archive/ and renewal conf;\n"
      "refused while an nginx or apache config still names its files");
  sub->fallthrough();
  auto force = std::make_shared<bool>(false);
  sub->add_flag("--force", *force, "Delete even when a web server config still names its files");
  set_body(sub, [&globals, &flags, force] {
    app::DeleteRequest request;
    request.cert_name = flags.cert_name;
    request.force = *force ? app::Force::yes : app::Force::no;
    request.plugin_flags = flags.plugin_flags;
    return app::delete_certificate(request, store_paths(globals), plugin_environment(globals),
                                   log_line);
  });
}

}  // namespace acmed::cli
