// The manual authenticator (certbot's --manual): http-01 and dns-01 answered by the user's
// hook scripts (--manual-auth-hook / --manual-cleanup-hook, certbot's environment), or by the
// user at a terminal. dns-01 goes through the shared mechanism (dns::Dns01Authenticator), so the
// propagation check runs after the hooks as for every DNS provider.
#pragma once

#include "acmed/challenge/authenticator.hpp"
#include "acmed/dns/dns01.hpp"
#include "acmed/sys/process.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace acmed::plugins::manual {

enum class Interactive { yes, no };

struct Options {
  std::string auth_hook;     // shell command; empty: ask the user (Interactive::yes only)
  std::string cleanup_hook;  // shell command; may be empty
  Interactive interactive = Interactive::no;
  std::chrono::seconds hook_timeout{300};
  dns::Options dns;
  // Where instructions go and Enter is read without hooks; default: stderr and stdin.
  std::function<void(const std::string&)> show;
  std::function<bool()> wait_for_enter;
};

// The authenticator. Errc::usage without an auth hook when not interactive, or with a cleanup
// hook but no auth hook.
Result<std::unique_ptr<challenge::Authenticator>> make_authenticator(Options options,
                                                                     sys::ProcessRunner& runner);

}  // namespace acmed::plugins::manual
