// An exclusive lock on a directory, so two acmed processes never change the same config dir at
// once. The lock is an flock(2) on "<dir>/.acmed.lock", released by the kernel when the process
// dies (kill -9 included). The file holds the holder's PID, for the error message.
#pragma once

#include "acmed/util/result.hpp"

#include <filesystem>

namespace acmed::sys {

enum class LockWait { no, yes };

class DirLock {
 public:
  // Takes the lock. Without waiting (the default): Errc::locked, naming the holder's PID, if
  // someone has it. LockWait::yes blocks until the holder lets go (for short critical sections).
  static Result<DirLock> acquire(const std::filesystem::path& dir, LockWait wait = LockWait::no);

  DirLock(DirLock&& other) noexcept;
  DirLock& operator=(DirLock&& other) noexcept;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock();

 private:
  explicit DirLock(int fd) : m_fd(fd) {}
  int m_fd = -1;
};

}  // namespace acmed::sys
