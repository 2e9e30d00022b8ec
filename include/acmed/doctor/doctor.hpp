// `acmed doctor`: read-only checks of what makes HTTPS work for a name, beyond ACME: DNS (the
// name resolves, to this host, CAA lets the CA issue), who listens on the HTTP and HTTPS ports,
// the redirect to https://, the served certificate and chain, protocols, HTTP/2, HSTS, mixed
// content on the page, and the renewal bookkeeping. One finding per check and name, each with a
// stable id (docs/doctor.md), what was seen and the exact fix. Nothing is written anywhere.
#pragma once

#include "acmed/challenge/authenticator.hpp"
#include "acmed/dns/query.hpp"
#include "acmed/local/environment.hpp"
#include "acmed/store/lineage.hpp"
#include "acmed/store/paths.hpp"
#include "acmed/sys/clock.hpp"
#include "acmed/sys/process.hpp"
#include "acmed/util/result.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace acmed::doctor {

enum class Level { ok, info, warn, fail, skip };

// "ok", "info", "warn", "fail", "skip".
const char* to_string(Level level);

struct Finding {
  std::string id;    // "tls.chain", ...: stable, documented
  std::string name;  // the DNS name or lineage it is about; empty for host-wide checks
  Level status = Level::ok;
  std::string detail;  // what was seen
  std::string fix;     // the command or config line that fixes it; empty when nothing to do
};

struct Options {
  store::Paths paths;
  std::vector<std::string> names;       // -d; empty: every lineage's names (or --cert-name's)
  std::string cert_name;                // --cert-name
  std::optional<dns::Server> resolver;  // --resolver; else /etc/resolv.conf's first server
  std::string connect_to;               // --connect-to IP: HTTP and TLS checks go there
  int http_port = 80;
  int https_port = 443;
  std::filesystem::path ca_bundle;  // extra roots for served chains and the CA's HTTPS
  std::string server;               // CA for names without a lineage (CAA, clock); default LE
  // Where the web servers' configs are (tls.ocsp_stapling reads them): --nginx-server-root,
  // --apache-server-root; empty: the lineages' installer settings, else /etc/nginx, /etc/apache2.
  std::string nginx_server_root, apache_server_root;
  std::chrono::milliseconds timeout{5000};  // per network operation
  int jobs = 16;                            // names checked at the same time
  // Builds a lineage's own authenticator from its renewal conf, for http.challenge_path (a probe
  // file published and fetched, then removed). Null: that check is skipped.
  std::function<Result<std::unique_ptr<challenge::Authenticator>>(const store::Lineage&)>
      authenticator;
  // --local: only local.trust, for the development CA of `acmed local` in this environment.
  std::optional<local::Environment> local;
  const sys::Clock* clock = nullptr;        // required
  sys::ProcessRunner* processes = nullptr;  // required (systemctl)
};

// Every finding, names in the order given (lineage order by default), host-wide checks first.
// Errc::not_found for an unknown --cert-name, Errc::usage for a bad name; per-check problems are
// findings.
Result<std::vector<Finding>> run_doctor(const Options& options);

// {"version": 1, "checks": [{"id", "name", "status", "detail", "fix"}]}
nlohmann::json findings_json(const std::vector<Finding>& findings);

// --- pieces, for unit tests ---

// RFC 8659 section 3: the CAA RRset that applies to `name` is the first non-empty one found at
// the name or, climbing, at its parents. `lookup` returns the CAA records ("FLAGS TAG VALUE") of
// one name. The verdict for a CA with these CAA `identities` (e.g. {"letsencrypt.org"}); with no
// identities nothing is permitted once a CAA issue property applies:
struct CaaVerdict {
  bool permitted = true;
  std::string where;                 // the name whose records apply ("" when none exist)
  std::vector<std::string> records;  // those records
};
CaaVerdict check_caa(const std::string& name, const std::vector<std::string>& identities,
                     const std::function<std::vector<std::string>(const std::string&)>& lookup);

// The CAA issuer domain of an ACME server URL ("letsencrypt.org" for Let's Encrypt's production
// and staging), or empty when not known.
std::string caa_domain_of(const std::string& server_url);

// The status code and the Location header of a raw HTTP response; status 0 when unparsable.
struct HttpHead {
  int status = 0;
  std::string location;
  std::string hsts;  // Strict-Transport-Security
  std::string body;
};
HttpHead parse_http_response(const std::string& raw);

// tls.expiry's verdict: fail when expired, or when less than a third of the lifetime is left and
// renewal has been failing; warn inside the renewal window (a third left); ok otherwise.
Level expiry_level(sys::TimePoint not_before, sys::TimePoint not_after, bool renewal_failing,
                   sys::TimePoint now);

// Whether server config text turns OCSP stapling on: an uncommented `ssl_stapling on` (nginx) or
// `SSLUseStapling on` (apache), case-insensitive as the servers read them.
bool stapling_enabled(std::string_view config_text);

}  // namespace acmed::doctor
