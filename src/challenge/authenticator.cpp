#include "acmed/challenge/authenticator.hpp"
#include "acmed/util/strings.hpp"

#include <algorithm>
#include <cctype>

namespace acmed::challenge {

namespace {

std::string join(std::span<const std::string> items) {
  return util::join(items, ", ");
}

}  // namespace

Result<std::vector<std::string>> parse_preferred_challenges(std::span<const std::string> items) {
  std::vector<std::string> out;
  for (const std::string& item : items) {
    std::string t = util::ascii_lower(item);
    if (t == "dns" || t == "http" || t == "tls-alpn") t += "-01";
    if (t != "dns-01" && t != "http-01" && t != "tls-alpn-01")
      return Error(Errc::usage, "--preferred-challenges: unknown challenge type '" + item + "'",
                   "use dns-01, http-01 or tls-alpn-01 (or dns, http, tls-alpn)");
    if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  }
  return out;
}

Result<std::vector<std::string>> challenge_order(const Authenticator& authenticator,
                                                 std::span<const std::string> preferred) {
  const std::vector<std::string> supported = authenticator.supported_types();
  if (preferred.empty()) return supported;
  std::vector<std::string> out;
  for (const std::string& t : preferred)
    if (std::find(supported.begin(), supported.end(), t) != supported.end()) out.push_back(t);
  if (out.empty())
    return Error(Errc::usage,
                 "the " + authenticator.name() + " authenticator answers " + join(supported) +
                     ", none of the preferred challenges (" + join(preferred) + ")",
                 "change --preferred-challenges or choose an authenticator for those types");
  return out;
}

Status check_wildcards(std::span<const std::string> names, std::span<const std::string> types,
                       std::string_view authenticator) {
  if (std::find(types.begin(), types.end(), "dns-01") != types.end()) return ok_status();
  for (const std::string& name : names)
    if (name.rfind("*.", 0) == 0)
      return Error(Errc::usage,
                   "the wildcard name " + name + " can only be proven with dns-01, which " +
                       std::string(authenticator) + " does not answer here (it answers " +
                       join(types) + ")",
                   "use a DNS authenticator (--dns-rfc2136, or --manual with "
                   "--preferred-challenges dns), or request the name without the wildcard");
  return ok_status();
}

bool token_is_safe(std::string_view token) {
  if (token.empty() || token.size() > 256) return false;
  for (char c : token) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace acmed::challenge
