// `delete --cert-name NAME`: removes a lineage (store/delete.hpp: all or nothing), but first asks
// every installer plugin whose server config exists here whether that config still names the
// lineage's files. certbot deletes anyway and the server's next reload fails; acmed refuses,
// listing file:line of each reference, unless forced.
#pragma once

#include "acmed/renew/runner.hpp"
#include "acmed/store/paths.hpp"
#include "plugins/registry.hpp"

#include <string>
#include <vector>

namespace acmed::app {

enum class Force { no, yes };

struct DeleteRequest {
  std::string cert_name;
  Force force = Force::no;  // delete even when a server config names the lineage's files
  // Installer settings from the command line (--nginx-server-root, --apache-server-root...). A
  // plugin none of whose flags were given is checked with the settings the lineage's renewal
  // conf stores, else its defaults.
  plugins::GivenFlags plugin_flags;
};

// Each directive of a web server config (of every installer plugin in the registry) that names a
// file of lineage `name` (its live/ or archive/ dir). Errc::config when a server's config cannot
// be read completely.
Result<std::vector<plugins::ConfigReference>> lineage_references(
    const store::Paths& paths, const std::string& name, const plugins::GivenFlags& plugin_flags,
    const plugins::Environment& env);

// Deletes lineage request.cert_name, holding the store lock across the check and the delete.
// Errc::usage without a name; Errc::not_found for an unknown lineage; Errc::conflict listing
// "file:line" of each reference when a server config names its files (and Errc::config when one
// cannot be read), unless request.force; Errc::locked when another acmed holds the store lock.
// Nothing is changed on any error. `log` gets one warning per reference that --force overrode.
Status delete_certificate(const DeleteRequest& request, const store::Paths& paths,
                          const plugins::Environment& env, const renew::Logger& log);

}  // namespace acmed::app
