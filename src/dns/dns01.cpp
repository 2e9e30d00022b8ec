#include "acmed/dns/dns01.hpp"
#include "acmed/sys/progress.hpp"
#include "acmed/util/strings.hpp"

#include "acmed/sys/interrupt.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

namespace acmed::dns {

namespace {

using std::chrono::milliseconds;

constexpr int k_max_cnames = 8;
constexpr milliseconds k_first_delay{50};
constexpr milliseconds k_max_delay{2000};

using util::join;

// A name for comparing: lower case, without the root's dot.
std::string lower(std::string_view in) {
  std::string s = util::ascii_lower(in);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::chrono::steady_clock::time_point now_of(const Options& o) {
  return o.now ? o.now() : std::chrono::steady_clock::now();
}

void sleep_of(const Options& o, milliseconds d) {
  if (o.sleep)
    o.sleep(d);
  else
    (void)sys::sleep_unless_interrupted(d);
}

void log_of(const Options& o, const std::string& message) {
  if (o.log) o.log(message);
}

Result<std::vector<Server>> resolvers_of(const Options& o) {
  if (!o.resolvers.empty()) return o.resolvers;
  return system_servers();
}

std::string servers_text(const std::vector<Server>& servers) {
  std::vector<std::string> names;
  for (const auto& s : servers) names.push_back(s.str());
  return join(names, ", ");
}

// Asks the resolvers in turn; the first one that gives a usable answer wins. SERVFAIL and
// REFUSED move on to the next resolver.
Result<Answer> ask(const Options& o, std::string_view name, std::string_view type) {
  ACMED_TRY(std::vector<Server> servers, resolvers_of(o));
  std::optional<Error> last_error;
  std::optional<Answer> last_answer;
  for (const Server& s : servers) {
    auto a = query(s, name, type, Recursion::desired, o.query_timeout);
    if (!a) {
      last_error = std::move(a).error();
      continue;
    }
    if (a->rcode == "SERVFAIL" || a->rcode == "REFUSED") {
      last_answer = std::move(*a);
      continue;
    }
    return a;
  }
  if (last_answer) return *last_answer;
  return *last_error;
}

const Rr* find_rr(const std::vector<Rr>& rrs, std::string_view owner, std::string_view type) {
  for (const Rr& r : rrs)
    if (r.owner == owner && r.type == type) return &r;
  return nullptr;
}

struct Check {
  Server server;
  Recursion recursion = Recursion::off;
  std::string label;  // "ns1.example.com (192.0.2.1:53)"
  std::string fqdn;
  std::set<std::string> values;
  std::string last_problem;
};

// The authoritative servers of `zone`: its NS names, each resolved to its addresses.
Result<std::vector<std::pair<std::string, Server>>> authoritative_servers(const Options& o,
                                                                          const std::string& zone) {
  ACMED_TRY(Answer ns, ask(o, zone, "NS"));
  std::vector<std::string> names;
  for (const Rr& r : ns.answer)
    if (r.owner == zone && r.type == "NS") names.push_back(r.data);
  if (names.empty())
    return Error(Errc::config, "the DNS zone " + zone + " has no NS records (" + ns.rcode + ")",
                 "check the zone's delegation, or use --dns-propagation-check resolver");
  std::vector<std::pair<std::string, Server>> out;
  for (const std::string& name : names) {
    for (const char* type : {"A", "AAAA"}) {
      auto a = ask(o, name, type);
      if (!a) continue;
      for (const Rr& r : a->answer)
        if (r.type == type) out.emplace_back(name, Server{r.data, o.authoritative_port});
    }
  }
  if (out.empty())
    return Error(
        Errc::config,
        "no address found for the name servers of " + zone + " (" + join(names, ", ") + ")",
        "check their A/AAAA records, or use --dns-propagation-check resolver");
  return out;
}

}  // namespace

Result<PropagationCheck> parse_propagation_check(std::string_view text) {
  if (text == "authoritative") return PropagationCheck::authoritative;
  if (text == "resolver") return PropagationCheck::resolver;
  if (text == "none") return PropagationCheck::none;
  return Error(Errc::usage,
               "--dns-propagation-check must be authoritative, resolver or none, not '" +
                   std::string(text) + "'");
}

const char* to_string(PropagationCheck check) {
  switch (check) {
    case PropagationCheck::authoritative:
      return "authoritative";
    case PropagationCheck::resolver:
      return "resolver";
    case PropagationCheck::none:
      return "none";
  }
  return "authoritative";
}

Result<Options> make_options(std::span<const std::string> resolvers, std::string_view check,
                             std::optional<int> propagation_seconds) {
  Options o;
  for (const std::string& r : resolvers) {
    auto server = parse_server(r);
    if (!server) return std::move(server).error().with_context("in --dns-resolver");
    o.resolvers.push_back(*server);
  }
  if (!check.empty()) {
    ACMED_TRY(o.check, parse_propagation_check(check));
  }
  if (propagation_seconds) {
    if (*propagation_seconds < 0 || *propagation_seconds > 3600)
      return Error(Errc::usage, "the DNS propagation time must be 0 to 3600 seconds, not " +
                                    std::to_string(*propagation_seconds));
    o.propagation = std::chrono::seconds(*propagation_seconds);
  }
  return o;
}

Result<std::string> challenge_name(const Options& o, std::string_view domain) {
  std::string current = "_acme-challenge." + lower(domain);
  std::vector<std::string> chain{current};
  for (int i = 0; i <= k_max_cnames; ++i) {
    ACMED_TRY(Answer a, ask(o, current, "CNAME"));
    const Rr* cname = find_rr(a.answer, current, "CNAME");
    if (cname == nullptr) return current;
    if (std::find(chain.begin(), chain.end(), cname->data) != chain.end()) {
      chain.push_back(cname->data);
      return Error(
          Errc::config,
          "the CNAME chain of _acme-challenge." + lower(domain) + " loops: " + join(chain, " -> "),
          "fix the CNAME records so that the chain ends at a TXT name");
    }
    current = cname->data;
    chain.push_back(current);
  }
  return Error(Errc::config,
               "the CNAME chain of _acme-challenge." + lower(domain) + " is longer than " +
                   std::to_string(k_max_cnames) + " links: " + join(chain, " -> "),
               "point _acme-challenge directly at the name that holds the TXT record");
}

Result<std::string> find_zone(const Options& o, std::string_view name) {
  std::string candidate = lower(name);
  while (!candidate.empty()) {
    ACMED_TRY(Answer a, ask(o, candidate, "SOA"));
    if (find_rr(a.answer, candidate, "SOA")) return candidate;
    auto dot = candidate.find('.');
    if (dot == std::string::npos) break;
    candidate = candidate.substr(dot + 1);
  }
  ACMED_TRY(std::vector<Server> servers, resolvers_of(o));
  return Error(Errc::config,
               "no DNS zone found for " + lower(name) + " (no SOA for it or its parents at " +
                   servers_text(servers) + ")",
               "check the name, or point --dns-resolver (or dns_rfc2136_server) at a server that "
               "knows the zone");
}

Result<std::vector<TxtRecord>> plan_records(const Options& o,
                                            std::span<const challenge::Task> tasks) {
  std::vector<TxtRecord> out;
  std::map<std::string, std::pair<std::string, std::string>> resolved;  // domain -> fqdn, zone
  for (const challenge::Task& t : tasks) {
    if (t.type != "dns-01") continue;
    auto it = resolved.find(t.identifier);
    if (it == resolved.end()) {
      ACMED_TRY(std::string fqdn, challenge_name(o, t.identifier));
      auto zone = find_zone(o, fqdn);
      if (!zone)
        return std::move(zone).error().with_context("while looking for the zone of " +
                                                    t.identifier);
      it = resolved.emplace(t.identifier, std::make_pair(fqdn, *zone)).first;
    }
    out.push_back(TxtRecord{t.identifier, it->second.first, it->second.second, t.dns_txt_value});
  }
  return out;
}

Status wait_for_propagation(const Options& o, std::span<const TxtRecord> records) {
  if (records.empty()) return ok_status();
  if (o.check == PropagationCheck::none) {
    log_of(o, "Waiting " + std::to_string(o.propagation.count()) +
                  " s for the DNS records to propagate (not checked)");
    sys::WaitScope waiting("the DNS records to propagate (" +
                           std::to_string(o.propagation.count()) + " s, not checked)");
    sleep_of(o, std::chrono::duration_cast<milliseconds>(o.propagation));
    return sys::check_interrupt();
  }
  std::vector<Check> checks;
  auto add_checks = [&](const Server& server, Recursion rec, const std::string& label,
                        const std::string& zone) {
    std::map<std::string, std::set<std::string>> wanted;  // fqdn -> values
    for (const TxtRecord& r : records)
      if (zone.empty() || r.zone == zone) wanted[r.fqdn].insert(r.value);
    for (auto& [fqdn, values] : wanted)
      checks.push_back(Check{server, rec, label, fqdn, std::move(values), {}});
  };
  if (o.check == PropagationCheck::resolver) {
    ACMED_TRY(std::vector<Server> servers, resolvers_of(o));
    for (const Server& s : servers) add_checks(s, Recursion::desired, "resolver " + s.str(), "");
  } else {
    std::set<std::string> zones;
    for (const TxtRecord& r : records) zones.insert(r.zone);
    for (const std::string& zone : zones) {
      ACMED_TRY(auto servers, authoritative_servers(o, zone));
      for (const auto& [name, server] : servers)
        add_checks(server, Recursion::off, name + " (" + server.str() + ")", zone);
    }
  }

  const auto deadline = now_of(o) + o.propagation;
  milliseconds delay = k_first_delay;
  sys::WaitScope waiting("the TXT records to reach " + checks.front().label);
  for (int round = 1;; ++round) {
    for (Check& c : checks) {
      auto a = query(c.server, c.fqdn, "TXT", c.recursion, o.query_timeout);
      if (!a) {
        c.last_problem = a.error().message;
        continue;
      }
      std::set<std::string> seen;
      for (const Rr& r : a->answer)
        if (r.type == "TXT" && r.owner == c.fqdn) seen.insert(r.data);
      std::size_t missing = 0;
      for (const std::string& v : c.values) missing += seen.count(v) ? 0 : 1;
      c.last_problem = missing == 0
                           ? std::string()
                           : std::to_string(missing) + " of " + std::to_string(c.values.size()) +
                                 " TXT values missing (" + a->rcode + ")";
    }
    std::erase_if(checks, [](const Check& c) { return c.last_problem.empty(); });
    if (checks.empty()) return ok_status();
    if (round == 1) log_of(o, "Waiting for " + checks.front().fqdn + " at " + checks.front().label);
    if (now_of(o) + delay > deadline) {
      const Check& c = checks.front();
      return Error(Errc::network,
                   c.label + " still does not serve the TXT record " + c.fqdn + " after " +
                       std::to_string(o.propagation.count()) + " s (" + c.last_problem + ")",
                   "check that the DNS update reached every name server of the zone, or raise "
                   "--dns-propagation-seconds");
    }
    sleep_of(o, delay);
    ACMED_CHECK(sys::check_interrupt());
    delay = std::min(delay * 2, k_max_delay);
  }
}

Dns01Authenticator::Dns01Authenticator(std::string name, std::unique_ptr<Provider> provider,
                                       Options options)
    : m_name(std::move(name)), m_provider(std::move(provider)), m_options(std::move(options)) {}

Status Dns01Authenticator::perform(std::span<const challenge::Task> tasks) {
  for (const challenge::Task& t : tasks)
    if (t.type != "dns-01")
      return Error(Errc::internal, m_name + " was given a " + t.type + " challenge");
  ACMED_TRY(m_published, plan_records(m_options, tasks));
  for (const TxtRecord& r : m_published)
    log_of(m_options, "Publishing TXT " + r.fqdn + " (zone " + r.zone + ") for " + r.domain);
  ACMED_CHECK(m_provider->present(m_published));
  return wait_for_propagation(m_options, m_published);
}

void Dns01Authenticator::cleanup(std::span<const challenge::Task>) noexcept {
  if (m_published.empty()) return;
  m_provider->cleanup(m_published);
  m_published.clear();
}

}  // namespace acmed::dns
