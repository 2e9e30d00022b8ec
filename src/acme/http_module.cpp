#include "acmed/acme/http_module.hpp"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace acmed::acme {

namespace fs = std::filesystem;

namespace {

using ModuleEntry = const HttpModule* (*)();

// Owned by root or by us, and not writable by others: loading code from a file another user can
// replace would hand them whatever acmed runs as. As root (the usual case) group-writable is
// refused too; an ordinary user's own build tree is often group-writable (umask 002 with a
// private group), which only exposes that user.
Status check_owner_and_mode(const fs::path& path, const struct stat& st) {
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    return Error(Errc::io, path.string() + " belongs to another user (uid " +
                               std::to_string(st.st_uid) + ")");
  }
  const bool root = ::geteuid() == 0;
  if ((st.st_mode & (root ? (S_IWGRP | S_IWOTH) : S_IWOTH)) != 0) {
    return Error(Errc::io, path.string() +
                               (root ? " is writable by group or others" : " is writable by others"));
  }
  return {};
}

Result<const HttpModule*> load() {
  std::string tried;
  for (const fs::path& file : http_module_candidates()) {
    auto usable = check_module_file(file);
    if (!usable) {
      if (usable.error().code != Errc::not_found) tried += "; " + usable.error().message;
      else tried += "; " + file.string() + ": not there";
      continue;
    }
    void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* why = ::dlerror();
      tried += "; " + file.string() + ": " + (why ? why : "dlopen failed");
      continue;
    }
    // The handle is never closed: transports made by the module live until exit.
    auto entry = reinterpret_cast<ModuleEntry>(::dlsym(handle, "acmed_http_module_v1"));
    const HttpModule* module = entry ? entry() : nullptr;
    if (!module || std::strcmp(module->version, ACMED_VERSION) != 0) {
      tried += "; " + file.string() + ": not the HTTP module of acmed " ACMED_VERSION;
      continue;
    }
    return module;
  }
  return Error(Errc::internal, "cannot load acmed's HTTP module " + std::string(k_http_module_file) +
                                   " (" + tried.substr(2) + ")",
               "install acmed with `cmake --install` (the module goes to lib/acmed/ next to "
               "bin/), or run it from its build tree");
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
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    int err = errno;
    return Error(err == ENOENT ? Errc::not_found : Errc::io,
                 "cannot stat " + file.string() + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) return Error(Errc::io, file.string() + " is not a regular file");
  ACMED_CHECK(check_owner_and_mode(file, st));
  fs::path dir = file.parent_path();
  struct stat dst {};
  if (::stat(dir.c_str(), &dst) != 0) {
    return Error(Errc::io, "cannot stat " + dir.string() + ": " + std::strerror(errno));
  }
  return check_owner_and_mode(dir, dst);
}

Result<const HttpModule*> http_module() {
  static std::once_flag once;
  static Result<const HttpModule*> loaded = Error(Errc::internal, "not loaded");
  std::call_once(once, [] { loaded = load(); });
  return loaded;
}

}  // namespace acmed::acme
