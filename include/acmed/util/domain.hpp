// Validation and normalisation of the names a user asks a certificate for.
#pragma once

#include "acmed/util/result.hpp"

#include <string>
#include <string_view>

namespace acmed::util {

enum class IdentifierKind { dns, ip };

struct Identifier {
  IdentifierKind kind = IdentifierKind::dns;
  std::string value;  // normalised: lower-case DNS name without trailing dot, or canonical IP text
  bool is_wildcard() const { return kind == IdentifierKind::dns && value.rfind("*.", 0) == 0; }
};

// Parses one name given on the command line. DNS names are lower-cased and lose a trailing dot;
// RFC 1035 limits apply (labels 1-63 chars of [a-z0-9-], not starting or ending with '-', name
// <= 253 chars, at least two labels); "*." is accepted only as the whole first label. IPv4 and
// IPv6 addresses become ip identifiers in canonical form (RFC 8738). Non-ASCII names are refused
// with a hint to give the punycode ("xn--") form. Errc::invalid_input naming the name otherwise.
Result<Identifier> parse_identifier(std::string_view text);

// True if `text` is an IPv4 or IPv6 address; `canonical` receives the inet_ntop form.
bool parse_ip(std::string_view text, std::string& canonical);

// Checks a contact e-mail address before it is sent to a CA (RFC 8555 section 7.3: a mailto
// URI without header fields): an optional "mailto:" prefix, then exactly one '@' between a
// non-empty local part of printable ASCII without spaces, ',', '?', '<' or '>' and a domain
// that parse_identifier accepts as a (non-wildcard) DNS name. Errc::usage naming the address
// (rendered with util::printable) and what is wrong with it.
Status check_email(std::string_view address);

// True if `name` is a valid certificate lineage name (no '/', no "..", not empty, no leading
// '.', printable ASCII).
bool is_safe_lineage_name(std::string_view name);

}  // namespace acmed::util
