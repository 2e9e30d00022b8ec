// An etcd v3 client over etcd's JSON gateway (etcd 3.4 serves it at /v3/...: POST a JSON request,
// get JSON back; keys and values are base64, int64 fields are JSON strings), sent through the
// acme module's libcurl Transport. Why not gRPC: docs/architecture.md, "Fleet mode and etcd".
//
// Everything etcd sends is untrusted: answers are size-capped by the transport, parsed without
// exceptions and type-checked field by field; a malformed one is Errc::protocol naming the
// endpoint. etcd's own errors become Errc::server with etcd's message, except the temporary ones
// (no leader, request timed out, unavailable), which are Errc::network like a dead member.
#pragma once

#include "acmed/acme/transport.hpp"
#include "acmed/util/result.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace acmed::fleet {

struct EtcdOptions {
  // Base URLs of the members ("https://10.0.0.1:2379"), tried in this order.
  std::vector<std::string> endpoints;
  std::string ca_file;      // PEM roots the members' certificates chain to; empty = system store
  std::string client_cert;  // PEM client certificate (etcd --client-cert-auth); empty = none
  std::string client_key;   // its key; empty = in client_cert's file
  std::chrono::milliseconds request_timeout{5'000};  // one HTTP request, connecting included
  std::size_t max_response = std::size_t{4} << 20;   // bytes of one answer
};

// One key as etcd keeps it (mvccpb.KeyValue). Revisions are of the whole store.
struct KeyValue {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t version = 0;  // puts since the key was created
  std::int64_t lease = 0;    // 0: no lease
};

// One key, or with range_end every key in [key, range_end) (prefix_end(): a prefix).
struct RangeRequest {
  std::string key;
  std::string range_end;
  std::int64_t limit = 0;  // 0: no limit
};
struct PutRequest {
  std::string key;
  std::string value;
  std::int64_t lease = 0;  // the key is deleted when this lease expires; 0: none
};
struct DeleteRequest {
  std::string key;
  std::string range_end;
};

// The range_end that makes a range cover every key starting with `prefix` (etcd's rule: the
// prefix with its last byte below 0xff incremented; "\0" for every key when there is none).
std::string prefix_end(std::string_view prefix);

struct RangeResponse {
  std::int64_t revision = 0;  // of the store when the range was read
  std::vector<KeyValue> kvs;
  bool more = false;       // limit cut the list short
  std::int64_t count = 0;  // keys in the range, whatever the limit
};
struct PutResponse {
  std::int64_t revision = 0;
};
struct DeleteResponse {
  std::int64_t revision = 0;
  std::int64_t deleted = 0;
};

// A comparison of one key in a transaction: `target` `op` `number` (or `value`). A key that does
// not exist has create_revision, mod_revision and version 0.
enum class CompareTarget { version, create_revision, mod_revision, value };
enum class CompareOp { equal, greater, less, not_equal };
struct Compare {
  std::string key;
  CompareTarget target = CompareTarget::create_revision;
  CompareOp op = CompareOp::equal;
  std::int64_t number = 0;  // version, create_revision or mod_revision
  std::string value;        // CompareTarget::value
};

using TxnOp = std::variant<RangeRequest, PutRequest, DeleteRequest>;
using TxnOpResponse = std::variant<RangeResponse, PutResponse, DeleteResponse>;

// If every compare holds, the success ops run, otherwise the failure ops; atomically.
struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<TxnOp> success;
  std::vector<TxnOp> failure;
};
struct TxnResponse {
  std::int64_t revision = 0;
  bool succeeded = false;
  std::vector<TxnOpResponse> responses;  // one per op that ran, in order
};

struct Lease {
  std::int64_t id = 0;
  std::int64_t ttl = 0;  // seconds
};

// Counters for benchmarks and tests.
struct EtcdStats {
  std::size_t calls = 0;      // operations asked for
  std::size_t requests = 0;   // HTTP requests sent (each endpoint tried counts)
  std::size_t failovers = 0;  // requests sent to another endpoint after a network failure
};

// Talks to one etcd cluster through any of its members. Each call tries the endpoint that
// answered last, then, only after Errc::network, each other endpoint once, in order; the one that
// answers is remembered. A write whose answer was lost may have been applied by the first
// member: compare on revisions in a txn when that matters. Not thread-safe.
class EtcdClient {
 public:
  // A client over the libcurl transport. Errc::usage without endpoints, Errc::invalid_input for
  // an endpoint that is not an http(s) base URL, Errc::io when the CA, client cert or key file
  // cannot be read. Contacts nobody.
  static Result<EtcdClient> open(EtcdOptions options);
  // A client over `transport` (tests script one); endpoints as for open().
  static Result<EtcdClient> with_transport(EtcdOptions options,
                                           std::unique_ptr<acme::Transport> transport);

  // The key, or the keys of [key, range_end). An absent key is an empty kvs, not an error.
  Result<RangeResponse> range(const RangeRequest& request);
  // Sets the key (creating it or adding a version). Idempotent in effect.
  Result<PutResponse> put(const PutRequest& request);
  // Deletes the key or range; deleting nothing is not an error.
  Result<DeleteResponse> delete_range(const DeleteRequest& request);
  // Runs the transaction; a compare that fails is succeeded == false, not an error.
  Result<TxnResponse> txn(const TxnRequest& request);

  // A new lease of `ttl_seconds` (etcd may grant a longer one).
  Result<Lease> grant_lease(std::int64_t ttl_seconds);
  // Renews the lease once; its TTL again in full. Errc::not_found when it has expired or was
  // revoked (its keys are gone).
  Result<std::int64_t> keep_alive(std::int64_t lease_id);
  // Revokes the lease, deleting its keys. Errc::not_found when it no longer exists.
  Status revoke_lease(std::int64_t lease_id);

  // The endpoint the next call tries first (the last one that answered).
  const std::string& current_endpoint() const { return m_endpoints[m_current]; }
  const EtcdStats& stats() const { return m_stats; }

 private:
  EtcdClient(std::vector<std::string> endpoints, std::unique_ptr<acme::Transport> transport);

  // POSTs `request` (JSON text) to `path` on the endpoints in failover order; the answer's JSON
  // object, or etcd's error turned into an Error. `what` names the operation in messages.
  Result<nlohmann::json> call(std::string_view path, const std::string& request,
                              std::string_view what);
  // Errc::protocol "etcd at <current endpoint> sent a malformed answer to <what>: <detail>".
  Error malformed(std::string_view what, std::string_view detail) const;

  std::vector<std::string> m_endpoints;
  std::size_t m_current = 0;
  std::unique_ptr<acme::Transport> m_transport;
  EtcdStats m_stats;
};

}  // namespace acmed::fleet
