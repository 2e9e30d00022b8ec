// A scripted ACME CA for renewal tests (Pebble has no renewalInfo and no profiles), on the shared
// loopback server. It answers:
//   GET  /dir             a directory; renewalInfo at `ari_path` (none with with_ari = false),
//                         meta.profiles from `profiles`
//   HEAD /nonce           a fresh Replay-Nonce (every answer carries one)
//   GET  <ari_path><id>   whatever `answer` returns
//   POST /order           newOrder: `new_order(payload, n)` (n counts from 1) when set, else an
//                         order that is already "ready" (no authorizations to answer)
//   POST /finalize/N      signs the CSR with its own CA; the order is "processing" for
//                         `processing_polls` polls (with `processing_retry_after`), then valid
//   POST /order/N         the order; 503 for the first `poll_503s` polls
//   POST /cert/N          404 for the first `cert_404s` fetches, then the PEM chain
// Signatures are not checked (the client's JWS is tested elsewhere); payloads are decoded and
// kept. Anything else is a 404.
#pragma once

#include "acmed/crypto/ca.hpp"
#include "acmed/crypto/encoding.hpp"
#include "acmed/crypto/key.hpp"
#include "acmed/sys/clock.hpp"
#include "support/loopback_server.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace acmed::test {

struct HttpAnswer {
  int status = 200;
  std::string body;
  std::vector<std::string> headers;  // "Retry-After: 3600"
};

// An ACME problem document answer.
inline HttpAnswer acme_problem(int status, const std::string& short_type) {
  nlohmann::json doc{{"type", "urn:ietf:params:acme:error:" + short_type},
                     {"detail", short_type + " (scripted)"},
                     {"status", status}};
  return {status, doc.dump(), {"Content-Type: application/problem+json"}};
}

class AriDirectoryServer {
 public:
  std::function<HttpAnswer(const std::string& cert_id)> answer;
  bool with_ari = true;
  std::string ari_path = "/ari/";
  std::vector<std::string> profiles;
  std::function<HttpAnswer(const nlohmann::json& payload, int n)> new_order;
  int processing_polls = 0;
  std::string processing_retry_after;  // "" : no Retry-After on processing answers
  int poll_503s = 0;
  int cert_404s = 0;
  std::chrono::hours lifetime{24 * 6};
  std::function<sys::TimePoint()> now = [] { return std::chrono::system_clock::now(); };

  AriDirectoryServer() {
    auto key = crypto::PrivateKey::generate({});
    REQUIRE(key);
    m_ca_key = std::make_unique<crypto::PrivateKey>(std::move(*key));
    auto t = std::chrono::system_clock::now();
    auto cert = crypto::make_root_certificate(
        *m_ca_key, {"scripted CA", "", "scripted ACME root", t - std::chrono::hours(24 * 3650),
                    t + std::chrono::hours(24 * 3650)});
    REQUIRE(cert);
    m_ca_pem = *cert;
  }

  std::string base() const { return m_server.url(""); }
  std::string directory_url() const { return base() + "/dir"; }
  // Request targets received so far ("/dir", "/ari/xyz").
  std::vector<std::string> paths() {
    std::vector<std::string> out;
    for (const auto& r : m_server.received()) out.push_back(target(r));
    return out;
  }
  std::size_t count(const std::string& prefix) {
    std::size_t n = 0;
    for (const auto& p : paths()) n += p.rfind(prefix, 0) == 0;
    return n;
  }
  std::size_t ari_requests() { return count(ari_path); }
  // The payloads of every newOrder, in order.
  std::vector<nlohmann::json> orders() {
    std::lock_guard lock(m_mutex);
    return m_orders;
  }

 private:
  struct OrderState {
    nlohmann::json identifiers;
    std::string status = "ready";
    int polls = 0;
    int cert_fetches = 0;
    std::string chain;
  };

  static std::string target(const Received& r) {
    auto sp1 = r.head.find(' ');
    return r.head.substr(sp1 + 1, r.head.find(' ', sp1 + 1) - sp1 - 1);
  }

  static nlohmann::json payload_of(const Received& r) {
    auto jws = nlohmann::json::parse(r.body, nullptr, false);
    if (!jws.is_object() || !jws.contains("payload")) return nullptr;
    auto text = crypto::base64url_decode(jws["payload"].get<std::string>());
    if (!text || text->empty()) return nullptr;  // POST-as-GET
    return nlohmann::json::parse(*text, nullptr, false);
  }

  nlohmann::json order_json(int n, const OrderState& o) const {
    std::string b = base();
    nlohmann::json j{{"status", o.status},
                     {"identifiers", o.identifiers},
                     {"authorizations", nlohmann::json::array()},
                     {"finalize", b + "/finalize/" + std::to_string(n)}};
    if (o.status == "valid") j["certificate"] = b + "/cert/" + std::to_string(n);
    return j;
  }

  // A leaf for the CSR's key and names, signed by the scripted CA, with AKI (for ARI ids).
  std::string sign(const std::string& csr_der) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(csr_der.data());
    X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(csr_der.size()));
    REQUIRE(req);
    BIO* bio = BIO_new_mem_buf(m_ca_pem.data(), static_cast<int>(m_ca_pem.size()));
    X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    REQUIRE(ca);
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), ++m_serial * 0x9e3779b97f4a7c15ULL);
    X509_set_issuer_name(x, X509_get_subject_name(ca));
    X509_set_subject_name(x, X509_REQ_get_subject_name(req));
    auto t = std::chrono::system_clock::to_time_t(now());
    X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &t);
    X509_time_adj_ex(X509_getm_notAfter(x), 0, static_cast<long>(lifetime.count() * 3600), &t);
    X509_set_pubkey(x, X509_REQ_get0_pubkey(req));
    STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
    for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts); ++i)
      X509_add_ext(x, sk_X509_EXTENSION_value(exts, i), -1);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca, x, nullptr, nullptr, 0);
    X509_EXTENSION* aki =
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always");
    REQUIRE(aki);
    X509_add_ext(x, aki, -1);
    X509_EXTENSION_free(aki);
    REQUIRE(X509_sign(x, m_ca_key->native(), EVP_sha256()) > 0);
    BIO* out = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(out, x);
    char* data = nullptr;
    long len = BIO_get_mem_data(out, &data);
    std::string pem(data, static_cast<std::size_t>(len));
    BIO_free(out);
    X509_free(x);
    X509_free(ca);
    X509_REQ_free(req);
    return pem + m_ca_pem;
  }

  static int number_after(const std::string& path, const std::string& prefix) {
    return std::atoi(path.c_str() + prefix.size());
  }

  HttpAnswer acme(const std::string& path, const Received& r) {
    std::lock_guard lock(m_mutex);
    std::string b = base();
    if (path == "/order") {
      nlohmann::json payload = payload_of(r);
      m_orders.push_back(payload);
      if (new_order) {
        HttpAnswer scripted = new_order(payload, static_cast<int>(m_orders.size()));
        if (scripted.status >= 300) return scripted;
      }
      int n = static_cast<int>(m_orders.size());
      OrderState& o = m_state[n];
      o.identifiers = payload.value("identifiers", nlohmann::json::array());
      return {201, order_json(n, o).dump(), {"Location: " + b + "/order/" + std::to_string(n)}};
    }
    if (path.rfind("/finalize/", 0) == 0) {
      int n = number_after(path, "/finalize/");
      OrderState& o = m_state[n];
      nlohmann::json payload = payload_of(r);
      auto csr = crypto::base64url_decode(payload.value("csr", std::string()));
      REQUIRE(csr);
      o.chain = sign(*csr);
      o.status = processing_polls > 0 ? "processing" : "valid";
      std::vector<std::string> h;
      if (o.status == "processing" && !processing_retry_after.empty())
        h.push_back("Retry-After: " + processing_retry_after);
      return {200, order_json(n, o).dump(), h};
    }
    if (path.rfind("/order/", 0) == 0) {
      int n = number_after(path, "/order/");
      OrderState& o = m_state[n];
      if (++o.polls <= poll_503s) return acme_problem(503, "serverInternal");
      std::vector<std::string> h;
      if (o.status == "processing") {
        if (o.polls - poll_503s >= processing_polls) {
          o.status = "valid";
        } else if (!processing_retry_after.empty()) {
          h.push_back("Retry-After: " + processing_retry_after);
        }
      }
      return {200, order_json(n, o).dump(), h};
    }
    if (path.rfind("/cert/", 0) == 0) {
      OrderState& o = m_state[number_after(path, "/cert/")];
      if (++o.cert_fetches <= cert_404s) return acme_problem(404, "malformed");
      return {200, o.chain, {"Content-Type: application/pem-certificate-chain"}};
    }
    return {404, "{\"type\":\"about:blank\"}", {}};
  }

  std::string respond(const Received& r) {
    std::string path = target(r);
    HttpAnswer a;
    if (path == "/dir") {
      std::string b = base();
      nlohmann::json dir{
          {"newNonce", b + "/nonce"}, {"newAccount", b + "/account"}, {"newOrder", b + "/order"}};
      if (with_ari) dir["renewalInfo"] = b + ari_path;
      if (!profiles.empty()) {
        nlohmann::json p = nlohmann::json::object();
        for (const auto& name : profiles) p[name] = "scripted " + name;
        dir["meta"] = {{"profiles", p}};
      }
      a.body = dir.dump();
    } else if (path == "/nonce") {
      a.status = 200;
    } else if (path.rfind(ari_path, 0) == 0 && answer) {
      a = answer(path.substr(ari_path.size()));
    } else if (r.head.rfind("POST ", 0) == 0) {
      a = acme(path, r);
    } else {
      a.status = 404;
      a.body = "{\"type\":\"about:blank\"}";
    }
    // Several clients (the ARI lookup, the issuer) talk to this one-connection-at-a-time server.
    std::vector<std::string> fields{"Connection: close",
                                    "Replay-Nonce: n" + std::to_string(++m_nonce)};
    bool typed = false;
    for (const auto& h : a.headers) typed = typed || h.rfind("Content-Type:", 0) == 0;
    if (!typed) fields.push_back("Content-Type: application/json");
    fields.insert(fields.end(), a.headers.begin(), a.headers.end());
    return http_answer(a.status, a.body, fields);
  }

  std::unique_ptr<crypto::PrivateKey> m_ca_key;
  std::string m_ca_pem;
  std::mutex m_mutex;
  std::vector<nlohmann::json> m_orders;
  std::map<int, OrderState> m_state;
  std::uint64_t m_serial = 0;
  std::atomic<int> m_nonce{0};
  // Declared last: destroyed (and its thread stopped) before the members the handler reads.
  LoopbackServer m_server{[this](const Received& r) { return respond(r); }};
};

}  // namespace acmed::test
