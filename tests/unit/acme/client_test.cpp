#include "fake_ca.hpp"

#include "acmed/crypto/jws.hpp"
#include "acmed/crypto/x509.hpp"

using namespace acmed;
using namespace acmed::test;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

acme::AccountOptions agreed() {
  acme::AccountOptions o;
  o.emails = {"admin@example.com"};
  o.tos = acme::TosAgreement::agreed;
  return o;
}

}  // namespace

TEST_CASE("the directory is fetched once and its meta is exposed") {
  FakeCa ca;
  ca.script();
  auto client = ca.client();
  auto d = client.directory();
  REQUIRE(d.ok());
  CHECK(d->meta.profiles.contains("shortlived"));
  REQUIRE(client.directory().ok());
  CHECK(ca.transport->count(HttpMethod::get, k_dir_url) == 1);
}

TEST_CASE("a URL that answers with a web page is reported as not an ACME directory") {
  FakeCa ca;
  ca.transport->on(HttpMethod::get, k_dir_url,
                   raw_response(200, "<html>hello</html>", "text/html"));
  auto client = ca.client();
  auto d = client.directory();
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == Errc::protocol);
  CHECK(contains(d.error().message, k_dir_url + " is not an ACME directory"));
}

TEST_CASE("a URL that answers 404 is reported as not an ACME directory") {
  FakeCa ca;
  ca.transport->on(HttpMethod::get, k_dir_url, raw_response(404, "not found", "text/plain"));
  auto client = ca.client();
  auto d = client.directory();
  REQUIRE_FALSE(d.ok());
  CHECK(contains(d.error().message, "is not an ACME directory"));
  CHECK(contains(d.error().hint, "directory URL"));
}

TEST_CASE("a plain-http server URL off loopback is refused before any request") {
  auto client = acme::Client::connect("http://ca.example/dir", acme::TransportOptions{});
  REQUIRE_FALSE(client.ok());
  CHECK(client.error().code == Errc::invalid_input);
  CHECK(contains(client.error().message, "http://ca.example/dir"));
}

TEST_CASE("a new account is registered with the jwk and later requests use the kid") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"ready", "valid"});
  auto client = ca.client();
  auto account = client.find_or_create_account(FakeCa::account_key(), agreed());
  REQUIRE(account.ok());
  CHECK(account->url == ca.account_url);
  CHECK(account->status == "valid");
  const auto& reg = ca.transport->last(HttpMethod::post, k_ca + "/acct");
  CHECK(reg.protected_header.contains("jwk"));
  CHECK_FALSE(reg.protected_header.contains("kid"));
  CHECK(reg.headers.get("Content-Type") == "application/jose+json");
  CHECK(reg.payload_json()["contact"] == json::array({"mailto:admin@example.com"}));
  CHECK(reg.payload_json()["termsOfServiceAgreed"] == true);

  FakeAuthenticator auth;
  REQUIRE(client.obtain(example_request(), FakeCa::cert_key(), auth).ok());
  const auto& order = ca.transport->last(HttpMethod::post, k_ca + "/order");
  CHECK(order.protected_header["kid"] == ca.account_url);
  CHECK_FALSE(order.protected_header.contains("jwk"));
  CHECK(order.protected_header["url"] == k_ca + "/order");
}

TEST_CASE("a held nonce is used instead of asking newNonce again, and no nonce is reused") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"ready", "valid"});
  auto client = ca.client();
  REQUIRE(client.find_or_create_account(FakeCa::account_key(), agreed()).ok());
  FakeAuthenticator auth;
  REQUIRE(client.obtain(example_request(), FakeCa::cert_key(), auth).ok());
  CHECK(ca.transport->count_method(HttpMethod::head) == 1);
  CHECK(ca.transport->nonce_errors.empty());
}

TEST_CASE("without a Replay-Nonce in responses each signed request asks newNonce") {
  FakeCa ca;
  ca.transport->give_nonces = false;
  ca.transport->on(HttpMethod::head, k_ca + "/nonce", [] {
    HttpResponse r{200, {}, ""};
    r.headers.add("Replay-Nonce", "only-one");
    return r;
  }());
  ca.script();
  auto client = ca.client();
  REQUIRE(client.find_or_create_account(FakeCa::account_key(), agreed()).ok());
  CHECK(ca.transport->count_method(HttpMethod::head) == 1);
}

TEST_CASE("an account lookup without agreeing to the terms finds an existing account") {
  FakeCa ca;
  ca.script();
  auto client = ca.client();
  acme::AccountOptions options;  // not agreed
  auto account = client.find_or_create_account(FakeCa::account_key(), options);
  REQUIRE(account.ok());
  CHECK(ca.transport->last(HttpMethod::post, k_ca + "/acct").payload_json() ==
        json{{"onlyReturnExisting", true}});
}

TEST_CASE("creating an account without agreeing to the terms says to pass --agree-tos") {
  FakeCa ca;
  ca.transport->on_post(k_ca + "/acct", problem_response(400, "accountDoesNotExist", "no such"));
  ca.script();
  auto client = ca.client();
  auto account = client.find_or_create_account(FakeCa::account_key(), acme::AccountOptions{});
  REQUIRE_FALSE(account.ok());
  CHECK(account.error().code == Errc::usage);
  CHECK(contains(account.error().message, k_ca + "/tos"));
  CHECK(contains(account.error().hint, "--agree-tos"));
}

TEST_CASE("find_only reports a missing account as not_found") {
  FakeCa ca;
  ca.transport->on_post(k_ca + "/acct", problem_response(400, "accountDoesNotExist", "no such"));
  ca.script();
  auto client = ca.client();
  acme::AccountOptions options;
  options.mode = acme::AccountMode::find_only;
  auto account = client.find_or_create_account(FakeCa::account_key(), options);
  REQUIRE_FALSE(account.ok());
  CHECK(account.error().code == Errc::not_found);
}

TEST_CASE("a CA that requires external account binding gets none sent without it") {
  FakeCa ca;
  ca.directory["meta"]["externalAccountRequired"] = true;
  ca.script();
  auto client = ca.client();
  auto account = client.find_or_create_account(FakeCa::account_key(), agreed());
  REQUIRE_FALSE(account.ok());
  CHECK(account.error().code == Errc::usage);
  CHECK(contains(account.error().hint, "--eab-kid"));
  CHECK(ca.transport->count(HttpMethod::post, k_ca + "/acct") == 0);
}

TEST_CASE("an external account binding is sent inside newAccount") {
  FakeCa ca;
  ca.directory["meta"]["externalAccountRequired"] = true;
  ca.script();
  auto client = ca.client();
  auto options = agreed();
  options.eab = acme::ExternalAccountBinding{"kid-1", crypto::base64url_encode("0123456789abcdef")};
  REQUIRE(client.find_or_create_account(FakeCa::account_key(), options).ok());
  json payload = ca.transport->last(HttpMethod::post, k_ca + "/acct").payload_json();
  REQUIRE(payload.contains("externalAccountBinding"));
  json eab_header = json::parse(
      *crypto::base64url_decode(payload["externalAccountBinding"]["protected"].get<std::string>()));
  CHECK(eab_header["kid"] == "kid-1");
  CHECK(eab_header["alg"] == "HS256");
}

TEST_CASE("badNonce is retried with the nonce from the error response and never surfaced") {
  HttpResponse bad = problem_response(400, "badNonce", "stale nonce");
  bad.headers.add("Replay-Nonce", "fresh-from-error");
  FakeCa ca2;  // answers queued first are served first
  ca2.transport->on_post(k_ca + "/order", bad);
  ca2.script();
  ca2.poll_answers({"ready", "valid"});
  auto client = ca2.account_client();
  FakeAuthenticator auth;
  auto issued = client.obtain(example_request(), FakeCa::cert_key(), auth);
  REQUIRE_MESSAGE(issued.ok(), issued.error().describe());
  CHECK(ca2.transport->count(HttpMethod::post, k_ca + "/order") == 2);
  CHECK(ca2.transport->last(HttpMethod::post, k_ca + "/order").protected_header["nonce"] ==
        "fresh-from-error");
  CHECK(ca2.transport->nonce_errors.empty());
}

TEST_CASE("a CA that rejects every nonce is given up on after a bounded number of tries") {
  FakeCa ca;
  ca.transport->on(HttpMethod::get, k_dir_url, json_response(200, ca.directory));
  ca.transport->on_post(k_ca + "/order", problem_response(400, "badNonce", "stale nonce"));
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto issued = client.obtain(example_request(), FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::protocol);
  CHECK(contains(issued.error().message, "nonces in a row"));
  CHECK(ca.transport->count(HttpMethod::post, k_ca + "/order") == 11);  // 1 + 10 retries
}

TEST_CASE("a rate limit on newOrder is rate_limited with the Retry-After delay") {
  FakeCa ca;
  ca.transport->on_post(k_ca + "/order",
                        problem_response(429, "rateLimited", "too many new orders recently",
                                         json::object(), {{"Retry-After", "1800"}}));
  ca.script();
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto issued = client.obtain(example_request(), FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::rate_limited);
  CHECK(acme::retry_after(issued.error()) == seconds(1800));
  CHECK(contains(issued.error().hint, "1800 seconds"));
  CHECK(contains(issued.error().describe(), "while ordering a certificate for example.com"));
  CHECK(ca.transport->count(HttpMethod::post, k_ca + "/order") == 1);
  CHECK(auth.perform_calls == 0);
}

TEST_CASE("a refused order names each refused identifier") {
  FakeCa ca;
  json sub = json::array({{{"type", "urn:ietf:params:acme:error:rejectedIdentifier"},
                           {"detail", "policy forbids this name"},
                           {"identifier", {{"type", "dns"}, {"value", "bad.example"}}}}});
  ca.transport->on_post(k_ca + "/order", problem_response(400, "rejectedIdentifier", "cannot issue",
                                                          json{{"subproblems", sub}}));
  ca.script();
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto request = example_request();
  request.identifiers.dns.push_back("bad.example");
  auto issued = client.obtain(request, FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::ca_problem);
  CHECK(contains(issued.error().message, "bad.example: policy forbids this name"));
  REQUIRE(issued.error().problem != nullptr);
  // Error::problem keeps flat members only, never a copy of the CA's document (issue 14).
  CHECK(issued.error().problem->at("type") == "urn:ietf:params:acme:error:rejectedIdentifier");
  CHECK_FALSE(issued.error().problem->contains("subproblems"));
}

TEST_CASE("malformed JSON from the CA is a protocol error naming the URL") {
  FakeCa ca;
  ca.transport->on_post(ca.authz_url, raw_response(200, "{\"status\": ", "application/json"));
  ca.script();
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto issued = client.obtain(example_request(), FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::protocol);
  CHECK(issued.error().message == "the CA sent malformed JSON at " + ca.authz_url);
}

TEST_CASE("an order of the wrong shape is a protocol error") {
  FakeCa fresh;
  json order = fresh.order("pending");
  order["authorizations"] = "https://ca.test/authz/1";
  fresh.transport->on_post(k_ca + "/order",
                           json_response(201, order, {{"Location", fresh.order_url}}));
  fresh.script();
  auto client = fresh.account_client();
  FakeAuthenticator auth;
  auto issued = client.obtain(example_request(), FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::protocol);
  CHECK(contains(issued.error().message, "authorizations"));
}

TEST_CASE("a plain-http authorization URL inside an order is refused and never fetched") {
  FakeCa ca;
  ca.authz_url = "http://evil.example/authz/1";
  ca.script();
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto issued = client.obtain(example_request(), FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::protocol);
  CHECK(contains(issued.error().message, "http://evil.example/authz/1"));
  CHECK(ca.transport->count(HttpMethod::post, ca.authz_url) == 0);
  CHECK(auth.perform_calls == 0);
}

TEST_CASE("a challenge token with unsafe characters is refused before perform()") {
  FakeCa ca;
  ca.token = "../../etc/passwd";
  ca.script();
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto issued = client.obtain(example_request(), FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::protocol);
  CHECK(contains(issued.error().message, "unsafe http-01 token for example.com"));
  CHECK(auth.perform_calls == 0);
}

TEST_CASE("a failed validation names the identifier, keeps the CA's problem and cleans up") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"pending", "invalid"});
  json failed = ca.authz("invalid");
  failed["challenges"][0]["status"] = "invalid";
  failed["challenges"][0]["error"] = {
      {"type", "urn:ietf:params:acme:error:connection"},
      {"detail", "127.0.0.1: Fetching http://example.com/.well-known/acme-challenge/x: refused"}};
  ca.transport->on_post(ca.authz_url, json_response(200, failed));  // after the first answer
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto issued = client.obtain(example_request(), FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::ca_problem);
  CHECK(contains(issued.error().message, "could not validate example.com with http-01"));
  CHECK(contains(issued.error().message, "refused"));
  CHECK(contains(issued.error().hint, "port 80"));
  CHECK(issued.error().problem->at("type") == "urn:ietf:params:acme:error:connection");
  CHECK(auth.perform_calls == 1);
  CHECK(auth.cleanup_calls == 1);
  CHECK(ca.transport->count(HttpMethod::post, ca.order_url + "/finalize") == 0);
}

TEST_CASE("cleanup() runs when perform() fails, and no challenge is answered") {
  FakeCa ca;
  ca.script();
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auth.perform_error = Error(Errc::io, "cannot write /var/www/.well-known");
  auto issued = client.obtain(example_request(), FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::io);
  CHECK(auth.cleanup_calls == 1);
  CHECK(auth.cleaned.size() == 1);
  CHECK(ca.transport->count(HttpMethod::post, ca.chall_url) == 0);
}

TEST_CASE("the task carries the key authorization and the first supported challenge type") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"ready", "valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auth.types = {"tls-alpn-01", "dns-01", "http-01"};
  ca.transport->on_post(ca.chall_url + "-dns", json_response(200, {{"status", "processing"}}));
  REQUIRE(client.obtain(example_request(), FakeCa::cert_key(), auth).ok());
  REQUIRE(auth.performed.size() == 1);
  const auto& task = auth.performed[0];
  CHECK(task.type == "dns-01");
  CHECK(task.identifier == "example.com");
  CHECK(task.identifier_type == "dns");
  CHECK(task.key_authorization == crypto::key_authorization(ca.token, *FakeCa::account_key()));
  CHECK(task.dns_txt_value == crypto::dns01_txt_value(task.key_authorization));
  CHECK(ca.transport->count(HttpMethod::post, ca.chall_url + "-dns") == 1);
  CHECK(ca.transport->last(HttpMethod::post, ca.chall_url + "-dns").payload == "{}");
  CHECK(auth.cleanup_calls == 1);
}

TEST_CASE("an authenticator that cannot answer any offered challenge gets a clear error") {
  FakeCa ca;
  ca.script();
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auth.types = {"tls-alpn-01"};
  auto issued = client.obtain(example_request(), FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(contains(issued.error().message, "no challenge for example.com"));
  CHECK(contains(issued.error().message, "http-01, dns-01"));
  CHECK(auth.perform_calls == 0);
}

TEST_CASE("valid authorizations are skipped and nothing is published for them") {
  FakeCa fresh;
  fresh.transport->on_post(fresh.authz_url, json_response(200, fresh.authz("valid")));
  fresh.script();
  fresh.poll_answers({"ready", "valid"});
  auto client = fresh.account_client();
  FakeAuthenticator auth;
  REQUIRE(client.obtain(example_request(), FakeCa::cert_key(), auth).ok());
  CHECK(auth.perform_calls == 0);
  CHECK(auth.cleanup_calls == 0);
  CHECK(fresh.transport->count(HttpMethod::post, fresh.chall_url) == 0);
}

namespace {

acme::ObtainRequest fresh_request() {
  acme::ObtainRequest r = example_request();
  r.authorization_reuse = acme::AuthorizationReuse::fresh;
  return r;
}

// RFC 8555 section 7.5.2: deactivation requests the client sent to the authorization.
std::size_t deactivations(const FakeCa& ca) {
  std::size_t n = 0;
  for (const auto& s : ca.transport->sent)
    n += s.method == HttpMethod::post && s.url == ca.authz_url &&
         s.payload_json() == json{{"status", "deactivated"}};
  return n;
}

// The authorization's answers, in order (after script()'s first "pending"; the last repeats).
void authz_answers(FakeCa& ca, std::initializer_list<const char*> statuses) {
  for (const char* s : statuses)
    ca.transport->on_post(ca.authz_url, json_response(200, ca.authz(s)));
}

}  // namespace

TEST_CASE("a fresh obtain deactivates the authorization it validated once it has the cert") {
  FakeCa ca;
  ca.script();
  // before ordering again, while answering, after issuance, the deactivation's answer
  authz_answers(ca, {"pending", "valid", "deactivated"});
  ca.poll_answers({"ready", "valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto issued = client.obtain(fresh_request(), FakeCa::cert_key(), auth);
  REQUIRE_MESSAGE(issued.ok(), issued.error().describe());
  CHECK(auth.perform_calls == 1);
  CHECK(deactivations(ca) == 1);
  CHECK(ca.transport->count(HttpMethod::post, k_ca + "/order") == 1);
  CHECK(ca.transport->last(HttpMethod::post, ca.authz_url).protected_header["kid"] ==
        ca.account_url);
  CHECK(ca.warnings.empty());
}

TEST_CASE("a fresh obtain that fails after validating still deactivates the authorization") {
  FakeCa ca;
  ca.transport->on_post(ca.order_url + "/finalize",
                        problem_response(400, "badCSR", "the CSR is not acceptable"));
  ca.script();
  authz_answers(ca, {"pending", "valid", "deactivated"});
  ca.poll_answers({"ready"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto issued = client.obtain(fresh_request(), FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK_MESSAGE(contains(issued.error().message, "not acceptable"), issued.error().describe());
  CHECK(auth.perform_calls == 1);
  CHECK(deactivations(ca) == 1);
}

TEST_CASE("a fresh order that arrives with a valid authorization is deactivated and re-ordered") {
  FakeCa ca;
  // Queued before script(): the first order is "ready" on a reused authorization.
  ca.transport->on_post(k_ca + "/order",
                        json_response(201, ca.order("ready"), {{"Location", ca.order_url}}));
  authz_answers(ca, {"valid", "deactivated"});
  ca.script();  // then the second order is "pending" and its authorization "pending"
  authz_answers(ca, {"pending", "valid", "deactivated"});
  ca.poll_answers({"ready", "valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto issued = client.obtain(fresh_request(), FakeCa::cert_key(), auth);
  REQUIRE_MESSAGE(issued.ok(), issued.error().describe());
  CHECK(ca.transport->count(HttpMethod::post, k_ca + "/order") == 2);
  CHECK(auth.perform_calls == 1);  // the challenge ran
  CHECK(ca.transport->count(HttpMethod::post, ca.chall_url) == 1);
  CHECK(deactivations(ca) == 2);  // the reused one, and the one this run validated
  CHECK(ca.warnings.empty());
}

TEST_CASE("a CA that reuses authorizations on the second order too gets no third order") {
  FakeCa ca;
  for (int i = 0; i < 2; ++i)  // both orders "ready" on reused authorizations
    ca.transport->on_post(k_ca + "/order",
                          json_response(201, ca.order("ready"), {{"Location", ca.order_url}}));
  // first check, its deactivation, second check, after issuance, its deactivation
  authz_answers(ca, {"valid", "deactivated", "valid", "valid", "deactivated"});
  ca.script();
  ca.poll_answers({"valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto issued = client.obtain(fresh_request(), FakeCa::cert_key(), auth);
  REQUIRE_MESSAGE(issued.ok(), issued.error().describe());
  CHECK(ca.transport->count(HttpMethod::post, k_ca + "/order") == 2);
  CHECK(auth.perform_calls == 0);
  REQUIRE(ca.warnings.size() == 1);
  CHECK(contains(ca.warnings[0], "reused valid authorizations again for example.com"));
  CHECK(contains(ca.warnings[0], "does not answer their challenges"));
  CHECK(deactivations(ca) == 2);  // after each order
}

TEST_CASE("an obtain that allows reuse deactivates nothing and orders once") {
  FakeCa ca;
  ca.transport->on_post(ca.authz_url, json_response(200, ca.authz("valid")));
  ca.script();
  ca.poll_answers({"ready", "valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  REQUIRE(client.obtain(example_request(), FakeCa::cert_key(), auth).ok());
  CHECK(deactivations(ca) == 0);
  CHECK(ca.transport->count(HttpMethod::post, k_ca + "/order") == 1);
  CHECK(ca.transport->count(HttpMethod::post, ca.authz_url) == 1);  // authorize() only
}

TEST_CASE("a deactivation the CA refuses or ignores is a warning, not a failure") {
  for (bool refuse : {true, false}) {
    CAPTURE(refuse);
    FakeCa ca;
    ca.script();
    authz_answers(ca, {"pending", "valid"});
    if (refuse)
      ca.transport->on_post(ca.authz_url, problem_response(403, "unauthorized", "not yours"));
    // else: the CA answers the deactivation with the authorization still "valid"
    ca.poll_answers({"ready", "valid"});
    auto client = ca.account_client();
    FakeAuthenticator auth;
    auto issued = client.obtain(fresh_request(), FakeCa::cert_key(), auth);
    REQUIRE_MESSAGE(issued.ok(), issued.error().describe());
    CHECK(deactivations(ca) == 1);
    REQUIRE(ca.warnings.size() == 1);
    CHECK(contains(ca.warnings[0], "could not deactivate the authorization for example.com"));
    CHECK(contains(ca.warnings[0], refuse ? "not yours" : "status valid"));
  }
}

TEST_CASE("a warm issuance needs nine requests and returns the split chain") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"ready", "valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto issued = client.obtain(example_request(), FakeCa::cert_key(), auth);
  REQUIRE_MESSAGE(issued.ok(), issued.error().describe());
  // directory, newNonce, newOrder, authz, challenge, order poll, finalize, order poll, cert
  CHECK(client.stats().requests == 9);
  CHECK(ca.transport->sent.size() == 9);
  CHECK(issued->cert_pem == acme_data("leaf_One.pem"));
  CHECK(issued->chain_pem == acme_data("int_One.pem"));
  CHECK(issued->fullchain_pem == acme_data("leaf_One.pem") + acme_data("int_One.pem"));
  CHECK(issued->order_url == ca.order_url);
  const auto& cert = ca.transport->last(HttpMethod::post, ca.cert_url);
  CHECK(cert.headers.get("Accept") == "application/pem-certificate-chain");
  CHECK(cert.payload.empty());  // POST-as-GET
  json csr = ca.transport->last(HttpMethod::post, ca.order_url + "/finalize").payload_json();
  CHECK(crypto::is_base64url(csr["csr"].get<std::string>()));
  // First poll 50 ms after answering; the poll after finalizing also starts at 50 ms.
  CHECK(ca.sleeper->sleeps == std::vector<milliseconds>{milliseconds(50), milliseconds(50)});
}

TEST_CASE("the newOrder request lists dns and ip identifiers") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"ready", "valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  acme::ObtainRequest request = example_request();
  request.identifiers.ip = {"192.0.2.7"};
  (void)client.obtain(request, FakeCa::cert_key(), auth);
  json payload = ca.transport->last(HttpMethod::post, k_ca + "/order").payload_json();
  CHECK(payload["identifiers"] == json::array({{{"type", "dns"}, {"value", "example.com"}},
                                               {{"type", "ip"}, {"value", "192.0.2.7"}}}));
  CHECK_FALSE(payload.contains("profile"));
  CHECK_FALSE(payload.contains("replaces"));
}

TEST_CASE("polling backs off exponentially up to the cap") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"pending", "pending", "pending", "pending", "pending", "pending", "pending",
                   "ready", "valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  REQUIRE(client.obtain(example_request(), FakeCa::cert_key(), auth).ok());
  std::vector<milliseconds> expected{milliseconds(50),   milliseconds(100),  milliseconds(200),
                                     milliseconds(400),  milliseconds(800),  milliseconds(1600),
                                     milliseconds(2000), milliseconds(2000), milliseconds(50)};
  CHECK(ca.sleeper->sleeps == expected);
}

TEST_CASE("polling honours Retry-After from the CA") {
  FakeCa ca;
  ca.script();
  ca.transport->on_post(ca.order_url,
                        json_response(200, ca.order("pending"), {{"Retry-After", "7"}}));
  ca.poll_answers({"ready", "valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  REQUIRE(client.obtain(example_request(), FakeCa::cert_key(), auth).ok());
  REQUIRE(ca.sleeper->sleeps.size() >= 2);
  CHECK(ca.sleeper->sleeps[1] == seconds(7));
}

TEST_CASE("a Retry-After on the finalize answer delays the first poll") {
  FakeCa ca;
  ca.transport->on_post(ca.order_url + "/finalize",
                        json_response(200, ca.order("processing"), {{"Retry-After", "3"}}));
  ca.script();
  ca.poll_answers({"ready", "valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  REQUIRE(client.obtain(example_request(), FakeCa::cert_key(), auth).ok());
  CHECK(ca.sleeper->sleeps == std::vector<milliseconds>{milliseconds(50), seconds(3)});
}

TEST_CASE("an order that stays pending times out as a network error and still cleans up") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"pending"});
  auto client = ca.account_client([](acme::ClientOptions& o) { o.poll.timeout = seconds(30); });
  FakeAuthenticator auth;
  auto issued = client.obtain(example_request(), FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::network);
  CHECK(contains(issued.error().message, "timed out"));
  CHECK(auth.cleanup_calls == 1);
  milliseconds waited{0};
  for (auto s : ca.sleeper->sleeps) waited += s;
  CHECK(waited <= seconds(30));
  CHECK(ca.sleeper->sleeps.size() < 30);
}

TEST_CASE("a 5xx on a POST-as-GET is retried, but a 5xx on newOrder is not") {
  FakeCa ca;
  ca.transport->on_post(ca.authz_url, raw_response(503, "busy", "text/plain"));
  ca.script();
  ca.poll_answers({"ready", "valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  REQUIRE(client.obtain(example_request(), FakeCa::cert_key(), auth).ok());
  CHECK(ca.transport->count(HttpMethod::post, ca.authz_url) == 2);
  CHECK(ca.transport->nonce_errors.empty());

  FakeCa down;
  down.transport->on_post(k_ca + "/order", raw_response(500, "oops", "text/plain"));
  down.script();
  auto client2 = down.account_client();
  auto issued = client2.obtain(example_request(), FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::network);
  CHECK(contains(issued.error().message, "HTTP 500"));
  CHECK(down.transport->count(HttpMethod::post, k_ca + "/order") == 1);
}

TEST_CASE("a dropped connection on a fetch is retried a bounded number of times") {
  FakeCa ca;
  ca.script();
  ca.transport->drop(HttpMethod::get, k_dir_url, 5);
  auto client = ca.client();
  auto d = client.directory();
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == Errc::network);
  CHECK(contains(d.error().message, k_dir_url));
  CHECK(ca.transport->count(HttpMethod::get, k_dir_url) == 3);  // 1 + 2 retries
}

TEST_CASE("a preferred profile the CA lacks falls back to the default with a warning") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"ready", "valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto request = example_request();
  request.profile = "tlsclient";
  auto issued = client.obtain(request, FakeCa::cert_key(), auth);
  REQUIRE(issued.ok());
  CHECK(issued->profile.empty());
  CHECK_FALSE(
      ca.transport->last(HttpMethod::post, k_ca + "/order").payload_json().contains("profile"));
  REQUIRE(ca.warnings.size() == 1);
  CHECK(contains(ca.warnings[0], "tlsclient"));
  CHECK(contains(ca.warnings[0], "classic, shortlived"));
}

TEST_CASE("a required profile the CA lacks fails before any order is created") {
  FakeCa ca;
  ca.script();
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto request = example_request();
  request.profile = "tlsclient";
  request.profile_mode = acme::ProfileMode::required;
  auto issued = client.obtain(request, FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::invalid_input);
  CHECK(contains(issued.error().message, "'tlsclient'"));
  CHECK(ca.transport->count(HttpMethod::post, k_ca + "/order") == 0);
}

TEST_CASE("an offered profile is requested in newOrder") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"ready", "valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto request = example_request();
  request.profile = "shortlived";
  request.profile_mode = acme::ProfileMode::required;
  auto issued = client.obtain(request, FakeCa::cert_key(), auth);
  REQUIRE(issued.ok());
  CHECK(issued->profile == "shortlived");
  CHECK(ca.transport->last(HttpMethod::post, k_ca + "/order").payload_json()["profile"] ==
        "shortlived");
}

TEST_CASE("replaces is sent to a CA with ARI and dropped when the CA says already replaced") {
  FakeCa ca;
  ca.transport->on_post(k_ca + "/order",
                        problem_response(409, "alreadyReplaced", "already replaced"));
  ca.script();
  ca.poll_answers({"ready", "valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto request = example_request();
  request.replaces = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
  REQUIRE(client.obtain(request, FakeCa::cert_key(), auth).ok());
  CHECK(ca.transport->sent.size() > 0);
  std::vector<json> orders;
  for (const auto& s : ca.transport->sent)
    if (s.url == k_ca + "/order") orders.push_back(s.payload_json());
  REQUIRE(orders.size() == 2);
  CHECK(orders[0]["replaces"] == request.replaces);
  CHECK_FALSE(orders[1].contains("replaces"));
}

TEST_CASE("a preferred chain selects the alternate whose top certificate matches the issuer") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"ready", "valid"});
  ca.transport->on_post(ca.cert_url + "/alt",
                        raw_response(200, acme_data("leaf_Two.pem") + acme_data("int_Two.pem"),
                                     "application/pem-certificate-chain"));
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto request = example_request();
  request.preferred_chain = "Test Root Two";
  auto issued = client.obtain(request, FakeCa::cert_key(), auth);
  REQUIRE_MESSAGE(issued.ok(), issued.error().describe());
  CHECK(issued->cert_pem == acme_data("leaf_Two.pem"));
  CHECK(issued->chain_pem == acme_data("int_Two.pem"));
}

TEST_CASE("a preferred chain also matches the issuer of a lower certificate") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"ready", "valid"});
  ca.transport->on_post(ca.cert_url + "/alt",
                        raw_response(200, acme_data("leaf_Two.pem") + acme_data("int_Two.pem"),
                                     "application/pem-certificate-chain"));
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto request = example_request();
  request.preferred_chain = "Test Int Two";
  auto issued = client.obtain(request, FakeCa::cert_key(), auth);
  REQUIRE(issued.ok());
  CHECK(issued->chain_pem == acme_data("int_Two.pem"));
}

TEST_CASE("without a matching chain, or without a preference, the default chain is kept") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"ready", "valid"});
  ca.transport->on_post(ca.cert_url + "/alt",
                        raw_response(200, acme_data("leaf_Two.pem") + acme_data("int_Two.pem"),
                                     "application/pem-certificate-chain"));
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto request = example_request();
  request.preferred_chain = "Nobody Root";
  auto issued = client.obtain(request, FakeCa::cert_key(), auth);
  REQUIRE(issued.ok());
  CHECK(issued->chain_pem == acme_data("int_One.pem"));
  CHECK(ca.warnings.size() == 1);

  FakeCa plain;
  plain.script();
  plain.poll_answers({"ready", "valid"});
  auto client2 = plain.account_client();
  REQUIRE(client2.obtain(example_request(), FakeCa::cert_key(), auth).ok());
  CHECK(plain.transport->count(HttpMethod::post, plain.cert_url + "/alt") == 0);
}

TEST_CASE("a certificate download holding anything but certificates is refused") {
  FakeCa fresh;
  fresh.transport->on_post(fresh.cert_url,
                           raw_response(200, acme_data("leaf_One.pem") + acme_data("other_key.pem"),
                                        "application/pem-certificate-chain"));
  fresh.script();
  fresh.poll_answers({"ready", "valid"});
  auto client = fresh.account_client();
  FakeAuthenticator auth;
  auto issued = client.obtain(example_request(), FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::protocol);
}

TEST_CASE("a certificate for a different key is refused") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"ready", "valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  auto other = crypto::PrivateKey::from_pem(acme_data("other_key.pem"));
  REQUIRE(other.ok());
  auto issued = client.obtain(example_request(), *other, auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::protocol);
  CHECK(contains(issued.error().message, "not for the key"));
}

TEST_CASE("obtain without an account is refused") {
  FakeCa ca;
  ca.script();
  auto client = ca.client();
  FakeAuthenticator auth;
  auto issued = client.obtain(example_request(), FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(ca.transport->sent.empty());
}

TEST_CASE("renewal information is fetched from the ARI endpoint with its Retry-After") {
  FakeCa ca;
  ca.script();
  ca.transport->on(
      HttpMethod::get, k_ca + "/ari/aaaa.bbbb",
      json_response(200,
                    {{"suggestedWindow",
                      {{"start", "2026-12-01T00:00:00Z"}, {"end", "2026-12-03T00:00:00Z"}}}},
                    {{"Retry-After", "21600"}}));
  auto client = ca.client();
  auto info = client.renewal_info("aaaa.bbbb");
  REQUIRE(info.ok());
  CHECK(info->window_end - info->window_start == std::chrono::hours(48));
  CHECK(info->retry_after == seconds(21600));
  CHECK_FALSE(client.renewal_info("../x").ok());
}

TEST_CASE("revocation sends the leaf's DER and reason, signed by the account") {
  FakeCa ca;
  ca.script();
  ca.transport->on_post(k_ca + "/revoke", raw_response(200, "", "text/plain"));
  auto client = ca.account_client();
  const std::string fullchain = acme_data("leaf_One.pem") + acme_data("int_One.pem");
  REQUIRE(client.revoke(fullchain, acme::RevocationReason::superseded).ok());
  const auto& sent = ca.transport->last(HttpMethod::post, k_ca + "/revoke");
  CHECK(sent.protected_header["kid"] == ca.account_url);
  json payload = sent.payload_json();
  CHECK(payload["reason"] == 4);
  CHECK(crypto::base64url_decode(payload["certificate"].get<std::string>()).value() ==
        crypto::pem_to_der(acme_data("leaf_One.pem")).value());
}

TEST_CASE("revocation with the certificate key uses the jwk and checks the key first") {
  FakeCa ca;
  ca.script();
  ca.transport->on_post(k_ca + "/revoke", problem_response(400, "alreadyRevoked", "revoked"));
  auto client = ca.client();
  auto other = crypto::PrivateKey::from_pem(acme_data("other_key.pem"));
  REQUIRE(other.ok());
  auto wrong = client.revoke_with_certificate_key(acme_data("leaf_One.pem"),
                                                  acme::RevocationReason::key_compromise, *other);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().code == Errc::invalid_input);
  CHECK(ca.transport->sent.empty());

  auto refused = client.revoke_with_certificate_key(
      acme_data("leaf_One.pem"), acme::RevocationReason::key_compromise, FakeCa::cert_key());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == Errc::ca_problem);
  CHECK(refused.error().hint.find("already revoked") != std::string::npos);
  const auto& sent = ca.transport->last(HttpMethod::post, k_ca + "/revoke");
  CHECK(sent.protected_header.contains("jwk"));
  CHECK_FALSE(sent.protected_header.contains("kid"));
}

TEST_CASE("revoking something that is not a certificate is refused without a request") {
  FakeCa ca;
  ca.script();
  auto client = ca.account_client();
  auto r = client.revoke(acme_data("other_key.pem"), acme::RevocationReason::unspecified);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::invalid_input);
  CHECK(ca.transport->sent.empty());
}

TEST_CASE("an absurd Retry-After while polling is cut to the configured maximum") {
  FakeCa ca;
  ca.script();
  ca.transport->on_post(
      ca.order_url, json_response(200, ca.order("pending"), {{"Retry-After", "99999999999999"}}));
  ca.poll_answers({"ready", "valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  REQUIRE(client.obtain(example_request(), FakeCa::cert_key(), auth).ok());
  REQUIRE(ca.sleeper->sleeps.size() >= 2);
  CHECK(ca.sleeper->sleeps[1] == seconds(60));
}

TEST_CASE("account fetch, contact update and deactivation are kid-signed posts to the account") {
  FakeCa ca;
  ca.script();
  ca.transport->on_post(ca.account_url,
                        json_response(200, {{"status", "valid"},
                                            {"contact", json::array({"mailto:a@example.com"})}}));
  ca.transport->on_post(ca.account_url,
                        json_response(200, {{"status", "valid"},
                                            {"contact", json::array({"mailto:b@example.com"})}}));
  ca.transport->on_post(ca.account_url, json_response(200, {{"status", "deactivated"}}));
  auto client = ca.account_client();

  auto fetched = client.fetch_account();
  REQUIRE(fetched.ok());
  CHECK(fetched->contact == std::vector<std::string>{"mailto:a@example.com"});
  CHECK(ca.transport->last(HttpMethod::post, ca.account_url).payload.empty());

  auto updated = client.update_contacts({"b@example.com"});
  REQUIRE(updated.ok());
  CHECK(updated->contact == std::vector<std::string>{"mailto:b@example.com"});
  const auto& update = ca.transport->last(HttpMethod::post, ca.account_url);
  CHECK(update.payload_json() == json{{"contact", json::array({"mailto:b@example.com"})}});
  CHECK(update.protected_header["kid"] == ca.account_url);

  REQUIRE(client.deactivate_account().ok());
  CHECK(ca.transport->last(HttpMethod::post, ca.account_url).payload_json() ==
        json{{"status", "deactivated"}});
}

TEST_CASE("a key change nests a JWS by the new key naming the account and the old key") {
  FakeCa ca;
  ca.script();
  ca.transport->on_post(k_ca + "/key", json_response(200, {{"status", "valid"}}));
  auto client = ca.account_client();
  auto new_key =
      std::make_shared<const crypto::PrivateKey>(*crypto::PrivateKey::generate(crypto::KeySpec{}));
  REQUIRE(client.change_account_key(new_key).ok());
  const auto& outer = ca.transport->last(HttpMethod::post, k_ca + "/key");
  CHECK(outer.protected_header["kid"] == ca.account_url);
  json inner = outer.payload_json();
  json inner_header = json::parse(*crypto::base64url_decode(inner["protected"].get<std::string>()));
  CHECK(inner_header["jwk"] == new_key->public_jwk());
  CHECK(inner_header["url"] == k_ca + "/key");
  CHECK_FALSE(inner_header.contains("nonce"));
  json inner_payload = json::parse(*crypto::base64url_decode(inner["payload"].get<std::string>()));
  CHECK(inner_payload["account"] == ca.account_url);
  CHECK(inner_payload["oldKey"] == FakeCa::account_key()->public_jwk());
}

TEST_CASE("an account Location off https is refused") {
  FakeCa ca;
  ca.transport->on_post(k_ca + "/acct", json_response(201, {{"status", "valid"}},
                                                      {{"Location", "http://evil.example/a/1"}}));
  ca.script();
  auto client = ca.client();
  auto account = client.find_or_create_account(FakeCa::account_key(), agreed());
  REQUIRE_FALSE(account.ok());
  CHECK(account.error().code == Errc::protocol);
  CHECK(account.error().message.find("http://evil.example/a/1") != std::string::npos);
}

TEST_CASE("a redirected directory URL is reported with its target, not followed") {
  FakeCa ca;
  HttpResponse moved = raw_response(301, "", "text/html");
  moved.headers.add("Location", k_ca + "/directory");
  ca.transport->on(HttpMethod::get, k_dir_url, moved);
  auto client = ca.client();
  auto d = client.directory();
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == Errc::protocol);
  CHECK(contains(d.error().message, "redirects (HTTP 301) to " + k_ca + "/directory"));
  CHECK(ca.transport->sent.size() == 1);
}

TEST_CASE("an order already processing is polled until valid without finalizing again") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"processing", "valid"});
  auto client = ca.account_client();
  FakeAuthenticator auth;
  REQUIRE(client.obtain(example_request(), FakeCa::cert_key(), auth).ok());
  CHECK(ca.transport->count(HttpMethod::post, ca.order_url + "/finalize") == 0);
}

TEST_CASE("revocation reasons: certbot's names, RFC 5280's names in any case, and numbers") {
  CHECK(acme::parse_revocation_reason("keycompromise").value() ==
        acme::RevocationReason::key_compromise);
  CHECK(acme::parse_revocation_reason("keyCompromise").value() ==
        acme::RevocationReason::key_compromise);
  CHECK(acme::parse_revocation_reason("cACompromise").value() ==
        acme::RevocationReason::ca_compromise);
  CHECK(acme::parse_revocation_reason("4").value() == acme::RevocationReason::superseded);
  CHECK(acme::parse_revocation_reason("10").value() == acme::RevocationReason::aa_compromise);
  CHECK(acme::to_string(acme::RevocationReason::cessation_of_operation) == "cessationofoperation");
  for (const char* bad : {"7", "11", "-1", "", "compromised", "key compromise"}) {
    auto r = acme::parse_revocation_reason(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::usage);
    CHECK(r.error().hint.find("keycompromise") != std::string::npos);
  }
}

TEST_CASE("a CA refusing the revocation reason is explained, naming the reason") {
  FakeCa ca;
  ca.script();
  ca.transport->on_post(k_ca + "/revoke",
                        problem_response(400, "badRevocationReason", "reason not allowed"));
  auto client = ca.account_client();
  auto r = client.revoke(acme_data("leaf_One.pem"), acme::RevocationReason::certificate_hold);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("certificatehold (RFC 5280 code 6)") != std::string::npos);
  CHECK(r.error().hint.find("--reason") != std::string::npos);
  CHECK_FALSE(acme::is_already_revoked(r.error()));
  CHECK(ca.transport->last(HttpMethod::post, k_ca + "/revoke").payload_json()["reason"] == 6);
}

TEST_CASE("alreadyRevoked is recognisable, so callers can treat it as done") {
  FakeCa ca;
  ca.script();
  ca.transport->on_post(k_ca + "/revoke", problem_response(400, "alreadyRevoked", "revoked"));
  auto client = ca.account_client();
  auto r = client.revoke(acme_data("leaf_One.pem"), acme::RevocationReason::superseded);
  REQUIRE_FALSE(r.ok());
  CHECK(acme::is_already_revoked(r.error()));
}
