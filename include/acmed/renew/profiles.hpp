// What acmed knows of certificate profiles (draft-ietf-acme-profiles) before sending anything:
// how many names each Let's Encrypt profile takes, and that Let's Encrypt issues certificates
// for IP addresses only under `shortlived`. Pure functions: tested without a CA.
#pragma once

#include "acmed/util/domain.hpp"
#include "acmed/util/result.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::renew {

// The most identifiers an order under `profile` may carry: 25 for Let's Encrypt's `tlsserver`
// and `shortlived`, 100 for `classic`; nullopt for a profile acmed knows nothing of.
std::optional<std::size_t> profile_name_limit(std::string_view profile);

// True when `server` is a Let's Encrypt directory (production or staging).
bool is_lets_encrypt(std::string_view server);

struct ProfileChoice {
  std::string preferred;  // what to ask for, as IssueRequest::preferred_profile
  std::string required;   // as IssueRequest::required_profile
  std::string note;       // for the log when the choice was changed ("" otherwise)
};

// The profile an order for `ids` at `server` must ask for, from the user's preferred/required
// one:
// - IP identifiers at Let's Encrypt need `shortlived`: a preferred profile becomes it (with a
//   note), a different required one is Errc::usage;
// - more identifiers than the profile's limit is Errc::usage naming the limit.
// Sends nothing; called before the first request of an order.
Result<ProfileChoice> choose_profile(std::string_view server,
                                     const std::vector<util::Identifier>& ids,
                                     std::string_view preferred, std::string_view required);

}  // namespace acmed::renew
