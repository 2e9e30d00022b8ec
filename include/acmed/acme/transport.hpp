// HTTP for the ACME client: an abstract Transport (so the client is tested with scripted
// responses) and open_http_transport(), the real one over one reused libcurl handle. libcurl is
// linked privately into the acme module: nothing outside src/acme sees its headers.
#pragma once

#include "acmed/acme/url_policy.hpp"
#include "acmed/util/result.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acmed::acme {

enum class HttpMethod { get, head, post };

// "GET", "HEAD", "POST".
const char* to_string(HttpMethod method);

// HTTP header fields in arrival order; names compare case-insensitively (RFC 9110 section 5.1).
class HttpHeaders {
 public:
  // Appends a field; repeated names are kept (Link may appear many times).
  void add(std::string name, std::string value) {
    m_fields.emplace_back(std::move(name), std::move(value));
  }
  // Value of the first field named `name`, or nullopt.
  std::optional<std::string> get(std::string_view name) const {
    for (const auto& [n, v] : m_fields)
      if (same_name(n, name)) return v;
    return std::nullopt;
  }
  // Values of every field named `name`, in order.
  std::vector<std::string> get_all(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [n, v] : m_fields)
      if (same_name(n, name)) out.push_back(v);
    return out;
  }
  const std::vector<std::pair<std::string, std::string>>& fields() const { return m_fields; }

 private:
  static bool same_name(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  }
  std::vector<std::pair<std::string, std::string>> m_fields;
};

struct HttpResponse {
  long status = 0;
  HttpHeaders headers;
  std::string body;
};

// Counters for benchmarks and tests.
struct TransportStats {
  std::size_t requests = 0;        // requests handed to the network (each retry counts)
  std::size_t bytes_received = 0;  // response bodies
};

// Resolves `ref` (a Location or Link target, possibly relative, RFC 3986 section 5) against the
// URL of the request it came with; nullopt when either does not parse.
std::optional<std::string> resolve_url(std::string_view base, std::string_view ref);

// Sends one HTTP request. Implementations never follow redirects and never throw.
class Transport {
 public:
  virtual ~Transport() = default;

  // Checks the URL against the URL policy, counts the request, then sends it. Errc::network
  // when the server cannot be reached, is too slow, or the answer is cut off or too big;
  // Errc::protocol when the policy refuses the URL or the address it resolves to; any HTTP
  // status is a success.
  Result<HttpResponse> request(HttpMethod method, std::string_view url, const HttpHeaders& headers,
                               std::string_view body);

  // The rules for the URLs and addresses of one CA; the client installs the policy of its
  // directory. Default: UrlPolicy() (scheme rule only).
  void set_url_policy(UrlPolicy policy) { m_policy = std::move(policy); }
  // Caps how long each following request may take in all (the caller's remaining time budget);
  // nullopt: only TransportOptions::total_timeout.
  void set_time_limit(std::optional<std::chrono::milliseconds> limit) { m_time_limit = limit; }

  const TransportStats& stats() const { return m_stats; }

 protected:
  // The actual exchange; `url` has already passed the policy's check_url(). Implementations
  // that connect call url_policy().check_connection() for every new connection.
  virtual Result<HttpResponse> send(HttpMethod method, std::string_view url,
                                    const HttpHeaders& headers, std::string_view body) = 0;

  UrlPolicy& url_policy() { return m_policy; }
  std::optional<std::chrono::milliseconds> time_limit() const { return m_time_limit; }

 private:
  TransportStats m_stats;
  UrlPolicy m_policy;
  std::optional<std::chrono::milliseconds> m_time_limit;
};

struct TransportOptions {
  std::string ca_bundle;  // PEM file of trusted roots (CURLOPT_CAINFO); empty = system store
  // TLS client authentication (CURLOPT_SSLCERT / CURLOPT_SSLKEY, PEM): for etcd, never for a CA.
  // Empty = none; an empty client_key with a client_cert means the key is in the cert's file.
  std::string client_cert;
  std::string client_key;
  std::string user_agent = std::string("acmed/") + ACMED_VERSION;
  // Off only for --no-verify-ssl, which app accepts for a loopback --server alone (a test CA).
  bool verify_peer = true;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{60'000};  // per request, also capped by set_time_limit
  // A transfer slower than low_speed_limit bytes a second for low_speed_time is cut (a CA
  // trickling bytes or stalling), counted from the request on, the wait for headers included.
  long low_speed_limit = 300;
  std::chrono::seconds low_speed_time{10};
  std::size_t max_json_body = std::size_t{1} << 20;  // JSON and problem documents
  std::size_t max_body = std::size_t{10} << 20;      // anything else (certificate chains)
};

// The libcurl transport: one easy handle reused for every request (keep-alive), TLS verification
// always on, no redirects, answers bigger than the caps aborted while they arrive, every new
// connection checked on its resolved address by the URL policy before it is made. Errc::io if
// options.ca_bundle, client_cert or client_key is set but unreadable; Errc::usage for a
// client_key without a client_cert; Errc::internal if libcurl fails to start.
Result<std::unique_ptr<Transport>> open_http_transport(TransportOptions options);

}  // namespace acmed::acme
