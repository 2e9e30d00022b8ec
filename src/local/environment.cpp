#include "acmed/local/environment.hpp"

#include "acmed/sys/process.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

namespace acmed::local {

namespace {

std::string user_name(const EnvLookup& env) {
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_name != nullptr) {
    return pw->pw_name;
  }
  return env("USER").value_or("user");
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

fs::path tool(const char* name) {
  return sys::find_in_path(name);
}

// The value of environment variable `var` as an absolute path; Errc::config when it cannot be
// made one (an empty value, a working directory that is gone).
Result<fs::path> absolute_from(const char* var, const std::string& value) {
  std::error_code ec;
  fs::path abs = fs::absolute(value, ec);
  if (ec) {
    return Error(Errc::config,
                 std::string(var) + "='" + value + "' is not a usable path: " + ec.message());
  }
  return abs;
}

}  // namespace

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

Result<fs::path> ca_root_dir(const EnvLookup& env) {
  if (auto root = env("ACMED_LOCAL_CAROOT")) return absolute_from("ACMED_LOCAL_CAROOT", *root);
  // XDG Base Directory spec: a relative XDG_DATA_HOME is invalid and must be ignored.
  if (auto xdg = env("XDG_DATA_HOME"); xdg && fs::path(*xdg).is_absolute()) {
    return fs::path(*xdg) / "acmed";
  }
  if (auto home = env("HOME")) {
    ACMED_TRY(fs::path abs, absolute_from("HOME", *home));
    return abs / ".local" / "share" / "acmed";
  }
  return Error(Errc::config, "cannot tell where the local CA lives: HOME is not set",
               "set ACMED_LOCAL_CAROOT to a directory for the local CA");
}

Result<Environment> detect_environment(const EnvLookup& env) {
  Environment out;
  ACMED_TRY(out.ca_root, ca_root_dir(env));
  auto home = env("HOME");
  if (!home) {
    return Error(Errc::config, "HOME is not set",
                 "acmed local needs HOME to find the browsers' certificate databases");
  }
  ACMED_TRY(out.home, absolute_from("HOME", *home));
  if (auto root = env("ACMED_LOCAL_SYSTEM_ROOT")) {
    ACMED_TRY(out.system_root, absolute_from("ACMED_LOCAL_SYSTEM_ROOT", *root));
  }
  if (auto java = env("JAVA_HOME")) {
    ACMED_TRY(out.java_home, absolute_from("JAVA_HOME", *java));
  }
  out.user_at_host = user_name(env) + "@" + host_name();
  out.certutil = tool("certutil");
  out.update_ca_certificates = tool("update-ca-certificates");
  out.keytool = tool("keytool");
  return out;
}

}  // namespace acmed::local
