// The libcurl transport of transport.hpp: one reused easy handle, the URL policy applied to
// every connection on its resolved address, and the per-request time bounds.
#include "acmed/acme/transport.hpp"
#include "acmed/sys/interrupt.hpp"
#include "acmed/util/strings.hpp"

#include <curl/curl.h>

#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <mutex>

namespace acmed::acme {

namespace {

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// What the callbacks fill in during one transfer.
struct Transfer {
  HttpResponse response;
  std::size_t header_bytes = 0;
  std::size_t max_json_body = 0;
  std::size_t max_body = 0;
  bool too_big = false;
  std::size_t limit_hit = 0;
};

constexpr std::size_t k_max_header_bytes = 64 * 1024;

bool is_json_type(const std::optional<std::string>& content_type) {
  if (!content_type) return false;
  std::string t = util::ascii_lower(*content_type);
  return t.find("json") != std::string::npos;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  t->header_bytes += n;
  if (t->header_bytes > k_max_header_bytes) {
    t->too_big = true;
    t->limit_hit = k_max_header_bytes;
    return 0;
  }
  std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new status line: interim responses are discarded
    t->response.headers = HttpHeaders();
    return n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;  // blank line ending the block
  t->response.headers.add(std::string(util::trim(line.substr(0, colon))),
                          std::string(util::trim(line.substr(colon + 1))));
  return n;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  const std::size_t limit =
      is_json_type(t->response.headers.get("Content-Type")) ? t->max_json_body : t->max_body;
  if (t->response.body.size() + n > limit) {
    t->too_big = true;
    t->limit_hit = limit;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, n);
  return n;
}

int on_progress(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return sys::interrupted() ? 1 : 0;
}

std::once_flag g_curl_init_once;
CURLcode g_curl_init_result = CURLE_OK;

// One easy handle reused for every request (keep-alive), TLS verification always on, no
// redirects, answers bigger than the caps aborted while they arrive.
class CurlTransport final : public Transport {
 public:
  static Result<std::unique_ptr<Transport>> create(TransportOptions options);

 protected:
  Result<HttpResponse> send(HttpMethod method, std::string_view url, const HttpHeaders& headers,
                            std::string_view body) override;

 private:
  // CURLOPT_OPENSOCKETFUNCTION: every address libcurl is about to connect to, after DNS, goes
  // through the URL policy first; a refused one is never connected to.
  static curl_socket_t open_socket(void* self, curlsocktype purpose, curl_sockaddr* address);

  TransportOptions m_options;
  std::unique_ptr<CURL, EasyDeleter> m_easy;
  char m_error_buffer[CURL_ERROR_SIZE] = {};
  std::string m_url;               // of the request being sent
  std::optional<Error> m_refused;  // why open_socket refused an address, during one request
};

curl_socket_t CurlTransport::open_socket(void* self, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<CurlTransport*>(self);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  std::optional<AddressScope> scope = address_scope(&address->addr);
  Status allowed = scope ? t->url_policy().check_connection(t->m_url, *scope)
                         : Error(Errc::protocol,
                                 "refusing a connection of an unknown address "
                                 "family for '" +
                                     t->m_url + "'");
  if (!allowed) {
    t->m_refused = std::move(allowed).error();
    return CURL_SOCKET_BAD;  // libcurl tries the next address, if any
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

Result<std::unique_ptr<Transport>> CurlTransport::create(TransportOptions options) {
  if (!options.ca_bundle.empty()) {
    std::ifstream probe(options.ca_bundle);
    if (!probe)
      return Error(Errc::io, "cannot read the CA bundle " + options.ca_bundle,
                   "check the path given with --ca-bundle or ACMED_CA_BUNDLE");
  }
  if (!options.client_key.empty() && options.client_cert.empty())
    return Error(Errc::usage, "a TLS client key (" + options.client_key +
                                  ") was given without its client certificate");
  for (const std::string* file : {&options.client_cert, &options.client_key}) {
    if (file->empty()) continue;
    std::ifstream probe(*file);
    if (!probe)
      return Error(Errc::io,
                   std::string("cannot read the TLS client ") +
                       (file == &options.client_cert ? "certificate " : "key ") + *file,
                   "check the path and that this user may read it");
  }
  std::call_once(g_curl_init_once, [] { g_curl_init_result = curl_global_init(CURL_GLOBAL_ALL); });
  if (g_curl_init_result != CURLE_OK)
    return Error(Errc::internal, std::string("libcurl failed to initialise: ") +
                                     curl_easy_strerror(g_curl_init_result));
  auto t = std::make_unique<CurlTransport>();
  t->m_options = std::move(options);
  t->m_easy.reset(curl_easy_init());
  if (!t->m_easy) return Error(Errc::internal, "libcurl could not create a handle");
  CURL* c = t->m_easy.get();
  const TransportOptions& o = t->m_options;
  bool ok = true;
  auto set = [&ok](CURLcode rc) { ok = ok && rc == CURLE_OK; };
  set(curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->m_error_buffer));
  set(curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L));
  set(curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L));  // ACME never needs redirects
  set(curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https"));
  set(curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o.verify_peer ? 1L : 0L));
  set(curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o.verify_peer ? 2L : 0L));
  if (!o.ca_bundle.empty()) set(curl_easy_setopt(c, CURLOPT_CAINFO, o.ca_bundle.c_str()));
  if (!o.client_cert.empty()) set(curl_easy_setopt(c, CURLOPT_SSLCERT, o.client_cert.c_str()));
  if (!o.client_key.empty()) set(curl_easy_setopt(c, CURLOPT_SSLKEY, o.client_key.c_str()));
  set(curl_easy_setopt(c, CURLOPT_USERAGENT, o.user_agent.c_str()));
  set(curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, o.low_speed_limit));
  set(curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(o.low_speed_time.count())));
  set(curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L));
  set(curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, &CurlTransport::open_socket));
  set(curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, t.get()));
  set(curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header));
  set(curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body));
  // An interrupt aborts the transfer in progress (CURLE_ABORTED_BY_CALLBACK).
  set(curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L));
  set(curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress));
  if (!ok) return Error(Errc::internal, "libcurl rejected an option (is it built with TLS?)");
  return std::unique_ptr<Transport>(std::move(t));
}

Result<HttpResponse> CurlTransport::send(HttpMethod method, std::string_view url,
                                         const HttpHeaders& headers, std::string_view body) {
  CURL* c = m_easy.get();
  const std::string url_text(url);
  Transfer t;
  t.max_json_body = m_options.max_json_body;
  t.max_body = m_options.max_body;

  std::unique_ptr<curl_slist, SlistDeleter> list;
  auto append = [&list](const std::string& line) {
    curl_slist* next = curl_slist_append(list.get(), line.c_str());
    if (next) {
      (void)list.release();
      list.reset(next);
    }
    return next != nullptr;
  };
  bool ok = append("Expect:");  // no 100-continue round trip for small POSTs
  for (const auto& [name, value] : headers.fields()) ok = ok && append(name + ": " + value);
  if (!ok) return Error(Errc::internal, "out of memory building HTTP headers");

  // The whole request within the caller's remaining budget, never longer than total_timeout.
  std::chrono::milliseconds limit = m_options.total_timeout;
  if (auto budget = time_limit()) limit = std::min(limit, *budget);
  if (limit <= std::chrono::milliseconds(0))
    return Error(Errc::network, "no time left to send the request to " + url_text);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(limit.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(limit, m_options.connect_timeout).count()));
  m_url = url_text;
  m_refused.reset();
  curl_easy_setopt(c, CURLOPT_URL, url_text.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  switch (method) {
    case HttpMethod::get:
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
      break;
    case HttpMethod::head:
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
      break;
    case HttpMethod::post:
      curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
      curl_easy_setopt(c, CURLOPT_POST, 1L);
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      // Never NULL: with NULL POSTFIELDS curl would read the body from stdin.
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.empty() ? "" : body.data());
      break;
  }
  m_error_buffer[0] = '\0';
  CURLcode rc = curl_easy_perform(c);
  // The handle outlives this call; do not leave pointers to our stack behind in it.
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, nullptr);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, nullptr);
  if (method == HttpMethod::post) curl_easy_setopt(c, CURLOPT_POSTFIELDS, nullptr);

  if (t.too_big)
    return Error(Errc::network,
                 "the answer from " + url_text + " is larger than " + std::to_string(t.limit_hit) +
                     " bytes; acmed stopped reading it",
                 "check that the URL is the CA's ACME directory");
  if (rc != CURLE_OK && m_refused) return std::move(*m_refused);
  if (rc == CURLE_ABORTED_BY_CALLBACK && sys::interrupted()) return sys::check_interrupt().error();
  if (rc != CURLE_OK) {
    std::string reason = m_error_buffer[0] ? m_error_buffer : curl_easy_strerror(rc);
    std::string hint = "check the network connection and that the CA is up, then retry";
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
        rc == CURLE_SSL_CONNECT_ERROR)
      hint = "if the CA uses a private root, pass --ca-bundle FILE (or set ACMED_CA_BUNDLE)";
    if (rc == CURLE_OPERATION_TIMEDOUT)
      hint = "the CA is too slow or not answering; try again later";
    return Error(Errc::network, std::string("request to ") + url_text + " failed: " + reason,
                 std::move(hint));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  t.response.status = status;
  return std::move(t.response);
}

}  // namespace

Result<std::unique_ptr<Transport>> open_http_transport(TransportOptions options) {
  return CurlTransport::create(std::move(options));
}

}  // namespace acmed::acme
