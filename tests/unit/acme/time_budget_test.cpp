// The client's time bounds (ClientOptions::issuance_timeout, retry_budget): with the scripted
// fake CA and a sleeper that only pretends to wait, so no test here waits for real.
#include "fake_ca.hpp"

using namespace acmed;
using namespace acmed::test;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

milliseconds total(const std::vector<milliseconds>& sleeps) {
  milliseconds sum{0};
  for (auto s : sleeps) sum += s;
  return sum;
}

acme::ClientOptions options_for(const FakeCa& ca) {
  acme::ClientOptions options;
  options.sleeper = ca.sleeper;
  return options;
}

// Publishes by "waiting" on the fake clock, as a DNS plugin waiting for propagation would.
class SlowAuthenticator final : public challenge::Authenticator {
 public:
  SlowAuthenticator(std::shared_ptr<FakeSleeper> sleeper, seconds takes)
      : m_sleeper(std::move(sleeper)), m_takes(takes) {}
  std::string name() const override { return "slow"; }
  std::vector<std::string> supported_types() const override { return {"http-01"}; }
  Status perform(std::span<const challenge::Task>) override {
    m_sleeper->sleep(m_takes);
    return ok_status();
  }
  void cleanup(std::span<const challenge::Task>) noexcept override {}

 private:
  std::shared_ptr<FakeSleeper> m_sleeper;
  seconds m_takes;
};

}  // namespace

TEST_CASE("a 503 asking to come back later than the budget allows ends at once with the time") {
  FakeCa ca;
  HttpResponse busy = raw_response(503, "down for maintenance", "text/plain");
  busy.headers.add("Retry-After", "86400");
  ca.transport->on(HttpMethod::get, k_dir_url, busy);
  acme::Client client(k_dir_url, std::move(ca.owned), options_for(ca));
  auto d = client.directory();
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == Errc::network);  // temporary: exit 75
  CHECK(contains(d.error().message, "retry after 86400 s"));
  CHECK(contains(d.error().hint, "run acmed again after 2026-11-27T00:00:00Z"));
  CHECK(ca.sleeper->sleeps.empty());  // not slept, not even the capped 60 s
  CHECK(ca.transport->count(HttpMethod::get, k_dir_url) == 1);
}

TEST_CASE("a 503 with a Retry-After inside the budget is retried after it") {
  FakeCa ca;
  HttpResponse busy = raw_response(503, "busy", "text/plain");
  busy.headers.add("Retry-After", "5");
  ca.transport->on(HttpMethod::get, k_dir_url, busy);
  ca.transport->on(HttpMethod::get, k_dir_url, json_response(200, ca.directory));
  acme::Client client(k_dir_url, std::move(ca.owned), options_for(ca));
  REQUIRE(client.directory().ok());
  CHECK(ca.sleeper->sleeps == std::vector<milliseconds>{seconds(5)});
}

TEST_CASE("retries of one request stop at the retry budget") {
  FakeCa ca;
  ca.script();
  ca.transport->drop(HttpMethod::get, k_dir_url, 1000);
  acme::ClientOptions options = options_for(ca);
  options.max_transient_retries = 1000;  // only the budget stops it
  options.transient_backoff = seconds(1);
  options.retry_budget = seconds(20);
  acme::Client client(k_dir_url, std::move(ca.owned), options);
  auto d = client.directory();
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == Errc::network);
  CHECK(total(ca.sleeper->sleeps) <= seconds(20));
  CHECK(ca.transport->count(HttpMethod::get, k_dir_url) < 10);  // 1 + 2 + 4 + 8 s of backoff
  CHECK(contains(d.error().describe(), "after retrying for"));
}

TEST_CASE("an order stuck in processing ends at the issuance timeout, not the poll timeout") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"ready", "processing"});  // finalized, then processing for ever
  acme::ClientOptions options = options_for(ca);
  options.issuance_timeout = seconds(90);
  options.poll.timeout = seconds(300);
  acme::Client client(k_dir_url, std::move(ca.owned), options);
  client.use_account(FakeCa::account_key(), ca.account_url);
  FakeAuthenticator auth;
  auto issued = client.obtain(example_request(), FakeCa::cert_key(), auth);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::network);
  CHECK(contains(issued.error().message, "timed out after 90 s (the issuance timeout)"));
  CHECK(contains(issued.error().message, "still processing"));
  CHECK(contains(issued.error().hint, "--issuance-timeout"));
  CHECK(total(ca.sleeper->sleeps) <= seconds(90));
  CHECK(auth.cleanup_calls == 1);
}

TEST_CASE("once the issuance timeout has run out, nothing more is sent") {
  FakeCa ca;
  ca.script();
  acme::ClientOptions options = options_for(ca);
  options.issuance_timeout = seconds(0);
  acme::Client client(k_dir_url, std::move(ca.owned), options);
  auto d = client.directory();
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == Errc::network);
  CHECK(contains(d.error().message, "issuance timeout (0 s)"));
  CHECK(ca.transport->sent.empty());
}

TEST_CASE("a failed attempt that used up the budget says so, with the reason") {
  FakeCa ca;
  ca.script();
  ca.transport->drop(HttpMethod::get, k_dir_url, 1);
  acme::ClientOptions options = options_for(ca);
  options.issuance_timeout = seconds(1);
  options.transient_backoff = seconds(2);  // the retry would end after the budget
  acme::Client client(k_dir_url, std::move(ca.owned), options);
  auto d = client.directory();
  REQUIRE_FALSE(d.ok());
  CHECK(contains(d.error().message, "issuance timeout (1 s)"));
  CHECK(contains(d.error().message, "Connection reset by peer"));
  CHECK(ca.sleeper->sleeps.empty());
}

TEST_CASE("the time an authenticator spends publishing does not count against the budget") {
  FakeCa ca;
  ca.script();
  ca.poll_answers({"ready", "valid"});
  acme::ClientOptions options = options_for(ca);
  options.issuance_timeout = seconds(90);
  acme::Client client(k_dir_url, std::move(ca.owned), options);
  client.use_account(FakeCa::account_key(), ca.account_url);
  SlowAuthenticator slow(ca.sleeper, seconds(600));  // e.g. waiting for DNS propagation
  auto issued = client.obtain(example_request(), FakeCa::cert_key(), slow);
  REQUIRE_MESSAGE(issued.ok(), issued.error().describe());
}
