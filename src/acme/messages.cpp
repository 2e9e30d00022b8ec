#include "acmed/acme/messages.hpp"
#include "acmed/util/strings.hpp"

#include "acmed/sys/clock.hpp"
#include "acmed/util/text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>

namespace acmed::acme {

using nlohmann::json;

namespace {

enum class Need { required, optional };

// Reads members of one JSON object, remembering the first problem. `what` names the object in
// messages ("the order at https://...").
class Reader {
 public:
  Reader(const json& j, std::string what) : m_j(j), m_what(std::move(what)) {
    if (!m_j.is_object()) fail("is not a JSON object");
  }

  Reader& str(const char* key, std::string& out, Need need) {
    if (const json* v = member(key, need)) {
      if (v->is_string())
        out = v->get<std::string>();
      else
        fail(std::string("has a \"") + key + "\" that is not a string");
    }
    return *this;
  }

  Reader& strings(const char* key, std::vector<std::string>& out, Need need) {
    if (const json* v = member(key, need)) {
      if (!v->is_array()) return fail(std::string("has a \"") + key + "\" that is not a list");
      for (const auto& e : *v) {
        if (!e.is_string())
          return fail(std::string("has a \"") + key + "\" list with a non-string entry");
        out.push_back(e.get<std::string>());
      }
    }
    return *this;
  }

  Reader& boolean(const char* key, bool& out, Need need) {
    if (const json* v = member(key, need)) {
      if (v->is_boolean())
        out = v->get<bool>();
      else
        fail(std::string("has a \"") + key + "\" that is not true/false");
    }
    return *this;
  }

  // Points `out` at the member (no copy: it stays part of the parsed document).
  Reader& object(const char* key, const json*& out, Need need) {
    if (const json* v = member(key, need)) {
      if (v->is_object())
        out = v;
      else
        fail(std::string("has a \"") + key + "\" that is not an object");
    }
    return *this;
  }

  // The member, or nullptr when absent (an error if required) or when already failed.
  const json* member(const char* key, Need need) {
    if (m_error || !m_j.is_object()) return nullptr;
    auto it = m_j.find(key);
    if (it == m_j.end() || it->is_null()) {
      if (need == Need::required) fail(std::string("lacks \"") + key + "\"");
      return nullptr;
    }
    return &*it;
  }

  Reader& fail(const std::string& why) {
    if (!m_error)
      m_error = Error(Errc::protocol, "the CA sent " + util::printable(m_what) + " that " + why,
                      "this is a CA bug or an incompatible CA; report it with the URL");
    return *this;
  }

  bool ok() const { return !m_error.has_value(); }
  Error error() const { return *m_error; }

 private:
  const json& m_j;
  std::string m_what;
  std::optional<Error> m_error;
};

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Longer delays are cut to this, so arithmetic on them cannot overflow (one year).
constexpr long long k_max_retry_after = 365LL * 24 * 3600;

constexpr std::string_view k_acme_error_prefix = "urn:ietf:params:acme:error:";

// CA text in messages: one escaped line; details are capped tighter than the whole message.
constexpr std::size_t k_detail_cap = 400;
constexpr std::size_t k_name_cap = 256;

// The members of one problem document, without its subproblems.
void read_problem_members(const json& j, Problem& p) {
  auto text = [&j](const char* key, std::string& out) {
    auto it = j.find(key);
    if (it != j.end() && it->is_string()) out = it->get<std::string>();
  };
  text("type", p.type);
  text("detail", p.detail);
  text("instance", p.instance);
  auto status = j.find("status");
  if (status != j.end() && status->is_number_integer()) {
    const auto v = status->get<long long>();
    if (v >= 0 && v < 1000) p.status = static_cast<int>(v);
  }
  auto id = j.find("identifier");
  if (id != j.end())
    if (auto parsed = Identifier::from_json(*id)) p.identifier = std::move(*parsed);
}

// What to do next, per problem type (RFC 8555 section 6.7 table, RFC 8555 section 7.3.3 for
// userActionRequired, RFC 9773 for alreadyReplaced).
std::string hint_for(const Problem& p, std::optional<std::chrono::seconds> retry_after) {
  const std::string t = p.short_type();
  if (t == "rateLimited") {
    std::string h = "the CA's rate limit was hit; ";
    if (retry_after)
      h += "wait " + std::to_string(retry_after->count()) +
           " seconds (Retry-After) before trying again";
    else
      h += "wait before trying again (see the CA's rate-limit documentation)";
    return h;
  }
  // An unauthorized newAccount is about the binding, not about reaching the name.
  std::string detail = util::ascii_lower(p.detail);
  if (t == "unauthorized" && !p.identifier && detail.find("external account") != std::string::npos)
    return "check the --eab-kid and --eab-hmac-key values against your account at the CA";
  if (t == "unauthorized" || t == "connection" || t == "incorrectResponse" || t == "tls")
    return "check that the name points (A/AAAA records) to this machine and that port 80 (or "
           "443 for tls-alpn-01) is reachable from the internet, with no firewall or redirect in "
           "the way";
  if (t == "dns")
    return "check the DNS records of the name (A/AAAA, or the _acme-challenge TXT record for "
           "dns-01) with a public resolver";
  if (t == "caa")
    return "check the CAA records of the domain and its parents: they must allow this CA";
  if (t == "externalAccountRequired")
    return "this CA needs external account binding: pass --eab-kid and --eab-hmac-key from your "
           "CA account";
  if (t == "userActionRequired")
    return p.instance.empty() ? "visit the CA's website and accept its current terms of service"
                              : "visit " + util::printable(p.instance, k_name_cap) +
                                    " and follow the instructions there";
  if (t == "rejectedIdentifier" || t == "unsupportedIdentifier")
    return "the CA will not issue for this name; remove it from the request";
  if (t == "badCSR")
    return "the CA refused the certificate request; check the key type and the names requested";
  if (t == "badPublicKey") return "use an ECDSA (P-256/P-384) or RSA (2048-4096 bits) key";
  if (t == "badSignatureAlgorithm")
    return "the CA does not accept this account key type; use an ECDSA P-256 or RSA key";
  if (t == "invalidContact" || t == "unsupportedContact")
    return "check the e-mail address given with --email";
  if (t == "accountDoesNotExist")
    return "register an account first (acmed register), or check the account key";
  if (t == "alreadyRevoked") return "nothing to do: the certificate is already revoked";
  if (t == "badRevocationReason") return "use one of the revocation reasons the CA accepts";
  if (t == "alreadyReplaced")
    return "the certificate was already renewed; issue without replacing it";
  if (t == "serverInternal") return "the CA has a temporary problem; try again later";
  if (t == "orderNotReady" || t == "malformed" || t == "badNonce")
    return "this may be a bug in acmed or in the CA; rerun with -v and report it";
  return {};
}

}  // namespace

Result<json> parse_ca_json(std::string_view body) {
  // The parser itself is iterative; the callback sees every nesting step and stops keeping
  // values past the limit, so nothing deeper is ever built.
  bool too_deep = false;
  json::parser_callback_t limit = [&too_deep](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= k_max_json_depth)
      too_deep = true;
    return !too_deep;
  };
  json doc = json::parse(body.begin(), body.end(), limit, /*allow_exceptions=*/false);
  if (too_deep)
    return Error(
        Errc::protocol,
        "the CA sent JSON nested more than " + std::to_string(k_max_json_depth) + " levels deep",
        "the CA is misbehaving or is not an ACME CA; try again later or another CA");
  if (doc.is_discarded())
    return Error(Errc::protocol, "the CA sent malformed JSON",
                 "check that the server is an ACME CA; rerun later if it is having problems");
  return doc;
}

Result<Identifier> Identifier::from_json(const json& j) {
  Identifier id;
  Reader r(j, "an identifier");
  r.str("type", id.type, Need::required).str("value", id.value, Need::required);
  if (!r.ok()) return r.error();
  return id;
}

json Identifier::to_json() const {
  return json{{"type", type}, {"value", value}};
}

Result<Directory> Directory::from_json(const json& j, std::string_view url) {
  Directory d;
  d.url = std::string(url);
  auto not_directory = [&url] {
    return Error(Errc::protocol, std::string(url) + " is not an ACME directory",
                 "pass the directory URL of the CA, e.g. "
                 "https://acme-v02.api.letsencrypt.org/directory");
  };
  if (!j.is_object()) return not_directory();
  for (const char* key : {"newNonce", "newAccount", "newOrder"})
    if (!j.contains(key) || !j[key].is_string()) return not_directory();
  Reader r(j, "a directory at " + std::string(url));
  r.str("newNonce", d.new_nonce, Need::required)
      .str("newAccount", d.new_account, Need::required)
      .str("newOrder", d.new_order, Need::required)
      .str("revokeCert", d.revoke_cert, Need::optional)
      .str("keyChange", d.key_change, Need::optional)
      .str("renewalInfo", d.renewal_info, Need::optional);
  const json* meta = nullptr;
  r.object("meta", meta, Need::optional);
  if (!r.ok()) return r.error();
  if (meta) {
    Reader m(*meta, "a directory at " + std::string(url) + " whose meta");
    m.str("termsOfService", d.meta.terms_of_service, Need::optional)
        .str("website", d.meta.website, Need::optional)
        .strings("caaIdentities", d.meta.caa_identities, Need::optional)
        .boolean("externalAccountRequired", d.meta.external_account_required, Need::optional);
    const json* profiles = nullptr;
    m.object("profiles", profiles, Need::optional);
    if (!m.ok()) return m.error();
    if (profiles) {
      for (const auto& [name, description] : profiles->items()) {
        // The draft says the value is a description string; tolerate anything else as blank.
        d.meta.profiles[name] = description.is_string() ? description.get<std::string>() : "";
      }
    }
  }
  return d;
}

Result<Account> Account::from_json(const json& j, std::string_view url) {
  Account a;
  a.url = std::string(url);
  Reader r(j, "an account at " + a.url);
  r.str("status", a.status, Need::required)
      .strings("contact", a.contact, Need::optional)
      .str("orders", a.orders, Need::optional);
  if (!r.ok()) return r.error();
  return a;
}

json Account::to_json() const {
  json j{{"status", status}, {"contact", contact}};
  if (!orders.empty()) j["orders"] = orders;
  return j;
}

Result<Challenge> Challenge::from_json(const json& j) {
  Challenge c;
  Reader r(j, "a challenge");
  r.str("type", c.type, Need::required)
      .str("url", c.url, Need::required)
      .str("status", c.status, Need::required)
      .str("token", c.token, Need::optional);
  const json* error = nullptr;
  r.object("error", error, Need::optional);
  if (!r.ok()) return r.error();
  if (error) c.error = Problem::from_json(*error).value();
  return c;
}

Result<Authorization> Authorization::from_json(const json& j, std::string_view url) {
  Authorization a;
  a.url = std::string(url);
  Reader r(j, "an authorization at " + a.url);
  r.str("status", a.status, Need::required).boolean("wildcard", a.wildcard, Need::optional);
  const json* id = r.member("identifier", Need::required);
  const json* challenges = r.member("challenges", Need::required);
  if (!r.ok()) return r.error();
  auto parsed_id = Identifier::from_json(*id);
  if (!parsed_id) return std::move(parsed_id).error().with_context("in the authorization " + a.url);
  a.identifier = std::move(*parsed_id);
  if (!challenges->is_array()) return r.fail("has a \"challenges\" that is not a list").error();
  for (const auto& c : *challenges) {
    auto parsed = Challenge::from_json(c);
    if (!parsed)
      return std::move(parsed).error().with_context("in the authorization for " +
                                                    a.identifier.value + " at " + a.url);
    a.challenges.push_back(std::move(*parsed));
  }
  return a;
}

Result<Order> Order::from_json(const json& j, std::string_view url) {
  Order o;
  o.url = std::string(url);
  Reader r(j, "an order at " + o.url);
  r.str("status", o.status, Need::required)
      .strings("authorizations", o.authorizations, Need::required)
      .str("finalize", o.finalize, Need::required)
      .str("certificate", o.certificate, Need::optional)
      .str("profile", o.profile, Need::optional);
  const json* error = nullptr;
  r.object("error", error, Need::optional);
  const json* ids = r.member("identifiers", Need::required);
  if (!r.ok()) return r.error();
  if (error) o.error = Problem::from_json(*error).value();
  if (!ids->is_array()) return r.fail("has \"identifiers\" that are not a list").error();
  for (const auto& i : *ids) {
    auto parsed = Identifier::from_json(i);
    if (!parsed) return std::move(parsed).error().with_context("in the order " + o.url);
    o.identifiers.push_back(std::move(*parsed));
  }
  return o;
}

Result<RenewalInfo> RenewalInfo::from_json(const json& j) {
  RenewalInfo info;
  Reader r(j, "renewal information");
  const json* window = nullptr;
  r.object("suggestedWindow", window, Need::required)
      .str("explanationURL", info.explanation_url, Need::optional);
  if (!r.ok()) return r.error();
  std::string start, end;
  Reader w(*window, "renewal information whose suggestedWindow");
  w.str("start", start, Need::required).str("end", end, Need::required);
  if (!w.ok()) return w.error();
  if (!sys::parse_rfc3339(start, info.window_start) || !sys::parse_rfc3339(end, info.window_end))
    return w.fail("has a start or end that is not an RFC 3339 time").error();
  if (info.window_end < info.window_start)  // RFC 9773 section 4.2: end must follow start
    return w.fail("ends before it starts").error();
  return info;
}

Result<Problem> Problem::from_json(const json& j) {
  if (!j.is_object())
    return Error(Errc::protocol, "the CA sent a problem document that is not a JSON object");
  Problem p;
  read_problem_members(j, p);
  // RFC 8555 section 6.7.1: subproblems are flat; a loop, not recursion, with a cap.
  auto subs = j.find("subproblems");
  if (subs != j.end() && subs->is_array()) {
    for (const json& s : *subs) {
      if (!s.is_object()) continue;
      if (p.subproblems.size() == k_max_subproblems) {
        ++p.subproblems_dropped;
        continue;
      }
      Problem sub;
      read_problem_members(s, sub);
      p.subproblems.push_back(std::move(sub));
    }
  }
  return p;
}

std::string Problem::short_type() const {
  if (starts_with(type, k_acme_error_prefix)) return type.substr(k_acme_error_prefix.size());
  return type;
}

Error problem_to_error(const Problem& problem,
                       std::optional<std::chrono::seconds> retry_after_delay) {
  const std::string t = problem.short_type();
  Errc code = Errc::ca_problem;
  if (t == "rateLimited") code = Errc::rate_limited;
  if (t == "badNonce") code = Errc::bad_nonce;

  std::string message = "the CA refused";
  if (problem.identifier) message += " " + util::printable(problem.identifier->value, k_name_cap);
  message += ": ";
  message += problem.detail.empty()
                 ? (t.empty() ? std::string("no reason given") : util::printable(t, k_name_cap))
                 : util::printable(problem.detail, k_detail_cap);
  if (!t.empty() && problem.detail.find(t) == std::string::npos)
    message += " [" + util::printable(t, k_name_cap) + "]";
  // RFC 8555 section 6.7.1: one subproblem per identifier that failed. A few are named; the
  // message stays short however many the CA sent.
  constexpr std::size_t k_shown_subproblems = 5;
  const std::size_t total = problem.subproblems.size() + problem.subproblems_dropped;
  for (std::size_t i = 0; i < problem.subproblems.size() && i < k_shown_subproblems; ++i) {
    const Problem& sub = problem.subproblems[i];
    message += "; ";
    message += sub.identifier ? util::printable(sub.identifier->value, k_name_cap)
                              : std::string("(no identifier)");
    message += ": ";
    message += util::printable(sub.detail.empty() ? sub.short_type() : sub.detail, k_detail_cap);
  }
  if (total > k_shown_subproblems)
    message += "; and " + std::to_string(total - k_shown_subproblems) + " more";

  std::string hint = hint_for(problem, retry_after_delay);
  if (hint.empty())
    for (const Problem& sub : problem.subproblems)
      if (hint = hint_for(sub, retry_after_delay); !hint.empty()) break;

  Error e(code, std::move(message), std::move(hint));
  // Only the flat members the code branches on or shows: never a copy of the CA's document.
  json doc = json::object();
  if (!problem.type.empty()) doc["type"] = problem.type;
  if (!problem.detail.empty()) doc["detail"] = problem.detail;
  if (problem.status != 0) doc["status"] = problem.status;
  if (!problem.instance.empty()) doc["instance"] = problem.instance;
  if (retry_after_delay) doc[k_retry_after_key] = retry_after_delay->count();
  e.problem = std::make_shared<const json>(std::move(doc));
  return e;
}

std::optional<std::chrono::seconds> retry_after(const Error& error) {
  if (!error.problem || !error.problem->is_object()) return std::nullopt;
  auto it = error.problem->find(k_retry_after_key);
  if (it == error.problem->end() || !it->is_number_integer()) return std::nullopt;
  return std::chrono::seconds(it->get<long long>());
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9') {
    long long seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
    return std::chrono::seconds(std::min(seconds, k_max_retry_after));
  }
  // IMF-fixdate, the form RFC 9110 section 5.6.7 requires senders to use.
  std::string text(value);
  std::tm tm{};
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const auto when = std::chrono::system_clock::from_time_t(::timegm(&tm));
  if (when <= now) return std::chrono::seconds(0);
  return std::min(std::chrono::duration_cast<std::chrono::seconds>(when - now),
                  std::chrono::seconds(k_max_retry_after));
}

std::vector<std::string> link_targets(const std::vector<std::string>& link_fields,
                                      std::string_view rel) {
  std::vector<std::string> out;
  for (const std::string& field : link_fields) {
    // A field may hold several comma-separated links: <a>;rel="x", <b>;rel=y
    std::size_t pos = 0;
    while (pos < field.size()) {
      auto open = field.find('<', pos);
      if (open == std::string::npos) break;
      auto close = field.find('>', open);
      if (close == std::string::npos) break;
      std::string target = field.substr(open + 1, close - open - 1);
      auto next = field.find('<', close);
      std::string params =
          field.substr(close + 1, next == std::string::npos ? std::string::npos : next - close - 1);
      auto r = params.find("rel=");
      if (r != std::string::npos) {
        std::string value = params.substr(r + 4);
        auto stop = value.find_first_of(";,");
        if (stop != std::string::npos) value = value.substr(0, stop);
        while (!value.empty() && (value.back() == ' ' || value.back() == '"')) value.pop_back();
        while (!value.empty() && (value.front() == ' ' || value.front() == '"'))
          value.erase(value.begin());
        // rel may list several space-separated relation types.
        std::size_t s = 0;
        while (s <= value.size()) {
          auto e = value.find(' ', s);
          if (value.substr(s, e == std::string::npos ? std::string::npos : e - s) == rel) {
            out.push_back(target);
            break;
          }
          if (e == std::string::npos) break;
          s = e + 1;
        }
      }
      pos = next == std::string::npos ? field.size() : next;
    }
  }
  return out;
}

}  // namespace acmed::acme
