// File-system helpers. Every write that replaces a file is atomic: temp file in the same
// directory, fsync, rename, fsync of the directory. A crash at any moment leaves either the old
// or the new content, never a mix.
#pragma once

#include "acmed/util/result.hpp"

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace acmed::sys {

namespace fs = std::filesystem;

// Whole file as bytes. Errc::not_found if it does not exist, Errc::io otherwise.
Result<std::string> read_file(const fs::path& path);

// Like read_file, but fails with Errc::invalid_input when the file is larger than max_bytes.
Result<std::string> read_file_limited(const fs::path& path, std::size_t max_bytes);

// Writes `data` to `path` in place of any existing file via temp + fsync + rename. If `path` is a
// symlink, the file it points to is replaced and the link kept. `mode` applies to the new file
// (when nullopt: the existing file's mode, or 0644). Owner and group of an existing file are kept
// when possible. Idempotent.
Status write_file_atomic(const fs::path& path, std::string_view data,
                         std::optional<mode_t> mode = std::nullopt);

// Creates `path` holding `data` with exactly `mode`, never replacing a file: a temp file beside it
// (written, fsynced) is hard-linked into place, so readers see no file or all of it. Errc::conflict
// naming `path` when something exists there already (it is left as it was); Errc::io otherwise.
Status create_file_atomic(const fs::path& path, std::string_view data, mode_t mode);

// Creates `dir` and missing parents; the last component gets `mode` (parents 0755). Applies
// `mode` to an existing `dir` too when `enforce_mode` is set. Idempotent.
enum class EnforceMode { no, yes };
Status make_dirs(const fs::path& dir, mode_t mode = 0755, EnforceMode enforce = EnforceMode::no);

// Points symlink `link` at `target` atomically: a temp link renamed over `link`. Idempotent.
Status replace_symlink(const fs::path& link, const fs::path& target);

// fsync on a directory, so that renames inside it are durable.
Status sync_dir(const fs::path& dir);

// Removes a file; missing is not an error.
Status remove_file(const fs::path& path);

// Identity of a file as stat(2) sees it: a different file, or the same one rewritten, differs.
struct FileStamp {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

// stat(2) of `path`, following symlinks (live/NAME/cert.pem is a link into archive/).
Result<FileStamp> stamp_file(const fs::path& path);

// An AtomicFile writes to a temp file beside `path`; commit() renames it into place. If it is
// destroyed without commit(), the temp file is removed and `path` is untouched.
class AtomicFile {
 public:
  AtomicFile(fs::path path, mode_t mode);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  Status write(std::string_view data);
  Status commit();

 private:
  fs::path m_path;
  fs::path m_tmp;
  int m_fd = -1;
  mode_t m_mode;
  bool m_failed = false;
};

}  // namespace acmed::sys
