// The dns-01 mechanism shared by every DNS authenticator (RFC 8555 section 8.4): where a TXT
// record goes (CNAME following on _acme-challenge, zone found by SOA), publishing through a
// Provider, and waiting until every authoritative server serves it. A provider only publishes
// and removes records: two calls, present and clean up.
#pragma once

#include "acmed/challenge/authenticator.hpp"
#include "acmed/dns/query.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace acmed::dns {

// One TXT record to publish for a dns-01 challenge.
struct TxtRecord {
  std::string domain;  // the identifier ("example.com", also for *.example.com)
  std::string fqdn;    // where it goes: _acme-challenge.<domain> or the CNAME target
  std::string zone;    // the zone holding fqdn (its SOA owner)
  std::string value;   // the TXT value (base64url of the key authorization's SHA-256)
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string name() const = 0;
  // Publishes every record (all before returning). On error, whatever was published is left
  // for cleanup(), which the caller always runs.
  virtual Status present(std::span<const TxtRecord> records) = 0;
  // Removes exactly the records present() published, nothing else; also after a failure.
  // Never throws; idempotent.
  virtual void cleanup(std::span<const TxtRecord> records) noexcept = 0;
};

enum class PropagationCheck {
  authoritative,  // ask every authoritative server of the zone directly (the default)
  resolver,       // ask only the resolvers (split horizon)
  none,           // do not check: wait propagation_seconds, as certbot does
};

// "authoritative" | "resolver" | "none"; Errc::usage otherwise.
Result<PropagationCheck> parse_propagation_check(std::string_view text);
const char* to_string(PropagationCheck check);

struct Options {
  std::vector<Server> resolvers;  // for SOA/CNAME/NS/A lookups; empty: /etc/resolv.conf
  PropagationCheck check = PropagationCheck::authoritative;
  // Upper bound for the propagation check (with check == none: the fixed wait).
  std::chrono::seconds propagation{60};
  std::uint16_t authoritative_port = 53;  // where authoritative servers are asked
  std::chrono::milliseconds query_timeout{3000};
  // Injected for tests; default: the steady clock and this_thread::sleep_for.
  std::function<std::chrono::steady_clock::time_point()> now;
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<void(const std::string&)> log;  // progress at info level; may be empty
};

// Options from the user's settings (flags or renewal conf): resolvers as "IP[:PORT]", the check
// name (empty: authoritative), the upper bound in seconds (nullopt: 60, 0..3600). Errc::usage
// naming the bad value.
Result<Options> make_options(std::span<const std::string> resolvers, std::string_view check,
                             std::optional<int> propagation_seconds);

// Where the TXT record for `domain` goes: "_acme-challenge.<domain>", or the end of the CNAME
// chain starting there (at most 8 links). Errc::config naming the names for a CNAME loop.
Result<std::string> challenge_name(const Options& options, std::string_view domain);

// The zone holding `name`: the nearest of name and its parents whose SOA the resolvers return.
// Errc::config naming the name and the servers asked when there is none.
Result<std::string> find_zone(const Options& options, std::string_view name);

// The records for `tasks` (dns-01 ones), with fqdn and zone resolved.
Result<std::vector<TxtRecord>> plan_records(const Options& options,
                                            std::span<const challenge::Task> tasks);

// Waits until every server the check names serves every value of `records` at its fqdn, with
// bounded backoff up to options.propagation. Errc::network naming the server still lacking a
// record on timeout.
Status wait_for_propagation(const Options& options, std::span<const TxtRecord> records);

// An Authenticator answering dns-01 through `provider`.
class Dns01Authenticator final : public challenge::Authenticator {
 public:
  Dns01Authenticator(std::string name, std::unique_ptr<Provider> provider, Options options);
  std::string name() const override { return m_name; }
  std::vector<std::string> supported_types() const override { return {"dns-01"}; }
  Status perform(std::span<const challenge::Task> tasks) override;
  void cleanup(std::span<const challenge::Task> tasks) noexcept override;

 private:
  std::string m_name;
  std::unique_ptr<Provider> m_provider;
  Options m_options;
  std::vector<TxtRecord> m_published;
};

}  // namespace acmed::dns
