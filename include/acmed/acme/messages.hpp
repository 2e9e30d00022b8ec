// ACME protocol objects (RFC 8555 section 7.1) as value types, and RFC 7807 problem documents
// turned into acmed::Error. Parsing never throws: JSON of the wrong shape is Errc::protocol.
#pragma once

#include "acmed/util/result.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::acme {

// Nesting depth accepted in JSON from a CA: ACME objects are at most four levels deep.
inline constexpr int k_max_json_depth = 64;
// Subproblems of one problem document that are read (RFC 8555 section 6.7.1); the rest are
// counted, not kept.
inline constexpr std::size_t k_max_subproblems = 100;

// Parses a CA's response body. Errc::protocol when it is not JSON or nests deeper than
// k_max_json_depth (checked while parsing, so a deep document never reaches a recursive copy,
// dump or destructor).
Result<nlohmann::json> parse_ca_json(std::string_view body);

// RFC 8555 section 9.7.7 (dns), RFC 8738 (ip).
struct Identifier {
  std::string type;
  std::string value;

  static Result<Identifier> from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
  bool operator==(const Identifier&) const = default;
};

// RFC 8555 section 7.1.1.
struct Directory {
  std::string url;  // where it was fetched from
  std::string new_nonce;
  std::string new_account;
  std::string new_order;
  std::string revoke_cert;
  std::string key_change;
  std::string renewal_info;  // RFC 9773 section 3; empty when the CA has no ARI
  struct Meta {
    std::string terms_of_service;
    std::string website;
    std::vector<std::string> caa_identities;
    bool external_account_required = false;
    std::map<std::string, std::string> profiles;  // draft-ietf-acme-profiles: name -> description
  } meta;

  // Errc::protocol "URL is not an ACME directory" unless newNonce, newAccount and newOrder are
  // strings; optional members of the wrong type are errors too.
  static Result<Directory> from_json(const nlohmann::json& j, std::string_view url);
};

// An RFC 7807 problem document (RFC 8555 section 6.7).
struct Problem {
  std::string type;  // "urn:ietf:params:acme:error:badNonce", ... (may be "about:blank")
  std::string detail;
  int status = 0;
  std::optional<Identifier> identifier;
  std::vector<Problem> subproblems;     // RFC 8555 section 6.7.1, at most k_max_subproblems
  std::size_t subproblems_dropped = 0;  // beyond the cap
  std::string instance;

  // Lenient: missing or mistyped members are left empty; only a non-object is an error.
  // Subproblems are read one level deep (their own subproblems are ignored), never recursively.
  static Result<Problem> from_json(const nlohmann::json& j);
  // "badNonce" for "urn:ietf:params:acme:error:badNonce"; the full type otherwise.
  std::string short_type() const;
};

// RFC 8555 section 7.1.2.
struct Account {
  std::string url;     // from the Location header (the "kid")
  std::string status;  // "valid", "deactivated", "revoked"
  std::vector<std::string> contact;
  std::string orders;

  static Result<Account> from_json(const nlohmann::json& j, std::string_view url);
  // The members above (status, contact, orders) as an account object, e.g. for regr.json.
  nlohmann::json to_json() const;
};

// RFC 8555 section 7.1.4 / 8.
struct Challenge {
  std::string type;
  std::string url;
  std::string status;  // "pending", "processing", "valid", "invalid"
  std::string token;   // not yet checked with token_is_safe (the client does that)
  std::optional<Problem> error;

  static Result<Challenge> from_json(const nlohmann::json& j);
};

// RFC 8555 section 7.1.4.
struct Authorization {
  std::string url;
  Identifier identifier;
  std::string status;  // "pending", "valid", "invalid", "deactivated", "expired", "revoked"
  bool wildcard = false;
  std::vector<Challenge> challenges;

  static Result<Authorization> from_json(const nlohmann::json& j, std::string_view url);
};

// RFC 8555 section 7.1.3 (+ "profile" from draft-ietf-acme-profiles, "replaces" RFC 9773).
struct Order {
  std::string url;
  std::string status;  // "pending", "ready", "processing", "valid", "invalid"
  std::vector<Identifier> identifiers;
  std::vector<std::string> authorizations;
  std::string finalize;
  std::string certificate;  // present once "valid"
  std::string profile;
  std::optional<Problem> error;

  static Result<Order> from_json(const nlohmann::json& j, std::string_view url);
};

// RFC 9773 section 4.2.
struct RenewalInfo {
  std::chrono::system_clock::time_point window_start;
  std::chrono::system_clock::time_point window_end;
  std::string explanation_url;
  std::optional<std::chrono::seconds> retry_after;

  static Result<RenewalInfo> from_json(const nlohmann::json& j);
};

// Key in Error::problem where a Retry-After delay (in whole seconds) is recorded next to the
// CA's own members, e.g. for rateLimited. Read it back with retry_after().
inline constexpr const char* k_retry_after_key = "retry_after_seconds";

// Turns a problem document into an Error: Errc::rate_limited for rateLimited, Errc::bad_nonce
// for badNonce, Errc::ca_problem otherwise; a plain-words message naming the identifier(s),
// with every piece of CA text through util::printable; a hint saying what to do next; and as
// Error::problem a flat object of type, detail, status and instance (plus k_retry_after_key).
Error problem_to_error(const Problem& problem,
                       std::optional<std::chrono::seconds> retry_after = std::nullopt);

// The Retry-After recorded by problem_to_error, if any.
std::optional<std::chrono::seconds> retry_after(const Error& error);

// RFC 9110 section 10.2.3: delay-seconds or an HTTP-date (relative to `now`); nullopt when
// malformed. Dates in the past give 0 s; delays beyond a year are cut to a year.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

// Targets of `Link: <url>;rel="name"` fields (RFC 8288), in order, e.g. rel "alternate"
// (RFC 8555 section 7.4.2) or "up".
std::vector<std::string> link_targets(const std::vector<std::string>& link_fields,
                                      std::string_view rel);

}  // namespace acmed::acme
