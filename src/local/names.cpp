#include "acmed/local/names.hpp"

#include "acmed/util/domain.hpp"

#include <algorithm>

namespace acmed::local {

namespace {

// Development names are often single labels ("localhost", "myhost"), which util's validator
// rejects for public CAs. Such a name is checked with the same rules by validating it with a
// reserved suffix (RFC 2606 ".invalid") appended, so there is one copy of the label rules.
Result<util::Identifier> parse_local_identifier(const std::string& text) {
  auto parsed = util::parse_identifier(text);
  if (parsed) return parsed;
  std::string_view bare = text;
  if (!bare.empty() && bare.back() == '.') bare.remove_suffix(1);
  // A single label, or a wildcard over one ("*.localhost"); "*" alone would become the
  // wildcard "*.invalid": a wildcard needs a name below it.
  std::string_view label = bare.rfind("*.", 0) == 0 ? bare.substr(2) : bare;
  if (label.empty() || label.find_first_of(".*") != std::string_view::npos) return parsed;
  static constexpr std::string_view k_suffix = ".invalid";
  auto with_suffix = util::parse_identifier(std::string(bare) + std::string(k_suffix));
  if (!with_suffix) return parsed;  // the original error names the user's text
  util::Identifier id = *with_suffix;
  id.value.resize(id.value.size() - k_suffix.size());
  return id;
}

}  // namespace

Result<LeafNames> parse_names(std::span<const std::string> names) {
  if (names.empty()) {
    return Error(Errc::usage, "no name given", "example: acmed local cert localhost 127.0.0.1 ::1");
  }
  LeafNames out;
  for (const auto& name : names) {
    ACMED_TRY(util::Identifier id, parse_local_identifier(name));
    if (std::find(out.all.begin(), out.all.end(), id.value) != out.all.end()) continue;
    out.all.push_back(id.value);
    if (id.kind == util::IdentifierKind::ip) {
      out.ips.push_back(id.value);
      continue;
    }
    out.dns.push_back(id.value);
    if (id.is_wildcard() && id.value.find('.', 2) == std::string::npos) {
      out.warnings.push_back(
          "many browsers refuse a wildcard directly below a top-level name, "
          "such as " +
          id.value + "; prefer *.myapp." + id.value.substr(2));
    }
  }
  return out;
}

std::string default_file_base(const LeafNames& names, Purpose purpose) {
  std::string base;
  for (char c : names.all.front()) {
    if (c == '*') {
      base += "_wildcard";
    } else if (c == ':') {
      base += '_';
    } else {
      base += c;
    }
  }
  if (names.all.size() > 1) base += "+" + std::to_string(names.all.size() - 1);
  if (purpose == Purpose::client) base += "-client";
  return base;
}

}  // namespace acmed::local
