// What an authenticator plugin must do: publish what each challenge needs, and take it down again.
// Plugins implement this; the ACME client never sees plugins and plugins never see the client.
#pragma once

#include "acmed/util/result.hpp"

#include <span>
#include <string>
#include <vector>

namespace acmed::challenge {

// One challenge to publish (RFC 8555 section 8).
struct Task {
  std::string identifier;         // "example.com" or "192.0.2.1" (wildcards without "*.")
  std::string identifier_type;    // "dns" or "ip"
  std::string type;               // "http-01", "dns-01", "tls-alpn-01"
  std::string token;              // validated base64url before a Task is ever built
  std::string key_authorization;  // token "." thumbprint
  std::string dns_txt_value;      // for dns-01
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Short name used in renewal confs and logs ("webroot", "standalone", "nginx").
  virtual std::string name() const = 0;
  // Challenge types this authenticator can satisfy, most preferred first.
  virtual std::vector<std::string> supported_types() const = 0;
  // Publishes every task (all at once, so the CA can validate them in parallel). On error,
  // whatever was published is left for cleanup(), which the caller always runs.
  virtual Status perform(std::span<const Task> tasks) = 0;
  // Removes everything perform() published, also after a failure. Never throws; idempotent.
  virtual void cleanup(std::span<const Task> tasks) noexcept = 0;
};

// certbot's --preferred-challenges items: "dns" / "dns-01", "http" / "http-01",
// "tls-alpn" / "tls-alpn-01" (case-insensitive) as full type names, in order, without
// duplicates. Errc::usage naming an unknown item.
Result<std::vector<std::string>> parse_preferred_challenges(std::span<const std::string> items);

// The challenge types to answer with, most preferred first: `preferred` (already parsed)
// restricted to what `authenticator` supports, or all it supports when `preferred` is empty.
// Errc::usage naming the authenticator when none of the preferred types is supported.
Result<std::vector<std::string>> challenge_order(const Authenticator& authenticator,
                                                 std::span<const std::string> preferred);

// Errc::usage when `names` holds a wildcard ("*.example.com") and dns-01 is not in `types`:
// a CA validates wildcards only with dns-01 (RFC 8555 section 7.1.3).
Status check_wildcards(std::span<const std::string> names, std::span<const std::string> types,
                       std::string_view authenticator);

// True if `token` may appear in a file name or URL path: non-empty base64url, at most 256 chars.
bool token_is_safe(std::string_view token);

}  // namespace acmed::challenge
