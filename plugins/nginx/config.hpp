// The set of files nginx loads for one main config, as a graph of includes that remembers the
// context each file was included from, and the http server blocks found in it.
#pragma once

#include "plugins/nginx/syntax.hpp"
#include "plugins/webconf/files.hpp"

#include "acmed/sys/process.hpp"
#include "acmed/util/result.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace acmed::plugins::nginx {

namespace fs = std::filesystem;

// One loaded file (webconf::SourceFile: path as nginx names it, absolute with globs expanded;
// real_path; bytes; tree) and where it was first included from.
struct ConfigFile : webconf::SourceFile<SyntaxTree> {
  std::vector<std::string> context;  // enclosing blocks where it was first included: {"http"}
  std::string included_from;         // "/etc/nginx/nginx.conf:62", empty for the main file
};

// One directive as nginx sees it once includes are expanded: the file it is written in and the
// node itself.
struct DirectiveRef {
  std::size_t file = 0;
  Node* node = nullptr;
};

class Config {
 public:
  // Loads `main_conf` and everything it includes. Relative include paths are relative to the
  // directory of `main_conf` (nginx's conf prefix); globs expand in sorted order and may match
  // nothing; a plain path must exist. Errc::config naming file:line if ANY file fails to parse or
  // an include cannot be read: acmed edits nothing in a config it cannot read completely.
  static Result<Config> load(const fs::path& main_conf);

  const fs::path& main_conf() const { return m_main; }
  std::size_t file_count() const { return m_files.size(); }
  ConfigFile& file(std::size_t i) { return *m_files[i]; }
  const ConfigFile& file(std::size_t i) const { return *m_files[i]; }

  // Calls fn(ref, context) for every directive reachable from the main file in nginx's reading
  // order, descending into blocks (not verbatim ones) and included files. `context` lists the
  // enclosing block names, outermost first.
  void walk(const std::function<void(DirectiveRef, const std::vector<std::string>&)>& fn);

  // The directives directly inside `block` (written in file `file`), includes expanded.
  std::vector<DirectiveRef> body(std::size_t file, Node& block);

  // Canonical paths of every loaded file, sorted.
  std::vector<fs::path> loaded_files() const;

 private:
  Status load_file(const fs::path& path, const std::vector<std::string>& context,
                   const std::string& included_from, webconf::IncludeStack& stack,
                   std::size_t& index_out);
  Status load_includes(std::size_t file, std::vector<Node>& nodes,
                       std::vector<std::string>& context, webconf::IncludeStack& stack);
  void walk_nodes(std::size_t file, std::vector<Node>& nodes, std::vector<std::string>& context,
                  const std::function<void(DirectiveRef, const std::vector<std::string>&)>& fn,
                  int depth);

  fs::path m_main;
  fs::path m_prefix;
  std::vector<std::unique_ptr<ConfigFile>> m_files;
  std::map<fs::path, std::size_t> m_by_real_path;
  std::map<const Node*, std::vector<std::size_t>> m_includes;  // include node -> files
};

// Runs `<nginx_argv...> -c <main_conf> -T` (nginx_argv: the program and options such as -p) and
// checks that the files nginx reports ("# configuration file X:") are exactly the files `config`
// loaded. Errc::server when nginx rejects the config as it is (reported, nothing touched);
// Errc::config naming the files when the two sets differ.
Status cross_check_with_nginx(const Config& config, sys::ProcessRunner& runner,
                              std::vector<std::string> nginx_argv);

// The "# configuration file X:" paths in `nginx -T` output, in order of appearance.
std::vector<std::string> files_in_dump(std::string_view dump);

}  // namespace acmed::plugins::nginx
