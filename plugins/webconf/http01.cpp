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
