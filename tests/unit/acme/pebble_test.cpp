// The client library against a real Pebble: dns-01 with a wildcard, revocation, a warm order's
// request count, account management (contacts, key rollover, deactivation), chain selection.
// Test suite "pebble", excluded from unit.acme and run by tests/integration/test_core_pebble_client.sh,
// which starts Pebble (lib.sh) and sets:
//   ACMED_TEST_PEBBLE_URL    Pebble's directory, e.g. https://127.0.0.1:14000/dir
//   ACMED_TEST_PEBBLE_CA     PEM file trusted for Pebble's HTTPS listener
//   ACMED_TEST_CHALLTESTSRV  pebble-challtestsrv management URL, e.g. http://127.0.0.1:8055
//   ACMED_TEST_PEBBLE_MGMT   Pebble's management URL (Pebble runs with PEBBLE_ALTERNATE_ROOTS=1)
// Optional: ACMED_TEST_PEBBLE_EAB_KID / _HMAC for a Pebble that requires EAB. A missing variable
// fails the test. All traffic stays on loopback.
#include "acmed/acme/client.hpp"
#include "acmed/crypto/jws.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>

using namespace acmed;
using nlohmann::json;

TEST_SUITE_BEGIN("pebble");

namespace {

struct PebbleEnv {
  std::string url, ca, challtestsrv;
};

// The Pebble set up by test_core_pebble_client.sh; fails the test when it is not there.
std::optional<PebbleEnv> pebble_env() {
  const char* url = std::getenv("ACMED_TEST_PEBBLE_URL");
  const char* ca = std::getenv("ACMED_TEST_PEBBLE_CA");
  const char* chall = std::getenv("ACMED_TEST_CHALLTESTSRV");
  if (!url || !ca || !chall) {
    FAIL_CHECK("ACMED_TEST_PEBBLE_URL, _CA and ACMED_TEST_CHALLTESTSRV must be set: run "
               "tests/integration/test_core_pebble_client.sh (ctest -R integration.core_pebble)");
    return std::nullopt;
  }
  return PebbleEnv{url, ca, chall};
}

// Publishes dns-01 TXT records through pebble-challtestsrv's management API.
class ChalltestsrvDns final : public challenge::Authenticator {
 public:
  explicit ChalltestsrvDns(std::string base) : m_base(std::move(base)) {
    m_http = std::move(*acme::open_http_transport({}));
  }
  std::string name() const override { return "challtestsrv-dns"; }
  std::vector<std::string> supported_types() const override { return {"dns-01"}; }
  Status perform(std::span<const challenge::Task> tasks) override {
    for (const auto& t : tasks) {
      auto r = post("/set-txt", json{{"host", "_acme-challenge." + t.identifier + "."},
                                     {"value", t.dns_txt_value}});
      if (!r) return r;
    }
    return ok_status();
  }
  void cleanup(std::span<const challenge::Task> tasks) noexcept override {
    ++cleanups;
    for (const auto& t : tasks)
      (void)post("/clear-txt", json{{"host", "_acme-challenge." + t.identifier + "."}});
  }
  int cleanups = 0;

 private:
  Status post(const std::string& path, const json& body) {
    auto r = m_http->request(acme::HttpMethod::post, m_base + path, {}, body.dump());
    if (!r) return std::move(r).error();
    if (r->status != 200)
      return Error(Errc::network, "challtestsrv said " + std::to_string(r->status));
    return ok_status();
  }
  std::string m_base;
  std::unique_ptr<acme::Transport> m_http;
};

}  // namespace

TEST_CASE("pebble: an account is created, certificates are issued, and a warm order is fast") {
  auto env = pebble_env();
  if (!env) return;
  acme::TransportOptions transport;
  transport.ca_bundle = env->ca;
  std::vector<std::string> warnings;
  std::vector<std::string> requests;
  acme::ClientOptions options;
  options.log = [&warnings, &requests](acme::LogLevel level, std::string_view m) {
    if (level == acme::LogLevel::warning) warnings.emplace_back(m);
    if (level == acme::LogLevel::debug) requests.emplace_back(m);
  };
  auto client = acme::Client::connect(env->url, transport, options);
  REQUIRE_MESSAGE(client.ok(), client.error().describe());

  auto account_key =
      std::make_shared<const crypto::PrivateKey>(*crypto::PrivateKey::generate(crypto::KeySpec{}));
  acme::AccountOptions account_options;
  if (const char* kid = std::getenv("ACMED_TEST_PEBBLE_EAB_KID"))
    account_options.eab =
        acme::ExternalAccountBinding{kid, std::getenv("ACMED_TEST_PEBBLE_EAB_HMAC")};
  account_options.emails = {"admin@example.com"};
  account_options.tos = acme::TosAgreement::agreed;
  auto account = client->find_or_create_account(account_key, account_options);
  REQUIRE_MESSAGE(account.ok(), account.error().describe());
  CHECK(account->status == "valid");

  // The same key finds the same account.
  auto again = client->find_or_create_account(account_key, account_options);
  REQUIRE(again.ok());
  CHECK(again->url == account->url);

  auto cert_key = *crypto::PrivateKey::generate(crypto::KeySpec{});
  ChalltestsrvDns dns(env->challtestsrv);
  acme::ObtainRequest request;
  request.identifiers.dns = {"pebble-test.example", "*.pebble-test.example"};
  auto issued = client->obtain(request, cert_key, dns);
  REQUIRE_MESSAGE(issued.ok(), issued.error().describe() << " / " << issued.error().hint);
  CHECK(dns.cleanups == 1);
  auto leaf = crypto::parse_certificate(issued->cert_pem);
  REQUIRE(leaf.ok());
  CHECK(leaf->dns_names.size() == 2);
  CHECK_FALSE(issued->chain_pem.empty());
  CHECK(issued->fullchain_pem == issued->cert_pem + issued->chain_pem);

  // Revocation by the account; a second one is refused as alreadyRevoked.
  REQUIRE(client->revoke(issued->cert_pem, acme::RevocationReason::superseded).ok());
  auto twice = client->revoke_with_certificate_key(issued->cert_pem,
                                                   acme::RevocationReason::superseded, cert_key);
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().code == Errc::ca_problem);

  // Warm: a fresh client with the known account URL, as `renew` runs it.
  auto warm = acme::Client::connect(env->url, transport, options);
  REQUIRE(warm.ok());
  warm->use_account(account_key, account->url);
  request.identifiers.dns = {"warm.pebble-test.example"};
  requests.clear();
  const auto start = std::chrono::steady_clock::now();
  auto warm_issued = warm->obtain(request, cert_key, dns);
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_MESSAGE(warm_issued.ok(), warm_issued.error().describe());
  MESSAGE("warm issuance: " << warm->stats().requests << " requests, "
                            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                            << " ms");
  // Requests answered 400 are badNonce retries when Pebble runs with PEBBLE_WFE_NONCEREJECT.
  std::size_t rejected = 0;
  for (const auto& r : requests) rejected += r.ends_with("-> 400");
  CHECK(warm->stats().requests - rejected <= 10);
  CHECK(warnings.empty());
}

TEST_CASE("pebble: a name Pebble cannot validate fails naming it, after cleanup") {
  auto env = pebble_env();
  if (!env) return;
  acme::TransportOptions transport;
  transport.ca_bundle = env->ca;
  auto client = acme::Client::connect(env->url, transport);
  REQUIRE(client.ok());
  auto account_key =
      std::make_shared<const crypto::PrivateKey>(*crypto::PrivateKey::generate(crypto::KeySpec{}));
  acme::AccountOptions account_options;
  account_options.tos = acme::TosAgreement::agreed;
  if (const char* kid = std::getenv("ACMED_TEST_PEBBLE_EAB_KID"))
    account_options.eab =
        acme::ExternalAccountBinding{kid, std::getenv("ACMED_TEST_PEBBLE_EAB_HMAC")};
  REQUIRE(client->find_or_create_account(account_key, account_options).ok());

  // An authenticator that claims success but publishes nothing.
  struct Liar final : challenge::Authenticator {
    int cleanups = 0;
    std::string name() const override { return "liar"; }
    std::vector<std::string> supported_types() const override { return {"dns-01"}; }
    Status perform(std::span<const challenge::Task>) override { return ok_status(); }
    void cleanup(std::span<const challenge::Task>) noexcept override { ++cleanups; }
  } liar;
  auto cert_key = *crypto::PrivateKey::generate(crypto::KeySpec{});
  acme::ObtainRequest request;
  request.identifiers.dns = {"unpublished.pebble-test.example"};
  auto issued = client->obtain(request, cert_key, liar);
  REQUIRE_FALSE(issued.ok());
  MESSAGE(issued.error().describe() << " | hint: " << issued.error().hint);
  CHECK(issued.error().code == Errc::ca_problem);
  CHECK(issued.error().message.find("unpublished.pebble-test.example") != std::string::npos);
  CHECK(issued.error().hint.find("_acme-challenge.unpublished.pebble-test.example") !=
        std::string::npos);
  CHECK(liar.cleanups == 1);

  // Account management on the same account: contacts, key rollover, deactivation.
  auto updated = client->update_contacts({"new@example.com"});
  REQUIRE_MESSAGE(updated.ok(), updated.error().describe());
  CHECK(updated->contact == std::vector<std::string>{"mailto:new@example.com"});
  auto new_key =
      std::make_shared<const crypto::PrivateKey>(*crypto::PrivateKey::generate(crypto::KeySpec{}));
  auto changed = client->change_account_key(new_key);
  REQUIRE_MESSAGE(changed.ok(), changed.error().describe());
  REQUIRE(client->fetch_account().ok());  // signed with the new key now
  REQUIRE(client->deactivate_account().ok());
  CHECK_FALSE(client->fetch_account().ok());
}

TEST_CASE("pebble: the directory of a non-ACME URL on the same server is refused clearly") {
  auto env = pebble_env();
  if (!env) return;
  acme::TransportOptions transport;
  transport.ca_bundle = env->ca;
  std::string url = env->url.substr(0, env->url.rfind('/')) + "/not-a-directory";
  auto client = acme::Client::connect(url, transport);
  REQUIRE(client.ok());
  auto d = client->directory();
  REQUIRE_FALSE(d.ok());
  MESSAGE(d.error().describe());
  CHECK(d.error().message.find("is not an ACME directory") != std::string::npos);
}

TEST_CASE("pebble: a preferred chain picks the alternate root's chain") {
  auto env = pebble_env();
  const char* mgmt = std::getenv("ACMED_TEST_PEBBLE_MGMT");
  REQUIRE_MESSAGE(mgmt != nullptr, "ACMED_TEST_PEBBLE_MGMT is not set");
  if (!env) return;
  acme::TransportOptions transport;
  transport.ca_bundle = env->ca;
  auto http = std::move(*acme::open_http_transport(transport));
  auto root = http->request(acme::HttpMethod::get, std::string(mgmt) + "/roots/1", {}, "");
  REQUIRE(root.ok());
  REQUIRE_MESSAGE(root->status == 200, "Pebble runs without PEBBLE_ALTERNATE_ROOTS=1");
  auto root_info = crypto::parse_certificate(root->body);
  REQUIRE(root_info.ok());

  // The client's warnings (an alternate chain skipped, no chain matched) explain a failure here.
  acme::ClientOptions options;
  options.log = [](acme::LogLevel level, std::string_view line) {
    if (level == acme::LogLevel::warning) MESSAGE("client: " << line);
  };
  auto client = acme::Client::connect(env->url, transport, options);
  REQUIRE(client.ok());
  auto account_key =
      std::make_shared<const crypto::PrivateKey>(*crypto::PrivateKey::generate(crypto::KeySpec{}));
  acme::AccountOptions account_options;
  account_options.tos = acme::TosAgreement::agreed;
  if (const char* kid = std::getenv("ACMED_TEST_PEBBLE_EAB_KID"))
    account_options.eab =
        acme::ExternalAccountBinding{kid, std::getenv("ACMED_TEST_PEBBLE_EAB_HMAC")};
  REQUIRE(client->find_or_create_account(account_key, account_options).ok());
  auto cert_key = *crypto::PrivateKey::generate(crypto::KeySpec{});
  ChalltestsrvDns dns(env->challtestsrv);
  acme::ObtainRequest request;
  request.identifiers.dns = {"chain.pebble-test.example"};
  request.preferred_chain = root_info->subject_cn;
  auto issued = client->obtain(request, cert_key, dns);
  REQUIRE(issued.ok());
  auto chain = crypto::split_pem_chain(issued->chain_pem);
  REQUIRE(chain.ok());
  auto top = crypto::parse_certificate(chain->back());
  REQUIRE(top.ok());
  CHECK(top->issuer_cn == root_info->subject_cn);
  CHECK(crypto::verify_chain(issued->fullchain_pem, root->body).ok());
}

TEST_SUITE_END();
