// The etcd v3 JSON-gateway client (fleet/etcd.hpp) against a scripted Transport: what it sends,
// how it reads etcd's answers (and refuses malformed ones), failover between endpoints.
#include "acmed/fleet/etcd.hpp"

#include "acmed/crypto/encoding.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <deque>

using namespace acmed;
using namespace acmed::fleet;
using json = nlohmann::json;

namespace {

const std::string k_a = "https://127.0.0.1:2379";
const std::string k_b = "https://127.0.0.2:2379";
const std::string k_c = "https://127.0.0.3:2379";

struct Sent {
  std::string url;
  std::string content_type;
  json body;
};

// Answers requests in order from a script; an entry is an HTTP answer or a network failure.
class ScriptedTransport final : public acme::Transport {
 public:
  struct Step {
    std::optional<Error> failure;
    long status = 200;
    std::string body;
  };
  std::deque<Step> script;
  std::vector<Sent>* sent = nullptr;

 protected:
  Result<acme::HttpResponse> send(acme::HttpMethod method, std::string_view url,
                                  const acme::HttpHeaders& headers,
                                  std::string_view body) override {
    CHECK(method == acme::HttpMethod::post);
    sent->push_back({std::string(url), headers.get("Content-Type").value_or(""),
                     json::parse(body, nullptr, false)});
    REQUIRE_MESSAGE(!script.empty(), "unscripted request to " << url);
    Step step = std::move(script.front());
    script.pop_front();
    if (step.failure) return *step.failure;
    acme::HttpResponse r;
    r.status = step.status;
    r.headers.add("Content-Type", "application/json");
    r.body = std::move(step.body);
    return r;
  }
};

// A client over a scripted transport; `sent` collects the requests.
struct Fixture {
  std::vector<Sent> sent;
  ScriptedTransport* transport = nullptr;
  std::optional<EtcdClient> client;

  explicit Fixture(std::vector<std::string> endpoints = {k_a}) {
    auto t = std::make_unique<ScriptedTransport>();
    t->sent = &sent;
    transport = t.get();
    EtcdOptions options;
    options.endpoints = std::move(endpoints);
    auto c = EtcdClient::with_transport(std::move(options), std::move(t));
    REQUIRE_MESSAGE(c.ok(), c.error().describe());
    client.emplace(std::move(c).value());
  }
  void answer(std::string body, long status = 200) {
    transport->script.push_back({std::nullopt, status, std::move(body)});
  }
  void drop(const std::string& url) {
    transport->script.push_back(
        {Error(Errc::network, "request to " + url + " failed: Connection refused"), 0, ""});
  }
};

std::string b64(std::string_view s) {
  return crypto::base64_encode(s);
}

const std::string k_header =
    R"("header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"7","raft_term":"2"})";

std::string binary_bytes() {
  return std::string("\x00\xff\x01 k\n\xc3(", 8);
}

}  // namespace

TEST_CASE("etcd: put sends base64 key and value and the lease as a decimal string") {
  Fixture f;
  f.answer("{" + k_header + "}");
  auto r = f.client->put({"/fleet/a", binary_bytes(), 4111120412536715273});
  REQUIRE_MESSAGE(r.ok(), r.error().describe());
  CHECK(r->revision == 7);
  REQUIRE(f.sent.size() == 1);
  CHECK(f.sent[0].url == k_a + "/v3/kv/put");
  CHECK(f.sent[0].content_type == "application/json");
  CHECK(f.sent[0].body == json{{"key", b64("/fleet/a")},
                               {"value", b64(binary_bytes())},
                               {"lease", "4111120412536715273"}});
  f.answer("{" + k_header + "}");
  REQUIRE(f.client->put({"k", "", 0}).ok());
  CHECK_FALSE(f.sent[1].body.contains("lease"));
  CHECK(f.client->stats().calls == 2);
  CHECK(f.client->stats().requests == 2);
}

TEST_CASE("etcd: range reads binary keys and values and int64 fields given as strings") {
  Fixture f;
  f.answer("{" + k_header + R"(,"kvs":[{"key":")" + b64(binary_bytes()) +
           R"(","create_revision":"2","mod_revision":"9007199254740993","version":"3","value":")" +
           b64(binary_bytes()) + R"(","lease":"4111120412536715273"}],"count":"1"})");
  auto r = f.client->range({binary_bytes(), "", 0});
  REQUIRE_MESSAGE(r.ok(), r.error().describe());
  CHECK(r->revision == 7);
  CHECK(r->count == 1);
  CHECK_FALSE(r->more);
  REQUIRE(r->kvs.size() == 1);
  CHECK(r->kvs[0].key == binary_bytes());
  CHECK(r->kvs[0].value == binary_bytes());
  CHECK(r->kvs[0].create_revision == 2);
  CHECK(r->kvs[0].mod_revision == 9007199254740993);  // above 2^53: exact, not a double
  CHECK(r->kvs[0].version == 3);
  CHECK(r->kvs[0].lease == 4111120412536715273);
  CHECK(f.sent[0].url == k_a + "/v3/kv/range");
  CHECK(f.sent[0].body == json{{"key", b64(binary_bytes())}});
}

TEST_CASE("etcd: an absent key is an empty range; zero fields left out read as zero") {
  Fixture f;
  f.answer("{" + k_header + "}");
  auto r = f.client->range({"/none", "", 0});
  REQUIRE(r.ok());
  CHECK(r->kvs.empty());
  CHECK(r->count == 0);
  // A value left out (an empty value) and numbers as JSON numbers are read too.
  f.answer(R"({"kvs":[{"key":")" + b64("k") +
           R"(","create_revision":5,"version":1}],"more":true})");
  auto e = f.client->range({"k", "", 0});
  REQUIRE_MESSAGE(e.ok(), e.error().describe());
  REQUIRE(e->kvs.size() == 1);
  CHECK(e->kvs[0].value.empty());
  CHECK(e->kvs[0].create_revision == 5);
  CHECK(e->more);
}

TEST_CASE("etcd: a prefix range sends prefix_end as range_end, and the limit") {
  CHECK(prefix_end("/fleet/") == "/fleet0");
  CHECK(prefix_end("a\xff") == "b");
  CHECK(prefix_end(std::string("\xff\xff")) == std::string(1, '\0'));
  CHECK(prefix_end("") == std::string(1, '\0'));
  Fixture f;
  f.answer("{" + k_header + "}");
  REQUIRE(f.client->range({"/fleet/", prefix_end("/fleet/"), 10}).ok());
  CHECK(f.sent[0].body ==
        json{{"key", b64("/fleet/")}, {"range_end", b64("/fleet0")}, {"limit", "10"}});
}

TEST_CASE("etcd: delete_range sends the range and reads the count deleted") {
  Fixture f;
  f.answer("{" + k_header + R"(,"deleted":"3"})");
  auto r = f.client->delete_range({"/a/", prefix_end("/a/")});
  REQUIRE(r.ok());
  CHECK(r->deleted == 3);
  CHECK(f.sent[0].url == k_a + "/v3/kv/deleterange");
  CHECK(f.sent[0].body == json{{"key", b64("/a/")}, {"range_end", b64("/a0")}});
}

TEST_CASE("etcd: a txn sends its compares and both op lists in etcd's JSON names") {
  Fixture f;
  f.answer(
      "{" + k_header +
      R"(,"succeeded":true,"responses":[{"response_put":{"header":{"revision":"8"}}},{"response_delete_range":{"header":{"revision":"8"},"deleted":"1"}}]})");
  TxnRequest t;
  t.compare.push_back({"/k", CompareTarget::create_revision, CompareOp::equal, 0, ""});
  t.compare.push_back({"/k", CompareTarget::mod_revision, CompareOp::less, 12, ""});
  t.compare.push_back({"/k", CompareTarget::version, CompareOp::greater, 1, ""});
  t.compare.push_back({"/k", CompareTarget::value, CompareOp::not_equal, 0, "v"});
  t.success.push_back(PutRequest{"/k", "v", 5});
  t.success.push_back(DeleteRequest{"/old", ""});
  t.failure.push_back(RangeRequest{"/k", "", 0});
  auto r = f.client->txn(t);
  REQUIRE_MESSAGE(r.ok(), r.error().describe());
  CHECK(r->succeeded);
  CHECK(r->revision == 7);
  REQUIRE(r->responses.size() == 2);
  CHECK(std::get<PutResponse>(r->responses[0]).revision == 8);
  CHECK(std::get<DeleteResponse>(r->responses[1]).deleted == 1);
  CHECK(f.sent[0].url == k_a + "/v3/kv/txn");
  const json expected = {
      {"compare",
       {{{"key", b64("/k")}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}},
        {{"key", b64("/k")}, {"target", "MOD"}, {"result", "LESS"}, {"mod_revision", "12"}},
        {{"key", b64("/k")}, {"target", "VERSION"}, {"result", "GREATER"}, {"version", "1"}},
        {{"key", b64("/k")}, {"target", "VALUE"}, {"result", "NOT_EQUAL"}, {"value", b64("v")}}}},
      {"success",
       {{{"request_put", {{"key", b64("/k")}, {"value", b64("v")}, {"lease", "5"}}}},
        {{"request_delete_range", {{"key", b64("/old")}}}}}},
      {"failure", {{{"request_range", {{"key", b64("/k")}}}}}}};
  CHECK(f.sent[0].body == expected);
}

TEST_CASE("etcd: a txn whose compare failed ran the failure ops (succeeded left out)") {
  Fixture f;
  f.answer("{" + k_header +
           R"(,"responses":[{"response_range":{"header":{"revision":"7"},"kvs":[{"key":")" +
           b64("/k") + R"(","create_revision":"2","mod_revision":"2","version":"1","value":")" +
           b64("taken") + R"("}],"count":"1"}}]})");
  TxnRequest t;
  t.compare.push_back({"/k", CompareTarget::create_revision, CompareOp::equal, 0, ""});
  t.success.push_back(PutRequest{"/k", "mine", 0});
  t.failure.push_back(RangeRequest{"/k", "", 0});
  auto r = f.client->txn(t);
  REQUIRE_MESSAGE(r.ok(), r.error().describe());
  CHECK_FALSE(r->succeeded);
  REQUIRE(r->responses.size() == 1);
  const auto& range = std::get<RangeResponse>(r->responses[0]);
  REQUIRE(range.kvs.size() == 1);
  CHECK(range.kvs[0].value == "taken");
}

TEST_CASE("etcd: txn responses that do not match the ops that ran are malformed") {
  TxnRequest t;
  t.success.push_back(PutRequest{"/k", "v", 0});
  for (const char* responses :
       {R"([])", R"([{"response_range":{}}])", R"([{"response_put":{}},{"response_put":{}}])",
        R"([{"response_lease":{}}])", R"([{"response_put":{},"response_range":{}}])",
        R"({"response_put":{}})"}) {
    Fixture f;
    f.answer(std::string(R"({"succeeded":true,"responses":)") + responses + "}");
    auto r = f.client->txn(t);
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(r.error().code == Errc::protocol, responses);
    CHECK(r.error().message.find("etcd at " + k_a) == 0);
  }
}

TEST_CASE("etcd: lease grant, keepalive and revoke speak the lease gateway") {
  Fixture f;
  f.answer("{" + k_header + R"(,"ID":"4111120412536715273","TTL":"5"})");
  auto lease = f.client->grant_lease(5);
  REQUIRE_MESSAGE(lease.ok(), lease.error().describe());
  CHECK(lease->id == 4111120412536715273);
  CHECK(lease->ttl == 5);
  CHECK(f.sent[0].url == k_a + "/v3/lease/grant");
  CHECK(f.sent[0].body == json{{"TTL", "5"}});

  // keepalive is a stream on the gRPC side: the answer is one {"result": ...} line.
  f.answer("{\"result\":{" + k_header +
           R"(,"ID":"4111120412536715273","TTL":"5"}})"
           "\n");
  auto ttl = f.client->keep_alive(lease->id);
  REQUIRE_MESSAGE(ttl.ok(), ttl.error().describe());
  CHECK(*ttl == 5);
  CHECK(f.sent[1].url == k_a + "/v3/lease/keepalive");
  CHECK(f.sent[1].body == json{{"ID", "4111120412536715273"}});

  // An expired lease: etcd leaves the TTL out (0).
  f.answer("{\"result\":{" + k_header + R"(,"ID":"4111120412536715273"}})");
  auto gone = f.client->keep_alive(lease->id);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == Errc::not_found);

  f.answer("{" + k_header + "}");
  REQUIRE(f.client->revoke_lease(lease->id));
  CHECK(f.sent[3].url == k_a + "/v3/lease/revoke");
  f.answer(
      R"({"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5})",
      404);
  auto again = f.client->revoke_lease(lease->id);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == Errc::not_found);
  CHECK(again.error().message.find("requested lease not found") != std::string::npos);
}

TEST_CASE("etcd: a keepalive answer about another lease, or a stream error, is refused") {
  Fixture f;
  f.answer(R"({"result":{"ID":"1","TTL":"5"}})");
  CHECK(f.client->keep_alive(2).error().code == Errc::protocol);
  f.answer(
      R"({"error":{"grpc_code":5,"http_code":404,"message":"etcdserver: requested lease not found","http_status":"Not Found"}})");
  auto e = f.client->keep_alive(2);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().code == Errc::not_found);
  CHECK(e.error().message.find("requested lease not found") != std::string::npos);
}

TEST_CASE("etcd: etcd's own errors are server errors with its message; unavailable is network") {
  Fixture f;
  f.answer(
      R"({"error":"etcdserver: duplicate key given in txn request","message":"etcdserver: duplicate key given in txn request","code":3})",
      400);
  auto dup = f.client->txn({});
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code == Errc::server);
  CHECK(dup.error().message ==
        "etcd at " + k_a +
            " refused a transaction: etcdserver: duplicate key given in txn request");
  f.answer(
      R"({"error":"etcdserver: request timed out","message":"etcdserver: request timed out","code":14})",
      503);
  auto slow = f.client->put({"k", "v", 0});
  REQUIRE_FALSE(slow.ok());
  CHECK(slow.error().code == Errc::network);
  CHECK(is_temporary(slow.error().code));
  f.answer(R"({"error":"etcdserver: no leader","code":2})", 500);
  CHECK(f.client->put({"k", "v", 0}).error().code == Errc::network);
  // An error status without an etcd error document.
  f.answer("{}", 404);
  CHECK(f.client->put({"k", "v", 0}).error().code == Errc::protocol);
}

TEST_CASE("etcd: a network failure moves on to the next endpoint, which is then remembered") {
  Fixture f({k_a, k_b, k_c});
  f.drop(k_a);
  f.drop(k_b);
  f.answer("{" + k_header + "}");
  REQUIRE(f.client->put({"k", "v", 0}).ok());
  REQUIRE(f.sent.size() == 3);
  CHECK(f.sent[0].url == k_a + "/v3/kv/put");
  CHECK(f.sent[1].url == k_b + "/v3/kv/put");
  CHECK(f.sent[2].url == k_c + "/v3/kv/put");
  CHECK(f.client->current_endpoint() == k_c);
  // The next call starts at the endpoint that answered, and wraps around from there.
  f.drop(k_c);
  f.answer("{" + k_header + "}");
  REQUIRE(f.client->range({"k", "", 0}).ok());
  CHECK(f.sent[3].url == k_c + "/v3/kv/range");
  CHECK(f.sent[4].url == k_a + "/v3/kv/range");
  CHECK(f.client->current_endpoint() == k_a);
  CHECK(f.client->stats().calls == 2);
  CHECK(f.client->stats().requests == 5);
  CHECK(f.client->stats().failovers == 3);
}

TEST_CASE("etcd: a member without a leader is skipped like a dead one") {
  Fixture f({k_a, k_b});
  f.answer(R"({"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14})", 503);
  f.answer("{" + k_header + "}");
  REQUIRE(f.client->put({"k", "v", 0}).ok());
  CHECK(f.client->current_endpoint() == k_b);
}

TEST_CASE("etcd: when every endpoint fails, each was tried once and the error names them all") {
  Fixture f({k_a, k_b, k_c});
  f.drop(k_a);
  f.drop(k_b);
  f.drop(k_c);
  auto r = f.client->put({"k", "v", 0});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::network);
  CHECK(f.sent.size() == 3);
  const std::string line = r.error().describe();
  CHECK(line.find('\n') == std::string::npos);
  for (const std::string& e : {k_a, k_b, k_c}) CHECK(line.find(e) != std::string::npos);
  CHECK(f.transport->script.empty());
}

TEST_CASE("etcd: an error that is not a network failure is returned without failover") {
  Fixture f({k_a, k_b});
  f.answer("not json");
  auto r = f.client->range({"k", "", 0});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::protocol);
  CHECK(f.sent.size() == 1);
}

TEST_CASE("etcd: malformed answers are protocol errors naming the endpoint, on one line") {
  const std::string kv = R"("key":")" + b64("k") + "\"";
  for (const std::string& body : {
           std::string("not json"),
           std::string("[]"),
           std::string("\"text\""),
           std::string(R"({"header":[]})"),
           std::string(R"({"header":{"revision":"7x"}})"),
           std::string(R"({"header":{"revision":7.5}})"),
           std::string(R"({"header":{"revision":"99999999999999999999"}})"),
           std::string(R"({"count":18446744073709551615})"),
           std::string(R"({"kvs":{}})"),
           std::string(R"({"kvs":["k"]})"),
           std::string(R"({"kvs":[{"key":"not base64!"}]})"),
           std::string(R"({"kvs":[{"key":17}]})"),
           std::string(R"({"kvs":[{)" + kv + R"(,"version":true}]})"),
           std::string(R"({"more":"yes"})"),
           std::string(100, '[') + std::string(100, ']'),
       }) {
    Fixture f;
    f.answer(body);
    auto r = f.client->range({"k", "", 0});
    REQUIRE_FALSE_MESSAGE(r.ok(), body);
    CHECK_MESSAGE(r.error().code == Errc::protocol, body);
    CHECK_MESSAGE(r.error().message.find("etcd at " + k_a +
                                         " sent a malformed answer to a range "
                                         "request") == 0,
                  r.error().message);
    CHECK(r.error().describe().find('\n') == std::string::npos);
  }
}

TEST_CASE("etcd: a lease grant without an ID or TTL is malformed") {
  for (const char* body : {R"({"TTL":"5"})", R"({"ID":"1"})", R"({"ID":"x","TTL":"5"})"}) {
    Fixture f;
    f.answer(body);
    CHECK_MESSAGE(f.client->grant_lease(5).error().code == Errc::protocol, body);
  }
}

TEST_CASE("etcd: endpoints and files are checked when the client is opened") {
  EtcdOptions none;
  CHECK(EtcdClient::open(none).error().code == Errc::usage);
  for (const char* url :
       {"ftp://127.0.0.1:2379", "127.0.0.1:2379", "https://h:2379/v3/kv", "https://"}) {
    EtcdOptions o;
    o.endpoints = {url};
    auto c = EtcdClient::open(o);
    REQUIRE_FALSE_MESSAGE(c.ok(), url);
    CHECK_MESSAGE(c.error().code == Errc::invalid_input, url);
  }
  EtcdOptions trailing;
  trailing.endpoints = {k_a + "/"};
  auto ok = EtcdClient::open(trailing);
  REQUIRE_MESSAGE(ok.ok(), ok.error().describe());
  CHECK(ok->current_endpoint() == k_a);

  EtcdOptions cert;
  cert.endpoints = {k_a};
  cert.client_cert = "/nonexistent/client.pem";
  auto missing = EtcdClient::open(cert);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == Errc::io);
  CHECK(missing.error().message.find("cannot read the TLS client certificate "
                                     "/nonexistent/client.pem") != std::string::npos);
  EtcdOptions key_only;
  key_only.endpoints = {k_a};
  key_only.client_key = "/nonexistent/client.key";
  CHECK(EtcdClient::open(key_only).error().code == Errc::usage);
}
