// Where `acmed local` keeps its CA and which trust stores it may touch, read once from the process
// environment so everything below it is tested with scratch directories.
#pragma once

#include "acmed/util/result.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace acmed::local {

namespace fs = std::filesystem;

// Looks up an environment variable; nullopt when it is unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The real process environment (getenv); an empty value counts as unset.
std::optional<std::string> process_env(const std::string& name);

struct Environment {
  fs::path ca_root;                 // holds rootCA.pem, rootCA-key.pem and installed.json
  fs::path home;                    // the user's home: NSS databases live below it
  fs::path system_root{"/"};        // prefix of the Debian system store (scratch root in tests)
  fs::path java_home;               // empty when JAVA_HOME is unset
  std::string user_at_host;         // "alice@laptop", shown in the CA's name
  fs::path certutil;                // full path, empty when not installed (libnss3-tools)
  fs::path update_ca_certificates;  // full path, empty when not installed (ca-certificates)
  fs::path keytool;                 // keytool on PATH (for the system Java keystore), or empty
};

// The CA directory: $ACMED_LOCAL_CAROOT, else $XDG_DATA_HOME/acmed (when absolute), else
// $HOME/.local/share/acmed. Made absolute. Errc::config when none of them is set.
Result<fs::path> ca_root_dir(const EnvLookup& env);

// Everything `acmed local` needs to know about this machine: ca_root_dir, $HOME,
// $ACMED_LOCAL_SYSTEM_ROOT (default "/"), $JAVA_HOME, the user and host names, and where
// certutil, update-ca-certificates and keytool are (looked up in $PATH). Errc::config when
// neither the CA directory nor $HOME can be determined.
Result<Environment> detect_environment(const EnvLookup& env);

}  // namespace acmed::local
