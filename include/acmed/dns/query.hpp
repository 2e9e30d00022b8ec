// DNS messages through libldns: queries to one server and TSIG-signed RFC 2136 updates. The only
// place that talks to ldns; everything above sees plain strings.
#pragma once

#include "acmed/util/result.hpp"

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::dns {

// A DNS server to send to: an IP address and a port.
struct Server {
  std::string address;  // IPv4 or IPv6 literal
  std::uint16_t port = 53;
  std::string str() const;  // "192.0.2.1:53", "[2001:db8::1]:53"
  bool operator==(const Server&) const = default;
};

// "IP", "IP:PORT", "[IPv6]:PORT" or a bare IPv6. Errc::usage naming the text otherwise.
Result<Server> parse_server(std::string_view text, std::uint16_t default_port = 53);

// The name servers of /etc/resolv.conf (port 53). Errc::config when there are none.
Result<std::vector<Server>> system_servers();

struct Rr {
  std::string owner;  // lower case, no trailing dot
  std::string type;   // "TXT", "CNAME", "SOA", "NS", "A", "AAAA", "CAA"
  // TXT: the strings joined; names: lower case without trailing dot; A: text; CAA: "FLAGS TAG
  // VALUE" with the value as sent (RFC 8659: `0 issue letsencrypt.org; validationmethods=dns-01`)
  std::string data;
};

struct Answer {
  std::string rcode;           // "NOERROR", "NXDOMAIN", "REFUSED", ...
  bool authoritative = false;  // AA bit
  bool authenticated = false;  // AD bit: the (validating) resolver checked the DNSSEC chain
  std::vector<Rr> answer;
  std::vector<Rr> authority;
};

enum class Recursion { desired, off };

// DNSSEC bits of a query: none; DO (ask for signatures, see AD in the answer); DO and CD
// (checking disabled: the resolver answers even when validation fails, RFC 4035 section 3.2.2).
enum class Dnssec { off, ok, checking_disabled };

// Sends one query for `name`/`type` to `server` (UDP, TCP when truncated), bounded by
// `timeout`. Errc::network naming the server when it does not answer; any rcode is an answer.
Result<Answer> query(const Server& server, std::string_view name, std::string_view type,
                     Recursion recursion, std::chrono::milliseconds timeout,
                     Dnssec dnssec = Dnssec::off);

// A TSIG key (RFC 8945) as certbot's credentials name it.
struct TsigKey {
  std::string name;       // key name, e.g. "acmed-key."
  std::string secret;     // base64
  std::string algorithm;  // ldns name: "hmac-sha256.", "hmac-sha512.", ...
};

// ldns's name for a TSIG algorithm given as certbot does ("HMAC-SHA512", case-insensitive;
// also "hmac-sha256." and "hmac-md5.sig-alg.reg.int"). Empty when unsupported.
std::string tsig_algorithm(std::string_view name);

struct TxtChange {
  std::string name;   // owner, no trailing dot
  std::string value;  // TXT value
};

enum class UpdateOp { add, remove };

// One RFC 2136 UPDATE of `zone` at `server`, signed with `key`: adds each TXT record (TTL
// `ttl`) or deletes exactly these values (class NONE, section 2.5.4), never the rest of the
// RRset. The reply's TSIG is verified. Errc::network when the server does not answer;
// Errc::config for a TSIG failure, REFUSED or NOTAUTH, naming the server, zone and what to check.
Status update(const Server& server, std::string_view zone, const TsigKey& key,
              std::span<const TxtChange> changes, UpdateOp op, std::uint32_t ttl,
              std::chrono::milliseconds timeout);

}  // namespace acmed::dns
