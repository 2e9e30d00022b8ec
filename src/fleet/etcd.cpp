// The etcd v3 JSON-gateway client (etcd.hpp). Field names are the protobuf ones (etcd 3.4's
// gateway marshals with OrigName); fields at their zero value are left out of answers.
#include "acmed/fleet/etcd.hpp"

#include "acmed/acme/messages.hpp"
#include "acmed/acme/url_policy.hpp"
#include "acmed/crypto/encoding.hpp"
#include "acmed/util/json.hpp"
#include "acmed/util/strings.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <limits>

namespace acmed::fleet {

using json = nlohmann::json;

namespace {

// gRPC status codes etcd's errors carry (grpc/codes).
constexpr std::int64_t k_grpc_deadline_exceeded = 4;
constexpr std::int64_t k_grpc_not_found = 5;
constexpr std::int64_t k_grpc_unavailable = 14;

// What went wrong in an answer, without the endpoint (malformed() adds it).
struct Bad {
  std::string detail;
};
template <typename T>
using Parsed = std::variant<T, Bad>;

Bad bad(std::string detail) {
  return Bad{std::move(detail)};
}

// An int64 field: a JSON string of decimal digits (proto3's JSON mapping), or a number; absent
// is 0 (zero values are left out).
Parsed<std::int64_t> int_field(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::int64_t{0};
  if (it->is_number_integer()) {
    if (it->is_number_unsigned() &&
        it->get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return bad(std::string("'") + name + "' is out of range");
    return it->get<std::int64_t>();
  }
  if (!it->is_string()) return bad(std::string("'") + name + "' is not an integer");
  const std::string& s = it->get_ref<const std::string&>();
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    return bad(std::string("'") + name + "' is not an integer");
  return v;
}

// A bytes field: base64 in a JSON string; absent is "".
Parsed<std::string> bytes_field(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return bad(std::string("'") + name + "' is not a string");
  auto raw = crypto::base64_decode(it->get_ref<const std::string&>());
  if (!raw) return bad(std::string("'") + name + "' is not base64");
  return std::move(raw).value();
}

Parsed<bool> bool_field(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return false;
  if (!it->is_boolean()) return bad(std::string("'") + name + "' is not true or false");
  return it->get<bool>();
}

// Parsed<T> -> T, or returns the Bad from the enclosing function.
#define ETCD_GET(decl, expr)                                                     \
  auto ACMED_CONCAT(etcd_get_, __LINE__) = (expr);                               \
  if (auto* b = std::get_if<Bad>(&ACMED_CONCAT(etcd_get_, __LINE__))) return *b; \
  decl = std::move(std::get<0>(ACMED_CONCAT(etcd_get_, __LINE__)))

// header.revision of an answer (ResponseHeader).
Parsed<std::int64_t> header_revision(const json& obj) {
  auto it = obj.find("header");
  if (it == obj.end()) return std::int64_t{0};
  if (!it->is_object()) return bad("'header' is not an object");
  return int_field(*it, "revision");
}

Parsed<KeyValue> decode_kv(const json& j) {
  if (!j.is_object()) return bad("a key-value is not an object");
  KeyValue kv;
  ETCD_GET(kv.key, bytes_field(j, "key"));
  ETCD_GET(kv.value, bytes_field(j, "value"));
  ETCD_GET(kv.create_revision, int_field(j, "create_revision"));
  ETCD_GET(kv.mod_revision, int_field(j, "mod_revision"));
  ETCD_GET(kv.version, int_field(j, "version"));
  ETCD_GET(kv.lease, int_field(j, "lease"));
  return kv;
}

Parsed<RangeResponse> decode_range(const json& j) {
  if (!j.is_object()) return bad("the range answer is not an object");
  RangeResponse r;
  ETCD_GET(r.revision, header_revision(j));
  ETCD_GET(r.more, bool_field(j, "more"));
  ETCD_GET(r.count, int_field(j, "count"));
  if (auto it = j.find("kvs"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return bad("'kvs' is not a list");
    for (const json& item : *it) {
      ETCD_GET(KeyValue kv, decode_kv(item));
      r.kvs.push_back(std::move(kv));
    }
  }
  return r;
}

Parsed<PutResponse> decode_put(const json& j) {
  if (!j.is_object()) return bad("the put answer is not an object");
  PutResponse r;
  ETCD_GET(r.revision, header_revision(j));
  return r;
}

Parsed<DeleteResponse> decode_delete(const json& j) {
  if (!j.is_object()) return bad("the delete answer is not an object");
  DeleteResponse r;
  ETCD_GET(r.revision, header_revision(j));
  ETCD_GET(r.deleted, int_field(j, "deleted"));
  return r;
}

Parsed<TxnResponse> decode_txn(const json& j) {
  TxnResponse r;
  ETCD_GET(r.revision, header_revision(j));
  ETCD_GET(r.succeeded, bool_field(j, "succeeded"));
  auto it = j.find("responses");
  if (it == j.end() || it->is_null()) return r;
  if (!it->is_array()) return bad("'responses' is not a list");
  for (const json& op : *it) {
    if (!op.is_object() || op.size() != 1) return bad("a txn response is not a one-member object");
    // The object's one member (not through items(): its proxy would dangle here).
    const auto member = op.begin();
    const std::string& name = member.key();
    const json& body = member.value();
    if (name == "response_range") {
      ETCD_GET(RangeResponse range, decode_range(body));
      r.responses.emplace_back(std::move(range));
    } else if (name == "response_put") {
      ETCD_GET(PutResponse put, decode_put(body));
      r.responses.emplace_back(put);
    } else if (name == "response_delete_range") {
      ETCD_GET(DeleteResponse del, decode_delete(body));
      r.responses.emplace_back(del);
    } else {
      return bad("a txn response is of the unknown kind '" + name + "'");
    }
  }
  return r;
}

#undef ETCD_GET

json encode_range(const RangeRequest& r) {
  json j = {{"key", crypto::base64_encode(r.key)}};
  if (!r.range_end.empty()) j["range_end"] = crypto::base64_encode(r.range_end);
  if (r.limit != 0) j["limit"] = std::to_string(r.limit);
  return j;
}

json encode_put(const PutRequest& r) {
  json j = {{"key", crypto::base64_encode(r.key)}, {"value", crypto::base64_encode(r.value)}};
  if (r.lease != 0) j["lease"] = std::to_string(r.lease);
  return j;
}

json encode_delete(const DeleteRequest& r) {
  json j = {{"key", crypto::base64_encode(r.key)}};
  if (!r.range_end.empty()) j["range_end"] = crypto::base64_encode(r.range_end);
  return j;
}

json encode_op(const TxnOp& op) {
  if (const auto* r = std::get_if<RangeRequest>(&op)) return {{"request_range", encode_range(*r)}};
  if (const auto* p = std::get_if<PutRequest>(&op)) return {{"request_put", encode_put(*p)}};
  return {{"request_delete_range", encode_delete(std::get<DeleteRequest>(op))}};
}

const char* target_name(CompareTarget t) {
  switch (t) {
    case CompareTarget::version:
      return "VERSION";
    case CompareTarget::create_revision:
      return "CREATE";
    case CompareTarget::mod_revision:
      return "MOD";
    case CompareTarget::value:
      return "VALUE";
  }
  return "VERSION";
}

const char* op_name(CompareOp op) {
  switch (op) {
    case CompareOp::equal:
      return "EQUAL";
    case CompareOp::greater:
      return "GREATER";
    case CompareOp::less:
      return "LESS";
    case CompareOp::not_equal:
      return "NOT_EQUAL";
  }
  return "EQUAL";
}

json encode_compare(const Compare& c) {
  json j = {{"key", crypto::base64_encode(c.key)},
            {"target", target_name(c.target)},
            {"result", op_name(c.op)}};
  switch (c.target) {
    case CompareTarget::version:
      j["version"] = std::to_string(c.number);
      break;
    case CompareTarget::create_revision:
      j["create_revision"] = std::to_string(c.number);
      break;
    case CompareTarget::mod_revision:
      j["mod_revision"] = std::to_string(c.number);
      break;
    case CompareTarget::value:
      j["value"] = crypto::base64_encode(c.value);
      break;
  }
  return j;
}

// Request JSON is built from base64 and decimal text only, so it is always valid UTF-8.
std::string text_of(const json& j) {
  return util::dump_json_lossy(j);
}

// etcd's error in an answer: the gateway's {"error": "...", "code": N, "message": "..."} for
// unary calls, {"error": {"grpc_code": N, "message": "..."}} in a stream. nullopt when `doc`
// carries none.
std::optional<Error> gateway_error(const json& doc, const std::string& endpoint,
                                   std::string_view what) {
  if (!doc.is_object()) return std::nullopt;
  const json* holder = &doc;
  std::int64_t code = -1;
  if (auto e = doc.find("error"); e != doc.end() && e->is_object()) {
    holder = &*e;
    if (auto c = e->find("grpc_code"); c != e->end() && c->is_number_integer())
      code = c->get<std::int64_t>();
  } else if (auto c = doc.find("code"); c != doc.end() && c->is_number_integer()) {
    code = c->get<std::int64_t>();
  }
  std::string message;
  if (auto m = holder->find("message"); m != holder->end() && m->is_string())
    message = m->get<std::string>();
  else if (auto s = doc.find("error"); s != doc.end() && s->is_string())
    message = s->get<std::string>();
  if (code < 0 && message.empty()) return std::nullopt;
  if (message.empty()) message = "gRPC status " + std::to_string(code);
  const bool temporary = code == k_grpc_unavailable || code == k_grpc_deadline_exceeded ||
                         message.find("request timed out") != std::string::npos ||
                         message.find("no leader") != std::string::npos ||
                         message.find("leader changed") != std::string::npos;
  Errc errc = Errc::server;
  if (temporary)
    errc = Errc::network;
  else if (code == k_grpc_not_found)
    errc = Errc::not_found;
  return Error(errc, "etcd at " + endpoint + " refused " + std::string(what) + ": " + message,
               temporary ? "the cluster has no leader or is overloaded; retry later" : "");
}

bool valid_endpoint(const std::string& url) {
  auto origin = acme::url_origin(url);
  if (!origin || (origin->scheme != "https" && origin->scheme != "http")) return false;
  // A base URL: scheme://host[:port], nothing after it.
  auto rest = url.find('/', url.find("//") + 2);
  return rest == std::string::npos;
}

}  // namespace

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

EtcdClient::EtcdClient(std::vector<std::string> endpoints,
                       std::unique_ptr<acme::Transport> transport)
    : m_endpoints(std::move(endpoints)), m_transport(std::move(transport)) {}

Result<EtcdClient> EtcdClient::with_transport(EtcdOptions options,
                                              std::unique_ptr<acme::Transport> transport) {
  if (options.endpoints.empty())
    return Error(Errc::usage, "no etcd endpoints given",
                 "name at least one member, such as https://10.0.0.1:2379");
  for (std::string& url : options.endpoints) {
    while (url.size() > 1 && url.back() == '/') url.pop_back();
    if (!valid_endpoint(url))
      return Error(Errc::invalid_input, "the etcd endpoint '" + url +
                                            "' is not a base URL such as https://10.0.0.1:2379");
  }
  return EtcdClient(std::move(options.endpoints), std::move(transport));
}

Result<EtcdClient> EtcdClient::open(EtcdOptions options) {
  acme::TransportOptions t;
  t.ca_bundle = options.ca_file;
  t.client_cert = options.client_cert;
  t.client_key = options.client_key;
  t.total_timeout = options.request_timeout;
  t.connect_timeout = std::min(options.request_timeout, t.connect_timeout);
  t.max_json_body = options.max_response;
  t.max_body = options.max_response;
  auto transport = acme::open_http_transport(std::move(t));
  if (!transport) return std::move(transport).error().with_context("while setting up etcd access");
  return with_transport(std::move(options), std::move(transport).value());
}

Error EtcdClient::malformed(std::string_view what, std::string_view detail) const {
  return Error(Errc::protocol,
               "etcd at " + current_endpoint() + " sent a malformed answer to " +
                   std::string(what) + ": " + std::string(detail),
               "check that the endpoint is an etcd v3 member (3.4 or later)");
}

Result<json> EtcdClient::call(std::string_view path, const std::string& request,
                              std::string_view what) {
  ++m_stats.calls;
  acme::HttpHeaders headers;
  headers.add("Content-Type", "application/json");
  std::vector<std::string> failures;
  for (std::size_t attempt = 0; attempt < m_endpoints.size(); ++attempt) {
    const std::size_t index = (m_current + attempt) % m_endpoints.size();
    const std::string& endpoint = m_endpoints[index];
    ++m_stats.requests;
    if (attempt > 0) ++m_stats.failovers;
    auto response = m_transport->request(acme::HttpMethod::post, endpoint + std::string(path),
                                         headers, request);
    if (!response) {
      if (response.error().code != Errc::network) return std::move(response).error();
      failures.push_back(response.error().message);
      continue;
    }
    auto doc = acme::parse_ca_json(response->body);
    if (!doc || !doc->is_object()) {
      if (response->status == 200) {
        m_current = index;
        return malformed(what, "not a JSON object (HTTP status 200)");
      }
      // A proxy or a member starting up; not etcd's answer.
      failures.push_back("etcd at " + endpoint + " answered HTTP status " +
                         std::to_string(response->status) + " without an etcd error");
      if (response->status >= 500) continue;
      m_current = index;
      return Error(Errc::protocol, failures.back(),
                   "check that the endpoint is an etcd v3 member (3.4 or later)");
    }
    // Unary errors come with an HTTP error status; a stream's (keepalive) inside a 200 answer.
    const bool stream_error = doc->contains("error") && (*doc)["error"].is_object();
    if (response->status != 200 || stream_error) {
      std::optional<Error> error = gateway_error(*doc, endpoint, what);
      if (!error)
        error = Error(Errc::protocol, "etcd at " + endpoint + " answered " + std::string(what) +
                                          " with HTTP status " + std::to_string(response->status));
      if (error->code == Errc::network) {
        failures.push_back(error->message);
        continue;
      }
      m_current = index;
      return *error;
    }
    m_current = index;
    return std::move(doc).value();
  }
  return Error(Errc::network,
               "no etcd endpoint answered " + std::string(what) + ": " + util::join(failures, "; "),
               "check that the etcd members are running and reachable, and that the CA and client "
               "certificate are the ones the cluster trusts");
}

namespace {

// Parsed<T> of an answer -> Result<T>, a Bad becoming the client's malformed() error.
template <typename T, typename Malformed>
Result<T> finish(Parsed<T> parsed, Malformed&& malformed) {
  if (auto* b = std::get_if<Bad>(&parsed)) return malformed(b->detail);
  return std::move(std::get<0>(parsed));
}

}  // namespace

Result<RangeResponse> EtcdClient::range(const RangeRequest& request) {
  ACMED_TRY(json doc, call("/v3/kv/range", text_of(encode_range(request)), "a range request"));
  return finish(decode_range(doc),
                [this](const std::string& d) { return malformed("a range request", d); });
}

Result<PutResponse> EtcdClient::put(const PutRequest& request) {
  ACMED_TRY(json doc, call("/v3/kv/put", text_of(encode_put(request)), "a put"));
  return finish(decode_put(doc), [this](const std::string& d) { return malformed("a put", d); });
}

Result<DeleteResponse> EtcdClient::delete_range(const DeleteRequest& request) {
  ACMED_TRY(json doc, call("/v3/kv/deleterange", text_of(encode_delete(request)), "a delete"));
  return finish(decode_delete(doc),
                [this](const std::string& d) { return malformed("a delete", d); });
}

Result<TxnResponse> EtcdClient::txn(const TxnRequest& request) {
  json j = json::object();
  json compare = json::array();
  for (const Compare& c : request.compare) compare.push_back(encode_compare(c));
  json success = json::array();
  for (const TxnOp& op : request.success) success.push_back(encode_op(op));
  json failure = json::array();
  for (const TxnOp& op : request.failure) failure.push_back(encode_op(op));
  j["compare"] = std::move(compare);
  j["success"] = std::move(success);
  j["failure"] = std::move(failure);
  ACMED_TRY(json doc, call("/v3/kv/txn", text_of(j), "a transaction"));
  ACMED_TRY(TxnResponse r, finish(decode_txn(doc), [this](const std::string& d) {
              return malformed("a transaction", d);
            }));
  const auto& ran = r.succeeded ? request.success : request.failure;
  if (r.responses.size() != ran.size())
    return malformed("a transaction", std::to_string(r.responses.size()) + " responses for " +
                                          std::to_string(ran.size()) + " operations");
  for (std::size_t i = 0; i < ran.size(); ++i)
    if (r.responses[i].index() != ran[i].index())
      return malformed("a transaction",
                       "response " + std::to_string(i) + " is not of its operation's kind");
  return r;
}

Result<Lease> EtcdClient::grant_lease(std::int64_t ttl_seconds) {
  const json request = {{"TTL", std::to_string(ttl_seconds)}};
  ACMED_TRY(json doc, call("/v3/lease/grant", text_of(request), "a lease grant"));
  auto bad_answer = [this](const std::string& d) { return malformed("a lease grant", d); };
  ACMED_TRY(std::int64_t id, finish(int_field(doc, "ID"), bad_answer));
  ACMED_TRY(std::int64_t ttl, finish(int_field(doc, "TTL"), bad_answer));
  // LeaseGrantResponse has its own error string, set when the grant failed.
  if (auto e = doc.find("error");
      e != doc.end() && e->is_string() && !e->get_ref<const std::string&>().empty())
    return Error(Errc::server, "etcd at " + current_endpoint() +
                                   " refused a lease grant: " + e->get<std::string>());
  if (id == 0 || ttl <= 0) return bad_answer("no lease ID or TTL");
  return Lease{id, ttl};
}

Result<std::int64_t> EtcdClient::keep_alive(std::int64_t lease_id) {
  // A stream on the gRPC side: one request object in, one {"result": ...} line out.
  const json request = {{"ID", std::to_string(lease_id)}};
  ACMED_TRY(json doc, call("/v3/lease/keepalive", text_of(request), "a lease keepalive"));
  auto bad_answer = [this](const std::string& d) { return malformed("a lease keepalive", d); };
  auto result = doc.find("result");
  if (result == doc.end() || !result->is_object()) return bad_answer("no 'result' object");
  ACMED_TRY(std::int64_t id, finish(int_field(*result, "ID"), bad_answer));
  ACMED_TRY(std::int64_t ttl, finish(int_field(*result, "TTL"), bad_answer));
  if (id != lease_id) return bad_answer("it is about lease " + std::to_string(id));
  // etcd answers a lease it no longer has with TTL 0 rather than an error.
  if (ttl <= 0)
    return Error(Errc::not_found, "etcd lease " + std::to_string(lease_id) +
                                      " has expired; the keys bound to it are gone");
  return ttl;
}

Status EtcdClient::revoke_lease(std::int64_t lease_id) {
  const json request = {{"ID", std::to_string(lease_id)}};
  ACMED_TRY(json doc, call("/v3/lease/revoke", text_of(request), "a lease revoke"));
  (void)doc;
  return ok_status();
}

}  // namespace acmed::fleet
