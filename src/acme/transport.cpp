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

bool url_is_allowed(std::string_view url) {
  return UrlPolicy::for_directory(url).ok();
}

Status check_url(std::string_view url, std::string_view what) {
  if (url_is_allowed(url)) return ok_status();
  const bool from_user = what.rfind("--", 0) == 0;
  return Error(from_user ? Errc::invalid_input : Errc::protocol,
               "refusing the URL '" + std::string(url) + "' from " + std::string(what) +
                   ": only https:// is allowed (plain http:// only for 127.0.0.0/8, ::1 and "
                   "localhost)",
               from_user ? "use the https:// URL of the ACME directory"
                         : "the CA is misconfigured or the connection is being tampered with");
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
