#include "acmed/sys/lock.hpp"

#include "acmed/sys/fs.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <unistd.h>

namespace acmed::sys {

Result<DirLock> DirLock::acquire(const std::filesystem::path& dir, LockWait wait) {
  ACMED_CHECK(make_dirs(dir, 0755));
  auto path = dir / ".acmed.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error(Errc::io, "cannot open lock file " + path.string() + ": " + std::strerror(errno));
  }
  if (::flock(fd, wait == LockWait::yes ? LOCK_EX : LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string holder;
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n > 0) holder = std::string(buf, static_cast<std::size_t>(n));
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Error(Errc::locked,
                   "another acmed process" + (holder.empty() ? "" : " (pid " + holder + ")") +
                       " is working on " + dir.string(),
                   "wait for it to finish, then run this command again");
    }
    return Error(Errc::io, "cannot lock " + path.string() + ": " + std::strerror(err));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The PID is only informative; the flock is what excludes others.
  }
  return DirLock(fd);
}

DirLock::DirLock(DirLock&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }

DirLock& DirLock::operator=(DirLock&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = other.m_fd;
    other.m_fd = -1;
  }
  return *this;
}

DirLock::~DirLock() {
  if (m_fd >= 0) ::close(m_fd);  // closing the descriptor releases the flock
}

}  // namespace acmed::sys
