#include "acmed/acme/http_module.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

namespace acmed::acme {

namespace fs = std::filesystem;

namespace {

using ModuleEntry = const HttpModule* (*)();

// Owned by root or by us, and writable by nobody else (group included): loading code from a file
// another user can replace would hand them whatever acmed runs as, usually root.
Status check_owner_and_mode(const fs::path& path, const struct stat& st) {
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    return Error(Errc::io, path.string() + " belongs to another user (uid " +
                               std::to_string(st.st_uid) + ")");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Error(Errc::io, path.string() + " is writable by group or others");
  }
  return {};
}

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Opens `file` (not through a final symlink) and checks the opened file and its directory. The
// module is then loaded through /proc/self/fd/N, so what is loaded is what was checked even if
// the path is swapped meanwhile. (The directories above are not checked: whoever can write them
// can replace the acmed binary itself just as well.)
Result<Fd> open_checked(const fs::path& file) {
  Fd f(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (f.fd < 0) {
    int err = errno;
    return Error(err == ENOENT ? Errc::not_found : Errc::io,
                 "cannot open " + file.string() + ": " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) {
    return Error(Errc::io, "cannot stat " + file.string() + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Error(Errc::io, file.string() + " is not a regular file");
  ACMED_CHECK(check_owner_and_mode(file, st));
  fs::path dir = file.parent_path();
  struct stat dst {};
  if (::stat(dir.c_str(), &dst) != 0) {
    return Error(Errc::io, "cannot stat " + dir.string() + ": " + std::strerror(errno));
  }
  ACMED_CHECK(check_owner_and_mode(dir, dst));
  return f;
}

struct Loaded {
  const HttpModule* table = nullptr;
  fs::path file;
};

Result<Loaded> load() {
  std::string tried;
  for (const fs::path& file : http_module_candidates()) {
    auto opened = open_checked(file);
    if (!opened) {
      tried += "; " + (opened.error().code == Errc::not_found ? file.string() + ": not there"
                                                              : opened.error().message);
      continue;
    }
    std::string via = "/proc/self/fd/" + std::to_string(opened->fd);
    void* handle = ::dlopen(via.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* why = ::dlerror();
      tried += "; " + file.string() + ": " + (why ? why : "dlopen failed");
      continue;
    }
    // The handle is never closed: transports made by the module live until exit.
    auto entry = reinterpret_cast<ModuleEntry>(::dlsym(handle, "acmed_http_module_v1"));
    const HttpModule* module = entry ? entry() : nullptr;
    if (!module || std::strcmp(module->build_id, ACMED_BUILD_ID) != 0) {
      tried += "; " + file.string() + ": built separately from this acmed";
      continue;
    }
    return Loaded{module, file};
  }
  if (tried.empty()) tried = "; nowhere to look";
  return Error(Errc::internal, "cannot load acmed's HTTP module " + std::string(k_http_module_file) +
                                   " (" + tried.substr(2) + ")",
               "install acmed with `cmake --install` (the module goes to lib/acmed/ next to "
               "bin/), or run it from its build tree");
}

const Result<Loaded>& loaded() {
  static std::once_flag once;
  static Result<Loaded> result = Error(Errc::internal, "not loaded");
  std::call_once(once, [] { result = load(); });
  return result;
}

}  // namespace

std::vector<fs::path> http_module_candidates() {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) out.push_back(self.parent_path().parent_path() / "lib" / "acmed" / k_http_module_file);
#ifdef ACMED_HTTP_MODULE_DIR
  fs::path installed = fs::path(ACMED_HTTP_MODULE_DIR) / k_http_module_file;
  if (out.empty() || out.front() != installed) out.push_back(installed);
#endif
  return out;
}

Status check_module_file(const fs::path& file) {
  ACMED_TRY(Fd checked, open_checked(file));
  return {};
}

Result<const HttpModule*> http_module() {
  const Result<Loaded>& l = loaded();
  if (!l) return l.error();
  return l->table;
}

std::optional<fs::path> http_module_file() {
  const Result<Loaded>& l = loaded();
  if (!l) return std::nullopt;
  return l->file;
}

}  // namespace acmed::acme
