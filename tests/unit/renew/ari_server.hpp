// A scripted ACME directory for ARI tests (Pebble has no renewalInfo), on the shared loopback
// server. GET /dir answers a directory whose renewalInfo points back here (or none, with_ari =
// false); GET /ari/<cert id> answers whatever `answer` returns; anything else is a 404.
#pragma once

#include "support/loopback_server.hpp"

#include <functional>
#include <string>
#include <vector>

namespace acmed::test {

struct HttpAnswer {
  int status = 200;
  std::string body;
  std::vector<std::string> headers;  // "Retry-After: 3600"
};

class AriDirectoryServer {
 public:
  std::function<HttpAnswer(const std::string& cert_id)> answer;
  bool with_ari = true;

  std::string base() const { return m_server.url(""); }
  std::string directory_url() const { return base() + "/dir"; }
  // Request targets received so far ("/dir", "/ari/xyz").
  std::vector<std::string> paths() {
    std::vector<std::string> out;
    for (const auto& r : m_server.received()) {
      auto sp1 = r.head.find(' ');
      auto sp2 = r.head.find(' ', sp1 + 1);
      out.push_back(r.head.substr(sp1 + 1, sp2 - sp1 - 1));
    }
    return out;
  }
  std::size_t ari_requests() {
    std::size_t n = 0;
    for (const auto& p : paths()) n += p.rfind("/ari/", 0) == 0;
    return n;
  }

 private:
  std::string respond(const Received& r) {
    auto sp1 = r.head.find(' ');
    std::string path = r.head.substr(sp1 + 1, r.head.find(' ', sp1 + 1) - sp1 - 1);
    HttpAnswer a;
    if (path == "/dir") {
      std::string b = base();
      a.body = "{\"newNonce\":\"" + b + "/nonce\",\"newAccount\":\"" + b +
               "/account\",\"newOrder\":\"" + b + "/order\"" +
               (with_ari ? ",\"renewalInfo\":\"" + b + "/ari/\"" : std::string()) + "}";
    } else if (path.rfind("/ari/", 0) == 0 && answer) {
      a = answer(path.substr(5));
    } else {
      a.status = 404;
      a.body = "{\"type\":\"about:blank\"}";
    }
    // Several clients (the ARI lookup, the issuer) talk to this one-connection-at-a-time server.
    std::vector<std::string> fields{"Content-Type: application/json", "Connection: close"};
    fields.insert(fields.end(), a.headers.begin(), a.headers.end());
    return http_answer(a.status, a.body, fields);
  }

  // Declared last: destroyed (and its thread stopped) before the members the handler reads.
  LoopbackServer m_server{[this](const Received& r) { return respond(r); }};
};

}  // namespace acmed::test
