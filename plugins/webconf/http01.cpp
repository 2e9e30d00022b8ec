#include "plugins/webconf/http01.hpp"

#include <algorithm>

namespace acmed::plugins::webconf {

bool key_authorization_is_safe(std::string_view ka) {
  return !ka.empty() && ka.size() <= 512 && std::all_of(ka.begin(), ka.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

Status check_http01_tasks(std::string_view plugin, std::span<const challenge::Task> tasks) {
  for (const auto& t : tasks) {
    if (t.type != "http-01") {
      return Error(Errc::internal, "the " + std::string(plugin) +
                                       " authenticator answers http-01 only, not " + t.type +
                                       " for " + t.identifier);
    }
    if (!challenge::token_is_safe(t.token) || !key_authorization_is_safe(t.key_authorization)) {
      return Error(Errc::protocol, "the CA sent an unsafe challenge token for " + t.identifier);
    }
  }
  return {};
}

Result<std::string> challenge_dir(std::string_view flag, const std::filesystem::path& dir) {
  const std::string given = dir.string();
  std::string shown;
  for (unsigned char c : given) {
    if (c < 0x20 || c == 0x7f) {
      static const char* k_hex = "0123456789abcdef";
      shown += std::string("\\x") + k_hex[c >> 4] + k_hex[c & 0xf];
    } else {
      shown += static_cast<char>(c);
    }
  }
  if (!dir.is_absolute()) {
    return Error(Errc::usage,
                 std::string(flag) + " must be an absolute directory, not \"" + shown + "\"");
  }
  constexpr std::string_view k_refused = "\"'\\;{}#$";
  bool unsafe = std::any_of(given.begin(), given.end(), [&](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f || k_refused.find(c) != std::string_view::npos;
  });
  if (unsafe) {
    return Error(Errc::usage, std::string(flag) + " \"" + shown +
                                  "\": acmed will not write quotes, backslashes, control "
                                  "characters or any of ;{}#$ into a web server's config");
  }
  std::string out = dir.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Status TemporaryEdit::apply(install::ServerControl& server, const install::Plan& plan) {
  undo();
  m_tx =
      std::make_unique<install::Transaction>(server, std::filesystem::path(), install::Persist::no);
  ACMED_CHECK(m_tx->apply(plan));
  return m_tx->test_and_reload();
}

void TemporaryEdit::undo() noexcept {
  if (!m_tx) return;
  try {
    (void)m_tx->rollback();  // a failed restore was already logged by the transaction
  } catch (...) {
    // undo() runs from destructors and cleanup(): nothing may escape it
  }
  m_tx.reset();
}

}  // namespace acmed::plugins::webconf
