// libFuzzer target: a CA response body through the JSON parser and every ACME message type
// (directory, account, order, authorization, challenge, identifier, problem, renewal info).
// Nothing may crash, leak or hit undefined behaviour.
#include "acmed/acme/messages.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace acmed;
using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  // As the client parses a CA's body: with the nesting limit (issue 14 item 1).
  auto parsed = acme::parse_ca_json(body);
  if (!parsed) return 0;
  const json& doc = *parsed;
  const std::string_view url = "https://ca.test/acme/x";
  (void)acme::Directory::from_json(doc, url);
  (void)acme::Account::from_json(doc, url);
  (void)acme::Order::from_json(doc, url);
  (void)acme::Authorization::from_json(doc, url);
  (void)acme::Challenge::from_json(doc);
  (void)acme::Identifier::from_json(doc);
  (void)acme::RenewalInfo::from_json(doc);
  if (auto problem = acme::Problem::from_json(doc)) (void)problem->short_type();
  return 0;
}
