#include "acmed/util/result.hpp"

#include "acmed/util/text.hpp"

namespace acmed {

const char* to_string(Errc code) {
  switch (code) {
    case Errc::usage: return "usage";
    case Errc::invalid_input: return "invalid_input";
    case Errc::io: return "io";
    case Errc::network: return "network";
    case Errc::protocol: return "protocol";
    case Errc::ca_problem: return "ca_problem";
    case Errc::bad_nonce: return "bad_nonce";
    case Errc::rate_limited: return "rate_limited";
    case Errc::crypto: return "crypto";
    case Errc::config: return "config";
    case Errc::server: return "server";
    case Errc::locked: return "locked";
    case Errc::not_found: return "not_found";
    case Errc::conflict: return "conflict";
    case Errc::internal: return "internal";
    case Errc::interrupted: return "interrupted";
  }
  return "internal";
}

bool is_temporary(Errc code) { return code == Errc::network || code == Errc::rate_limited; }

std::string Error::describe() const {
  // Messages and frames quote servers and files: rendered safe, so this stays one line.
  constexpr std::size_t k_message_cap = 2048;
  constexpr std::size_t k_frame_cap = 512;
  std::string out = util::printable(message, k_message_cap);
  if (!context.empty()) {
    out += " (";
    for (std::size_t i = 0; i < context.size(); ++i) {
      if (i) out += "; ";
      out += util::printable(context[i], k_frame_cap);
    }
    out += ")";
  }
  return out;
}

}  // namespace acmed
