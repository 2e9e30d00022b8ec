#include "acmed/acme/url_policy.hpp"

#include "acmed/acme/transport.hpp"
#include "acmed/util/strings.hpp"

#include <curl/curl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>

namespace acmed::acme {

namespace {

// RFC 6890 and its updates: the ranges a public CA never lives in.
AddressScope v4_scope(std::uint32_t a) {
  auto in = [a](std::uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  if (in(0x7f000000, 8)) return AddressScope::loopback;
  if (in(0x0a000000, 8) || in(0xac100000, 12) || in(0xc0a80000, 16) || in(0x64400000, 10))
    return AddressScope::private_network;
  if (in(0xa9fe0000, 16)) return AddressScope::link_local;
  if (in(0x00000000, 8) || in(0xe0000000, 4) || in(0xf0000000, 4))  // 240/4 has broadcast
    return AddressScope::special;
  return AddressScope::public_internet;
}

AddressScope v6_scope(const std::array<std::uint8_t, 16>& b) {
  auto v4_tail = [&b] {
    return (std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) |
           (std::uint32_t{b[14]} << 8) | std::uint32_t{b[15]};
  };
  auto zero_until = [&b](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      if (b[i] != 0) return false;
    return true;
  };
  if (zero_until(10) && b[10] == 0xff && b[11] == 0xff)
    return v4_scope(v4_tail());                                                   // ::ffff:a.b.c.d
  static constexpr std::array<std::uint8_t, 12> k_nat64{0x00, 0x64, 0xff, 0x9b};  // 64:ff9b::/96
  if (std::memcmp(b.data(), k_nat64.data(), k_nat64.size()) == 0) return v4_scope(v4_tail());
  if (zero_until(15)) return b[15] == 1 ? AddressScope::loopback : AddressScope::special;
  if (zero_until(12)) return AddressScope::special;  // deprecated IPv4-compatible ::a.b.c.d
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressScope::link_local;       // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressScope::private_network;  // fec0::/10
  if ((b[0] & 0xfe) == 0xfc) return AddressScope::private_network;                  // fc00::/7
  if (b[0] == 0xff) return AddressScope::special;                                   // multicast
  return AddressScope::public_internet;
}

std::array<std::uint8_t, 16> bytes_of(const in6_addr& a) {
  std::array<std::uint8_t, 16> out{};
  std::memcpy(out.data(), &a, out.size());
  return out;
}

bool host_is_loopback(const std::string& host) {
  if (host == "localhost" || host == "localhost.") return true;
  auto scope = literal_scope(host);
  return scope && *scope == AddressScope::loopback;
}

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlStringDeleter {
  void operator()(char* s) const { curl_free(s); }
};

std::optional<std::string> url_part(CURLU* u, CURLUPart part, unsigned flags = 0) {
  char* raw = nullptr;
  if (curl_url_get(u, part, &raw, flags) != CURLUE_OK) return std::nullopt;
  std::unique_ptr<char, CurlStringDeleter> owned(raw);
  return std::string(owned.get());
}

Error refused(std::string_view url, std::string_view why, Errc code = Errc::protocol) {
  return Error(code, "refusing the URL '" + std::string(url) + "': " + std::string(why),
               code == Errc::invalid_input
                   ? "use the https:// URL of the ACME directory"
                   : "the CA is misconfigured or the connection is being tampered with");
}

}  // namespace

const char* to_string(AddressScope scope) {
  switch (scope) {
    case AddressScope::public_internet:
      return "a public address";
    case AddressScope::loopback:
      return "a loopback address";
    case AddressScope::private_network:
      return "a private network address";
    case AddressScope::link_local:
      return "a link-local address";
    case AddressScope::special:
      return "a special-purpose address";
  }
  return "an unknown address";
}

std::optional<AddressScope> address_scope(const sockaddr* address) {
  if (address == nullptr) return std::nullopt;
  if (address->sa_family == AF_INET) {
    sockaddr_in v4{};
    std::memcpy(&v4, address, sizeof v4);
    return v4_scope(ntohl(v4.sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, address, sizeof v6);
    return v6_scope(bytes_of(v6.sin6_addr));
  }
  return std::nullopt;
}

std::optional<AddressScope> literal_scope(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::string text(host);
  if (auto percent = text.find('%'); percent != std::string::npos) text.erase(percent);  // zone
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return v4_scope(ntohl(v4.s_addr));
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) return v6_scope(bytes_of(v6));
  return std::nullopt;
}

std::optional<UrlOrigin> url_origin(std::string_view url) {
  // libcurl's own parser: it normalises odd spellings of IPv4 addresses ("0x7f.1", "2130706433")
  // to what it will connect to, and handles userinfo and brackets as curl does.
  std::unique_ptr<CURLU, CurlUrlDeleter> u(curl_url());
  if (!u) return std::nullopt;
  const std::string text(url);
  if (curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) return std::nullopt;
  auto scheme = url_part(u.get(), CURLUPART_SCHEME);
  auto host = url_part(u.get(), CURLUPART_HOST);
  auto port = url_part(u.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme || !host || !port || host->empty()) return std::nullopt;
  return UrlOrigin{util::ascii_lower(*scheme), util::ascii_lower(*host), *port};
}

std::optional<std::string> resolve_url(std::string_view base, std::string_view ref) {
  std::unique_ptr<CURLU, CurlUrlDeleter> u(curl_url());
  if (!u) return std::nullopt;
  const std::string b(base), r(ref);
  if (curl_url_set(u.get(), CURLUPART_URL, b.c_str(), 0) != CURLUE_OK) return std::nullopt;
  // Setting a URL on a handle that already holds one resolves it as a relative reference.
  if (curl_url_set(u.get(), CURLUPART_URL, r.c_str(), 0) != CURLUE_OK) return std::nullopt;
  return url_part(u.get(), CURLUPART_URL);
}

Result<UrlPolicy> UrlPolicy::for_directory(std::string_view directory_url) {
  auto origin = url_origin(directory_url);
  if (!origin) return refused(directory_url, "it is not a URL", Errc::invalid_input);
  const bool loopback = host_is_loopback(origin->host);
  if (origin->scheme != "https" && !(origin->scheme == "http" && loopback))
    return refused(directory_url,
                   "only https:// is allowed (plain http:// only for 127.0.0.0/8, ::1 and "
                   "localhost)",
                   Errc::invalid_input);
  UrlPolicy p;
  p.m_directory_url = std::string(directory_url);
  p.m_directory = std::move(origin);
  p.m_directory_loopback = loopback;
  return p;
}

Status UrlPolicy::check_url(std::string_view url) const {
  auto origin = url_origin(url);
  if (!origin) return refused(url, "it is not a URL");
  if (!m_directory) {  // rule 1 only
    if (origin->scheme == "https" || (origin->scheme == "http" && host_is_loopback(origin->host)))
      return ok_status();
    return refused(url,
                   "only https:// is allowed (plain http:// only for 127.0.0.0/8, ::1 and "
                   "localhost)");
  }
  if (origin->scheme == "https") return ok_status();
  if (origin->scheme == "http") {
    if (m_directory->scheme == "https")
      return refused(url, "the CA's directory " + m_directory_url +
                              " is https://, so every URL it hands out must be https:// too");
    if (*origin == *m_directory) return ok_status();
    return refused(url, "plain http:// is allowed only to the directory's own origin (" +
                            m_directory->scheme + "://" + m_directory->host + ":" +
                            m_directory->port + ")");
  }
  return refused(url, "only https:// URLs are allowed");
}

Status UrlPolicy::check_connection(std::string_view url, AddressScope scope) {
  if (!m_directory || m_directory_loopback) return ok_status();
  auto origin = url_origin(url);
  if (!m_directory_scope && origin && *origin == *m_directory) {
    m_directory_scope = scope;  // the user chose this server
    return ok_status();
  }
  if (scope == AddressScope::public_internet) return ok_status();
  if (m_directory_scope && (*m_directory_scope == AddressScope::loopback ||
                            (scope == *m_directory_scope && scope != AddressScope::special)))
    return ok_status();
  return Error(Errc::protocol,
               "refusing to connect to " + std::string(to_string(scope)) + " for '" +
                   std::string(url) + "': the CA's directory " + m_directory_url +
                   " is not on this machine" +
                   (scope == AddressScope::private_network ? " or on a private network" : ""),
               "the CA is misconfigured, its DNS points somewhere it should not, or the "
               "connection is being tampered with");
}

}  // namespace acmed::acme
