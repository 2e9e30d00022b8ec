// Which URLs and network addresses acmed contacts on behalf of a CA. Everything a CA sends is
// untrusted: without these rules a remote CA could make acmed (root) send its signed requests
// over plain HTTP, or to services on this machine or its private network.
//
//  1. The directory URL (the user's --server) is https://, or http:// to a loopback host
//     (127.0.0.0/8, ::1, localhost): a test CA on this machine.
//  2. From an https directory every URL must be https. Plain http is allowed only when the
//     directory itself is http (so on loopback), and then only to that same origin.
//  3. When the directory's host is not loopback, every connection is checked on the address it
//     is about to connect to (after DNS): loopback, link-local and special addresses (0.0.0.0,
//     multicast, ...) are refused; private-network addresses (RFC 1918, fc00::/7, 100.64/10)
//     only when the directory itself was reached on a private address (a CA inside the
//     organisation). The directory's own first connection decides that; it is the user's choice.
#pragma once

#include "acmed/util/result.hpp"

#include <optional>
#include <string>
#include <string_view>

struct sockaddr;

namespace acmed::acme {

enum class AddressScope {
  public_internet,
  loopback,         // 127.0.0.0/8, ::1
  private_network,  // 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, fec0::/10
  link_local,       // 169.254/16, fe80::/10
  special,          // 0.0.0.0/8, ::, multicast, 240/4, broadcast: never a CA's address
};

// "a loopback address", "a private network address", ... for messages.
const char* to_string(AddressScope scope);

// The scope of an IPv4 or IPv6 socket address (IPv4-mapped and NAT64 addresses by their IPv4
// part); nullopt for other address families.
std::optional<AddressScope> address_scope(const sockaddr* address);
// The scope of an IP address written as text ("10.1.2.3", "::1", "[::1]"); nullopt when `host`
// is not an IP address.
std::optional<AddressScope> literal_scope(std::string_view host);

// Scheme, host and port of a URL as libcurl parses it (scheme and host in lower case, the
// scheme's default port filled in), so what is checked is what curl connects to.
struct UrlOrigin {
  std::string scheme;
  std::string host;
  std::string port;
  bool operator==(const UrlOrigin&) const = default;
};
// nullopt when `url` does not parse as an absolute URL.
std::optional<UrlOrigin> url_origin(std::string_view url);

class UrlPolicy {
 public:
  // No directory: rule 1 for every URL and no address check. Only for transports that do not
  // talk to a CA (tests); the client always installs for_directory().
  UrlPolicy() = default;

  // The policy for the CA at `directory_url`. Errc::invalid_input naming the URL when it breaks
  // rule 1 (it comes from the user).
  static Result<UrlPolicy> for_directory(std::string_view directory_url);

  // Rules 1 and 2 for a URL about to be requested or kept. Errc::protocol naming the URL.
  Status check_url(std::string_view url) const;

  // Rule 3 for a new connection for `url` to an address of `scope`. The first connection to the
  // directory's own origin records the directory's scope. Errc::protocol naming the URL and the
  // kind of address.
  Status check_connection(std::string_view url, AddressScope scope);

  // True when the directory's host is loopback: every address may be contacted.
  bool directory_on_loopback() const { return m_directory_loopback; }

 private:
  std::string m_directory_url;
  std::optional<UrlOrigin> m_directory;
  bool m_directory_loopback = false;
  std::optional<AddressScope> m_directory_scope;  // set by the directory's first connection
};

}  // namespace acmed::acme
