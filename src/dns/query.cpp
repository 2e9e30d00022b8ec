#include "acmed/dns/query.hpp"
#include "acmed/util/strings.hpp"

#include <ldns/ldns.h>

#include <arpa/inet.h>
#include <resolv.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace acmed::dns {

namespace {

struct ResolverFree {
  void operator()(ldns_resolver* r) const { ldns_resolver_deep_free(r); }
};
struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct RdfFree {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct RrListFree {
  void operator()(ldns_rr_list* l) const { ldns_rr_list_deep_free(l); }
};
struct CharFree {
  void operator()(char* c) const { free(c); }  // NOLINT: ldns allocates with malloc
};
using ResolverPtr = std::unique_ptr<ldns_resolver, ResolverFree>;
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;
using RdfPtr = std::unique_ptr<ldns_rdf, RdfFree>;
using RrListPtr = std::unique_ptr<ldns_rr_list, RrListFree>;
using CharPtr = std::unique_ptr<char, CharFree>;

using util::ascii_lower;

// A domain name as text: lower case, without the trailing dot (the root is "").
std::string name_text(const ldns_rdf* rdf) {
  if (rdf == nullptr) return {};
  CharPtr text(ldns_rdf2str(rdf));
  if (!text) return {};
  std::string s = ascii_lower(text.get());
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::string absolute(std::string_view name) {
  std::string s(name);
  if (s.empty() || s.back() != '.') s += '.';
  return s;
}

std::string status_text(ldns_status s) {
  return ldns_get_errorstr_by_id(s) ? ldns_get_errorstr_by_id(s) : "error " + std::to_string(s);
}

std::string rcode_text(ldns_pkt_rcode rcode) {
  CharPtr text(ldns_pkt_rcode2str(rcode));
  return text ? std::string(text.get()) : "RCODE" + std::to_string(static_cast<int>(rcode));
}

// A resolver that sends to exactly one server.
Result<ResolverPtr> resolver_for(const Server& server, std::chrono::milliseconds timeout,
                                 Recursion recursion) {
  ResolverPtr res(ldns_resolver_new());
  if (!res) return Error(Errc::internal, "ldns_resolver_new failed");
  const bool v6 = server.address.find(':') != std::string::npos;
  RdfPtr address(
      ldns_rdf_new_frm_str(v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, server.address.c_str()));
  if (!address)
    return Error(Errc::usage, "'" + server.address + "' is not an IP address of a DNS server");
  if (ldns_resolver_push_nameserver(res.get(), address.get()) != LDNS_STATUS_OK)
    return Error(Errc::internal, "ldns_resolver_push_nameserver failed");
  ldns_resolver_set_port(res.get(), server.port);
  // Two tries of half the budget each: one lost UDP datagram must not fail the lookup.
  auto half = std::max<std::chrono::milliseconds>(timeout / 2, std::chrono::milliseconds(100));
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(half.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((half.count() % 1000) * 1000);
  ldns_resolver_set_timeout(res.get(), tv);
  ldns_resolver_set_retry(res.get(), 2);
  ldns_resolver_set_retrans(res.get(), 0);
  ldns_resolver_set_recursive(res.get(), recursion == Recursion::desired);
  ldns_resolver_set_fallback(res.get(), true);  // TCP when the UDP answer is truncated
  ldns_resolver_set_random(res.get(), false);
  ldns_resolver_set_dnssec(res.get(), false);
  return res;
}

std::vector<Rr> records_of(const ldns_rr_list* list) {
  std::vector<Rr> out;
  if (list == nullptr) return out;
  for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(list, i);
    Rr r;
    r.owner = name_text(ldns_rr_owner(rr));
    CharPtr type(ldns_rr_type2str(ldns_rr_get_type(rr)));
    r.type = type ? type.get() : "";
    switch (ldns_rr_get_type(rr)) {
      case LDNS_RR_TYPE_TXT:
        // RFC 1035 section 3.3.14: one or more <character-string>s, each length-prefixed.
        for (size_t k = 0; k < ldns_rr_rd_count(rr); ++k) {
          const ldns_rdf* rdf = ldns_rr_rdf(rr, k);
          const auto* data = ldns_rdf_data(rdf);
          const size_t size = ldns_rdf_size(rdf);
          if (size == 0) continue;
          const size_t len = std::min<size_t>(data[0], size - 1);
          r.data.append(reinterpret_cast<const char*>(data + 1), len);
        }
        break;
      case LDNS_RR_TYPE_CNAME:
      case LDNS_RR_TYPE_NS:
      case LDNS_RR_TYPE_SOA:
        r.data = name_text(ldns_rr_rdf(rr, 0));
        break;
      case LDNS_RR_TYPE_A:
      case LDNS_RR_TYPE_AAAA: {
        CharPtr text(ldns_rdf2str(ldns_rr_rdf(rr, 0)));
        if (text) r.data = text.get();
        break;
      }
      case LDNS_RR_TYPE_CAA: {
        // RFC 8659 section 4.1: flags, tag, value (the value's raw bytes, not quoted).
        if (ldns_rr_rd_count(rr) < 3) break;
        CharPtr flags(ldns_rdf2str(ldns_rr_rdf(rr, 0)));
        CharPtr tag(ldns_rdf2str(ldns_rr_rdf(rr, 1)));
        const ldns_rdf* value = ldns_rr_rdf(rr, 2);
        r.data =
            std::string(flags ? flags.get() : "0") + " " + (tag ? tag.get() : "") + " " +
            std::string(reinterpret_cast<const char*>(ldns_rdf_data(value)), ldns_rdf_size(value));
        break;
      }
      default:
        break;
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

std::string Server::str() const {
  if (address.find(':') != std::string::npos) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

Result<Server> parse_server(std::string_view text, std::uint16_t default_port) {
  auto bad = [&text] {
    return Error(Errc::usage,
                 "'" + std::string(text) + "' is not a DNS server address (IP or IP:PORT)",
                 "give an IP address, e.g. 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53");
  };
  std::string host(text);
  std::string port_text;
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string::npos) return bad();
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') return bad();
      port_text = host.substr(close + 2);
    }
    host = host.substr(1, close - 1);
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    auto colon = host.find(':');
    port_text = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  unsigned char buf[16];
  const bool v6 = host.find(':') != std::string::npos;
  if (::inet_pton(v6 ? AF_INET6 : AF_INET, host.c_str(), buf) != 1) return bad();
  Server s;
  s.address = host;
  s.port = default_port;
  if (!port_text.empty()) {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(),
                                             [](unsigned char c) { return std::isdigit(c); }))
      return bad();
    int port = std::stoi(port_text);
    if (port < 1 || port > 65535) return bad();
    s.port = static_cast<std::uint16_t>(port);
  }
  return s;
}

Result<std::vector<Server>> system_servers() {
  ldns_resolver* raw = nullptr;
  if (ldns_resolver_new_frm_file(&raw, nullptr) != LDNS_STATUS_OK || raw == nullptr)
    return Error(Errc::config, "cannot read the name servers of /etc/resolv.conf",
                 "name DNS servers with --dns-resolver IP");
  ResolverPtr res(raw);
  std::vector<Server> out;
  ldns_rdf** servers = ldns_resolver_nameservers(res.get());
  for (size_t i = 0; i < ldns_resolver_nameserver_count(res.get()); ++i) {
    CharPtr text(ldns_rdf2str(servers[i]));
    if (text) out.push_back(Server{text.get(), 53});
  }
  if (out.empty())
    return Error(Errc::config, "/etc/resolv.conf names no DNS server",
                 "name DNS servers with --dns-resolver IP");
  return out;
}

Result<Answer> query(const Server& server, std::string_view name, std::string_view type,
                     Recursion recursion, std::chrono::milliseconds timeout, Dnssec dnssec) {
  ACMED_TRY(ResolverPtr res, resolver_for(server, timeout, recursion));
  if (dnssec != Dnssec::off) {
    ldns_resolver_set_dnssec(res.get(), true);  // EDNS0 with DO
    ldns_resolver_set_dnssec_cd(res.get(), dnssec == Dnssec::checking_disabled);
  }
  RdfPtr qname(ldns_dname_new_frm_str(absolute(name).c_str()));
  if (!qname) return Error(Errc::invalid_input, "'" + std::string(name) + "' is not a DNS name");
  const ldns_rr_type qtype = ldns_get_rr_type_by_name(std::string(type).c_str());
  ldns_pkt* raw = nullptr;
  const ldns_status s = ldns_resolver_send(&raw, res.get(), qname.get(), qtype, LDNS_RR_CLASS_IN,
                                           recursion == Recursion::desired ? LDNS_RD : 0);
  PktPtr pkt(raw);
  if (s != LDNS_STATUS_OK || !pkt)
    return Error(Errc::network,
                 "the DNS server " + server.str() + " did not answer the " + std::string(type) +
                     " query for " + std::string(name) + " (" + status_text(s) + ")",
                 "check that the server is reachable and answers DNS on that port");
  Answer a;
  a.rcode = rcode_text(ldns_pkt_get_rcode(pkt.get()));
  a.authoritative = ldns_pkt_aa(pkt.get());
  a.authenticated = ldns_pkt_ad(pkt.get());
  a.answer = records_of(ldns_pkt_answer(pkt.get()));
  a.authority = records_of(ldns_pkt_authority(pkt.get()));
  return a;
}

std::string tsig_algorithm(std::string_view name) {
  std::string n = ascii_lower(std::string(name));
  if (!n.empty() && n.back() == '.') n.pop_back();
  if (n == "hmac-md5" || n == "hmac-md5.sig-alg.reg.int") return "hmac-md5.sig-alg.reg.int.";
  for (const char* alg : {"hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"})
    if (n == alg) return std::string(alg) + ".";
  return {};
}

Status update(const Server& server, std::string_view zone, const TsigKey& key,
              std::span<const TxtChange> changes, UpdateOp op, std::uint32_t ttl,
              std::chrono::milliseconds timeout) {
  const std::string zone_name(zone);
  auto where = [&] { return " (zone " + zone_name + " at " + server.str() + ")"; };
  ACMED_TRY(ResolverPtr res, resolver_for(server, timeout, Recursion::off));
  ldns_resolver_set_tsig_keyname(res.get(), absolute(key.name).c_str());
  ldns_resolver_set_tsig_keydata(res.get(), key.secret.c_str());
  ldns_resolver_set_tsig_algorithm(res.get(), key.algorithm.c_str());

  RrListPtr list(ldns_rr_list_new());
  for (const TxtChange& c : changes) {
    if (c.value.size() > 255)
      return Error(Errc::internal, "TXT value for " + c.name + " is longer than 255 bytes");
    ldns_rr* rr = ldns_rr_new();
    RdfPtr owner(ldns_dname_new_frm_str(absolute(c.name).c_str()));
    if (!rr || !owner) {
      ldns_rr_free(rr);
      return Error(Errc::invalid_input, "'" + c.name + "' is not a DNS name");
    }
    ldns_rr_set_owner(rr, owner.release());
    ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
    // RFC 2136 section 2.5.1 adds with class IN; section 2.5.4 deletes one RR with class NONE
    // and TTL 0, leaving the other values of the RRset alone.
    ldns_rr_set_class(rr, op == UpdateOp::add ? LDNS_RR_CLASS_IN : LDNS_RR_CLASS_NONE);
    ldns_rr_set_ttl(rr, op == UpdateOp::add ? ttl : 0);
    std::string wire(1, static_cast<char>(c.value.size()));
    wire += c.value;
    ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, wire.size(), wire.data()));
    ldns_rr_list_push_rr(list.get(), rr);
  }
  ldns_rdf* zone_rdf = ldns_dname_new_frm_str(absolute(zone).c_str());
  if (!zone_rdf) return Error(Errc::invalid_input, "'" + zone_name + "' is not a DNS zone name");
  PktPtr pkt(ldns_update_pkt_new(zone_rdf, LDNS_RR_CLASS_IN, nullptr, list.get(), nullptr));
  if (!pkt) return Error(Errc::internal, "cannot build the DNS UPDATE" + where());
  ldns_pkt_set_rd(pkt.get(), false);
  ldns_pkt_set_random_id(pkt.get());
  if (ldns_status s = ldns_update_pkt_tsig_add(pkt.get(), res.get()); s != LDNS_STATUS_OK)
    return Error(
        Errc::config,
        "cannot sign the DNS UPDATE with the TSIG key '" + key.name + "': " + status_text(s),
        "check dns_rfc2136_secret (base64) and dns_rfc2136_algorithm");
  ldns_pkt* raw = nullptr;
  const ldns_status s = ldns_resolver_send_pkt(&raw, res.get(), pkt.get());
  PktPtr reply(raw);
  const std::string rcode =
      reply ? rcode_text(ldns_pkt_get_rcode(reply.get())) : std::string("no answer");
  if (s == LDNS_STATUS_CRYPTO_TSIG_BOGUS || rcode == "NOTAUTH")
    return Error(Errc::config,
                 "the DNS server " + server.str() + " did not accept the TSIG key '" + key.name +
                     "' for an update of " + zone_name + " (" + rcode + ")",
                 "check dns_rfc2136_name, dns_rfc2136_secret and dns_rfc2136_algorithm against "
                 "the key in the server's configuration, and that the key may update the zone");
  if (s != LDNS_STATUS_OK || !reply)
    return Error(Errc::network,
                 "the DNS server " + server.str() + " did not answer the update of " + zone_name +
                     " (" + status_text(s) + ")",
                 "check dns_rfc2136_server and dns_rfc2136_port");
  if (rcode == "REFUSED")
    return Error(
        Errc::config,
        "the DNS server " + server.str() + " refused the update of " + zone_name + " (REFUSED)",
        "allow the key '" + key.name + "' to update " + zone_name +
            " (BIND: update-policy or allow-update in the zone's configuration)");
  if (rcode != "NOERROR")
    return Error(
        Errc::config,
        "the DNS server " + server.str() + " answered " + rcode + " to the update of " + zone_name,
        "check that the server is a primary for " + zone_name + " that accepts updates");
  return ok_status();
}

}  // namespace acmed::dns
