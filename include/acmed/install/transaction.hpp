// Transaction: the only way acmed changes a web server's config. It backs up each file it touches
// (real path through symlinks, content, mode, owner, hash), writes with temp + fsync + rename,
// runs the server's config test, reloads, and restores every byte (content, mode, owner; removes
// files it created) on any failure. A transaction never committed rolls back in its destructor.
// A committed one leaves a checkpoint on disk that rollback_last() restores on demand.
#pragma once

#include "acmed/install/installer.hpp"
#include "acmed/install/plan.hpp"
#include "acmed/util/result.hpp"

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace acmed::install {

struct FileBackup {
  fs::path path;         // real path (symlinks resolved): the file that is written and restored
  bool existed = false;  // false: the transaction created it, rollback removes it
  std::string content;   // bytes before
  mode_t mode = 0644;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string hash_before;  // content_hash(content)
  std::string hash_after;   // content_hash of what the transaction wrote
  std::string link_target;  // non-empty: the transaction created `path` as this symlink
};

// Hex FNV-1a 64 of `data`: detects a file changed behind our back (not a security measure).
std::string content_hash(std::string_view data);

// Whether a checkpoint is written to disk for `acmed rollback`.
enum class Persist { no, yes };

class Transaction {
 public:
  // `backup_root` is <work_dir>/backups; checkpoints go to <backup_root>/<UTC time>-<n>/ when
  // `persist` is yes. Temporary changes (http-01 snippets) use Persist::no.
  Transaction(ServerControl& server, fs::path backup_root, Persist persist = Persist::yes);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Backs up and writes every change of `plan`. Checks everything first (file still has the bytes
  // the plan was made from, new files do not exist yet, no read-only file, writable directory),
  // so a refused plan changes nothing. A write failure rolls back what was written. May be called
  // again to add changes. Errc::conflict / Errc::io naming the file.
  Status apply(const Plan& plan);

  // Runs the config test, then reloads. On failure rolls back (reloading again only if the server
  // may have loaded the bad config) and returns the server's error.
  Status test_and_reload();

  // Ends the transaction: files stay as written, the checkpoint is marked committed.
  Status commit(std::string_view description);

  // Restores every touched file byte for byte (mode and owner too), removes created files, and
  // reloads if a reload happened. Idempotent; a no-op after commit().
  Status rollback();

  const std::vector<FileBackup>& backups() const { return m_backups; }
  // Directory of the on-disk checkpoint (empty with Persist::no or before apply()).
  const fs::path& checkpoint_dir() const { return m_checkpoint; }

 private:
  Status persist_manifest(std::string_view state, std::string_view description);
  // For a symlink change: its backup record, or an empty-path record when the link is already
  // as wanted. Errc::conflict when something else is at the path.
  Result<FileBackup> check_link(const LinkChange& change) const;

  ServerControl& m_server;
  fs::path m_backup_root;
  Persist m_persist;
  fs::path m_checkpoint;
  std::vector<FileBackup> m_backups;
  std::vector<fs::path> m_created_dirs;
  enum class Reload { none, failed, done } m_reload = Reload::none;
  bool m_finished = false;  // committed or rolled back
};

// apply + test_and_reload + `check` (e.g. the TLS check) + commit; rolls back on any failure.
// An empty plan does nothing and returns an empty path. Returns the checkpoint directory.
Result<fs::path> execute(const Plan& plan, ServerControl& server, const fs::path& backup_root,
                         std::string_view description,
                         const std::function<Status()>& check = nullptr);

// Restores the newest committed checkpoint under `backup_root` (`acmed rollback`): files back to
// their bytes, mode and owner; created files removed; then config test and reload. The
// checkpoint is then renamed "<dir>.rolled-back" so a second call undoes the one before.
// Errc::not_found when there is none; Errc::conflict (nothing touched) when a file was changed
// since acmed wrote it, unless `force` is yes.
enum class Force { no, yes };
Result<std::string> rollback_last(const fs::path& backup_root, ServerControl& server,
                                  Force force = Force::no);

// Name of the server ("nginx", "apache") whose checkpoint rollback_last() would restore, so the
// CLI can pick the plugin for `acmed rollback`. Errc::not_found when there is none.
Result<std::string> last_checkpoint_server(const fs::path& backup_root);

// The newest checkpoint rollback_last() would restore: its server and ServerControl::settings().
struct CheckpointInfo {
  fs::path dir;
  std::string server;
  std::map<std::string, std::string> settings;
};
Result<CheckpointInfo> last_checkpoint(const fs::path& backup_root);

}  // namespace acmed::install
