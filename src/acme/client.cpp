#include "acmed/acme/client.hpp"
#include "acmed/sys/progress.hpp"
#include "acmed/util/strings.hpp"

#include "acmed/crypto/encoding.hpp"
#include "acmed/crypto/jws.hpp"
#include "acmed/sys/interrupt.hpp"
#include "acmed/util/domain.hpp"
#include "acmed/util/text.hpp"

#include <algorithm>
#include <initializer_list>
#include <thread>

namespace acmed::acme {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

sys::TimePoint RealSleeper::now() const {
  return std::chrono::system_clock::now();
}
void RealSleeper::sleep(milliseconds duration) {
  (void)sys::sleep_unless_interrupted(duration);
}

namespace {

// How a request is authenticated (RFC 8555 section 6.2).
enum class Signer {
  none,  // plain GET/HEAD: directory, newNonce, renewalInfo
  jwk,   // JWS with the public key embedded: newAccount
  kid,   // JWS naming the account URL: everything else
};

// Whether sending the request twice is harmless, which decides if 5xx / network errors may
// be retried. badNonce is always retried: the CA rejected it before acting on it.
enum class Replay { safe, unsafe };

struct Call {
  HttpMethod method = HttpMethod::get;
  std::string url;
  Signer signer = Signer::none;
  std::optional<json> payload;  // signed requests: nullopt = POST-as-GET (RFC 8555 section 6.3)
  const crypto::PrivateKey* key = nullptr;  // Signer::jwk only; Signer::kid uses the account key
  Replay replay = Replay::safe;
  std::string accept;
  std::string what;  // "fetching the order", for error context
};

Call post_as_get(std::string url, std::string what) {
  Call c;
  c.method = HttpMethod::post;
  c.url = std::move(url);
  c.signer = Signer::kid;
  c.replay = Replay::safe;
  c.what = std::move(what);
  return c;
}

Call signed_post(std::string url, json payload, std::string what) {
  Call c;
  c.method = HttpMethod::post;
  c.url = std::move(url);
  c.signer = Signer::kid;
  c.payload = std::move(payload);
  c.replay = Replay::unsafe;
  c.what = std::move(what);
  return c;
}

// Runs a callable when the scope ends, however it ends.
template <typename F>
class ScopeExit {
 public:
  explicit ScopeExit(F f) : m_f(std::move(f)) {}
  ~ScopeExit() { m_f(); }
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;

 private:
  F m_f;
};

Result<json> parse_json(const HttpResponse& response, std::string_view url) {
  auto doc = parse_ca_json(response.body);
  if (!doc) {
    Error e = std::move(doc).error();
    e.message += " at " + std::string(url);
    return e;
  }
  return doc;
}

// JSON text that cannot throw: invalid UTF-8 in a string (say, from a user's --email) is replaced
// by U+FFFD instead of raising nlohmann's type_error.
std::string safe_dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The problem "type" an Error carries, or "" (RFC 8555 section 6.7).
std::string problem_type(const Error& e) {
  if (!e.problem || !e.problem->is_object()) return {};
  auto it = e.problem->find("type");
  return it != e.problem->end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Whether a newOrder error that came back while `replaces` was sent is the CA refusing
// `replaces` (RFC 9773 section 5 and what CAs answer in practice), as opposed to a rate limit,
// a server fault or a refused identifier that an order without it would meet as well.
bool refuses_replaces(const Error& e) {
  static constexpr std::string_view k_prefix = "urn:ietf:params:acme:error:";
  std::string type = problem_type(e);
  if (type.rfind(k_prefix, 0) == 0) {
    std::string_view short_type = std::string_view(type).substr(k_prefix.size());
    for (std::string_view t : {"alreadyReplaced", "unauthorized", "malformed", "conflict"})
      if (short_type == t) return true;
    if (short_type == "rateLimited" || short_type == "badNonce" || short_type == "serverInternal" ||
        short_type == "rejectedIdentifier")
      return false;
  }
  if (e.problem && e.problem->is_object()) {
    auto status = e.problem->find("status");
    if (status != e.problem->end() && status->is_number_integer()) {
      int code = status->get<int>();
      return code == 400 || code == 403 || code == 404 || code == 409;
    }
  }
  // 4xx without a problem document (http_error: Errc::protocol, no problem).
  return !e.problem && e.code == Errc::protocol;
}

using util::join;

std::string ensure_newline(std::string pem) {
  if (!pem.empty() && pem.back() != '\n') pem += '\n';
  return pem;
}

// A name for comparing identifiers: DNS names lower-cased (RFC 4343), IPs in canonical text.
std::string comparable(const std::string& type, const std::string& value) {
  std::string canonical;
  if (type == "ip" && util::parse_ip(value, canonical)) return "ip:" + canonical;
  std::string lower = value;
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return type + ":" + lower;
}

// RFC 8555 section 7.4: the order the CA created must be for exactly the identifiers requested
// (none added, replaced or dropped); else an error naming the difference.
Status check_order_identifiers(const Order& order, const crypto::Identifiers& requested) {
  std::vector<std::string> want, got;
  for (const auto& d : requested.dns) want.push_back(comparable("dns", d));
  for (const auto& ip : requested.ip) want.push_back(comparable("ip", ip));
  for (const auto& id : order.identifiers) got.push_back(comparable(id.type, id.value));
  std::vector<std::string> extra, absent;
  for (const auto& g : got)
    if (std::find(want.begin(), want.end(), g) == want.end()) extra.push_back(g);
  for (const auto& w : want)
    if (std::find(got.begin(), got.end(), w) == got.end()) absent.push_back(w);
  if (extra.empty() && absent.empty()) return ok_status();
  auto shown = [](const std::vector<std::string>& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size() && i < 4; ++i)
      out += (i ? ", " : "") + util::printable(v[i].substr(v[i].find(':') + 1), 256);
    if (v.size() > 4) out += " and " + std::to_string(v.size() - 4) + " more";
    return out;
  };
  std::string what;
  if (!extra.empty()) what = "names that were not requested (" + shown(extra) + ")";
  if (!absent.empty())
    what += (what.empty() ? "" : " and ") + std::string("not the requested names (") +
            shown(absent) + ")";
  return Error(Errc::protocol,
               "the CA created the order " + util::printable(order.url, 256) + " with " + what,
               "the CA is misbehaving; no challenge was answered: report it to the CA");
}

// What to check when validating `name` with `challenge_type` failed with a problem of
// `problem_type` (RFC 8555 section 8.3 to 8.4, RFC 8737); nullopt keeps the generic hint.
std::optional<std::string> validation_hint(std::string_view challenge_type, const std::string& name,
                                           std::string_view problem_type) {
  if (problem_type != "unauthorized" && problem_type != "connection" &&
      problem_type != "incorrectResponse" && problem_type != "dns" && problem_type != "tls")
    return std::nullopt;
  if (challenge_type == "dns-01")
    return "check that the TXT record _acme-challenge." + name +
           " is published on the domain's authoritative DNS servers (and that the DNS plugin or "
           "hook really updated it)";
  if (challenge_type == "http-01")
    return "check that " + name +
           " points (A/AAAA) to this machine, that port 80 is reachable "
           "from the internet and that /.well-known/acme-challenge/ is served from the webroot";
  if (challenge_type == "tls-alpn-01")
    return "check that " + name +
           " points (A/AAAA) to this machine and that port 443 is "
           "reachable from the internet";
  return std::nullopt;
}

struct ReasonName {
  RevocationReason reason;
  std::string_view certbot;  // lower-case
};

constexpr ReasonName k_reasons[] = {
    {RevocationReason::unspecified, "unspecified"},
    {RevocationReason::key_compromise, "keycompromise"},
    {RevocationReason::ca_compromise, "cacompromise"},
    {RevocationReason::affiliation_changed, "affiliationchanged"},
    {RevocationReason::superseded, "superseded"},
    {RevocationReason::cessation_of_operation, "cessationofoperation"},
    {RevocationReason::certificate_hold, "certificatehold"},
    {RevocationReason::remove_from_crl, "removefromcrl"},
    {RevocationReason::privilege_withdrawn, "privilegewithdrawn"},
    {RevocationReason::aa_compromise, "aacompromise"},
};

}  // namespace

Result<RevocationReason> parse_revocation_reason(std::string_view text) {
  const std::string lower = util::ascii_lower(text);
  for (const auto& r : k_reasons) {
    if (lower == r.certbot || lower == std::to_string(static_cast<int>(r.reason))) return r.reason;
  }
  std::string names;
  for (const auto& r : k_reasons) names += (names.empty() ? "" : ", ") + std::string(r.certbot);
  return Error(Errc::usage, "unknown revocation reason '" + util::printable(text, 64) + "'",
               "use one of " + names + " (or RFC 5280's code 0-6, 8-10)");
}

std::string_view to_string(RevocationReason reason) {
  for (const auto& r : k_reasons)
    if (r.reason == reason) return r.certbot;
  return "unknown";
}

bool is_already_revoked(const Error& error) {
  return problem_type(error) == "urn:ietf:params:acme:error:alreadyRevoked";
}

struct Client::State {
  std::string directory_url;
  std::unique_ptr<Transport> transport;
  ClientOptions options;
  std::optional<Directory> dir;
  std::optional<std::string> nonce;  // RFC 8555 section 7.2: the latest unused Replay-Nonce
  std::shared_ptr<const crypto::PrivateKey> account_key;
  std::string account_url;
  // During obtain(): told every name explain_invalid_order() finds invalid (may be null).
  std::function<void(const std::vector<std::string>&)> on_invalid_names;
  UrlPolicy url_policy;     // the same rules the transport applies, for URLs kept for later
  sys::TimePoint deadline;  // creation + options.issuance_timeout (+ time spent publishing)

  Sleeper& sleeper() {
    if (!options.sleeper) options.sleeper = std::make_shared<RealSleeper>();
    return *options.sleeper;
  }

  void log(LogLevel level, const std::string& message) const {
    if (options.log) options.log(level, message);
  }

  // What is left of ClientOptions::issuance_timeout.
  milliseconds time_left() {
    return std::chrono::duration_cast<milliseconds>(deadline - sleeper().now());
  }

  // The issuance timeout ran out; `last` is the failure it cut short, if any.
  Error out_of_time(const std::optional<Error>& last = std::nullopt) const {
    return Error(Errc::network,
                 "the CA did not finish within the issuance timeout (" +
                     std::to_string(options.issuance_timeout.count()) + " s)" +
                     (last ? ": " + last->message : std::string()),
                 "the CA is slow or unreachable; try again later, or allow more time with "
                 "--issuance-timeout");
  }

  // `error` (a 5xx) with the time the CA asked us to come back at, which is past the budget.
  Error retry_later(Error error, seconds retry_after) {
    const std::string when = sys::format_rfc3339(sleeper().now() + retry_after);
    error.message += "; the CA asks to retry after " + std::to_string(retry_after.count()) +
                     " s, later than the issuance timeout allows";
    error.hint = "run acmed again after " + when;
    return error;
  }

  // RFC 8555 section 6.5: every response may carry a fresh nonce; keep it for the next request.
  void remember_nonce(const HttpHeaders& headers) {
    auto value = headers.get("Replay-Nonce");
    if (value && crypto::is_base64url(*value)) nonce = std::move(*value);  // section 6.5.1
  }

  std::optional<seconds> retry_after_of(const HttpResponse& response) {
    auto value = response.headers.get("Retry-After");
    if (!value) return std::nullopt;
    return parse_retry_after(*value, sleeper().now());
  }

  // An HTTP error status as an Error: the CA's problem document when it sent one
  // (RFC 8555 section 6.7), otherwise the bare status.
  Error http_error(const HttpResponse& response, const std::string& url) {
    auto doc = parse_ca_json(response.body);
    if (doc && doc->is_object() && doc->contains("type") && (*doc)["type"].is_string()) {
      auto problem = Problem::from_json(*doc);
      if (problem) return problem_to_error(*problem, retry_after_of(response));
    }
    const bool server_side = response.status >= 500;
    // A body that is JSON but unreadable (too deep) is worth naming; a web page is not.
    const auto first = response.body.find_first_not_of(" \t\r\n");
    const bool json_like = first != std::string::npos && response.body[first] == '{';
    return Error(server_side ? Errc::network : Errc::protocol,
                 "the CA answered HTTP " + std::to_string(response.status) + " at " + url +
                     " without an ACME problem document" +
                     (!doc && json_like ? " (" + doc.error().message + ")" : std::string()),
                 server_side ? "the CA has a temporary problem; try again later"
                             : "check the directory URL; this may be a bug in acmed or the CA");
  }

  // Sends one protocol request. This is the only place with retry policy:
  //  - badNonce (RFC 8555 section 6.5): resend with the nonce from the error response, bounded;
  //  - 5xx or a failed connection: resend after a backoff, only when replay is safe.
  // Rate limits and every other problem are returned to the caller.
  Result<HttpResponse> exchange(const Call& call) {
    int bad_nonces = 0;
    int transient = 0;
    const int max_transient = call.replay == Replay::safe ? options.max_transient_retries : 0;
    auto context = [&call](Error e) { return std::move(e).with_context("while " + call.what); };
    const sys::TimePoint started = sleeper().now();
    for (;;) {
      // Every request and every poll goes through here: an interrupt ends the run at the next.
      if (auto stop = sys::check_interrupt(); !stop) return context(std::move(stop).error());
      HttpHeaders headers;
      std::string body;
      if (!call.accept.empty()) headers.add("Accept", call.accept);
      if (call.signer != Signer::none) {
        if (!nonce) {
          ACMED_TRY(const Directory& d, directory_ref());
          Call head;
          head.method = HttpMethod::head;
          head.url = d.new_nonce;
          head.what = "getting a nonce from " + d.new_nonce;
          ACMED_CHECK(exchange(head));  // unsigned, so this recursion is one level deep
          if (!nonce)
            return context(Error(Errc::protocol,
                                 "the CA's newNonce " + d.new_nonce + " sent no Replay-Nonce",
                                 "check that the server is an ACME CA"));
        }
        const std::string used = std::move(*nonce);
        nonce.reset();
        const crypto::PrivateKey* key = call.signer == Signer::jwk ? call.key : account_key.get();
        if (key == nullptr)
          return context(Error(Errc::internal, "no account key to sign the request with"));
        const std::string kid = call.signer == Signer::kid ? account_url : std::string();
        const std::string payload = call.payload ? safe_dump(*call.payload) : std::string();
        auto jws = crypto::jws_sign(*key, payload, used, call.url, kid);
        if (!jws) return context(std::move(jws).error());
        body = safe_dump(*jws);
        headers.add("Content-Type", "application/jose+json");  // RFC 8555 section 6.2
      }

      const milliseconds left = time_left();
      if (left <= milliseconds(0)) return context(out_of_time());
      transport->set_time_limit(left);
      auto sent = transport->request(call.method, call.url, headers, body);
      milliseconds wait = options.transient_backoff * (1 << transient);
      std::optional<Error> failure;
      if (!sent) {
        if (sent.error().code == Errc::network && time_left() <= milliseconds(0))
          return context(out_of_time(sent.error()));
        if (sent.error().code != Errc::network || transient >= max_transient)
          return context(std::move(sent).error());
        failure = std::move(sent).error();
      } else {
        log(LogLevel::debug, std::string(to_string(call.method)) + " " + call.url + " -> " +
                                 std::to_string(sent->status));
        remember_nonce(sent->headers);
        if (sent->status >= 300 && sent->status < 400) {
          // ACME never redirects (RFC 8555 section 6.1 names every URL); following one could
          // send signed requests somewhere else, so say where it points instead.
          auto to = sent->headers.get("Location");
          return context(Error(Errc::protocol,
                               call.url + " redirects (HTTP " + std::to_string(sent->status) +
                                   ") to " + (to ? *to : std::string("nowhere")) +
                                   "; acmed does not follow redirects",
                               "use the final URL, e.g. as --server"));
        }
        if (sent->status < 400) return sent;
        Error error = http_error(*sent, call.url);
        if (error.code == Errc::bad_nonce && call.signer != Signer::none) {
          if (++bad_nonces <= options.max_bad_nonce_retries) continue;
          return context(Error(Errc::protocol,
                               "the CA rejected " + std::to_string(bad_nonces) +
                                   " fresh nonces in a row at " + call.url,
                               "the CA is misbehaving; try again later"));
        }
        if (sent->status < 500) return context(std::move(error));
        // RFC 9110 section 10.2.3: the CA says when to come back. Later than the budget allows:
        // say when instead of sleeping past it.
        auto ra = retry_after_of(*sent);
        if (ra && *ra > time_left()) return context(retry_later(std::move(error), *ra));
        if (transient >= max_transient) return context(std::move(error));
        if (ra) wait = std::min<milliseconds>(*ra, options.poll.max_retry_after);
        failure = std::move(error);
      }
      // Retries of one request stop at the retry budget and never outlast the issuance budget.
      const milliseconds spent =
          std::chrono::duration_cast<milliseconds>(sleeper().now() - started);
      if (wait >= time_left()) return context(out_of_time(*failure));
      if (spent + wait > options.retry_budget)
        return context(std::move(*failure).with_context(
            "after retrying for " + std::to_string(spent.count() / 1000) + " s"));
      ++transient;
      log(LogLevel::debug, "retrying " + call.url + " in " + std::to_string(wait.count()) +
                               " ms (" + failure->message + ")");
      sleeper().sleep(wait);
    }
  }

  Result<json> exchange_json(const Call& call, HttpResponse* response_out = nullptr) {
    ACMED_TRY(HttpResponse response, exchange(call));
    auto parsed = parse_json(response, call.url);
    if (response_out) *response_out = std::move(response);
    if (!parsed) return std::move(parsed).error().with_context("while " + call.what);
    return parsed;
  }

  Result<const Directory*> directory_ptr() {
    if (dir) return &*dir;
    Call get;
    get.url = directory_url;
    get.what = "fetching the ACME directory " + directory_url;
    auto response = exchange(get);
    if (!response) {
      Error e = std::move(response).error();
      if (e.code == Errc::protocol && !e.problem)  // e.g. HTTP 404 from a web page
        return Error(Errc::protocol,
                     directory_url + " is not an ACME directory (" + e.message + ")",
                     "pass the directory URL of the CA, e.g. "
                     "https://acme-v02.api.letsencrypt.org/directory");
      return e;
    }
    auto doc = parse_ca_json(response->body);
    if (!doc)
      return Error(Errc::protocol,
                   directory_url + " is not an ACME directory (" + doc.error().message + ")",
                   "pass the directory URL of the CA, e.g. "
                   "https://acme-v02.api.letsencrypt.org/directory");
    ACMED_TRY(Directory parsed, Directory::from_json(*doc, directory_url));
    dir = std::move(parsed);
    return &*dir;
  }

  Result<std::reference_wrapper<const Directory>> directory_ref() {
    ACMED_TRY(const Directory* d, directory_ptr());
    return std::cref(*d);
  }

  Result<std::string> location(const HttpResponse& response, const std::string& request_url) {
    auto value = response.headers.get("Location");
    if (!value) return Error(Errc::protocol, "the CA sent no Location header from " + request_url);
    auto url = resolve_url(request_url, *value);
    if (!url)
      return Error(Errc::protocol,
                   "the CA sent an unparsable Location '" + *value + "' from " + request_url);
    ACMED_CHECK(url_policy.check_url(*url));  // kept and used later (the account kid, or fetched)
    return *url;
  }

  // newAccount (RFC 8555 section 7.3). accountDoesNotExist becomes Errc::not_found.
  Result<Account> new_account(const std::shared_ptr<const crypto::PrivateKey>& key, json payload) {
    ACMED_TRY(const Directory& d, directory_ref());
    Call call;
    call.method = HttpMethod::post;
    call.url = d.new_account;
    call.signer = Signer::jwk;
    call.key = key.get();
    call.payload = std::move(payload);
    call.replay = Replay::unsafe;
    call.what = "registering the account at " + d.new_account;
    HttpResponse response;
    auto doc = exchange_json(call, &response);
    if (!doc) {
      Error e = std::move(doc).error();
      if (problem_type(e) == "urn:ietf:params:acme:error:accountDoesNotExist") {
        e.code = Errc::not_found;
        e.message = "the CA has no account for this account key";
      } else if (problem_type(e) == "urn:ietf:params:acme:error:unauthorized" &&
                 e.message.find("deactivated") != std::string::npos) {
        // RFC 8555 section 7.3.6: a deactivated account stays so; no name is involved here.
        e.hint = "a deactivated account cannot be used again; create a new one (acmed register)";
      }
      return e;
    }
    ACMED_TRY(std::string url, location(response, d.new_account));
    ACMED_TRY(Account account, Account::from_json(*doc, url));
    if (account.status != "valid")  // RFC 8555 section 7.1.6
      return Error(Errc::conflict, "the account " + url + " is " + account.status,
                   "a deactivated or revoked account cannot be used; create a new account key");
    account_key = key;
    account_url = url;
    return account;
  }

  // POST to the account URL (RFC 8555 section 7.3.2): `payload` nullopt fetches it.
  Result<Account> account_request(std::optional<json> payload, std::string what) {
    Call call = post_as_get(account_url, std::move(what));
    if (payload) {
      call.payload = std::move(payload);
      call.replay = Replay::unsafe;
    }
    ACMED_TRY(json doc, exchange_json(call));
    return Account::from_json(doc, account_url);
  }

  // Fetches the order until its status is none of `transient`, with exponential backoff from
  // poll.first_delay, honouring Retry-After (RFC 8555 section 7.5.1 and 7.4), until
  // poll.timeout. `first_wait` replaces the first delay (a Retry-After already received).
  Result<Order> poll_order(const std::string& url,
                           std::initializer_list<std::string_view> transient,
                           std::optional<seconds> first_wait) {
    const PollPolicy& p = options.poll;
    const auto poll_deadline = std::min(sleeper().now() + p.timeout, deadline);
    milliseconds backoff = p.first_delay;
    milliseconds delay =
        first_wait ? std::clamp<milliseconds>(*first_wait, p.first_delay, p.max_retry_after)
                   : p.first_delay;
    std::string last_status = "pending";
    for (;;) {
      if (sleeper().now() + delay > poll_deadline) {
        const bool budget = poll_deadline == deadline;
        return Error(
            Errc::network,
            "timed out after " +
                std::to_string(budget ? options.issuance_timeout.count() : p.timeout.count()) +
                " s" + (budget ? " (the issuance timeout)" : "") +
                " waiting for the CA to process the order " + url + " (still " + last_status + ")",
            budget ? "the CA is slow or stuck; try again later, or allow more time with "
                     "--issuance-timeout"
                   : "the CA is slow or stuck; try again later");
      }
      sleeper().sleep(delay);
      HttpResponse response;
      ACMED_TRY(json doc, exchange_json(post_as_get(url, "checking the order " + url), &response));
      ACMED_TRY(Order order, Order::from_json(doc, url));
      if (std::find(transient.begin(), transient.end(), order.status) == transient.end())
        return order;
      last_status = order.status;
      backoff = std::min(backoff * 2, p.max_delay);
      delay = backoff;
      if (auto ra = retry_after_of(response))
        delay = std::clamp<milliseconds>(*ra, p.first_delay, p.max_retry_after);
    }
  }

  Result<Authorization> fetch_authorization(const std::string& url) {
    ACMED_TRY(json doc, exchange_json(post_as_get(url, "fetching the authorization " + url)));
    return Authorization::from_json(doc, url);
  }

  // RFC 8555 section 7.5.2: asks the CA to deactivate the authorization at `url`. Errc::protocol
  // when the CA answers with another status. Idempotent on the CA's side.
  Status deactivate_authorization(const std::string& url) {
    ACMED_TRY(json doc, exchange_json(signed_post(url, json{{"status", "deactivated"}},
                                                  "deactivating the authorization " + url)));
    ACMED_TRY(Authorization authz, Authorization::from_json(doc, url));
    if (authz.status != "deactivated")
      return Error(Errc::protocol, "the CA did not deactivate the authorization " +
                                       util::printable(url, 256) + " (status " +
                                       util::printable(authz.status, 64) + ")");
    return ok_status();
  }

  // The valid authorizations of `order` (reused from an earlier order, or validated by this one).
  // One that cannot be fetched is a warning and left out. Looks at no more authorizations than
  // the order has identifiers (RFC 8555 section 7.1.4: one each): the list comes from the CA.
  std::vector<Authorization> valid_authorizations(const Order& order) {
    std::vector<Authorization> valid;
    const std::size_t n = std::min(order.authorizations.size(), order.identifiers.size());
    for (std::size_t i = 0; i < n; ++i) {
      auto authz = fetch_authorization(order.authorizations[i]);
      if (!authz)
        log(LogLevel::warning, "could not check the authorization " +
                                   util::printable(order.authorizations[i], 256) + ": " +
                                   authz.error().describe());
      else if (authz->status == "valid")
        valid.push_back(std::move(*authz));
    }
    return valid;
  }

  // Deactivates every valid authorization of `order` (AuthorizationReuse::fresh); a failure is
  // a warning. Returns the names whose authorization was deactivated.
  std::vector<std::string> deactivate_valid(const Order& order) {
    std::vector<std::string> names;
    for (const Authorization& authz : valid_authorizations(order)) {
      const std::string name = util::printable(authz.identifier.value, 256);
      if (Status done = deactivate_authorization(authz.url); !done) {
        log(LogLevel::warning,
            "could not deactivate the authorization for " + name +
                "; the CA may reuse it for a later dry run: " + done.error().describe());
        continue;
      }
      log(LogLevel::debug, "deactivated the authorization for " + name);
      names.push_back(name);
    }
    return names;
  }

  // After an order went "invalid": which names failed and why (RFC 8555 section 7.1.4,
  // challenge "error"). Falls back to the order's own error.
  Error explain_invalid_order(const Order& order) {
    std::optional<Error> first;
    std::string invalid_first;
    std::vector<std::string> others;
    for (const std::string& url : order.authorizations) {
      auto authz = fetch_authorization(url);
      if (!authz || authz->status != "invalid") continue;
      const std::string& name = authz->identifier.value;
      // A wildcard's authorization names the base domain (RFC 8555 section 7.1.4).
      std::string ordered = authz->wildcard ? "*." + name : name;
      if (first) {
        others.push_back(std::move(ordered));
        continue;
      }
      invalid_first = std::move(ordered);
      for (const Challenge& c : authz->challenges) {
        if (!c.error) continue;
        Problem problem = *c.error;
        if (!problem.identifier) problem.identifier = authz->identifier;
        Error e = problem_to_error(problem);
        if (auto hint = validation_hint(c.type, name, problem.short_type())) e.hint = *hint;
        e.message =
            "the CA could not validate " + util::printable(name, 256) + " with " +
            util::printable(c.type, 64) + ": " +
            util::printable(problem.detail.empty() ? problem.short_type() : problem.detail, 400);
        first = std::move(e);
        break;
      }
      if (!first)
        first = Error(Errc::ca_problem,
                      "the CA marked the authorization for " + name + " invalid without saying why",
                      "check that the name points to this machine, then try again");
    }
    if (first && on_invalid_names) {
      std::vector<std::string> all{invalid_first};
      all.insert(all.end(), others.begin(), others.end());
      on_invalid_names(all);
    }
    if (first) {
      if (!others.empty()) first->message += " (also failed: " + join(others, ", ") + ")";
      return std::move(*first).with_context("while validating the order " + order.url);
    }
    if (order.error)
      return problem_to_error(*order.error).with_context("while validating the order " + order.url);
    return Error(Errc::ca_problem, "the CA marked the order " + order.url + " invalid",
                 "start again; if it keeps failing, check the CA's status page");
  }

  // Answers every pending authorization through `authenticator` and waits until the order
  // leaves "pending" (RFC 8555 section 7.5). cleanup() runs on every path once perform() ran.
  Result<Order> authorize(const Order& order, challenge::Authenticator& authenticator,
                          const std::vector<std::string>& types) {
    if (order.status != "pending") return order;
    const std::vector<std::string> supported =
        types.empty() ? authenticator.supported_types() : types;
    std::vector<challenge::Task> tasks;
    std::vector<std::string> challenge_urls;
    for (const std::string& url : order.authorizations) {
      ACMED_TRY(Authorization authz, fetch_authorization(url));
      const std::string& name = authz.identifier.value;
      // RFC 8555 section 7.1.4: each authorization is for one of the order's identifiers (a
      // wildcard's authorization names the base domain); never publish for another name.
      const std::string key = comparable(authz.identifier.type, name);
      if (std::none_of(order.identifiers.begin(), order.identifiers.end(),
                       [&](const Identifier& id) {
                         const std::string want = comparable(id.type, id.value);
                         return want == key || want == comparable(id.type, "*." + name);
                       }))
        return Error(Errc::protocol,
                     "the CA sent the authorization " + util::printable(url, 256) + " for " +
                         util::printable(name, 256) + ", which the order does not contain",
                     "the CA is misbehaving; no challenge was answered: report it to the CA");
      if (authz.status == "valid") continue;  // reused from an earlier order
      if (authz.status != "pending")
        return Error(Errc::ca_problem, "the authorization for " + name + " is " + authz.status,
                     "run the command again to start a new order");
      const Challenge* chosen = nullptr;
      for (const std::string& type : supported) {
        auto it = std::find_if(authz.challenges.begin(), authz.challenges.end(),
                               [&type](const Challenge& c) { return c.type == type; });
        if (it != authz.challenges.end()) {
          chosen = &*it;
          break;
        }
      }
      if (chosen == nullptr) {
        std::vector<std::string> offered;
        for (const auto& c : authz.challenges) offered.push_back(c.type);
        return Error(Errc::invalid_input,
                     "the CA offers no challenge for " + name + " that the " +
                         authenticator.name() +
                         " authenticator can answer (CA offers: " + join(offered, ", ") + "; " +
                         authenticator.name() + " answers: " + join(supported, ", ") + ")",
                     authz.wildcard ? "wildcard names need dns-01: use a DNS authenticator"
                                    : "choose an authenticator for one of the offered types");
      }
      // RFC 8555 section 8.1: the token lands in file names and URLs; check it first.
      if (!challenge::token_is_safe(chosen->token))
        return Error(Errc::protocol,
                     "the CA sent an unsafe " + chosen->type + " token for " + name +
                         " (only base64url characters are allowed)",
                     "the CA is misbehaving or the connection is being tampered with");
      log(LogLevel::debug, "answering " + chosen->type + " for " + name);
      challenge::Task task;
      task.identifier = name;
      task.identifier_type = authz.identifier.type;
      task.type = chosen->type;
      task.token = chosen->token;
      task.key_authorization = crypto::key_authorization(chosen->token, *account_key);
      if (task.type == "dns-01")
        task.dns_txt_value = crypto::dns01_txt_value(task.key_authorization);
      tasks.push_back(std::move(task));
      challenge_urls.push_back(chosen->url);
    }
    ScopeExit cleanup([&authenticator, &tasks] {
      if (!tasks.empty()) authenticator.cleanup(tasks);
    });
    if (!tasks.empty()) {
      // Publishing is local work (a web server reload, DNS propagation): not the CA's time.
      const sys::TimePoint publishing = sleeper().now();
      auto performed = authenticator.perform(tasks);
      deadline += sleeper().now() - publishing;
      if (!performed)
        return std::move(performed).error().with_context("while publishing challenges with " +
                                                         authenticator.name());
      for (std::size_t i = 0; i < challenge_urls.size(); ++i) {
        // RFC 8555 section 7.5.1: an empty object tells the CA to validate now.
        ACMED_CHECK(exchange(signed_post(challenge_urls[i], json::object(),
                                         "answering the challenge for " + tasks[i].identifier)));
      }
    }
    // With nothing to answer (all authorizations reused) the order only has to catch up.
    sys::WaitScope waiting(
        "the CA to validate " +
        (tasks.empty() ? std::string("the order") : tasks.front().identifier) +
        (tasks.size() > 1 ? " and " + std::to_string(tasks.size() - 1) + " more" : ""));
    ACMED_TRY(Order polled, poll_order(order.url, {"pending"}, std::nullopt));
    if (polled.status == "invalid") return explain_invalid_order(polled);
    return polled;
  }

  // RFC 8555 section 7.4: finalize with a CSR, then wait while the order is "processing".
  Result<Order> finalize(Order order, const std::string& der) {
    std::optional<seconds> wait;
    if (order.status == "ready") {
      HttpResponse response;
      ACMED_TRY(json doc, exchange_json(signed_post(order.finalize,
                                                    json{{"csr", crypto::base64url_encode(der)}},
                                                    "finalizing the order " + order.url),
                                        &response));
      ACMED_TRY(Order finalized, Order::from_json(doc, order.url));
      order = std::move(finalized);
      wait = retry_after_of(response);
    }
    if (order.status == "processing") {
      sys::WaitScope waiting("the CA to issue the certificate");
      ACMED_TRY(Order polled, poll_order(order.url, {"processing"}, wait));
      order = std::move(polled);
    }
    if (order.status == "invalid") return explain_invalid_order(order);
    if (order.status != "valid")
      return Error(
          Errc::protocol,
          "the order " + order.url + " is " + order.status + " instead of valid after finalizing",
          "try again; this may be a bug in the CA");
    if (order.certificate.empty())
      return Error(Errc::protocol, "the valid order " + order.url + " has no certificate URL");
    return order;
  }

  // RFC 8555 section 7.6; `cert_key` null: signed by the account (kid), else with its jwk.
  Status revoke(std::string_view cert_pem, RevocationReason reason,
                const crypto::PrivateKey* cert_key) {
    auto blocks = crypto::split_pem_chain(cert_pem);
    if (!blocks)
      return Error(Errc::invalid_input, "the certificate to revoke is not a PEM certificate (" +
                                            blocks.error().message + ")");
    ACMED_TRY(std::string der, crypto::pem_to_der(blocks->front()));
    ACMED_TRY(const Directory& d, directory_ref());
    if (d.revoke_cert.empty())
      return Error(Errc::not_found, "the CA at " + directory_url + " does not offer revocation");
    Call call = signed_post(
        d.revoke_cert,
        json{{"certificate", crypto::base64url_encode(der)}, {"reason", static_cast<int>(reason)}},
        "revoking the certificate at " + d.revoke_cert);
    if (cert_key) {
      call.signer = Signer::jwk;
      call.key = cert_key;
    }
    auto sent = exchange(call);
    if (sent) return ok_status();
    Error e = std::move(sent).error();
    if (problem_type(e) == "urn:ietf:params:acme:error:badRevocationReason") {
      e.message = "the CA refused the revocation reason " + std::string(to_string(reason)) +
                  " (RFC 5280 code " + std::to_string(static_cast<int>(reason)) + "): " + e.message;
      e.hint =
          "RFC 8555 section 7.6 lets a CA refuse reasons; Let's Encrypt accepts only "
          "unspecified, keycompromise, affiliationchanged, superseded and "
          "cessationofoperation: choose one with --reason";
    }
    return e;
  }

  // The certificate of an order that just became valid: some CAs answer 404 for a moment
  // before the certificate is published. Retried with backoff for poll.certificate_grace, never
  // past poll.timeout or the issuance deadline.
  Result<HttpResponse> fetch_certificate(const Call& call) {
    const PollPolicy& p = options.poll;
    const auto grace_deadline =
        std::min(sleeper().now() + std::min<seconds>(p.certificate_grace, p.timeout), deadline);
    milliseconds delay = p.first_delay;
    for (;;) {
      auto response = exchange(call);
      if (response || !is_not_found(response.error()) || sleeper().now() + delay > grace_deadline)
        return response;
      log(LogLevel::debug, "the certificate " + call.url + " is not there yet (404); retrying in " +
                               std::to_string(delay.count()) + " ms");
      sleeper().sleep(delay);
      delay = std::min(delay * 2, p.max_delay);
    }
  }

  static bool is_not_found(const Error& e) {
    if (e.problem && e.problem->is_object()) {
      auto status = e.problem->find("status");
      return status != e.problem->end() && status->is_number_integer() && *status == 404;
    }
    return e.code == Errc::protocol && e.message.find("HTTP 404 ") != std::string::npos;
  }

  struct Chain {
    std::string url;
    std::vector<std::string> pems;
    std::vector<std::string> alternates;  // RFC 8555 section 7.4.2 Link rel="alternate"
  };

  // Downloads one certificate chain (RFC 8555 section 7.4.2); anything but CERTIFICATE
  // blocks is refused.
  Result<Chain> download_chain(const std::string& url) {
    Call call = post_as_get(url, "downloading the certificate " + url);
    call.accept = "application/pem-certificate-chain";
    ACMED_TRY(HttpResponse response, fetch_certificate(call));
    auto pems = crypto::split_pem_chain(response.body);
    if (!pems) return std::move(pems).error().with_context("in the certificate from " + url);
    Chain chain;
    chain.url = url;
    chain.pems = std::move(*pems);
    for (const std::string& target : link_targets(response.headers.get_all("Link"), "alternate"))
      if (auto resolved = resolve_url(url, target)) chain.alternates.push_back(*resolved);
    return chain;
  }

  // The default chain, or the first (default, then alternates) whose topmost certificate is
  // issued by `preferred` (CN); failing that, any chain with a certificate issued by it.
  Result<Chain> choose_chain(const std::string& url, const std::string& preferred) {
    ACMED_TRY(Chain main, download_chain(url));
    if (preferred.empty()) return main;
    auto issuer_matches = [&preferred](const std::string& pem) {
      auto info = crypto::parse_certificate(pem);
      return info && info->issuer_cn == preferred;
    };
    auto top_matches = [&](const Chain& c) { return issuer_matches(c.pems.back()); };
    if (top_matches(main)) return main;
    std::vector<Chain> fetched;
    for (const std::string& alt : main.alternates) {
      auto chain = download_chain(alt);
      if (!chain) {
        log(LogLevel::warning,
            "skipping the alternate chain " + alt + ": " + chain.error().describe());
        continue;
      }
      if (top_matches(*chain)) return std::move(*chain);
      fetched.push_back(std::move(*chain));
    }
    if (std::any_of(main.pems.begin(), main.pems.end(), issuer_matches)) return main;
    for (Chain& c : fetched)
      if (std::any_of(c.pems.begin(), c.pems.end(), issuer_matches)) return std::move(c);
    log(LogLevel::warning,
        "no chain offered by the CA is issued by '" + preferred + "'; using the default chain");
    return main;
  }
};

namespace {

// "a.example, b.example and 3 more": the names of an order for messages.
std::string name_list(const crypto::Identifiers& ids) {
  std::vector<std::string> all = ids.dns;
  all.insert(all.end(), ids.ip.begin(), ids.ip.end());
  constexpr std::size_t k_shown = 4;
  if (all.size() <= k_shown) return join(all, ", ");
  std::vector<std::string> shown(all.begin(), all.begin() + k_shown);
  return join(shown, ", ") + " and " + std::to_string(all.size() - k_shown) + " more";
}

// The contact URIs (RFC 8555 section 7.3); an address that fails util::check_email is refused.
Result<json> contact_list(const std::vector<std::string>& emails) {
  json contact = json::array();
  for (const std::string& email : emails) {
    ACMED_CHECK(util::check_email(email));
    contact.push_back(email.rfind("mailto:", 0) == 0 ? email : "mailto:" + email);
  }
  return contact;
}

}  // namespace

Client::Client(std::string directory_url, std::unique_ptr<Transport> transport,
               ClientOptions options)
    : m(std::make_unique<State>()) {
  m->directory_url = std::move(directory_url);
  m->transport = std::move(transport);
  m->options = std::move(options);
  // connect() has checked the directory URL; a client built on a test transport with an invalid
  // one keeps the default policy (the scheme rule).
  if (auto policy = UrlPolicy::for_directory(m->directory_url)) m->url_policy = std::move(*policy);
  m->transport->set_url_policy(m->url_policy);
  m->deadline = m->sleeper().now() + m->options.issuance_timeout;
}

Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

Result<Client> Client::connect(std::string directory_url, TransportOptions transport_options,
                               ClientOptions options) {
  ACMED_CHECK(UrlPolicy::for_directory(directory_url));  // rule 1, before any request
  ACMED_TRY(auto transport, open_http_transport(std::move(transport_options)));
  return Client(std::move(directory_url), std::move(transport), std::move(options));
}

Result<Directory> Client::directory() {
  ACMED_TRY(const Directory* d, m->directory_ptr());
  return *d;
}

Result<Account> Client::find_or_create_account(std::shared_ptr<const crypto::PrivateKey> key,
                                               const AccountOptions& options) {
  if (!key) return Error(Errc::internal, "find_or_create_account needs an account key");
  ACMED_TRY(const Directory& d, m->directory_ref());
  if (options.mode == AccountMode::find_only)
    return m->new_account(key, json{{"onlyReturnExisting", true}});  // RFC 8555 section 7.3.1

  // RFC 8555 section 7.3: agreeing is needed only to create; an existing account is found
  // without it, so look first before asking the user to agree.
  if (!d.meta.terms_of_service.empty() && options.tos != TosAgreement::agreed) {
    auto existing = m->new_account(key, json{{"onlyReturnExisting", true}});
    if (existing || existing.error().code != Errc::not_found) return existing;
    return Error(Errc::usage,
                 "the CA at " + m->directory_url + " requires agreeing to its terms of service (" +
                     d.meta.terms_of_service + ") to create an account",
                 "read them and pass --agree-tos");
  }
  // RFC 8555 section 7.3.4.
  if (d.meta.external_account_required && !options.eab)
    return Error(Errc::usage,
                 "the CA at " + m->directory_url + " requires an external account binding",
                 "pass --eab-kid and --eab-hmac-key from your account page at the CA");

  json payload = json::object();
  if (!options.emails.empty()) {
    ACMED_TRY(payload["contact"], contact_list(options.emails));
  }
  if (options.tos == TosAgreement::agreed) payload["termsOfServiceAgreed"] = true;
  if (options.eab) {
    auto binding =
        crypto::eab_sign(options.eab->kid, options.eab->hmac_key, key->public_jwk(), d.new_account);
    if (!binding)
      return std::move(binding).error().with_context(
          "while preparing the external account binding");
    payload["externalAccountBinding"] = std::move(*binding);
  }
  return m->new_account(key, std::move(payload));
}

void Client::use_account(std::shared_ptr<const crypto::PrivateKey> key, std::string account_url) {
  m->account_key = std::move(key);
  m->account_url = std::move(account_url);
}

Result<Account> Client::fetch_account() {
  if (!m->account_key) return Error(Errc::internal, "fetch_account() needs an account");
  return m->account_request(std::nullopt, "fetching the account " + m->account_url);
}

Result<Account> Client::update_contacts(const std::vector<std::string>& emails) {
  if (!m->account_key) return Error(Errc::internal, "update_contacts() needs an account");
  ACMED_TRY(json contact, contact_list(emails));
  return m->account_request(json{{"contact", std::move(contact)}},
                            "updating the contacts of the account " + m->account_url);
}

Status Client::deactivate_account() {
  if (!m->account_key) return Error(Errc::internal, "deactivate_account() needs an account");
  auto account = m->account_request(json{{"status", "deactivated"}},
                                    "deactivating the account " + m->account_url);
  if (!account) return std::move(account).error();
  if (account->status != "deactivated")
    return Error(Errc::protocol, "the CA did not deactivate the account " + m->account_url +
                                     " (status " + account->status + ")");
  return ok_status();
}

Status Client::change_account_key(std::shared_ptr<const crypto::PrivateKey> new_key) {
  if (!m->account_key || !new_key) return Error(Errc::internal, "change_account_key() needs keys");
  ACMED_TRY(const Directory& d, m->directory_ref());
  if (d.key_change.empty())
    return Error(Errc::not_found, "the CA at " + m->directory_url + " does not offer key changes");
  // RFC 8555 section 7.3.5: the inner JWS is signed by the new key, carries its jwk and the
  // keyChange URL but no nonce; its payload names the account and the old key.
  json inner_payload{{"account", m->account_url}, {"oldKey", m->account_key->public_jwk()}};
  ACMED_TRY(json inner, crypto::jws_sign(*new_key, safe_dump(inner_payload), "", d.key_change, ""));
  ACMED_CHECK(m->exchange(signed_post(d.key_change, std::move(inner),
                                      "changing the key of the account " + m->account_url)));
  m->account_key = std::move(new_key);
  return ok_status();
}

Result<IssuedCertificate> Client::obtain(const ObtainRequest& request,
                                         const crypto::PrivateKey& cert_key,
                                         challenge::Authenticator& authenticator) {
  ACMED_TRY(std::string der, crypto::make_csr_der(cert_key, request.identifiers));
  return obtain(
      request,
      crypto::CertificateRequest{std::move(der), request.identifiers, cert_key.public_key_der()},
      authenticator);
}

Result<IssuedCertificate> Client::obtain(const ObtainRequest& request,
                                         const crypto::CertificateRequest& csr,
                                         challenge::Authenticator& authenticator) {
  if (!m->account_key || m->account_url.empty())
    return Error(Errc::internal, "obtain() was called before choosing an account");
  if (request.identifiers.dns.empty() && request.identifiers.ip.empty())
    return Error(Errc::invalid_input, "no names to request a certificate for",
                 "pass at least one domain with -d");
  ACMED_TRY(const Directory& d, m->directory_ref());

  // draft-ietf-acme-profiles: a profile must be one the directory advertises.
  std::string profile = request.profile;
  if (!profile.empty() && !d.meta.profiles.contains(profile)) {
    std::vector<std::string> offered;
    for (const auto& [name, description] : d.meta.profiles) offered.push_back(name);
    std::string what = "the CA at " + m->directory_url + " does not offer the profile '" + profile +
                       "' (" +
                       (offered.empty() ? std::string("it offers no profiles")
                                        : "it offers: " + join(offered, ", ")) +
                       ")";
    if (request.profile_mode == ProfileMode::required)
      return Error(Errc::invalid_input, what,
                   "choose one of the offered profiles, or allow the CA's default");
    m->log(LogLevel::warning, what + "; using the CA's default");
    profile.clear();
  }

  json identifiers = json::array();
  for (const std::string& name : request.identifiers.dns)
    identifiers.push_back(Identifier{"dns", name}.to_json());
  for (const std::string& ip : request.identifiers.ip)  // RFC 8738 section 3
    identifiers.push_back(Identifier{"ip", ip}.to_json());
  json payload{{"identifiers", std::move(identifiers)}};
  if (!profile.empty()) payload["profile"] = profile;
  const bool replacing = !request.replaces.empty() && !d.renewal_info.empty();
  if (replacing) payload["replaces"] = request.replaces;  // RFC 9773 section 5

  const std::string ordering = "ordering a certificate for " + name_list(request.identifiers);
  HttpResponse response;
  auto created = m->exchange_json(signed_post(d.new_order, payload, ordering), &response);
  if (!created && replacing && refuses_replaces(created.error())) {
    // RFC 9773 section 5: `replaces` is optional; a CA that will not take it (another account's
    // certificate, an issuer it does not know, already replaced) still takes a plain order.
    std::string why = created.error().describe();
    m->log(LogLevel::warning,
           "the CA refused the order with `replaces` (" + why + "); ordering again without it");
    payload.erase("replaces");
    created = m->exchange_json(signed_post(d.new_order, payload, ordering), &response);
    if (created && request.replaces_refused) request.replaces_refused(why);
  }
  if (!created && !profile.empty() &&
      problem_type(created.error()) == "urn:ietf:params:acme:error:invalidProfile") {
    std::string what = "the CA at " + m->directory_url + " refused the profile '" + profile +
                       "': " + created.error().message;
    if (request.profile_mode == ProfileMode::required)
      return Error(Errc::invalid_input, what,
                   "choose a profile the CA offers for these names, or drop --required-profile");
    m->log(LogLevel::warning, what + "; ordering with the CA's default profile");
    payload.erase("profile");
    profile.clear();
    created = m->exchange_json(signed_post(d.new_order, payload, ordering), &response);
  }
  if (!created) return std::move(created).error();
  // The order the CA created, checked to be for exactly the requested names.
  auto accept_order = [&](const json& doc) -> Result<Order> {
    ACMED_TRY(std::string url, m->location(response, d.new_order));
    ACMED_TRY(Order placed, Order::from_json(doc, url));
    ACMED_CHECK(check_order_identifiers(placed, request.identifiers));
    return placed;
  };
  ACMED_TRY(Order order, accept_order(*created));
  m->on_invalid_names = request.authorizations_failed;
  ScopeExit forget([this] { m->on_invalid_names = nullptr; });
  // A dry run answers every challenge: authorizations the CA reused are deactivated and the
  // order is placed once more (once: a CA that reuses even deactivated ones gets a warning).
  const bool fresh = request.authorization_reuse == AuthorizationReuse::fresh;
  if (fresh && order.status != "invalid") {
    const std::vector<std::string> reused = m->deactivate_valid(order);
    if (!reused.empty()) {
      m->log(LogLevel::info, "the CA reused valid authorizations from an earlier order for " +
                                 join(reused, ", ") +
                                 "; deactivated them and ordering again so the challenges run");
      ACMED_TRY(json again,
                m->exchange_json(signed_post(d.new_order, payload, ordering), &response));
      ACMED_TRY(order, accept_order(again));
      std::vector<std::string> still;
      for (const Authorization& authz : m->valid_authorizations(order))
        still.push_back(util::printable(authz.identifier.value, 256));
      if (!still.empty())
        m->log(LogLevel::warning, "the CA reused valid authorizations again for " +
                                      join(still, ", ") +
                                      "; this dry run does not answer their challenges");
    }
  }
  // Whatever happens from here, a fresh order leaves no valid authorization behind.
  ScopeExit deactivate([&] {
    if (fresh) m->deactivate_valid(order);
  });
  if (order.status == "invalid") return m->explain_invalid_order(order);
  const std::string order_url = order.url;

  ACMED_TRY(Order authorized, m->authorize(order, authenticator, request.challenge_types));
  ACMED_TRY(Order done, m->finalize(std::move(authorized), csr.der));
  ACMED_TRY(State::Chain chain, m->choose_chain(done.certificate, request.preferred_chain));
  if (!crypto::certificate_has_public_key(chain.pems.front(), csr.public_key_der))
    return Error(Errc::protocol,
                 "the certificate from " + chain.url + " is not for the key in the request",
                 "this is a CA bug; report it");

  IssuedCertificate out;
  out.order_url = order_url;
  out.profile = profile;
  out.cert_pem = ensure_newline(chain.pems.front());
  for (std::size_t i = 1; i < chain.pems.size(); ++i)
    out.chain_pem += ensure_newline(chain.pems[i]);
  out.fullchain_pem = out.cert_pem + out.chain_pem;
  return out;
}

Result<RenewalInfo> Client::renewal_info(std::string_view cert_id) {
  ACMED_TRY(const Directory& d, m->directory_ref());
  if (d.renewal_info.empty())
    return Error(Errc::not_found, "the CA at " + m->directory_url + " does not offer ARI");
  const auto dot = cert_id.find('.');
  if (dot == std::string_view::npos || !crypto::is_base64url(cert_id.substr(0, dot)) ||
      !crypto::is_base64url(cert_id.substr(dot + 1)))
    return Error(Errc::invalid_input,
                 "malformed ARI certificate id '" + std::string(cert_id) + "'");
  // RFC 9773 section 4.1: the id is appended as a path segment.
  std::string url = d.renewal_info;
  if (url.back() != '/') url += '/';
  url += cert_id;
  Call get;
  get.url = url;
  get.what = "fetching renewal information " + url;
  HttpResponse response;
  ACMED_TRY(json doc, m->exchange_json(get, &response));
  ACMED_TRY(RenewalInfo info, RenewalInfo::from_json(doc));
  info.retry_after = m->retry_after_of(response);
  return info;
}

Status Client::revoke(std::string_view cert_pem, RevocationReason reason) {
  if (!m->account_key || m->account_url.empty())
    return Error(Errc::internal, "revoke() was called before choosing an account");
  return m->revoke(cert_pem, reason, nullptr);
}

Status Client::revoke_with_certificate_key(std::string_view cert_pem, RevocationReason reason,
                                           const crypto::PrivateKey& cert_key) {
  if (!crypto::certificate_matches_key(cert_pem, cert_key))
    return Error(Errc::invalid_input, "the key does not belong to the certificate to revoke");
  return m->revoke(cert_pem, reason, &cert_key);
}

const TransportStats& Client::stats() const {
  return m->transport->stats();
}

}  // namespace acmed::acme
