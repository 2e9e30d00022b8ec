#include "acmed/util/result.hpp"

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
  }
  return "internal";
}

bool is_temporary(Errc code) { return code == Errc::network || code == Errc::rate_limited; }

std::string Error::describe() const {
  std::string out = message;
  if (!context.empty()) {
    out += " (";
    for (std::size_t i = 0; i < context.size(); ++i) {
      if (i) out += "; ";
      out += context[i];
    }
    out += ")";
  }
  return out;
}

}  // namespace acmed
