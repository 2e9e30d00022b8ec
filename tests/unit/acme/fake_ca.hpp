// Test doubles for the ACME client: a Transport that answers from a script (and checks the
// nonces and signatures' headers the client sends), a Sleeper that only pretends to wait, and an
// Authenticator that records what it was asked to do.
#pragma once

#include "acmed/acme/client.hpp"
#include "acmed/crypto/encoding.hpp"
#include "acmed/sys/fs.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

namespace acmed::test {

using acme::HttpMethod;
using acme::HttpResponse;
using nlohmann::json;

inline const std::string k_ca = "https://ca.test";
inline const std::string k_dir_url = k_ca + "/dir";

inline std::string acme_data(const std::string& name) {
  // Not __FILE__: ccache's base_dir makes it relative to the build dir, not to the test's cwd.
  auto path =
      std::filesystem::path(ACMED_TEST_DATA).parent_path() / "unit" / "acme" / "data" / name;
  auto text = sys::read_file(path);
  REQUIRE_MESSAGE(text.ok(), "missing test file " << path.string());
  return *text;
}

inline HttpResponse json_response(long status, const json& body,
                                  std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump();
  r.headers.add("Content-Type", "application/json");
  for (auto& [n, v] : headers) r.headers.add(n, v);
  return r;
}

inline HttpResponse problem_response(
    long status, const std::string& short_type, const std::string& detail,
    json extra = json::object(), std::vector<std::pair<std::string, std::string>> headers = {}) {
  json doc{
      {"type", "urn:ietf:params:acme:error:" + short_type}, {"detail", detail}, {"status", status}};
  doc.update(extra);
  HttpResponse r;
  r.status = status;
  r.body = doc.dump();
  r.headers.add("Content-Type", "application/problem+json");
  for (auto& [n, v] : headers) r.headers.add(n, v);
  return r;
}

inline HttpResponse raw_response(long status, std::string body, std::string content_type) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers.add("Content-Type", content_type);
  return r;
}

// One request as the fake CA saw it, with the JWS taken apart.
struct SentRequest {
  HttpMethod method;
  std::string url;
  acme::HttpHeaders headers;
  std::string body;
  json protected_header;  // null for unsigned requests
  std::string payload;    // decoded JWS payload ("" for POST-as-GET)

  json payload_json() const { return payload.empty() ? json() : json::parse(payload); }
};

class FakeTransport final : public acme::Transport {
 public:
  // Queues answers for (method, url), served in order; the last one repeats.
  void on(HttpMethod method, const std::string& url, HttpResponse response) {
    m_routes[{method, url}].push_back(std::move(response));
  }
  void on_post(const std::string& url, HttpResponse response) {
    on(HttpMethod::post, url, std::move(response));
  }
  // Makes (method, url) fail as if the connection dropped, `times` times, before the script.
  void drop(HttpMethod method, const std::string& url, int times) {
    m_drops[{method, url}] = times;
  }
  // Responses get no Replay-Nonce header when false.
  bool give_nonces = true;

  std::vector<SentRequest> sent;
  std::vector<std::string> nonce_errors;  // reused or unknown nonces the client sent

  std::size_t count(HttpMethod method, const std::string& url) const {
    std::size_t n = 0;
    for (const auto& s : sent) n += (s.method == method && s.url == url);
    return n;
  }
  std::size_t count_method(HttpMethod method) const {
    std::size_t n = 0;
    for (const auto& s : sent) n += (s.method == method);
    return n;
  }
  const SentRequest& last(HttpMethod method, const std::string& url) const {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it)
      if (it->method == method && it->url == url) return *it;
    FAIL("no request to " << url);
    return sent.front();
  }

 protected:
  Result<HttpResponse> send(HttpMethod method, std::string_view url_view,
                            const acme::HttpHeaders& headers, std::string_view body) override {
    std::string url(url_view);
    SentRequest s{method, url, headers, std::string(body), json(), ""};
    if (method == HttpMethod::post && !body.empty()) {
      json jws = json::parse(body);
      s.protected_header =
          json::parse(*crypto::base64url_decode(jws["protected"].get<std::string>()));
      std::string p = jws["payload"].get<std::string>();
      s.payload = p.empty() ? "" : *crypto::base64url_decode(p);
      std::string nonce = s.protected_header.value("nonce", "");
      if (!m_issued.contains(nonce) || m_used.contains(nonce))
        nonce_errors.push_back(nonce.empty() ? "(none)" : nonce);
      m_used.insert(nonce);
    }
    sent.push_back(s);
    auto key = std::make_pair(method, url);
    if (auto d = m_drops.find(key); d != m_drops.end() && d->second > 0) {
      --d->second;
      return Error(Errc::network, "request to " + url + " failed: Connection reset by peer");
    }
    auto it = m_routes.find(key);
    if (it == m_routes.end() || it->second.empty()) {
      if (method == HttpMethod::head && url == k_ca + "/nonce")
        return with_nonce(method, HttpResponse{200, {}, ""});
      return with_nonce(method, problem_response(404, "malformed", "no route for " + url));
    }
    HttpResponse r = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    return with_nonce(method, std::move(r));
  }

 private:
  // Like Pebble and Boulder: fresh nonces on POST and HEAD answers, none on GET.
  HttpResponse with_nonce(HttpMethod method, HttpResponse r) {
    if (give_nonces && method != HttpMethod::get && !r.headers.get("Replay-Nonce")) {
      std::string nonce = "nonce" + std::to_string(++m_counter);
      r.headers.add("Replay-Nonce", nonce);
    }
    if (auto n = r.headers.get("Replay-Nonce")) m_issued.insert(*n);
    return r;
  }

  std::map<std::pair<HttpMethod, std::string>, std::deque<HttpResponse>> m_routes;
  std::map<std::pair<HttpMethod, std::string>, int> m_drops;
  std::set<std::string> m_issued;
  std::set<std::string> m_used;
  int m_counter = 0;
};

class FakeSleeper final : public acme::Sleeper {
 public:
  sys::TimePoint now() const override { return m_now; }
  void sleep(std::chrono::milliseconds d) override {
    sleeps.push_back(d);
    m_now += d;
  }
  std::vector<std::chrono::milliseconds> sleeps;

 private:
  sys::TimePoint m_now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 26};
};

class FakeAuthenticator final : public challenge::Authenticator {
 public:
  std::vector<std::string> types{"http-01"};
  std::optional<Error> perform_error;
  int perform_calls = 0;
  int cleanup_calls = 0;
  std::vector<challenge::Task> performed;
  std::vector<challenge::Task> cleaned;

  std::string name() const override { return "fake"; }
  std::vector<std::string> supported_types() const override { return types; }
  Status perform(std::span<const challenge::Task> tasks) override {
    ++perform_calls;
    performed.assign(tasks.begin(), tasks.end());
    if (perform_error) return *perform_error;
    return ok_status();
  }
  void cleanup(std::span<const challenge::Task> tasks) noexcept override {
    ++cleanup_calls;
    cleaned.assign(tasks.begin(), tasks.end());
  }
};

// A fake CA with one complete, successful order for example.com scripted; tests change the
// parts they care about before calling obtain().
struct FakeCa {
  std::unique_ptr<FakeTransport> owned = std::make_unique<FakeTransport>();
  FakeTransport* transport = owned.get();
  std::shared_ptr<FakeSleeper> sleeper = std::make_shared<FakeSleeper>();
  std::vector<std::string> warnings;
  json directory{{"newNonce", k_ca + "/nonce"},
                 {"newAccount", k_ca + "/acct"},
                 {"newOrder", k_ca + "/order"},
                 {"revokeCert", k_ca + "/revoke"},
                 {"keyChange", k_ca + "/key"},
                 {"renewalInfo", k_ca + "/ari"},
                 {"meta",
                  {{"termsOfService", k_ca + "/tos"},
                   {"profiles", {{"classic", "the usual"}, {"shortlived", "6 days"}}}}}};
  std::string account_url = k_ca + "/acct/1";
  std::string order_url = k_ca + "/order/1";
  std::string authz_url = k_ca + "/authz/1";
  std::string chall_url = k_ca + "/chall/1";
  std::string cert_url = k_ca + "/cert/1";
  std::string token = "tok3n_-A";

  json order(const std::string& status) const {
    json o{{"status", status},
           {"identifiers", json::array({{{"type", "dns"}, {"value", "example.com"}}})},
           {"authorizations", json::array({authz_url})},
           {"finalize", order_url + "/finalize"}};
    if (status == "valid") o["certificate"] = cert_url;
    return o;
  }
  json authz(const std::string& status) const {
    return json{
        {"status", status},
        {"identifier", {{"type", "dns"}, {"value", "example.com"}}},
        {"challenges",
         json::array(
             {{{"type", "http-01"}, {"url", chall_url}, {"status", "pending"}, {"token", token}},
              {{"type", "dns-01"},
               {"url", chall_url + "-dns"},
               {"status", "pending"},
               {"token", token}}})}};
  }

  // Scripts the whole happy path; call again after changing members to re-script.
  void script() {
    transport->on(HttpMethod::get, k_dir_url, json_response(200, directory));
    transport->on_post(k_ca + "/acct",
                       json_response(201, {{"status", "valid"}}, {{"Location", account_url}}));
    transport->on_post(k_ca + "/order",
                       json_response(201, order("pending"), {{"Location", order_url}}));
    transport->on_post(authz_url, json_response(200, authz("pending")));
    transport->on_post(chall_url, json_response(200, {{"type", "http-01"},
                                                      {"url", chall_url},
                                                      {"status", "processing"},
                                                      {"token", token}}));
    transport->on_post(order_url + "/finalize", json_response(200, order("processing")));
    transport->on_post(cert_url, chain_response());
  }
  // The order poll answers, in order (the last repeats).
  void poll_answers(std::initializer_list<const char*> statuses) {
    for (const char* s : statuses) transport->on_post(order_url, json_response(200, order(s)));
  }

  HttpResponse chain_response() const {
    HttpResponse r = raw_response(200, acme_data("leaf_One.pem") + acme_data("int_One.pem"),
                                  "application/pem-certificate-chain");
    r.headers.add("Link", "<" + k_ca + "/dir>;rel=\"index\"");
    r.headers.add("Link", "<" + cert_url + "/alt>;rel=\"alternate\"");
    return r;
  }

  // A client of this CA (once: it takes the transport) that sleeps on `sleeper` and collects
  // warnings; `adjust` may change its options further.
  using AdjustOptions = std::function<void(acme::ClientOptions&)>;
  acme::Client client(const AdjustOptions& adjust = nullptr) {
    acme::ClientOptions options;
    options.sleeper = sleeper;
    options.log = [this](acme::LogLevel level, std::string_view m) {
      if (level == acme::LogLevel::warning) warnings.emplace_back(m);
    };
    if (adjust) adjust(options);
    return acme::Client(k_dir_url, std::move(owned), options);
  }

  // client() already holding the test account (account_key() at account_url): no newAccount.
  acme::Client account_client(const AdjustOptions& adjust = nullptr) {
    acme::Client c = client(adjust);
    c.use_account(account_key(), account_url);
    return c;
  }

  static std::shared_ptr<const crypto::PrivateKey> account_key() {
    static auto key = std::make_shared<const crypto::PrivateKey>(
        *crypto::PrivateKey::generate(crypto::KeySpec{}));
    return key;
  }
  static const crypto::PrivateKey& cert_key() {
    static crypto::PrivateKey key = *crypto::PrivateKey::from_pem(acme_data("cert_key.pem"));
    return key;
  }
};

inline acme::ObtainRequest example_request() {
  acme::ObtainRequest r;
  r.identifiers.dns = {"example.com"};
  return r;
}

}  // namespace acmed::test
