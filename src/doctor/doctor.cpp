#include "acmed/doctor/doctor.hpp"

#include "acmed/acme/transport.hpp"
#include "acmed/crypto/encoding.hpp"
#include "acmed/crypto/x509.hpp"
#include "acmed/doctor/html.hpp"
#include "acmed/doctor/listeners.hpp"
#include "acmed/local/trust_store.hpp"
#include "acmed/renew/runner.hpp"
#include "acmed/store/lineage.hpp"
#include "acmed/store/status.hpp"
#include "acmed/sys/fs.hpp"
#include "acmed/util/strings.hpp"
#include "plugins/webconf/tls_check.hpp"

#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <mutex>
#include <set>

namespace acmed::doctor {

namespace {

namespace webconf = plugins::webconf;
using std::chrono::seconds;

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

std::string days_text(seconds s) {
  double days = static_cast<double>(s.count()) / 86400.0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f days", days);
  return buf;
}

// What one name is checked against.
struct Target {
  std::string name;
  const store::Lineage* lineage = nullptr;  // the lineage whose certificate covers it, if any
  std::string server;                       // its CA
};

bool covers(const store::Lineage& l, const std::string& name) {
  for (const auto& n : l.names) {
    if (n == name) return true;
    if (n.rfind("*.", 0) == 0) {
      auto dot = name.find('.');
      if (dot != std::string::npos && name.substr(dot) == n.substr(1)) return true;
    }
  }
  return false;
}

// The addresses of this host's interfaces, as text.
std::set<std::string> local_addresses() {
  std::set<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr) continue;
    char buf[INET6_ADDRSTRLEN] = {};
    if (a->ifa_addr->sa_family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
      if (::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf)) out.insert(buf);
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr);
      if (::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf)) out.insert(buf);
    }
  }
  ::freeifaddrs(list);
  return out;
}

// The lineage name to put into a fix line ("NAME" when the name belongs to no lineage).
std::string cert_name_of(const Target& t) {
  return t.lineage ? t.lineage->name : "NAME";
}

// The web server program a lineage is installed into, as the kernel names its processes.
std::string server_process(const store::Lineage* l) {
  if (!l) return "";
  const std::string& i = l->conf.params.installer;
  if (i == "nginx") return "nginx";
  if (i == "apache") return "apache2";
  return "";
}

class Doctor {
 public:
  explicit Doctor(const Options& o) : m_opt(o), m_now(o.clock->now()) {}
  Result<std::vector<Finding>> run();

 private:
  void add(std::vector<Finding>& out, std::string id, std::string name, Level status,
           std::string detail, std::string fix = "") {
    out.push_back({std::move(id), std::move(name), status, std::move(detail), std::move(fix)});
  }
  Status load_targets();
  void check_ports(std::vector<Finding>& out);
  void check_name(const Target& t, std::vector<Finding>& out);
  std::vector<std::string> check_dns(const Target& t, std::vector<Finding>& out);
  void check_dnssec(const Target& t, const dns::Server& server, const Result<dns::Answer>& a,
                    std::vector<Finding>& out);
  void check_http(const Target& t, const std::string& address, std::vector<Finding>& out);
  void check_tls(const Target& t, const std::string& address, std::vector<Finding>& out);
  void check_lineage(const store::Lineage& l, std::vector<Finding>& out);
  void check_timer(std::vector<Finding>& out);
  void check_challenge_path(const store::Lineage& l, std::vector<Finding>& out);
  void check_clock(const std::string& server, std::vector<Finding>& out);
  webconf::TlsProbe probe(const Target& t, const std::string& address) const {
    webconf::TlsProbe p;
    p.address = address;
    p.port = m_opt.https_port;
    p.sni = t.name;
    p.timeout = m_opt.timeout;
    p.extra_roots = m_opt.ca_bundle;
    return p;
  }

  const Options& m_opt;
  sys::TimePoint m_now;
  std::vector<store::Lineage> m_lineages;
  std::vector<Target> m_targets;
  // Where each target's HTTP and TLS checks connect (check_name fills it; "" for none).
  std::vector<std::string> m_addresses;
  std::optional<dns::Server> m_resolver;
  std::string m_resolver_error;
  // Per CA directory URL: its CAA identities (RFC 8555 section 7.1.1 meta.caaIdentities, else
  // known from the URL). Filled before the names are checked, read-only afterwards.
  std::map<std::string, std::vector<std::string>> m_caa_identities;
  std::string m_stapling;  // which config turns stapling on ("" when none does)
  void find_stapling();
  std::vector<std::pair<std::string, std::string>> m_broken;  // lineages that do not load: why
};

Status Doctor::load_targets() {
  std::vector<std::string> names;
  if (!m_opt.cert_name.empty()) {
    ACMED_CHECK(store::validate_lineage_name(m_opt.cert_name));
    if (!store::lineage_exists(m_opt.paths, m_opt.cert_name)) {
      return Error(Errc::not_found, "no certificate named " + m_opt.cert_name,
                   "`acmed certificates` lists the certificate names");
    }
    names = {m_opt.cert_name};
  } else {
    ACMED_TRY(names, store::lineage_names(m_opt.paths));
  }
  for (const auto& n : names) {
    auto l = store::load_lineage(m_opt.paths, n);
    if (l) {
      m_lineages.push_back(std::move(*l));
    } else {
      m_broken.emplace_back(n, l.error().describe());
    }
  }
  std::string default_server =
      m_opt.server.empty() ? "https://acme-v02.api.letsencrypt.org/directory" : m_opt.server;
  if (!m_opt.names.empty()) {
    for (const auto& raw : m_opt.names) {
      std::string n = util::ascii_lower(raw);
      if (n.empty() || n.find_first_of(" /:@") != std::string::npos) {
        return Error(Errc::usage, "not a DNS name: '" + raw + "'", "give names as -d example.com");
      }
      Target t{n, nullptr, default_server};
      for (const auto& l : m_lineages) {
        if (covers(l, n)) {
          t.lineage = &l;
          if (m_opt.server.empty()) t.server = l.conf.params.server;
          break;
        }
      }
      m_targets.push_back(std::move(t));
    }
    return {};
  }
  std::set<std::string> seen;
  for (const auto& l : m_lineages) {
    for (const auto& n : l.cert.dns_names) {
      // A wildcard is checked at its base name's sibling we cannot guess; skip it.
      if (n.rfind("*.", 0) == 0 || !seen.insert(n).second) continue;
      m_targets.push_back({n, &l, m_opt.server.empty() ? l.conf.params.server : m_opt.server});
    }
  }
  return {};
}

void Doctor::check_ports(std::vector<Finding>& out) {
  std::string expected;
  for (const auto& t : m_targets) {
    if (auto p = server_process(t.lineage); !p.empty()) {
      expected = p;
      break;
    }
  }
  for (auto [id, port] : {std::pair<const char*, int>{"port.80.listener", m_opt.http_port},
                          {"port.443.listener", m_opt.https_port}}) {
    auto found = listeners(port);
    if (!found) {
      add(out, id, "", Level::skip,
          "cannot read the kernel's socket tables: " + found.error().describe());
      continue;
    }
    if (found->empty()) {
      std::string detail = "nothing listens on port " + std::to_string(port);
      std::string fix = "start the web server (systemctl start nginx)";
      if (!can_bind_port(port)) {
        std::string program = expected.empty() ? "nginx" : expected;
        detail += "; this user may not bind it (a privileged port: root or CAP_NET_BIND_SERVICE)";
        fix = "run the server as root (sudo systemctl start " + program +
              "), or put nginx/apache in front on that port, or allow the program: sudo setcap "
              "'cap_net_bind_service=+ep' $(command -v " +
              program + ")";
      }
      add(out, id, "", Level::fail, detail, fix);
      continue;
    }
    std::vector<std::string> who;
    bool is_expected = expected.empty();
    for (const auto& l : *found) {
      std::string addr =
          l.address.find(':') != std::string::npos ? "[" + l.address + "]" : l.address;
      who.push_back((l.process.empty() ? std::string("a process of another user")
                                       : l.process + " (pid " + std::to_string(l.pid) + ")") +
                    " on " + addr + ":" + std::to_string(port));
      if (l.process == expected) is_expected = true;
    }
    if (is_expected) {
      add(out, id, "", Level::ok, util::join(who, ", "));
    } else {
      add(out, id, "", Level::warn,
          util::join(who, ", ") + "; the certificates are installed into " + expected +
              ", which does not",
          "stop the other program or move it to another port, then: systemctl restart " + expected);
    }
  }
}

std::vector<std::string> Doctor::check_dns(const Target& t, std::vector<Finding>& out) {
  std::vector<std::string> addresses;
  const auto& server = m_resolver;
  if (!server) {
    add(out, "dns.resolves", t.name, Level::skip, "no DNS server to ask: " + m_resolver_error,
        "give one with --resolver IP");
    return addresses;
  }
  std::string problem;
  // The A query asks for DNSSEC too (DO), so that dns.dnssec reads the same answer.
  std::optional<Result<dns::Answer>> a_answer;
  for (const char* type : {"A", "AAAA"}) {
    bool is_a = std::string_view(type) == "A";
    auto a = dns::query(*server, t.name, type, dns::Recursion::desired, m_opt.timeout,
                        is_a ? dns::Dnssec::ok : dns::Dnssec::off);
    if (is_a) a_answer = a;
    if (!a) {
      problem = a.error().message;
      continue;
    }
    if (a->rcode != "NOERROR") problem = std::string(type) + ": " + a->rcode;
    for (const auto& rr : a->answer) {
      if (rr.type == type && !rr.data.empty()) addresses.push_back(rr.data);
    }
  }
  if (addresses.empty()) {
    add(out, "dns.resolves", t.name, Level::fail,
        "no A or AAAA record" + (problem.empty() ? "" : " (" + problem + ")") + " at " +
            server->str(),
        "add an A (and AAAA) record for " + t.name + " with this server's public address");
    add(out, "dns.points_here", t.name, Level::skip, "the name does not resolve");
  } else {
    add(out, "dns.resolves", t.name, Level::ok, util::join(addresses, ", "));
    auto mine = local_addresses();
    std::vector<std::string> elsewhere;
    for (const auto& a : addresses) {
      if (!mine.count(a)) elsewhere.push_back(a);
    }
    if (elsewhere.size() < addresses.size()) {
      add(out, "dns.points_here", t.name, elsewhere.empty() ? Level::ok : Level::warn,
          elsewhere.empty() ? "every address is this host's"
                            : "also points to " + util::join(elsewhere, ", ") + ", not this host",
          elsewhere.empty() ? "" : "remove or correct the records pointing elsewhere");
    } else {
      add(out, "dns.points_here", t.name, Level::warn,
          "points to " + util::join(addresses, ", ") +
              ", which is not an address of this host (behind NAT "
              "or a proxy this is expected)",
          "point the A/AAAA records at this server, or run acmed where they point");
    }
  }
  std::vector<std::string> ids;
  if (auto it = m_caa_identities.find(t.server); it != m_caa_identities.end()) ids = it->second;
  check_dnssec(t, *server, *a_answer, out);
  std::string ca = util::join(ids, " or ");
  std::string lookup_error;
  auto lookup = [&](const std::string& n) {
    std::vector<std::string> records;
    auto a = dns::query(*server, n, "CAA", dns::Recursion::desired, m_opt.timeout);
    if (!a) {
      lookup_error = a.error().message;
      return records;
    }
    for (const auto& rr : a->answer) {
      if (rr.type == "CAA") records.push_back(rr.data);
    }
    return records;
  };
  CaaVerdict v = check_caa(t.name, ids, lookup);
  if (!lookup_error.empty()) {
    add(out, "dns.caa", t.name, Level::warn, "CAA lookup failed: " + lookup_error,
        "a CA that cannot look up CAA refuses to issue: check the zone's name servers");
  } else if (v.where.empty()) {
    add(out, "dns.caa", t.name, Level::ok, "no CAA records: every CA may issue");
  } else if (ca.empty()) {
    add(out, "dns.caa", t.name, Level::warn,
        "CAA at " + v.where + ": " + util::join(v.records, "; ") + "; cannot tell whether " +
            t.server + " is among them",
        "make sure one issue record names your CA");
  } else if (v.permitted) {
    add(out, "dns.caa", t.name, Level::ok,
        "CAA at " + v.where + " permits " + ca + " (" + util::join(v.records, "; ") + ")");
  } else {
    add(out, "dns.caa", t.name, Level::fail,
        "CAA at " + v.where + " does not permit " + ca + ": " + util::join(v.records, "; "),
        "add the record: " + v.where + ". CAA 0 issue \"" + ids.front() + "\"");
  }
  return addresses;
}

// dns.dnssec: a validating resolver answers SERVFAIL for a name whose DNSSEC chain is broken
// (expired signatures, a DS that matches no key), and CAs validate since March 2026, so such a
// name gets no certificate. Asking again with checking disabled tells that apart from a server
// that is just failing.
void Doctor::check_dnssec(const Target& t, const dns::Server& server, const Result<dns::Answer>& a,
                          std::vector<Finding>& out) {
  if (!a) {
    add(out, "dns.dnssec", t.name, Level::skip, a.error().message);
    return;
  }
  if (a->rcode == "SERVFAIL") {
    auto cd = dns::query(server, t.name, "A", dns::Recursion::desired, m_opt.timeout,
                         dns::Dnssec::checking_disabled);
    if (cd && cd->rcode != "SERVFAIL") {
      add(out, "dns.dnssec", t.name, Level::fail,
          "DNSSEC validation fails at " + server.str() +
              " (SERVFAIL, but an answer with checking disabled): the zone's signatures or its "
              "DS record are broken, and CAs refuse to issue",
          "re-sign the zone (expired signatures?) or correct the DS record at the registrar; "
          "`delv " +
              t.name + "` shows why");
    } else {
      add(out, "dns.dnssec", t.name, Level::skip,
          "the resolver " + server.str() + " fails for this name (SERVFAIL), DNSSEC or not");
    }
  } else if (a->authenticated) {
    add(out, "dns.dnssec", t.name, Level::ok, "signed, and validated by " + server.str());
  } else {
    add(out, "dns.dnssec", t.name, Level::ok,
        "not validated by " + server.str() +
            " (the zone is unsigned, or the resolver does not "
            "validate)");
  }
}

void Doctor::check_http(const Target& t, const std::string& address, std::vector<Finding>& out) {
  auto raw = webconf::probe_http(address, m_opt.http_port, t.name, "/", m_opt.timeout);
  std::string where = "http://" + t.name +
                      (m_opt.http_port == 80 ? "" : ":" + std::to_string(m_opt.http_port)) + "/";
  if (!raw) {
    add(out, "http.redirect", t.name, Level::fail,
        where + " (" + address + "): " + raw.error().message,
        "open port " + std::to_string(m_opt.http_port) +
            " (firewall) and let the web server listen there: HTTP-01 validation needs it");
    return;
  }
  HttpHead head = parse_http_response(*raw);
  std::string https = "https://" + t.name;
  bool to_https = head.location.rfind(https + "/", 0) == 0 ||
                  head.location.rfind(https + ":", 0) == 0 || head.location == https;
  if ((head.status == 301 || head.status == 308) && to_https) {
    add(out, "http.redirect", t.name, Level::ok,
        where + " answers " + std::to_string(head.status) + " to " + head.location);
  } else if ((head.status == 302 || head.status == 307) && to_https) {
    add(out, "http.redirect", t.name, Level::warn,
        where + " redirects with " + std::to_string(head.status) + " (temporary)",
        "make it permanent: return 301 https://$host$request_uri; (nginx) or "
        "`acmed enhance --redirect --cert-name " +
            cert_name_of(t) + "`");
  } else {
    add(out, "http.redirect", t.name, Level::warn,
        where + " answers " + std::to_string(head.status) +
            (head.location.empty() ? "" : " to " + head.location) + ", not a redirect to https",
        "acmed enhance --redirect --cert-name " + cert_name_of(t) +
            ", or in the port-80 server block: return 301 "
            "https://$host$request_uri;");
  }
}

void Doctor::check_tls(const Target& t, const std::string& address, std::vector<Finding>& out) {
  auto p = probe(t, address);
  p.alpn = {"h2", "http/1.1"};
  auto session = webconf::tls_handshake(p);
  if (!session) {
    add(out, "tls.served_cert", t.name, Level::fail,
        address + ":" + std::to_string(m_opt.https_port) + ": " + session.error().message,
        "make the web server listen on " + std::to_string(m_opt.https_port) +
            " with ssl: acmed install --cert-name " + cert_name_of(t));
    for (const char* id : {"tls.chain", "tls.expiry", "tls.protocols", "tls.http2", "tls.hsts",
                           "page.mixed_content"}) {
      add(out, id, t.name, Level::skip, "no TLS connection");
    }
    return;
  }
  auto leaf =
      crypto::parse_certificate(crypto::der_to_pem(session->chain_der.front(), "CERTIFICATE"));
  if (!leaf) {
    add(out, "tls.served_cert", t.name, Level::fail,
        "the served certificate does not parse: " + leaf.error().message);
    return;
  }
  // tls.served_cert
  std::string served =
      "serial " + crypto::hex(leaf->serial) + ", expires " + sys::format_rfc3339(leaf->not_after);
  bool names_ok = std::any_of(leaf->dns_names.begin(), leaf->dns_names.end(), [&](auto& n) {
    return n == t.name || (n.rfind("*.", 0) == 0 && t.name.find('.') != std::string::npos &&
                           t.name.substr(t.name.find('.')) == n.substr(1));
  });
  if (!names_ok) {
    add(out, "tls.served_cert", t.name, Level::fail,
        "the served certificate (" + util::join(leaf->dns_names, ", ") + ") does not cover " +
            t.name,
        t.lineage ? "install it: acmed install --cert-name " + t.lineage->name
                  : "get one: acmed --nginx -d " + t.name);
  } else if (t.lineage && leaf->sha256_fingerprint != t.lineage->cert.sha256_fingerprint) {
    std::string older;
    for (int v = t.lineage->version - 1; v >= 1 && older.empty(); --v) {
      auto pem = sys::read_file(m_opt.paths.archive_dir(t.lineage->name) /
                                ("cert" + std::to_string(v) + ".pem"));
      if (!pem) continue;
      auto info = crypto::parse_certificate(*pem);
      if (info && info->sha256_fingerprint == leaf->sha256_fingerprint) {
        older = "version " + std::to_string(v);
      }
    }
    std::string server = server_process(t.lineage);
    add(out, "tls.served_cert", t.name, Level::fail,
        "serves " +
            (older.empty() ? "a certificate not of lineage " + t.lineage->name
                           : "the older " + older + " of " + t.lineage->name) +
            " (" + served + "); the current one is version " + std::to_string(t.lineage->version) +
            ", expiring " + sys::format_rfc3339(t.lineage->cert.not_after),
        older.empty() ? "point the server at /etc/letsencrypt/live/" + t.lineage->name +
                            "/fullchain.pem: acmed install --cert-name " + t.lineage->name
                      : "reload the server so that it reads the renewed files: systemctl reload " +
                            (server.empty() ? std::string("nginx") : server));
  } else {
    add(out, "tls.served_cert", t.name, Level::ok,
        (t.lineage ? "the current certificate of " + t.lineage->name + " (" : "(") + served + ")");
  }
  // tls.chain
  if (session->verified) {
    add(out, "tls.chain", t.name, Level::ok,
        std::to_string(session->chain_der.size()) + " certificates, verified to a trusted root");
  } else {
    bool missing = session->chain_der.size() == 1 && !leaf->is_ca;
    add(out, "tls.chain", t.name, Level::fail,
        "the served chain does not verify: " + session->verify_error +
            (missing ? " (only the leaf is served: the intermediate is missing)" : ""),
        missing ? "serve fullchain.pem, not cert.pem: ssl_certificate "
                  "/etc/letsencrypt/live/" +
                      cert_name_of(t) +
                      "/fullchain.pem; (nginx) or SSLCertificateFile "
                      "with fullchain.pem (apache)"
                : "serve the certificate the CA issued, with its chain (fullchain.pem)");
  }
  // tls.expiry
  auto left = std::chrono::duration_cast<seconds>(leaf->not_after - m_now);
  bool failing = false;
  if (t.lineage) {
    auto status = store::load_status(m_opt.paths, t.lineage->name);
    failing = status && status->failure_count > 0;
  }
  Level expiry = expiry_level(leaf->not_before, leaf->not_after, failing, m_now);
  if (left <= seconds::zero()) {
    add(out, "tls.expiry", t.name, Level::fail, "expired " + days_text(-left) + " ago",
        t.lineage ? "acmed renew --cert-name " + t.lineage->name + ", then reload the server"
                  : "acmed --nginx -d " + t.name);
  } else if (expiry == Level::fail) {
    add(out, "tls.expiry", t.name, Level::fail,
        "expires in " + days_text(left) + " and its renewal has been failing",
        "see why: acmed renew --cert-name " + t.lineage->name + " --dry-run");
  } else if (expiry == Level::warn) {
    add(out, "tls.expiry", t.name, Level::warn,
        "expires in " + days_text(left) + ": inside its renewal window",
        "acmed renew (the timer does it: systemctl enable --now acmed.timer)");
  } else {
    add(out, "tls.expiry", t.name, Level::ok, "expires in " + days_text(left));
  }
  // tls.protocols
  std::vector<std::string> old;
  for (auto [version, label] :
       {std::pair<int, const char*>{TLS1_VERSION, "TLS 1.0"}, {TLS1_1_VERSION, "TLS 1.1"}}) {
    auto legacy = probe(t, address);
    legacy.min_version = legacy.max_version = version;
    legacy.allow_legacy = true;
    legacy.verify = false;
    if (webconf::tls_handshake(legacy)) old.push_back(label);
  }
  auto tls13 = probe(t, address);
  tls13.min_version = TLS1_3_VERSION;
  tls13.verify = false;
  bool has13 = static_cast<bool>(webconf::tls_handshake(tls13));
  if (!old.empty()) {
    add(out, "tls.protocols", t.name, Level::fail, util::join(old, " and ") + " accepted",
        "ssl_protocols TLSv1.2 TLSv1.3; (nginx) or SSLProtocol -all +TLSv1.2 +TLSv1.3 (apache)");
  } else if (!has13) {
    add(out, "tls.protocols", t.name, Level::warn, "TLS 1.3 is not offered",
        "ssl_protocols TLSv1.2 TLSv1.3; (nginx) or SSLProtocol -all +TLSv1.2 +TLSv1.3 (apache)");
  } else {
    add(out, "tls.protocols", t.name, Level::ok,
        "TLS 1.0 and 1.1 refused, TLS 1.3 offered (negotiated " + session->protocol + ")");
  }
  // tls.ocsp_stapling: Let's Encrypt's certificates carry no OCSP URL since 2025; stapling left
  // on for them makes nginx log a warning at every start and reload, and staples nothing.
  bool has_ocsp = false;
  {
    const auto* der = reinterpret_cast<const unsigned char*>(session->chain_der.front().data());
    X509* x = d2i_X509(nullptr, &der, static_cast<long>(session->chain_der.front().size()));
    if (x) {
      STACK_OF(OPENSSL_STRING)* urls = X509_get1_ocsp(x);
      has_ocsp = urls && sk_OPENSSL_STRING_num(urls) > 0;
      X509_email_free(urls);
      X509_free(x);
    }
  }
  if (m_stapling.empty()) {
    add(out, "tls.ocsp_stapling", t.name, Level::ok, "stapling is not configured");
  } else if (has_ocsp) {
    add(out, "tls.ocsp_stapling", t.name, Level::ok,
        m_stapling + " turns stapling on; the certificate has an OCSP URL");
  } else {
    add(out, "tls.ocsp_stapling", t.name, Level::warn,
        m_stapling +
            " turns stapling on, but the certificate has no OCSP URL (as no Let's "
            "Encrypt certificate has since 2025): the server logs a warning and "
            "staples nothing",
        "remove ssl_stapling on; and ssl_stapling_verify on; (nginx) or SSLUseStapling on "
        "(apache)");
  }
  // tls.http2
  if (session->alpn == "h2") {
    add(out, "tls.http2", t.name, Level::ok, "ALPN h2 offered");
  } else {
    add(out, "tls.http2", t.name, Level::warn,
        "HTTP/2 not offered (ALPN " + (session->alpn.empty() ? "none" : session->alpn) + ")",
        "nginx: http2 on; (1.25.1+) or listen 443 ssl http2; apache: Protocols h2 http/1.1");
  }
  // tls.hsts and page.mixed_content: one GET over HTTP/1.1
  auto get = probe(t, address);
  get.alpn = {"http/1.1"};
  get.verify = false;
  get.http_path = "/";
  auto page = webconf::tls_handshake(get);
  if (!page) {
    add(out, "tls.hsts", t.name, Level::skip, "GET / failed: " + page.error().message);
    add(out, "page.mixed_content", t.name, Level::skip, "GET / failed");
    return;
  }
  HttpHead head = parse_http_response(page->response);
  if (head.hsts.empty()) {
    add(out, "tls.hsts", t.name, Level::info, "no Strict-Transport-Security header",
        "once HTTPS works everywhere: add_header Strict-Transport-Security "
        "\"max-age=31536000\" always;");
  } else {
    add(out, "tls.hsts", t.name, Level::info, "Strict-Transport-Security: " + head.hsts);
  }
  auto refs = find_mixed_content(head.body, 20);
  if (refs.empty()) {
    add(out, "page.mixed_content", t.name, Level::ok,
        "https://" + t.name + "/ (" + std::to_string(head.status) + ") loads nothing over http://");
  } else {
    std::vector<std::string> items;
    for (const auto& r : refs) items.push_back("<" + r.tag + " " + r.attr + "=" + r.url + ">");
    add(out, "page.mixed_content", t.name, Level::warn,
        std::to_string(refs.size()) + " subresource(s) over http://: " + util::join(items, ", "),
        "use https:// (or a protocol-relative //) URLs, or make browsers upgrade them: "
        "add_header Content-Security-Policy \"upgrade-insecure-requests\"; (acmed enhance --uir)");
  }
}

void Doctor::check_lineage(const store::Lineage& l, std::vector<Finding>& out) {
  auto status = store::load_status(
      m_opt.paths, l.name, store::load_check_times(m_opt.paths).value_or(store::CheckTimes{}));
  if (!status) {
    add(out, "renew.last_result", l.name, Level::warn, status.error().message, status.error().hint);
    return;
  }
  if (status->failure_count > 0) {
    add(out, "renew.last_result", l.name, Level::fail,
        std::to_string(status->failure_count) +
            " failed renewal(s) in a row; last: " + status->last_error,
        "see the failure: acmed renew --cert-name " + l.name + " --dry-run");
  } else if (!status->last_checked) {
    add(out, "renew.last_result", l.name, Level::warn, "never checked by acmed renew",
        "systemctl enable --now acmed.timer");
  } else {
    add(out, "renew.last_result", l.name, Level::ok,
        "last checked " + sys::format_rfc3339(*status->last_checked) +
            (status->last_renewed ? ", renewed " + sys::format_rfc3339(*status->last_renewed)
                                  : "") +
            (status->next_due ? ", next due " + sys::format_rfc3339(*status->next_due) : ""));
  }
  auto id = crypto::ari_cert_id(l.cert);
  if (status->ari && id && status->ari->cert_id == *id && status->ari->window_start &&
      status->ari->window_end) {
    add(out, "renew.ari", l.name, Level::ok,
        "the CA suggests renewing between " + sys::format_rfc3339(*status->ari->window_start) +
            " and " + sys::format_rfc3339(*status->ari->window_end));
  } else {
    add(out, "renew.ari", l.name, Level::skip,
        "no renewal window from the CA for the current certificate (no ARI, or not asked yet)");
  }
}

void Doctor::check_timer(std::vector<Finding>& out) {
  std::error_code ec;
  if (!std::filesystem::exists("/run/systemd/system", ec)) {
    add(out, "renew.timer", "", Level::skip, "systemd is not running here",
        "run `acmed renew` twice a day from cron or another scheduler");
    return;
  }
  auto systemctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "systemctl");
    sys::ProcessOptions po;
    po.timeout = std::chrono::seconds(10);
    auto r = m_opt.processes->run(args, po);
    return r ? std::string(util::trim(r->out)) : std::string();
  };
  std::string enabled = systemctl({"is-enabled", "acmed.timer"});
  std::string result = systemctl({"show", "acmed.service", "-p", "Result", "--value"});
  std::vector<std::string> others;
  if (systemctl({"is-enabled", "certbot.timer"}) == "enabled") others.push_back("certbot.timer");
  auto cron = sys::read_file("/etc/cron.d/certbot");
  if (cron) {
    for (const auto& line : split_lines(*cron)) {
      std::string l(util::trim(line));
      if (!l.empty() && l[0] != '#' && l.find("certbot") != std::string::npos) {
        others.push_back("/etc/cron.d/certbot");
        break;
      }
    }
  }
  if (enabled != "enabled") {
    add(out, "renew.timer", "", Level::fail,
        "acmed.timer is " + (enabled.empty() ? std::string("unknown") : enabled),
        "systemctl enable --now acmed.timer");
  } else if (!others.empty()) {
    add(out, "renew.timer", "", Level::warn,
        "acmed.timer is enabled, and so is " + util::join(others, ", ") +
            ": two clients would renew the same lineages",
        "acmed migrate (or: systemctl disable --now certbot.timer)");
  } else if (!result.empty() && result != "success") {
    add(out, "renew.timer", "", Level::fail, "the last run of acmed.service: " + result,
        "journalctl -u acmed.service");
  } else {
    add(out, "renew.timer", "", Level::ok, "acmed.timer is enabled");
  }
}

void Doctor::check_clock(const std::string& server, std::vector<Finding>& out) {
  if (auto known = caa_domain_of(server); !known.empty()) m_caa_identities[server] = {known};
  acme::TransportOptions to;
  to.ca_bundle = m_opt.ca_bundle.string();
  auto transport = acme::open_http_transport(to);
  if (!transport) {
    add(out, "clock.skew", server, Level::skip, transport.error().message);
    return;
  }
  auto r = (*transport)->request(acme::HttpMethod::get, server, {}, "");
  if (r && r->status == 200) {
    auto dir = nlohmann::json::parse(r->body, nullptr, false);
    auto meta = dir.is_object() ? dir.find("meta") : dir.end();
    if (meta != dir.end() && meta->is_object() && meta->contains("caaIdentities") &&
        (*meta)["caaIdentities"].is_array()) {
      std::vector<std::string> ids;
      for (const auto& id : (*meta)["caaIdentities"]) {
        if (id.is_string() && id.get<std::string>().size() < 256) {
          ids.push_back(util::ascii_lower(id.get<std::string>()));
        }
      }
      if (!ids.empty()) m_caa_identities[server] = ids;
    }
  }
  auto date = r ? r->headers.get("date") : std::nullopt;
  if (!date) {
    add(out, "clock.skew", server, Level::skip,
        r ? "the CA sent no Date header" : "cannot reach the CA: " + r.error().message);
    return;
  }
  std::tm tm{};
  const char* end = ::strptime(date->c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end) {
    add(out, "clock.skew", server, Level::skip, "the CA's Date header does not parse: " + *date);
    return;
  }
  auto theirs = std::chrono::system_clock::from_time_t(::timegm(&tm));
  auto skew = std::chrono::duration_cast<seconds>(std::chrono::system_clock::now() - theirs);
  std::string detail = "this clock is " + std::to_string(std::abs(skew.count())) + " s " +
                       (skew.count() >= 0 ? "ahead of" : "behind") + " the CA's";
  Level s = std::abs(skew.count()) > 300  ? Level::fail
            : std::abs(skew.count()) > 30 ? Level::warn
                                          : Level::ok;
  add(out, "clock.skew", server, s, detail,
      s == Level::ok ? "" : "synchronise the clock: timedatectl set-ntp true");
}

// Reads the web servers' configs once: `nginx -T` prints nginx's whole config with its includes;
// for apache the enabled files under its root are read (apache has no such dump).
void Doctor::find_stapling() {
  std::string nginx_root = m_opt.nginx_server_root, apache_root = m_opt.apache_server_root;
  for (const auto& l : m_lineages) {
    const auto& st = l.conf.params.settings;
    if (nginx_root.empty() && !st.get("nginx_server_root").empty()) {
      nginx_root = st.get("nginx_server_root");
    }
    if (apache_root.empty() && !st.get("apache_server_root").empty()) {
      apache_root = st.get("apache_server_root");
    }
  }
  if (nginx_root.empty()) nginx_root = "/etc/nginx";
  if (apache_root.empty()) apache_root = "/etc/apache2";
  std::error_code ec;
  std::filesystem::path nginx_conf = std::filesystem::path(nginx_root) / "nginx.conf";
  if (std::filesystem::exists(nginx_conf, ec)) {
    sys::ProcessOptions po;
    po.timeout = std::chrono::seconds(10);
    auto r = m_opt.processes->run({"nginx", "-T", "-q", "-c", nginx_conf.string()}, po);
    if (r && r->exit_code == 0 && stapling_enabled(r->out)) {
      m_stapling = "nginx (" + nginx_conf.string() + ")";
      return;
    }
  }
  std::filesystem::path root(apache_root);
  std::vector<std::filesystem::path> files{root / "apache2.conf", root / "httpd.conf"};
  for (const char* dir : {"sites-enabled", "conf-enabled", "mods-enabled"}) {
    std::filesystem::directory_iterator it(root / dir, ec);
    if (ec) continue;
    for (int n = 0; it != std::filesystem::directory_iterator() && n < 1000;
         it.increment(ec), ++n) {
      if (ec) break;
      files.push_back(it->path());
    }
  }
  for (const auto& f : files) {
    auto text = sys::read_file_limited(f, 4 << 20);
    if (text && stapling_enabled(*text)) {
      m_stapling = "apache (" + f.string() + ")";
      return;
    }
  }
}

// http.challenge_path: the lineage's own authenticator publishes a probe response for each of
// its names being checked, each is fetched as a CA would (port 80, following a redirect to
// https), and everything is removed again. One lineage at a time: nginx and apache
// authenticators edit and reload a shared config.
void Doctor::check_challenge_path(const store::Lineage& l, std::vector<Finding>& out) {
  std::vector<const Target*> targets;
  for (const auto& t : m_targets) {
    if (t.lineage == &l) targets.push_back(&t);
  }
  if (targets.empty()) return;
  const std::string& kind = l.conf.params.authenticator;
  auto skip_all = [&](const std::string& why) {
    for (const Target* t : targets) add(out, "http.challenge_path", t->name, Level::skip, why);
  };
  if (kind != "webroot" && kind != "standalone" && kind != "nginx" && kind != "apache") {
    skip_all("the lineage's authenticator (" + kind + ") does not serve http-01 files");
    return;
  }
  if (!m_opt.authenticator) {
    skip_all("no authenticator");
    return;
  }
  auto auth = m_opt.authenticator(l);
  if (!auth) {
    skip_all("cannot build the lineage's authenticator: " + auth.error().describe());
    return;
  }
  std::vector<challenge::Task> tasks;
  for (const Target* t : targets) {
    unsigned char bytes[24];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
      skip_all("no random bytes for a probe token");
      return;
    }
    std::string token = crypto::base64url_encode(
        std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
    tasks.push_back({t->name, "dns", "http-01", token, token + ".acmed-doctor-probe", ""});
  }
  Status published = (*auth)->perform(tasks);
  int port = m_opt.http_port;
  if (kind == "standalone") {
    std::string p = l.conf.params.settings.get("http01_port");
    if (!p.empty()) port = std::atoi(p.c_str());
  }
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const Target& t = *targets[i];
    const challenge::Task& task = tasks[i];
    if (!published) {
      add(out, "http.challenge_path", t.name, Level::fail,
          "the " + kind +
              " authenticator cannot publish a challenge: " + published.error().describe(),
          published.error().hint);
      continue;
    }
    const std::string& address = m_addresses[static_cast<std::size_t>(&t - m_targets.data())];
    if (address.empty()) {
      add(out, "http.challenge_path", t.name, Level::skip, "no address to connect to");
      continue;
    }
    std::string path = "/.well-known/acme-challenge/" + task.token;
    std::string url = "http://" + t.name + ":" + std::to_string(port) + path;
    auto raw = webconf::probe_http(address, port, t.name, path, m_opt.timeout);
    HttpHead head = raw ? parse_http_response(*raw) : HttpHead{};
    std::string via;
    if (raw &&
        (head.status == 301 || head.status == 302 || head.status == 307 || head.status == 308) &&
        head.location.rfind("https://" + t.name, 0) == 0) {
      // Let's Encrypt follows a redirect to https on port 443 (certificate not checked).
      auto p = probe(t, address);
      p.alpn = {"http/1.1"};
      p.verify = false;
      p.http_path = path;
      auto session = webconf::tls_handshake(p);
      via = " (after the redirect to " + head.location + ")";
      head = session ? parse_http_response(session->response) : HttpHead{};
    }
    if (raw && head.status == 200 && util::trim(head.body) == task.key_authorization) {
      add(out, "http.challenge_path", t.name, Level::ok,
          "a probe published by the " + kind + " authenticator is served at " + url + via);
      continue;
    }
    std::string seen = !raw               ? raw.error().message
                       : head.status == 0 ? "no HTTP answer"
                                          : "status " + std::to_string(head.status) +
                                                (head.status == 200 ? " with other content" : "");
    std::string fix = kind == "webroot"
                          ? "serve the webroot at /.well-known/acme-challenge/ for " + t.name +
                                " on port 80: location ^~ /.well-known/acme-challenge/ { root " +
                                l.conf.params.settings.get("webroot_path") + "; }"
                          : "make port " + std::to_string(port) + " of " + t.name +
                                " reach this server (firewall, NAT, a proxy in front)";
    add(out, "http.challenge_path", t.name, Level::fail, url + via + ": " + seen, fix);
  }
  (*auth)->cleanup(tasks);
}

void Doctor::check_name(const Target& t, std::vector<Finding>& out) {
  auto addresses = check_dns(t, out);
  // Kept for the serial challenge-path pass, which connects to the same address.
  std::string& address = m_addresses[static_cast<std::size_t>(&t - m_targets.data())];
  address = !m_opt.connect_to.empty() ? m_opt.connect_to
            : !addresses.empty()      ? addresses.front()
                                      : "";
  if (address.empty()) {
    for (const char* id : {"http.redirect", "tls.served_cert", "tls.chain", "tls.expiry",
                           "tls.protocols", "tls.http2", "tls.hsts", "page.mixed_content"}) {
      add(out, id, t.name, Level::skip, "no address to connect to");
    }
    return;
  }
  check_http(t, address, out);
  check_tls(t, address, out);
}

// local.trust: "Your connection is not private" on localhost is a store without the CA.
Result<std::vector<Finding>> local_trust(const local::Environment& env,
                                         sys::ProcessRunner& processes, sys::TimePoint now) {
  ACMED_TRY(auto checks, local::trust_status(env, processes, now));
  std::vector<Finding> out;
  bool root = ::geteuid() == 0;
  for (const auto& c : checks) {
    Finding f{"local.trust", c.store, Level::ok, "", ""};
    switch (c.state) {
      case local::TrustState::trusted:
        f.detail = "the development CA is trusted";
        break;
      case local::TrustState::unknown:
        f.status = Level::skip;
        f.detail = c.detail;
        break;
      case local::TrustState::missing:
        f.status = Level::fail;
        f.detail = "the development CA is not there" + (c.detail.empty() ? "" : ": " + c.detail);
        f.fix = c.store.rfind("system", 0) == 0 && !root
                    ? "sudo ACMED_LOCAL_CAROOT=" + env.ca_root.string() + " acmed local install"
                    : "acmed local install (then restart the browser)";
        break;
    }
    out.push_back(std::move(f));
  }
  return out;
}

Result<std::vector<Finding>> Doctor::run() {
  if (m_opt.local) return local_trust(*m_opt.local, *m_opt.processes, m_now);
  ACMED_CHECK(load_targets());
  if (m_opt.resolver) {
    m_resolver = m_opt.resolver;
  } else if (auto system = dns::system_servers(); system && !system->empty()) {
    m_resolver = system->front();
  } else {
    m_resolver_error = system ? "no name server" : system.error().message;
  }
  std::vector<Finding> out;
  check_timer(out);
  check_ports(out);
  std::set<std::string> servers;
  for (const auto& t : m_targets) servers.insert(t.server);
  for (const auto& s : servers) check_clock(s, out);
  find_stapling();
  std::vector<std::vector<Finding>> per(m_targets.size());
  m_addresses.assign(m_targets.size(), "");
  renew::for_each_parallel(m_targets.size(), m_opt.jobs,
                           [&](std::size_t i, std::size_t) { check_name(m_targets[i], per[i]); });
  for (auto& p : per) out.insert(out.end(), p.begin(), p.end());
  for (const auto& [name, why] : m_broken) {
    if (!m_opt.names.empty()) break;  // -d: only the lineages of those names
    add(out, "renew.last_result", name, Level::fail, "the lineage cannot be read: " + why,
        "acmed update_symlinks --cert-name " + name +
            " repairs its live links; `acmed "
            "certificates` shows what is wrong");
  }
  for (const auto& l : m_lineages) {
    if (!m_opt.names.empty() && std::none_of(m_targets.begin(), m_targets.end(),
                                             [&](const Target& t) { return t.lineage == &l; })) {
      continue;
    }
    check_challenge_path(l, out);
    check_lineage(l, out);
  }
  return out;
}

}  // namespace

const char* to_string(Level level) {
  switch (level) {
    case Level::ok:
      return "ok";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::fail:
      return "fail";
    case Level::skip:
      return "skip";
  }
  return "?";
}

Result<std::vector<Finding>> run_doctor(const Options& options) {
  if (!options.clock || !options.processes) {
    return Error(Errc::internal, "run_doctor needs a clock and a process runner");
  }
  Doctor d(options);
  return d.run();
}

nlohmann::json findings_json(const std::vector<Finding>& findings) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& f : findings) {
    checks.push_back({{"id", f.id},
                      {"name", f.name},
                      {"status", to_string(f.status)},
                      {"detail", f.detail},
                      {"fix", f.fix}});
  }
  return {{"version", 1}, {"checks", std::move(checks)}};
}

CaaVerdict check_caa(const std::string& name, const std::vector<std::string>& identities,
                     const std::function<std::vector<std::string>(const std::string&)>& lookup) {
  bool wildcard = name.rfind("*.", 0) == 0;
  std::string at = wildcard ? name.substr(2) : name;
  CaaVerdict v;
  // Climb until the last label (a TLD's CAA would apply too); at most 127 labels exist.
  for (int i = 0; i < 128 && !at.empty(); ++i) {
    auto records = lookup(at);
    if (!records.empty()) {
      v.where = at;
      v.records = records;
      break;
    }
    auto dot = at.find('.');
    if (dot == std::string::npos) break;
    at = at.substr(dot + 1);
  }
  if (v.where.empty()) return v;
  // RFC 8659 section 4.3: issuewild governs wildcards when present, else issue; no issue or
  // issuewild property at all permits every CA.
  std::vector<std::string> issue, issuewild;
  for (const auto& r : v.records) {
    auto first = r.find(' ');
    auto second = first == std::string::npos ? first : r.find(' ', first + 1);
    if (second == std::string::npos) continue;
    std::string tag = util::ascii_lower(r.substr(first + 1, second - first - 1));
    std::string value = r.substr(second + 1);
    std::string domain = util::ascii_lower(util::trim(value.substr(0, value.find(';'))));
    if (tag == "issue") issue.push_back(domain);
    if (tag == "issuewild") issuewild.push_back(domain);
  }
  const auto& relevant = wildcard && !issuewild.empty() ? issuewild : issue;
  if (relevant.empty()) return v;
  v.permitted = std::any_of(identities.begin(), identities.end(), [&](const std::string& id) {
    return std::find(relevant.begin(), relevant.end(), util::ascii_lower(id)) != relevant.end();
  });
  return v;
}

std::string caa_domain_of(const std::string& server_url) {
  std::string u = util::ascii_lower(server_url);
  if (u.find(".letsencrypt.org/") != std::string::npos) return "letsencrypt.org";
  if (u.find(".zerossl.com/") != std::string::npos) return "sectigo.com";
  if (u.find(".pki.goog/") != std::string::npos) return "pki.goog";
  if (u.find(".buypass.") != std::string::npos) return "buypass.com";
  if (u.find(".digicert.com/") != std::string::npos) return "digicert.com";
  if (u.find(".ssl.com/") != std::string::npos) return "ssl.com";
  return "";
}

Level expiry_level(sys::TimePoint not_before, sys::TimePoint not_after, bool renewal_failing,
                   sys::TimePoint now) {
  auto lifetime = not_after - not_before;
  if (now >= not_after) return Level::fail;
  if (not_after - now < lifetime / 3) return renewal_failing ? Level::fail : Level::warn;
  return Level::ok;
}

bool stapling_enabled(std::string_view text) {
  for (const auto& raw : split_lines(std::string(text))) {
    std::string line = util::ascii_lower(raw.substr(0, raw.find('#')));
    std::vector<std::string> words;
    std::string word;
    for (char c : line + " ") {
      if (std::isspace(static_cast<unsigned char>(c)) || c == ';') {
        if (!word.empty()) words.push_back(std::move(word));
        word.clear();
      } else {
        word += c;
      }
    }
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
      if ((words[i] == "ssl_stapling" || words[i] == "sslusestapling") && words[i + 1] == "on") {
        return true;
      }
    }
  }
  return false;
}

HttpHead parse_http_response(const std::string& raw) {
  HttpHead h;
  auto end = raw.find("\r\n\r\n");
  std::string head = raw.substr(0, end);
  h.body = end == std::string::npos ? "" : raw.substr(end + 4);
  auto lines = split_lines(head);
  if (lines.empty()) return h;
  // "HTTP/1.1 301 Moved Permanently"
  const std::string& status = lines.front();
  auto sp = status.find(' ');
  if (status.rfind("HTTP/", 0) == 0 && sp != std::string::npos && status.size() >= sp + 4 &&
      std::isdigit(static_cast<unsigned char>(status[sp + 1]))) {
    h.status = std::atoi(status.c_str() + sp + 1);
  }
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    std::string name = util::ascii_lower(util::trim(lines[i].substr(0, colon)));
    std::string value(util::trim(lines[i].substr(colon + 1)));
    if (name == "location" && h.location.empty()) h.location = value;
    if (name == "strict-transport-security" && h.hsts.empty()) h.hsts = value;
  }
  return h;
}

}  // namespace acmed::doctor
