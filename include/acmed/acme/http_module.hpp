// The HTTP module: libcurl and everything it links (about twenty libraries, 4 MB of memory
// mapped at start-up) live in acmed-http.so, which acmed loads the first time it needs the
// network. A renewal run with nothing due, `certificates`, `rollback` and the like never load it.
//
// The module exports one C function, acmed_http_module_v1(), returning the table below. It is
// built from the same tree as acmed and refused when its version differs.
#pragma once

#include "acmed/acme/transport.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::acme {

struct HttpModule {
  const char* version;  // ACMED_VERSION it was built with
  Result<std::unique_ptr<Transport>> (*create)(TransportOptions options);
  bool (*url_is_allowed)(std::string_view url);
  std::optional<std::string> (*resolve_url)(std::string_view base, std::string_view ref);
};

inline constexpr const char* k_http_module_file = "acmed-http.so";

// Where the module is looked for, in order: <dir of the running binary>/../lib/acmed/ (the build
// tree and a relocated install) and the configured install directory ACMED_HTTP_MODULE_DIR.
std::vector<std::filesystem::path> http_module_candidates();

// A module file acmed may load: a regular file in a directory, both owned by root or the user
// running acmed and not writable by others (nor by the group when running as root). Errc::io
// (Errc::not_found when missing) naming the file otherwise.
Status check_module_file(const std::filesystem::path& file);

// The loaded module (loaded once, thread-safe; a failure is remembered). Errc::internal naming
// every place tried and why it was refused.
Result<const HttpModule*> http_module();

}  // namespace acmed::acme
