#include "acmed/util/domain.hpp"
#include "acmed/util/strings.hpp"

#include "acmed/util/text.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace acmed::util {

namespace {

Error bad_name(std::string_view name, const std::string& why, const std::string& hint = {}) {
  return Error(Errc::invalid_input, "invalid domain name '" + std::string(name) + "': " + why,
               hint);
}

bool label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

}  // namespace

bool parse_ip(std::string_view text, std::string& canonical) {
  std::string s(text);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (::inet_pton(AF_INET, s.c_str(), buf) == 1) {
    canonical = ::inet_ntop(AF_INET, buf, out, sizeof out);
    return true;
  }
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (::inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    canonical = ::inet_ntop(AF_INET6, buf, out, sizeof out);
    return true;
  }
  return false;
}

Result<Identifier> parse_identifier(std::string_view text) {
  std::string ip;
  if (parse_ip(text, ip)) return Identifier{IdentifierKind::ip, ip};

  if (text.empty()) return bad_name(text, "it is empty");
  for (unsigned char c : text) {
    if (c >= 0x80) {
      return bad_name(text, "it contains non-ASCII characters",
                      "give the internationalised name in its punycode form (xn--...)");
    }
  }
  std::string name = ascii_lower(text);
  if (name.back() == '.') name.pop_back();
  if (name.empty()) return bad_name(text, "it is empty");
  if (name.size() > 253) return bad_name(text, "it is longer than 253 characters");

  std::string_view rest = name;
  bool wildcard = false;
  if (rest.rfind("*.", 0) == 0) {
    wildcard = true;
    rest.remove_prefix(2);
    std::string ip_text;
    if (parse_ip(rest, ip_text)) {
      return bad_name(text, "a wildcard cannot cover an IP address",
                      "request the IP address itself (-d " + std::string(rest) + ")");
    }
  }
  int labels = 0;
  while (true) {
    auto dot = rest.find('.');
    std::string_view label = rest.substr(0, dot);
    if (label.empty()) return bad_name(text, "it has an empty label (\"..\" or a leading dot)");
    if (label.size() > 63) return bad_name(text, "a label is longer than 63 characters");
    for (char c : label) {
      if (c == '*') {
        return bad_name(text,
                        "a wildcard is allowed only as the whole first label (*.example.com)");
      }
      if (!label_char(c)) {
        return bad_name(text, std::string("it contains the character '") + c + "'",
                        "names may contain only letters, digits, '-' and '.'");
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return bad_name(text, "a label starts or ends with '-'");
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (labels < 2 && wildcard) {
    return bad_name(text, "a wildcard must cover a name of at least two labels (*.example.com)");
  }
  if (labels < 2) {
    return bad_name(text, "it is not a fully qualified domain name",
                    "certificates are issued for names like example.com, not for bare host names");
  }
  return Identifier{IdentifierKind::dns, name};
}

Status check_email(std::string_view address) {
  auto bad = [address](const std::string& why) {
    return Error(Errc::usage,
                 "the e-mail address '" + printable(address, 256) + "' is not valid: " + why,
                 "pass a plain address such as -m you@example.com");
  };
  std::string_view rest = address;
  if (rest.substr(0, 7) == "mailto:") rest.remove_prefix(7);
  for (char c : rest) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return bad("it contains a control character (CR, LF, ...)");
    if (u >= 0x80) return bad("it contains non-ASCII characters");
    if (c == ' ' || c == ',' || c == '?' || c == '<' || c == '>')
      return bad(std::string("it contains '") + c + "'");
  }
  const auto at = rest.find('@');
  if (at == std::string_view::npos) return bad("it has no '@'");
  if (rest.find('@', at + 1) != std::string_view::npos) return bad("it has more than one '@'");
  if (at == 0) return bad("nothing comes before the '@'");
  if (at > 64) return bad("the part before the '@' is longer than 64 characters");
  auto domain = parse_identifier(rest.substr(at + 1));
  if (!domain || domain->kind != IdentifierKind::dns || domain->is_wildcard())
    return bad("the part after the '@' is not a domain name");
  return ok_status();
}

bool is_safe_lineage_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.size() > 255) return false;
  if (name.find("..") != std::string_view::npos) return false;
  for (unsigned char c : name) {
    if (c == '/' || c < 0x21 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace acmed::util
