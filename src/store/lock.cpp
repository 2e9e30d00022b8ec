#include "acmed/store/lock.hpp"

#include <map>
#include <mutex>
#include <optional>

namespace acmed::store {

namespace {

struct Held {
  std::optional<sys::DirLock> lock;
  int holders = 0;
};

// Locks this process holds, by config dir. flock(2) excludes other open files even within one
// process, so every holder here shares one DirLock.
std::mutex& table_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, Held>& table() {
  static std::map<std::string, Held> t;
  return t;
}

std::string key_of(const Paths& paths) {
  std::error_code ec;
  auto absolute = std::filesystem::absolute(paths.config_dir, ec);
  return (ec ? paths.config_dir : absolute).lexically_normal().string();
}

}  // namespace

Result<StoreLock> StoreLock::acquire(const Paths& paths, sys::LockWait wait) {
  std::string key = key_of(paths);
  std::lock_guard guard(table_mutex());
  Held& held = table()[key];
  if (held.holders == 0) {
    auto lock = sys::DirLock::acquire(paths.config_dir, wait);
    if (!lock) {
      table().erase(key);
      return std::move(lock).error();
    }
    held.lock.emplace(std::move(*lock));
  }
  ++held.holders;
  return StoreLock(std::move(key));
}

StoreLock::~StoreLock() {
  if (m_key.empty()) return;
  std::lock_guard guard(table_mutex());
  auto it = table().find(m_key);
  if (it != table().end() && --it->second.holders == 0) table().erase(it);
}

bool StoreLock::held(const Paths& paths) {
  std::lock_guard guard(table_mutex());
  auto it = table().find(key_of(paths));
  return it != table().end() && it->second.holders > 0;
}

}  // namespace acmed::store
