// A Plan is what an installer wants to change, computed without touching anything: a list of files
// with their new contents. Applying it is the Transaction's job; printing it is `--dry-run`.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::install {

namespace fs = std::filesystem;

struct FileChange {
  fs::path path;                      // as the server names it; may be a symlink (written through)
  std::optional<std::string> before;  // the bytes the plan was computed from; nullopt: new file
  std::string after;                  // the bytes to write
  mode_t mode = 0644;                 // for a new file; an existing file keeps its mode
};

// A symlink to create (apache's sites-enabled/ and mods-enabled/ links, made the way a2ensite and
// a2enmod make them). Rollback removes it.
struct LinkChange {
  fs::path path;    // the link itself (never followed)
  fs::path target;  // written as given, usually relative: "../sites-available/x.conf"
};

struct Plan {
  std::vector<FileChange> changes;
  std::vector<LinkChange> links;  // created after the files are written
  std::vector<std::string>
      notes;  // one line per decision, for logs: "a.com: redirect added in x:12"

  // True when applying would change no byte on disk.
  bool empty() const;
  // Adds or replaces the change for `change.path` (a later edit of the same file wins, keeping
  // the first `before`).
  void set(FileChange change);
};

// Unified diff (`diff -u` format, 3 lines of context) from `old_text` to `new_text`; "" if equal.
// A missing final newline is marked "\ No newline at end of file" as diff does.
std::string unified_diff(std::string_view old_text, std::string_view new_text,
                         std::string_view old_label, std::string_view new_label);

// The diff of every change in `plan` ("/dev/null" as the old side of new files); "" when empty.
std::string diff(const Plan& plan);

}  // namespace acmed::install
