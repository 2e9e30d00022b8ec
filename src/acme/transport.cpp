// The libcurl-free half of transport.hpp; the rest is in curl_transport.cpp.
#include "acmed/acme/transport.hpp"

namespace acmed::acme {

const char* to_string(HttpMethod method) {
  switch (method) {
    case HttpMethod::get:
      return "GET";
    case HttpMethod::head:
      return "HEAD";
    case HttpMethod::post:
      return "POST";
  }
  return "GET";
}

Result<HttpResponse> Transport::request(HttpMethod method, std::string_view url,
                                        const HttpHeaders& headers, std::string_view body) {
  ACMED_CHECK(m_policy.check_url(url));
  ++m_stats.requests;
  auto response = send(method, url, headers, body);
  if (response) m_stats.bytes_received += response->body.size();
  return response;
}

}  // namespace acmed::acme
