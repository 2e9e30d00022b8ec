// Which directives of the config nginx loads name given files (for `delete`).
#include "plugins/nginx/config.hpp"
#include "plugins/nginx/nginx.hpp"

#include <system_error>

namespace acmed::plugins::nginx {

Result<std::vector<ConfigReference>> config_references(const Options& options,
                                                       std::span<const fs::path> paths) {
  fs::path main = options.server_root / "nginx.conf";
  std::error_code ec;
  if (!fs::exists(main, ec)) return std::vector<ConfigReference>{};
  ACMED_TRY(Config config, Config::load(main));
  std::vector<ConfigReference> out;
  config.walk([&](DirectiveRef ref, const std::vector<std::string>&) {
    const Node& node = *ref.node;
    bool named = false;
    std::string text;
    for (const Word& w : node.words) {
      text += (text.empty() ? "" : " ") + w.value;
      if (&w != &node.words.front() && webconf::names_path(w.value, paths)) named = true;
    }
    if (named) out.push_back({config.file(ref.file).path, node.line, text});
  });
  return out;
}

}  // namespace acmed::plugins::nginx
