#include "acmed/renew/profiles.hpp"
#include "acmed/util/strings.hpp"

#include <algorithm>
#include <cctype>

namespace acmed::renew {

namespace {

constexpr std::string_view k_shortlived = "shortlived";

// The host of an http(s) URL, lower-case; "" when there is none.
std::string url_host(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/:?#"));
  return util::ascii_lower(rest);
}

}  // namespace

std::optional<std::size_t> profile_name_limit(std::string_view profile) {
  // Let's Encrypt's published limits per profile (its profiles documentation, 2025).
  if (profile == "tlsserver" || profile == k_shortlived) return 25;
  if (profile == "classic") return 100;
  return std::nullopt;
}

bool is_lets_encrypt(std::string_view server) {
  std::string host = url_host(server);
  return host == "acme-v02.api.letsencrypt.org" || host == "acme-staging-v02.api.letsencrypt.org";
}

Result<ProfileChoice> choose_profile(std::string_view server,
                                     const std::vector<util::Identifier>& ids,
                                     std::string_view preferred, std::string_view required) {
  ProfileChoice choice{std::string(preferred), std::string(required), {}};
  bool has_ip = std::any_of(ids.begin(), ids.end(), [](const util::Identifier& id) {
    return id.kind == util::IdentifierKind::ip;
  });
  if (has_ip && is_lets_encrypt(server)) {
    if (!choice.required.empty() && choice.required != k_shortlived)
      return Error(Errc::usage,
                   "Let's Encrypt issues certificates for IP addresses only under the "
                   "'shortlived' profile, not '" +
                       choice.required + "'",
                   "use --required-profile shortlived, or leave the IP addresses out");
    if (choice.required.empty() && choice.preferred != k_shortlived) {
      choice.note =
          "Let's Encrypt issues certificates for IP addresses only under the "
          "'shortlived' profile (6 days); asking for it" +
          (choice.preferred.empty() ? std::string() : " instead of '" + choice.preferred + "'");
      choice.preferred = std::string(k_shortlived);
    }
  }
  const std::string& profile = choice.required.empty() ? choice.preferred : choice.required;
  if (auto limit = profile_name_limit(profile); limit && ids.size() > *limit)
    return Error(Errc::usage,
                 "the '" + profile + "' profile allows at most " + std::to_string(*limit) +
                     " names per certificate; this order has " + std::to_string(ids.size()),
                 "split the names over several certificates (--cert-name)");
  return choice;
}

}  // namespace acmed::renew
