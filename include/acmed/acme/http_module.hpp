// The HTTP module: libcurl and everything it links (about twenty libraries, 4 MB of memory
// mapped at start-up) live in acmed-http.so, which acmed loads the first time it needs the
// network. A renewal run with nothing due, `certificates`, `rollback` and the like never load it.
//
// The module exports one C function, acmed_http_module_v1(), returning the table below. It must
// come from the same build as acmed (ACMED_BUILD_ID, made when the build dir is configured): a
// module of another build could lay out these types differently.
#pragma once

#include "acmed/acme/transport.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::acme {

struct HttpModule {
  const char* build_id;  // ACMED_BUILD_ID it was built with
  Result<std::unique_ptr<Transport>> (*create)(TransportOptions options);
  bool (*url_is_allowed)(std::string_view url);
  std::optional<std::string> (*resolve_url)(std::string_view base, std::string_view ref);
};

inline constexpr const char* k_http_module_file = "acmed-http.so";

// Where the module is looked for, in order: <dir of the running binary>/../lib/acmed/ (the build
// tree and a relocated install) and the configured install directory ACMED_HTTP_MODULE_DIR.
std::vector<std::filesystem::path> http_module_candidates();

// A module file acmed may load: a regular file (not a symlink) in a directory, both owned by root
// or the user running acmed and writable by nobody else. Errc::io (Errc::not_found when
// missing) naming the file otherwise.
Status check_module_file(const std::filesystem::path& file);

// The loaded module (loaded once, thread-safe; a failure is remembered). Errc::internal naming
// every place tried and why it was refused.
Result<const HttpModule*> http_module();

// Where the loaded module came from; nullopt when it could not be loaded.
std::optional<std::filesystem::path> http_module_file();

}  // namespace acmed::acme
