// The listening socket of the built-in servers (http-01 and tls-alpn-01).
#pragma once

#include "acmed/util/result.hpp"

#include <string>
#include <string_view>

namespace acmed::plugins::standalone {

// A non-blocking TCP socket listening on address:port (empty address: every address, IPv6
// dual-stack, else IPv4). Errc::conflict when the port is taken or needs root; Errc::usage
// naming `flag` when address is not an IP address.
Result<int> listen_socket(const std::string& address, int port, std::string_view flag);

}  // namespace acmed::plugins::standalone
