// The store's write lock: one flock on <config-dir>/.acmed.lock (sys::DirLock), so two acmed
// processes never change the same store at once; the kernel releases it when a process dies.
//
// The store is the one owner of it: every store function that writes (create_lineage,
// add_version, save_renewal_conf, update_renewal_conf, save_account) takes it itself, so no
// caller can write unlocked. A command that must decide and write under one hold (choose a
// lineage, then issue into it; a whole renewal run) holds a StoreLock around both: inside one
// process the lock is shared, so holding it again, from any thread, costs nothing, and the flock
// is released when the last holder lets go.
#pragma once

#include "acmed/store/paths.hpp"
#include "acmed/store/renewal_conf.hpp"
#include "acmed/sys/lock.hpp"
#include "acmed/util/result.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace acmed::store {

class StoreLock {
 public:
  // Holds the lock of paths.config_dir (created if missing). Errc::locked naming the other
  // process's PID when one holds it (LockWait::no, the default), or waits for it (LockWait::yes).
  static Result<StoreLock> acquire(const Paths& paths, sys::LockWait wait = sys::LockWait::no);

  StoreLock(StoreLock&& other) noexcept : m_key(std::move(other.m_key)) { other.m_key.clear(); }
  StoreLock& operator=(StoreLock&&) = delete;
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  ~StoreLock();

  // True if this process holds the lock of `paths.config_dir` (for checks and tests).
  static bool held(const Paths& paths);

 private:
  explicit StoreLock(std::string key) : m_key(std::move(key)) {}
  std::string m_key;  // the config dir; empty when moved from
};

// Reads lineage `name`'s renewal conf, lets `edit` change it and writes it back, all under the
// store lock, so a concurrent writer's change is never lost. Nothing is written when `edit`
// fails. `wait`: wait for another process's lock instead of failing with Errc::locked.
Status update_renewal_conf(const Paths& paths, std::string_view name,
                           const std::function<Status(RenewalConf&)>& edit,
                           sys::LockWait wait = sys::LockWait::no);

}  // namespace acmed::store
