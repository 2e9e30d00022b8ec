// `acmed plugins`: the authenticators and installers of the plugin registry, one line each.
#include "cli/context.hpp"
#include "plugins/registry.hpp"

#include <cstdio>
#include <memory>

namespace acmed::cli {

namespace {

struct PluginsFlags {
  bool authenticators = false;
  bool installers = false;
  bool init = false;     // accepted for certbot; acmed's plugins need no initialisation
  bool prepare = false;  // likewise
};

Status list_plugins(const PluginsFlags& f) {
  bool all = !f.authenticators && !f.installers;
  for (const plugins::Plugin* p : plugins::all_plugins()) {
    bool auth = bool(p->authenticator), inst = bool(p->installer);
    if (!all && !(f.authenticators && auth) && !(f.installers && inst)) continue;
    std::string roles = auth && inst ? "Authenticator, Installer" : auth ? "Authenticator" : "Installer";
    std::printf("* %s\n  Description: %s\n  Interfaces: %s\n", p->name.c_str(),
                p->description.c_str(), roles.c_str());
  }
  if (all || f.installers) {
    std::printf("* null\n  Description: No installer: obtain only (-i null)\n  Interfaces: Installer\n");
  }
  return {};
}

}  // namespace

void add_plugins_command(CLI::App& app) {
  auto* sub = app.add_subcommand("plugins", "List the authenticator and installer plugins");
  sub->fallthrough();
  auto f = std::make_shared<PluginsFlags>();
  sub->add_flag("--authenticators", f->authenticators, "Only authenticators");
  sub->add_flag("--installers", f->installers, "Only installers");
  sub->add_flag("--init", f->init, "Accepted for certbot (nothing to initialise)");
  sub->add_flag("--prepare", f->prepare, "Accepted for certbot (nothing to prepare)");
  set_body(sub, [f] { return list_plugins(*f); });
}

}  // namespace acmed::cli
