#include "acmed/install/transaction.hpp"

#include "acmed/sys/fs.hpp"
#include "acmed/util/json.hpp"

#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace acmed::install {

namespace {

// The file a write to `path` really replaces: symlinks resolved, also for a file not yet created.
fs::path real_path_of(const fs::path& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) abs = path;
  if (fs::exists(fs::symlink_status(abs, ec))) {
    fs::path real = fs::canonical(abs, ec);
    if (!ec) return real;
  }
  fs::path parent = fs::weakly_canonical(abs.parent_path(), ec);
  return ec ? abs : parent / abs.filename();
}

std::string octal(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Puts `b` back: content, mode and owner, or removes a file the transaction created.
Status restore_one(const FileBackup& b) {
  if (!b.existed) return sys::remove_file(b.path);
  ACMED_CHECK(sys::write_file_atomic(b.path, b.content, b.mode));
  if (::chown(b.path.c_str(), b.uid, b.gid) != 0 && ::geteuid() == 0) {
    return Error(Errc::io, "cannot restore the owner of " + b.path.string() + ": " +
                               std::strerror(errno));
  }
  return {};
}

Status restore_all(const std::vector<FileBackup>& backups, const std::vector<fs::path>& dirs) {
  std::optional<Error> first;
  for (auto it = backups.rbegin(); it != backups.rend(); ++it) {
    auto st = restore_one(*it);
    if (!st && !first) first = std::move(st).error();
  }
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) ::rmdir(it->c_str());  // only if empty
  if (first) return *first;
  return {};
}

// What a symlink looks like in a backup's hashes: "symlink:<target>".
std::string link_hash(const fs::path& target) { return content_hash("symlink:" + target.string()); }

// The target of symlink `path`, or "" when it is not a symlink.
std::string read_link(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_symlink(fs::symlink_status(path, ec))) return {};
  fs::path target = fs::read_symlink(path, ec);
  return ec ? std::string() : target.string();
}

std::string utc_stamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

std::string content_hash(std::string_view data) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

Transaction::Transaction(ServerControl& server, fs::path backup_root, Persist persist)
    : m_server(server), m_backup_root(std::move(backup_root)), m_persist(persist) {}

Transaction::~Transaction() {
  if (!m_finished) (void)rollback();
}

Result<FileBackup> Transaction::check_link(const LinkChange& change) const {
  std::error_code ec;
  fs::path abs = fs::absolute(change.path, ec);
  fs::path parent = fs::weakly_canonical(abs.parent_path(), ec);
  fs::path link = (ec ? abs.parent_path() : parent) / abs.filename();
  if (fs::exists(fs::symlink_status(link, ec))) {
    if (read_link(link) == change.target.string()) return FileBackup();  // nothing to do
    return Error(Errc::conflict, change.path.string() + " already exists",
                 "acmed does not replace a file or link it did not create; move it away");
  }
  if (::access(link.parent_path().c_str(), W_OK) != 0) {
    return Error(Errc::io, "cannot write in " + link.parent_path().string() + ": " +
                               std::strerror(errno),
                 "run acmed as a user that may edit the web server's config");
  }
  FileBackup b;
  b.path = link;
  b.existed = false;
  b.mode = 0777;
  b.uid = ::geteuid();
  b.gid = ::getegid();
  b.hash_before = content_hash("");
  b.hash_after = link_hash(change.target);
  b.link_target = change.target.string();
  return b;
}

Status Transaction::apply(const Plan& plan) {
  if (m_finished) return Error(Errc::internal, "transaction already finished");
  struct Step {
    const FileChange* change;
    fs::path real;
    std::size_t backup;  // index into m_backups
  };
  std::vector<Step> steps;
  std::vector<FileBackup> fresh;
  // 1. Check everything before changing anything.
  for (const auto& change : plan.changes) {
    if (change.before && *change.before == change.after) continue;
    fs::path real = real_path_of(change.path);
    auto known = std::find_if(m_backups.begin(), m_backups.end(),
                              [&](const FileBackup& b) { return b.path == real; });
    struct stat st {};
    bool exists = ::stat(real.c_str(), &st) == 0;
    std::string current;
    if (exists) {
      auto text = sys::read_file(real);
      if (!text) return std::move(text).error();
      current = std::move(text).value();
    }
    if (change.before) {
      if (!exists) {
        return Error(Errc::conflict, change.path.string() + " disappeared after acmed read it",
                     "run acmed again");
      }
      if (current != *change.before) {
        return Error(Errc::conflict, change.path.string() + " changed after acmed read it",
                     "run acmed again once nobody else edits the config");
      }
    } else if (exists) {
      if (current == change.after) continue;  // already as wanted
      return Error(Errc::conflict, change.path.string() + " already exists",
                   "acmed does not overwrite a file it did not plan to edit; move it away");
    }
    if (exists && (st.st_mode & 0222) == 0) {
      return Error(Errc::io,
                   change.path.string() + " is read-only (mode " + octal(st.st_mode) + ")",
                   "acmed does not override a read-only config file; make it writable to let "
                   "acmed edit it, or install the certificate by hand");
    }
    fs::path dir = real.parent_path();
    std::error_code ec;
    while (!dir.empty() && !fs::exists(dir, ec) && dir != dir.parent_path()) dir = dir.parent_path();
    if (::access(dir.c_str(), W_OK) != 0) {
      return Error(Errc::io, "cannot write in " + dir.string() + ": " + std::strerror(errno),
                   "run acmed as a user that may edit the web server's config");
    }
    std::size_t index = 0;
    if (known != m_backups.end()) {
      index = static_cast<std::size_t>(known - m_backups.begin());
    } else {
      FileBackup b;
      b.path = real;
      b.existed = exists;
      b.content = current;
      b.mode = exists ? (st.st_mode & 07777) : change.mode;
      b.uid = exists ? st.st_uid : ::geteuid();
      b.gid = exists ? st.st_gid : ::getegid();
      b.hash_before = content_hash(current);
      index = m_backups.size() + fresh.size();
      fresh.push_back(std::move(b));
    }
    steps.push_back({&change, real, index});
  }
  std::vector<FileBackup> links;
  for (const auto& l : plan.links) {
    auto link = check_link(l);
    if (!link) return std::move(link).error();
    if (!link->path.empty()) links.push_back(std::move(*link));  // empty: already as wanted
  }
  if (steps.empty() && links.empty()) return {};
  for (auto& b : fresh) m_backups.push_back(std::move(b));
  for (const auto& s : steps) m_backups[s.backup].hash_after = content_hash(s.change->after);
  std::size_t first_link = m_backups.size();
  for (auto& b : links) m_backups.push_back(std::move(b));

  // 2. The checkpoint is on disk before the first write, so even a crash can be rolled back.
  if (m_persist == Persist::yes) ACMED_CHECK(persist_manifest("applying", ""));

  // 3. Write.
  for (const auto& s : steps) {
    fs::path dir = s.real.parent_path();
    std::vector<fs::path> missing;
    std::error_code ec;
    for (fs::path d = dir; !d.empty() && !fs::exists(d, ec) && d != d.parent_path(); d = d.parent_path())
      missing.push_back(d);
    Status st = sys::make_dirs(dir);
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) m_created_dirs.push_back(*it);
    if (st) {
      const FileBackup& b = m_backups[s.backup];
      st = sys::write_file_atomic(s.real, s.change->after, b.existed ? b.mode : s.change->mode);
    }
    if (!st) {
      Error e = std::move(st).error();
      (void)rollback();
      return e.with_context("while writing " + s.change->path.string() + " (all files restored)");
    }
  }
  for (std::size_t i = first_link; i < m_backups.size(); ++i) {
    const FileBackup& b = m_backups[i];
    if (auto st = sys::replace_symlink(b.path, b.link_target); !st) {
      Error e = std::move(st).error();
      (void)rollback();
      return e.with_context("while linking " + b.path.string() + " (all files restored)");
    }
  }
  return {};
}

Status Transaction::test_and_reload() {
  if (m_finished) return Error(Errc::internal, "transaction already finished");
  if (auto st = m_server.config_test(); !st) {
    Error e = std::move(st).error();
    auto rb = rollback();
    e.with_context(rb ? "config restored byte for byte, " + m_server.name() + " not reloaded"
                      : "restoring the config failed too: " + rb.error().describe());
    return e;
  }
  if (auto st = m_server.reload(); !st) {
    m_reload = Reload::failed;
    Error e = std::move(st).error();
    auto rb = rollback();
    e.with_context(rb ? std::string("config restored byte for byte")
                      : "restoring the config failed too: " + rb.error().describe());
    return e;
  }
  m_reload = Reload::done;
  return {};
}

Status Transaction::commit(std::string_view description) {
  if (m_finished) return Error(Errc::internal, "transaction already finished");
  m_finished = true;
  if (m_persist == Persist::yes && !m_backups.empty()) {
    return persist_manifest("committed", description);
  }
  return {};
}

Status Transaction::rollback() {
  if (m_finished) return {};
  m_finished = true;
  Status restored = restore_all(m_backups, m_created_dirs);
  if (!restored) return restored;
  if (!m_checkpoint.empty()) {
    std::error_code ec;
    fs::remove_all(m_checkpoint, ec);
  }
  if (m_reload == Reload::none) return {};
  // The server may run the config we just took back: make it load the restored one.
  Status reloaded = m_server.config_test();
  if (reloaded) reloaded = m_server.reload();
  if (!reloaded && m_reload == Reload::done) {
    return std::move(reloaded).error().with_context("after restoring the config byte for byte");
  }
  return {};
}

Status Transaction::persist_manifest(std::string_view state, std::string_view description) {
  if (m_checkpoint.empty()) {
    ACMED_CHECK(sys::make_dirs(m_backup_root, 0700));
    std::string stamp = utc_stamp();
    for (int n = 1; n < 1000; ++n) {
      char suffix[8];
      std::snprintf(suffix, sizeof suffix, "-%03d", n);
      fs::path candidate = m_backup_root / (stamp + suffix);
      if (::mkdir(candidate.c_str(), 0700) == 0) {
        m_checkpoint = candidate;
        break;
      }
      if (errno != EEXIST) {
        return Error(Errc::io, "cannot create checkpoint " + candidate.string() + ": " +
                                   std::strerror(errno));
      }
    }
    if (m_checkpoint.empty()) return Error(Errc::io, "too many checkpoints in " + stamp);
  }
  nlohmann::json files = nlohmann::json::array();
  for (std::size_t i = 0; i < m_backups.size(); ++i) {
    const auto& b = m_backups[i];
    std::string stored = "file-" + std::to_string(i);
    if (b.existed) ACMED_CHECK(sys::write_file_atomic(m_checkpoint / stored, b.content, 0600));
    files.push_back({{"path", b.path.string()},
                     {"existed", b.existed},
                     {"mode", b.mode},
                     {"uid", b.uid},
                     {"gid", b.gid},
                     {"hash_before", b.hash_before},
                     {"hash_after", b.hash_after},
                     {"link_target", b.link_target},
                     {"backup", b.existed ? stored : ""}});
  }
  nlohmann::json dirs = nlohmann::json::array();
  for (const auto& d : m_created_dirs) dirs.push_back(d.string());
  nlohmann::json manifest = {{"version", 1},
                             {"server", m_server.name()},
                             {"settings", m_server.settings()},
                             {"state", state},
                             {"description", description},
                             {"files", files},
                             {"created_dirs", dirs}};
  ACMED_TRY(std::string text, util::dump_json(manifest, "the rollback manifest", 2));
  return sys::write_file_atomic(m_checkpoint / "manifest.json", text + "\n", 0600);
}

Result<fs::path> execute(const Plan& plan, ServerControl& server, const fs::path& backup_root,
                         std::string_view description, const std::function<Status()>& check) {
  if (plan.empty()) return fs::path();
  Transaction tx(server, backup_root);
  ACMED_CHECK(tx.apply(plan));
  ACMED_CHECK(tx.test_and_reload());
  if (check) {
    if (auto st = check(); !st) {
      Error e = std::move(st).error();
      auto rb = tx.rollback();
      e.with_context(rb ? "config restored byte for byte and " + server.name() + " reloaded"
                        : "restoring the config failed too: " + rb.error().describe());
      return e;
    }
  }
  fs::path dir = tx.checkpoint_dir();
  ACMED_CHECK(tx.commit(description));
  return dir;
}

namespace {

// The newest checkpoint not rolled back yet. Errc::not_found when there is none.
Result<fs::path> newest_checkpoint(const fs::path& backup_root) {
  std::error_code ec;
  std::vector<fs::path> candidates;
  if (fs::is_directory(backup_root, ec)) {
    for (const auto& e : fs::directory_iterator(backup_root, ec)) {
      auto name = e.path().filename().string();
      std::error_code entry_ec;
      if (!e.is_directory(entry_ec) || name.find(".rolled-back") != std::string::npos) continue;
      if (fs::exists(e.path() / "manifest.json", entry_ec)) candidates.push_back(e.path());
    }
  }
  if (candidates.empty()) {
    return Error(Errc::not_found, "no installer checkpoint to roll back in " + backup_root.string());
  }
  std::sort(candidates.begin(), candidates.end());
  return candidates.back();
}

}  // namespace

Result<std::string> last_checkpoint_server(const fs::path& backup_root) {
  ACMED_TRY(auto info, last_checkpoint(backup_root));
  return info.server;
}

Result<CheckpointInfo> last_checkpoint(const fs::path& backup_root) {
  ACMED_TRY(fs::path dir, newest_checkpoint(backup_root));
  ACMED_TRY(std::string text, sys::read_file(dir / "manifest.json"));
  try {
    auto m = nlohmann::json::parse(text);
    CheckpointInfo info;
    info.dir = dir;
    info.server = m.at("server").get<std::string>();
    if (m.contains("settings")) {
      info.settings = m.at("settings").get<std::map<std::string, std::string>>();
    }
    return info;
  } catch (const nlohmann::json::exception& e) {
    return Error(Errc::io, "cannot read checkpoint " + dir.string() + ": " + e.what());
  }
}

Result<std::string> rollback_last(const fs::path& backup_root, ServerControl& server, Force force) {
  std::error_code ec;
  ACMED_TRY(fs::path dir, newest_checkpoint(backup_root));
  ACMED_TRY(std::string text, sys::read_file(dir / "manifest.json"));
  std::vector<FileBackup> backups;
  std::vector<fs::path> dirs;
  std::string description;
  try {
    auto m = nlohmann::json::parse(text);
    description = m.value("description", "");
    for (const auto& f : m.at("files")) {
      FileBackup b;
      b.path = f.at("path").get<std::string>();
      b.existed = f.at("existed").get<bool>();
      b.mode = f.at("mode").get<mode_t>();
      b.uid = f.at("uid").get<uid_t>();
      b.gid = f.at("gid").get<gid_t>();
      b.hash_before = f.at("hash_before").get<std::string>();
      b.hash_after = f.at("hash_after").get<std::string>();
      b.link_target = f.value("link_target", "");
      if (b.existed) {
        ACMED_TRY(b.content, sys::read_file(dir / f.at("backup").get<std::string>()));
        if (content_hash(b.content) != b.hash_before) {
          return Error(Errc::io, "backup of " + b.path.string() + " in " + dir.string() +
                                     " is damaged (hash mismatch)");
        }
      }
      backups.push_back(std::move(b));
    }
    for (const auto& d : m.at("created_dirs")) dirs.emplace_back(d.get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    return Error(Errc::io, "cannot read checkpoint " + dir.string() + ": " + e.what());
  }
  if (force == Force::no) {
    for (const auto& b : backups) {
      if (!b.link_target.empty()) {
        std::string now_target = read_link(b.path);
        std::error_code lec;
        bool gone = !fs::exists(fs::symlink_status(b.path, lec));
        if (now_target != b.link_target && !gone) {
          return Error(Errc::conflict,
                       b.path.string() + " was changed after acmed created it; nothing rolled back",
                       "check it by hand, or force the rollback");
        }
        continue;
      }
      auto now = sys::read_file(b.path);
      std::string now_hash = now ? content_hash(*now) : "";
      if (now_hash != b.hash_after && now_hash != b.hash_before) {
        return Error(Errc::conflict,
                     b.path.string() + " was changed after acmed edited it; nothing rolled back",
                     "check the file by hand, or force the rollback");
      }
    }
  }
  ACMED_CHECK(restore_all(backups, dirs));
  fs::rename(dir, fs::path(dir.string() + ".rolled-back"), ec);
  ACMED_CHECK(server.config_test());
  ACMED_CHECK(server.reload());
  return description.empty() ? dir.filename().string() : description;
}

}  // namespace acmed::install
