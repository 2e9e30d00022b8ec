// Which directives of the config apache loads name given files (for `delete`).
#include "plugins/apache/apache.hpp"
#include "plugins/apache/config.hpp"

#include <system_error>

namespace acmed::plugins::apache {

namespace {

void scan(const std::vector<Node>& nodes, const LoadedFile& file, const Config& config,
          std::span<const fs::path> paths, std::vector<ConfigReference>& out) {
  for (const Node& node : nodes) {
    if (node.is_section()) {
      scan(node.children, file, config, paths, out);
      continue;
    }
    if (!node.is_directive()) continue;
    bool named = false;
    std::string text = node.head.name();
    for (const std::string& arg : node.head.args()) {
      std::string value = resolve_vars(arg, config.vars);
      text += " " + value;
      if (webconf::names_path(value, paths)) named = true;
    }
    if (named) out.push_back({file.path, static_cast<std::size_t>(node.head.line_no), text});
  }
}

}  // namespace

Result<std::vector<ConfigReference>> config_references(const Options& options,
                                                       std::span<const fs::path> paths) {
  std::error_code ec;
  if (!fs::exists(options.server_root / "apache2.conf", ec)) {
    return std::vector<ConfigReference>{};
  }
  ACMED_TRY(Config config, load(LoadOptions{options.server_root, {}, {}, {}}));
  std::vector<ConfigReference> out;
  for (const LoadedFile& file : config.files) scan(file.tree.nodes, file, config, paths, out);
  return out;
}

}  // namespace acmed::plugins::apache
