#include "acmed/sys/fs.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace acmed::sys {

namespace {

Error io_error(const std::string& what, const fs::path& path, int err) {
  return Error(err == ENOENT ? Errc::not_found : Errc::io,
               what + " " + path.string() + ": " + std::strerror(err));
}

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char k_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 10; ++i) s += k_chars[rng() % (sizeof(k_chars) - 1)];
  return s;
}

Status write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write", path, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// Follows symlinks so that writing through a link replaces the file it points to.
fs::path resolve_target(const fs::path& path) {
  std::error_code ec;
  if (fs::is_symlink(path, ec)) {
    auto real = fs::canonical(path, ec);
    if (!ec) return real;
  }
  return path;
}

}  // namespace

Result<std::string> read_file(const fs::path& path) {
  return read_file_limited(path, std::size_t(1) << 30);
}

Result<std::string> read_file_limited(const fs::path& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot read", path, errno);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return io_error("cannot read", path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      return Error(Errc::invalid_input, path.string() + " is larger than " +
                                            std::to_string(max_bytes) + " bytes");
    }
  }
  ::close(fd);
  return out;
}

AtomicFile::AtomicFile(fs::path path, mode_t mode) : m_path(resolve_target(path)), m_mode(mode) {
  m_tmp = m_path.parent_path() / ("." + m_path.filename().string() + ".acmed-tmp-" + random_suffix());
  m_fd = ::open(m_tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (m_fd < 0) m_failed = true;
}

AtomicFile::~AtomicFile() {
  if (m_fd >= 0) ::close(m_fd);
  if (!m_tmp.empty()) ::unlink(m_tmp.c_str());
}

Status AtomicFile::write(std::string_view data) {
  if (m_fd < 0) return io_error("cannot create temporary file for", m_path, errno ? errno : EIO);
  auto st = write_all(m_fd, data, m_tmp);
  if (!st) m_failed = true;
  return st;
}

Status AtomicFile::commit() {
  if (m_fd < 0 || m_failed) return Error(Errc::io, "cannot write " + m_path.string());
  // The mode given at open() is filtered by the umask; set it exactly.
  if (::fchmod(m_fd, m_mode) != 0) return io_error("cannot chmod", m_tmp, errno);
  struct stat st {};
  if (::stat(m_path.c_str(), &st) == 0) {
    // Keep the owner of the file we replace (best effort: only root may give files away).
    if (::fchown(m_fd, st.st_uid, st.st_gid) != 0 && geteuid() == 0) {
      return io_error("cannot chown", m_tmp, errno);
    }
  }
  if (::fsync(m_fd) != 0) return io_error("cannot fsync", m_tmp, errno);
  ::close(m_fd);
  m_fd = -1;
  if (::rename(m_tmp.c_str(), m_path.c_str()) != 0) return io_error("cannot rename onto", m_path, errno);
  m_tmp.clear();
  return sync_dir(m_path.parent_path().empty() ? fs::path(".") : m_path.parent_path());
}

Status write_file_atomic(const fs::path& path, std::string_view data, std::optional<mode_t> mode) {
  mode_t m = 0644;
  if (mode) {
    m = *mode;
  } else {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) m = st.st_mode & 07777;
  }
  AtomicFile file(path, m);
  ACMED_CHECK(file.write(data));
  return file.commit();
}

Status create_file_atomic(const fs::path& path, std::string_view data, mode_t mode) {
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  const fs::path tmp = dir / ("." + path.filename().string() + ".acmed-tmp-" + random_suffix());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return io_error("cannot create temporary file for", path, errno);
  Status written = write_all(fd, data, tmp);
  // The mode given at open() is filtered by the umask; set it exactly.
  if (written && ::fchmod(fd, mode) != 0) written = io_error("cannot chmod", tmp, errno);
  if (written && ::fsync(fd) != 0) written = io_error("cannot fsync", tmp, errno);
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    return written;
  }
  // link(2), unlike rename(2), fails when the name exists: the no-replace half of the contract.
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST)
      return Error(Errc::conflict, path.string() + " exists already; acmed does not replace it");
    return io_error("cannot create", path, err);
  }
  ::unlink(tmp.c_str());
  return sync_dir(dir);
}

Status make_dirs(const fs::path& dir, mode_t mode, EnforceMode enforce) {
  std::error_code ec;
  bool existed = fs::is_directory(dir, ec);
  if (!existed) {
    if (dir.has_parent_path() && dir.parent_path() != dir) {
      ACMED_CHECK(make_dirs(dir.parent_path(), 0755));
    }
    if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
      return io_error("cannot create directory", dir, errno);
    }
  }
  if ((!existed || enforce == EnforceMode::yes) && ::chmod(dir.c_str(), mode) != 0) {
    return io_error("cannot chmod", dir, errno);
  }
  return {};
}

Status replace_symlink(const fs::path& link, const fs::path& target) {
  fs::path tmp = link.parent_path() / ("." + link.filename().string() + ".acmed-tmp-" + random_suffix());
  if (::symlink(target.c_str(), tmp.c_str()) != 0) return io_error("cannot create symlink", tmp, errno);
  if (::rename(tmp.c_str(), link.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return io_error("cannot replace symlink", link, err);
  }
  return sync_dir(link.parent_path());
}

Status sync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return io_error("cannot fsync directory", dir, err);
  return {};
}

Status remove_file(const fs::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("cannot remove", path, errno);
  return {};
}

Result<FileStamp> stamp_file(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    return Error(err == ENOENT ? Errc::not_found : Errc::io,
                 "cannot stat " + path.string() + ": " + std::strerror(err));
  }
  auto ns = [](const timespec& t) { return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; };
  return FileStamp{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                   static_cast<std::int64_t>(st.st_size), ns(st.st_mtim), ns(st.st_ctim)};
}

}  // namespace acmed::sys
