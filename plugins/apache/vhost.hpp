// Choosing the VirtualHost apache serves a name from, the way apache 2.4 does (server/vhost.c):
// among the vhosts on the address and port, in config order, the first whose ServerName equals
// the name or one of whose ServerAlias values matches it (with * and ? wildcards), compared
// case-insensitively.
#pragma once

#include "plugins/apache/config.hpp"

#include <string_view>

namespace acmed::plugins::apache {

// ServerAlias matching: `pattern` with * (any run) and ? (one character), case-insensitive.
bool name_matches(std::string_view pattern, std::string_view name);

// True if the vhost answers plain HTTP on `port` (an address with that port, "*" or no port).
bool listens_on(const VirtualHost& vhost, std::string_view port);

// Index in config.vhosts of the non-SSL vhost on `port` that apache serves `name` from.
// Errc::not_found when none has the name (the message lists the names found on that port), so
// acmed never edits apache's fallback vhost by accident.
Result<std::size_t> select_vhost(const Config& config, std::string_view name,
                                 std::string_view port = "80");

}  // namespace acmed::plugins::apache
