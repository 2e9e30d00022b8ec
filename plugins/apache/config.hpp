// Loading an apache configuration the way Debian's apache2 2.4 does: the main file under
// ServerRoot, Include/IncludeOptional with globs and directories (relative to ServerRoot, sorted),
// Define and ${VAR} (from Define and the envvars file) where they decide what loads,
// <IfModule>/<IfDefine> evaluated, symlinks in *-enabled followed to the real file.
//
// Every loaded file is parsed into a lossless tree (syntax.hpp); if any of them fails to parse,
// loading fails naming file and line, so nothing is ever edited on a partial view.
#pragma once

#include "plugins/apache/syntax.hpp"
#include "plugins/webconf/files.hpp"

#include "acmed/util/result.hpp"

#include <cstddef>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace acmed::plugins::apache {

namespace fs = std::filesystem;

struct LoadOptions {
  fs::path server_root = "/etc/apache2";
  fs::path main_file;  // empty: <server_root>/apache2.conf (Debian's compiled-in name)
  // Variables apache sees in its environment. Empty: read from <server_root>/envvars.
  std::map<std::string, std::string> env;
  std::set<std::string> defines;  // -D NAME given on apache's command line
};

// One loaded file: path as apache names it (may be a symlink in sites-enabled/), real_path (the
// file behind any symlinks: where edits go), bytes as read, tree.
using LoadedFile = webconf::SourceFile<ConfigFile>;

// Where a node sits: which file, and the child indexes from the file's top level down.
struct NodeRef {
  std::size_t file = 0;
  std::vector<std::size_t> path;
};

struct VirtualHost {
  NodeRef ref;
  int line = 0;
  std::vector<std::string> addresses;  // "*:80", "192.0.2.1:80", "[::1]:443", "_default_:80"
  std::string server_name;             // host part of the last ServerName, lowercased; may be empty
  std::vector<std::string> aliases;    // ServerAlias values, lowercased
  bool ssl = false;                    // SSLEngine on
  bool in_macro = false;               // inside a mod_macro <Macro>: not editable in place
};

struct Config {
  fs::path server_root;
  std::vector<LoadedFile> files;            // in the order apache reads them
  std::map<std::string, std::string> vars;  // Define'd values and the environment
  std::set<std::string> defines;            // names for <IfDefine>
  std::set<std::string> modules;            // "ssl_module" and "mod_ssl.c" forms
  std::vector<VirtualHost> vhosts;          // active ones, in config order
  std::vector<std::string> listen;          // Listen arguments, resolved
  std::vector<fs::path> include_patterns;   // every active Include, absolute, variables resolved
  std::vector<std::string> warnings;        // what httpd accepts but warns about, "file:line: ..."

  // The node a NodeRef points at.
  Node& node(const NodeRef& ref);
  const Node& node(const NodeRef& ref) const;
  // True if `module` ("ssl_module" or "mod_ssl.c") is loaded.
  bool has_module(std::string_view module) const;
  // Index of the loaded file whose real path is `real`, or files.size().
  std::size_t find_file(const fs::path& real) const;
};

// True if an active Include of `config` would load a file at `path` (a pattern matching it, or
// a directory containing it).
bool would_include(const Config& config, const fs::path& path);

// Loads the configuration. Errc::config (file:line) when a loaded file fails to parse, an Include
// matches nothing, or includes nest too deep; Errc::not_found when the main file is missing.
Result<Config> load(const LoadOptions& options);

// The APACHE_* variables an envvars script (Debian's /etc/apache2/envvars) exports: `export
// NAME=VALUE` lines with $VAR / ${VAR} expanded, SUFFIX set as the script derives it.
std::map<std::string, std::string> parse_envvars(std::string_view script,
                                                 const fs::path& server_root);

// ap_resolve_env: replaces ${NAME} by its value from `vars`; unknown names stay as written.
std::string resolve_vars(std::string_view text, const std::map<std::string, std::string>& vars);

// Port of a VirtualHost or Listen address ("*:80" -> "80", "[::1]:443" -> "443"); "" when none.
std::string address_port(std::string_view address);

// Files named in `apache2ctl -D DUMP_INCLUDES` output, in order.
std::vector<fs::path> parse_dump_includes(std::string_view output);

// "file:line" of each vhost in `apache2ctl -S` output.
std::set<std::string> parse_dump_vhosts(std::string_view output);

// Compares what we loaded with what apache reports. Errc::config naming the files (or vhosts)
// apache loads that we do not, or the reverse, with a hint to report the layout.
Status compare_includes(const Config& config, const std::vector<fs::path>& apache_files);
Status compare_vhosts(const Config& config, const std::set<std::string>& apache_vhosts);

}  // namespace acmed::plugins::apache
