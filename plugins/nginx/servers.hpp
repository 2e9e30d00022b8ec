// The http server blocks of a loaded config and how nginx picks one for a host name.
#pragma once

#include "plugins/nginx/config.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::plugins::nginx {

struct Listen {
  std::string address = "*";  // "*", "127.0.0.1", "[::]", "localhost"
  int port = 80;
  bool ssl = false;
  bool http2 = false;
  bool ipv6 = false;
  bool implicit = false;  // the server has no listen directive: nginx listens on *:80
};

// The address and port of a `listen` directive's arguments; nullopt for unix sockets and QUIC.
std::optional<Listen> parse_listen(const Node& listen);

struct Server {
  DirectiveRef block;              // the `server { }` node and the file it is written in
  std::vector<Listen> listens;     // at least one (the implicit *:80)
  std::vector<std::string> names;  // server_name arguments, lower-cased, in order
  std::vector<DirectiveRef> body;  // directives directly inside, includes expanded
};

// Every `server` block in the http context, in nginx's reading order.
std::vector<Server> http_servers(Config& config);

// Indices into `servers` of the blocks nginx would choose for requests to `host` on `port`
// (one per listening address: exact name, then the longest leading wildcard "*.a.b"/".a.b", then
// the longest trailing wildcard "a.b.*", then the first matching regex "~..."), in config order.
// A server that matches no name is not chosen even where it is the default server. `ssl` selects
// servers listening with or without TLS on `port`. Regexes use std::regex ECMAScript, case
// insensitive, with "(?<name>" and "(?P<name>" groups made plain: an approximation of PCRE.
enum class Tls { plain, ssl };
std::vector<std::size_t> select_servers(const std::vector<Server>& servers, std::string_view host,
                                        int port, Tls tls);

// True if `pattern` (one server_name argument) matches `host` at all, and how: 0 exact, 1 leading
// wildcard, 2 trailing wildcard, 3 regex; `length` is the wildcard's fixed part.
struct NameMatch {
  int rank = 0;
  std::size_t length = 0;
};
std::optional<NameMatch> match_name(std::string_view pattern, std::string_view host);

}  // namespace acmed::plugins::nginx
