// What the nginx and apache plugins share about the files a server loads: the record of one
// loaded file, following includes (real paths, globs, depth and cycle limits), the cross-check
// against the server's own list, the plan that writes edited trees back, the TLS options file
// written once, and indentation. Each plugin keeps its own syntax tree (`Tree`): the grammars
// have little in common; these mechanics do.
#pragma once

#include "acmed/install/plan.hpp"
#include "acmed/util/result.hpp"

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::plugins::webconf {

namespace fs = std::filesystem;

// One file the server loads, as read. `Tree` is the plugin's lossless syntax tree; a free
// function print(const Tree&) gives its bytes back.
template <class Tree>
struct SourceFile {
  fs::path path;       // as the server names it (may be a symlink in sites-enabled/)
  fs::path real_path;  // symlinks resolved: the file behind it
  std::string bytes;   // the bytes read
  Tree tree;
};

// Which name of a file a plan writes to (the Transaction writes through symlinks either way;
// this decides what the diff shows and what path checks see).
enum class WritePath { as_named, real };

// Adds to `plan` the new bytes of `file` when its tree no longer prints as the bytes read.
template <class Tree>
void add_if_edited(install::Plan& plan, const SourceFile<Tree>& file, WritePath which) {
  std::string now = print(file.tree);
  if (now == file.bytes) return;
  plan.set(install::FileChange{which == WritePath::real ? file.real_path : file.path, file.bytes,
                               std::move(now), 0644});
}

// Adds the acmed-managed TLS options file `path` with `text` unless it exists: written once,
// never overwritten (the admin may have edited it). Adds a note when it is planned.
void add_options_file(install::Plan& plan, const fs::path& path, std::string text);

// Whether a file may be included again while it is being read. nginx reads a config once, so a
// cycle is an error at once; httpd allows it (a self-include under <IfDefine> guards is legal)
// and stops only at its depth limit.
enum class Reentry { refuse, allow };

// The include stack of a loader: refuses a cycle (unless allowed) and a nesting deeper than the
// limit, naming the include that did it.
class IncludeStack {
 public:
  IncludeStack(std::size_t max_depth, Reentry reentry) : m_max(max_depth), m_reentry(reentry) {}
  // Errc::config "<at>: include cycle through <shown>" or "<at>: includes nest deeper than N".
  Status enter(const fs::path& real, const fs::path& shown, std::string_view at);
  void leave() { m_stack.pop_back(); }
  std::size_t depth() const { return m_stack.size(); }

 private:
  std::size_t m_max;
  Reentry m_reentry;
  std::vector<fs::path> m_stack;
};

// `path` with every symlink resolved. Errc::config naming it when it cannot be resolved
// (missing, or a directory on the way cannot be searched).
Result<fs::path> real_path_of(const fs::path& path);

// True if `s` has a glob character (* ? [) as both servers' include code tests.
bool has_glob(std::string_view s);

// How the server orders the matches of a glob: nginx uses glob(3) (whole paths sorted); httpd
// matches one path component at a time, sorting each directory's names.
enum class GlobOrder { whole_path, per_component };

// The existing paths matching `pattern` (absolute; wildcards in any component; a leading '.'
// only matches literally), in the server's order. No match is an empty list. Errc::io when a
// directory on the way cannot be read.
Result<std::vector<fs::path>> expand_glob(const fs::path& pattern, GlobOrder order);

// Compares the files acmed read (`ours`) with those the server reports (`theirs`), both as the
// same kind of path. Errc::config "the files acmed read differ from the files <server> loads
// (<source>): only <server> loads ...; only acmed read ..." with `hint`; ok when equal as sets.
Status compare_file_sets(std::span<const fs::path> ours, std::span<const fs::path> theirs,
                         std::string_view server, std::string_view source, std::string_view hint);

// True if `value` (a directive argument) is an absolute path equal to or under one of `paths`
// (absolute), compared after lexical normalisation ("/etc/x/../le/live/a" is under "/etc/le").
bool names_path(std::string_view value, std::span<const fs::path> paths);

// The indentation that follows the last newline of `text` ("" when it has none).
std::string after_last_newline(std::string_view text);

// The step from `outer` to `inner` when `inner` extends `outer` ("    " from "" to "    "), or
// "" when it does not.
std::string indent_step(std::string_view outer, std::string_view inner);

// One level of indentation when a file shows none.
inline constexpr std::string_view k_default_indent = "    ";

}  // namespace acmed::plugins::webconf
