#include "plugins/webroot/webroot.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace acmed::plugins::webroot {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

// Root and the user acmed runs as may own what acmed follows; nobody else.
bool trusted_owner(uid_t uid) {
  return uid == 0 || uid == ::geteuid() || uid == ::getuid();
}

std::string owner_text(uid_t uid) {
  return "uid " + std::to_string(uid);
}

// Opens directory `name` inside `parent` (shown to the user as `shown`), creating it (0755,
// whatever the umask) when missing. A symlink is followed only under the rule in webroot.hpp.
// Sets `created` when this call made the directory. The returned descriptor is the caller's.
Result<int> open_step(int parent, const std::string& name, const fs::path& shown, bool& created) {
  created = false;
  struct stat st {};
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno != ENOENT) {
      return Error(Errc::io, "cannot inspect " + shown.string() + ": " + errno_text(errno));
    }
    if (::mkdirat(parent, name.c_str(), 0755) == 0) {
      created = true;
    } else if (errno != EEXIST) {
      return Error(Errc::io, "cannot create " + shown.string() + ": " + errno_text(errno));
    }
  }
  int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    if (created) ::fchmod(fd, 0755);  // mkdirat applied the umask
    return fd;
  }
  if (errno != ELOOP && errno != ENOTDIR) {
    return Error(Errc::io, "cannot open " + shown.string() + ": " + errno_text(errno));
  }
  // Not a plain directory: a symlink, or something else. Look at this very link (O_PATH), so
  // that what is checked is what is read.
  int link = ::openat(parent, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (link < 0) return Error(Errc::io, "cannot open " + shown.string() + ": " + errno_text(errno));
  struct stat lst {};
  char target[4096];
  ssize_t len = -1;
  if (::fstat(link, &lst) == 0 && S_ISLNK(lst.st_mode)) {
    len = ::readlinkat(link, "", target, sizeof target - 1);
  }
  ::close(link);
  if (!S_ISLNK(lst.st_mode)) {
    return Error(Errc::config, shown.string() + " exists and is not a directory",
                 "move it away so that acmed can create the challenge directory");
  }
  const std::string hint =
      "acmed follows a symlink on the way to the challenge directory only when the link and "
      "its target are owned by root or by the user running acmed, and the target is not "
      "writable by others; remove the link or fix its ownership";
  if (!trusted_owner(lst.st_uid)) {
    return Error(Errc::config,
                 "refusing to follow the symlink " + shown.string() + ": it is owned by " +
                     owner_text(lst.st_uid) + ", not by root or the user running acmed",
                 hint);
  }
  if (len < 0) {
    return Error(Errc::io, "cannot read the symlink " + shown.string() + ": " + errno_text(errno));
  }
  target[len] = '\0';
  // Relative targets resolve from the link's directory, as the kernel would resolve them.
  int dir = ::openat(parent, target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    return Error(Errc::config,
                 "the symlink " + shown.string() + " points to " + target +
                     ", which cannot be opened as a directory: " + errno_text(errno),
                 hint);
  }
  struct stat tst {};
  std::string why;
  if (::fstat(dir, &tst) != 0) {
    why = "cannot be inspected";
  } else if (!trusted_owner(tst.st_uid)) {
    why = "is owned by " + owner_text(tst.st_uid) + ", not by root or the user running acmed";
  } else if ((tst.st_mode & S_IWOTH) != 0) {
    why = "is writable by others";
  }
  if (!why.empty()) {
    ::close(dir);
    return Error(
        Errc::config,
        "refusing to follow the symlink " + shown.string() + ": its target " + target + " " + why,
        hint);
  }
  return dir;
}

// Writes `data` as `name` inside directory `dir`: a new temp file (O_EXCL, no symlink
// followed) renamed over `name`, so nothing outside `dir` is ever opened for writing.
Status write_in(int dir, const std::string& name, std::string_view data, const fs::path& shown) {
  std::string tmp = "." + name + ".acmed-" + std::to_string(::getpid());
  int fd = ::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return Error(Errc::io, "cannot create a file in " + shown.string() + ": " + errno_text(errno));
  bool ok = true;
  int err = 0;
  for (std::size_t done = 0; ok && done < data.size();) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      err = errno;
    } else {
      done += static_cast<std::size_t>(n);
    }
  }
  if (ok && (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0)) {
    ok = false;
    err = errno;
  }
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && ::renameat(dir, tmp.c_str(), dir, name.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlinkat(dir, tmp.c_str(), 0);
    return Error(Errc::io, "cannot write " + (shown / name).string() + ": " + errno_text(err));
  }
  ::fsync(dir);
  return {};
}

}  // namespace

Result<WebrootMap> map_from_arguments(
    const std::vector<std::pair<std::string, std::string>>& ordered) {
  WebrootMap map;
  std::string current;
  std::vector<std::string> before_first;
  for (const auto& [flag, value] : ordered) {
    if (flag == "w") {
      current = value;
      for (const auto& name : before_first) map[name] = current;
      before_first.clear();
    } else if (current.empty()) {
      before_first.push_back(value);
    } else {
      map.emplace(value, current);  // the first -w given for a name wins, as in certbot
    }
  }
  if (!before_first.empty()) {
    return Error(Errc::usage, "--webroot needs a document root for " + before_first.front(),
                 "give -w /path/to/docroot before the -d names it serves");
  }
  return map;
}

WebrootAuthenticator::~WebrootAuthenticator() {
  cleanup({});
}

int WebrootAuthenticator::keep(int fd) {
  m_fds.push_back(fd);
  return fd;
}

Result<int> WebrootAuthenticator::challenge_dir(const fs::path& webroot) {
  if (auto it = m_dirs.find(webroot); it != m_dirs.end()) return it->second;
  // The webroot itself is what the user named: it may be a symlink.
  int root = ::open(webroot.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    return Error(Errc::config,
                 "webroot " + webroot.string() + " is not a directory (" + errno_text(errno) + ")");
  }
  int parent = keep(root);
  fs::path shown = webroot;
  for (const char* step : {".well-known", "acme-challenge"}) {
    shown /= step;
    bool created = false;
    ACMED_TRY(int fd, open_step(parent, step, shown, created));
    if (created) m_created.push_back(CreatedDir{parent, step});
    parent = keep(fd);
  }
  m_dirs[webroot] = parent;
  return parent;
}

Status WebrootAuthenticator::perform(std::span<const challenge::Task> tasks) {
  for (const auto& task : tasks) {
    if (task.type != "http-01") {
      return Error(Errc::internal, "webroot cannot answer a " + task.type + " challenge");
    }
    if (!challenge::token_is_safe(task.token)) {
      return Error(Errc::protocol, "the CA sent an unsafe challenge token for " + task.identifier);
    }
    auto it = m_map.find(task.identifier);
    if (it == m_map.end()) {
      return Error(Errc::config, "no webroot given for " + task.identifier,
                   "add -w DIR before -d " + task.identifier);
    }
    auto dir = challenge_dir(it->second);
    if (!dir) {
      return std::move(dir).error().with_context("while answering the challenge for " +
                                                 task.identifier);
    }
    fs::path shown = it->second / ".well-known" / "acme-challenge";
    auto st = write_in(*dir, task.token, task.key_authorization, shown);
    if (!st) {
      return std::move(st).error().with_context("while answering the challenge for " +
                                                task.identifier);
    }
    m_written.push_back(Written{*dir, task.token});
  }
  return {};
}

void WebrootAuthenticator::cleanup(std::span<const challenge::Task>) noexcept {
  for (const auto& w : m_written) ::unlinkat(w.dir, w.name.c_str(), 0);
  m_written.clear();
  // Directories we created, deepest first; rmdir leaves a non-empty one alone.
  for (auto it = m_created.rbegin(); it != m_created.rend(); ++it)
    ::unlinkat(it->parent, it->name.c_str(), AT_REMOVEDIR);
  m_created.clear();
  for (int fd : m_fds) ::close(fd);
  m_fds.clear();
  m_dirs.clear();
}

}  // namespace acmed::plugins::webroot
