#include "plugins/dns-rfc2136/rfc2136.hpp"

#include "acmed/store/configobj.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace acmed::plugins::dns_rfc2136 {

namespace {

constexpr std::uint32_t k_ttl = 60;
constexpr std::chrono::milliseconds k_update_timeout{5000};

bool is_base64(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '=';
    if (!ok) return false;
  }
  return true;
}

class Rfc2136Provider final : public dns::Provider {
 public:
  explicit Rfc2136Provider(Credentials c) : m_creds(std::move(c)) {}
  std::string name() const override { return "dns-rfc2136"; }

  Status present(std::span<const dns::TxtRecord> records) override {
    for (const auto& [zone, changes] : by_zone(records)) {
      ACMED_CHECK(dns::update(m_creds.server, zone, m_creds.key, changes, dns::UpdateOp::add, k_ttl,
                              k_update_timeout));
      m_added[zone].insert(m_added[zone].end(), changes.begin(), changes.end());
    }
    return ok_status();
  }

  void cleanup(std::span<const dns::TxtRecord>) noexcept override {
    // Only what present() added, value by value (RFC 2136 section 2.5.4).
    for (const auto& [zone, changes] : m_added) {
      auto removed = dns::update(m_creds.server, zone, m_creds.key, changes, dns::UpdateOp::remove,
                                 0, k_update_timeout);
      if (!removed && m_log)
        m_log("could not remove the TXT records: " + removed.error().describe());
    }
    m_added.clear();
  }

  std::function<void(const std::string&)> m_log;

 private:
  static std::map<std::string, std::vector<dns::TxtChange>> by_zone(
      std::span<const dns::TxtRecord> records) {
    std::map<std::string, std::vector<dns::TxtChange>> out;
    for (const auto& r : records) out[r.zone].push_back(dns::TxtChange{r.fqdn, r.value});
    return out;
  }

  Credentials m_creds;
  std::map<std::string, std::vector<dns::TxtChange>> m_added;
};

}  // namespace

Result<Credentials> load_credentials(const std::filesystem::path& file) {
  const std::string f = file.string();
  struct stat st {};
  if (::stat(f.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT)
      return Error(Errc::not_found, "the dns-rfc2136 credentials file " + f + " does not exist",
                   "pass the file with dns_rfc2136_server, _name, _secret and _algorithm as "
                   "--dns-rfc2136-credentials");
    return Error(Errc::io,
                 "cannot read the dns-rfc2136 credentials file " + f + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode))
    return Error(Errc::config, "the dns-rfc2136 credentials file " + f + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Error(Errc::config,
                 "the dns-rfc2136 credentials file " + f +
                     " is accessible by group or others "
                     "(mode " +
                     mode + "); it holds a TSIG secret",
                 "run: chmod 600 " + f);
  }
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return Error(Errc::io,
                 "cannot read the dns-rfc2136 credentials file " + f + ": " + std::strerror(errno),
                 "run acmed as the file's owner (usually root)");
  std::ostringstream text;
  text << in.rdbuf();
  ACMED_TRY(store::ConfSection doc, store::parse_configobj(text.str(), f));
  auto get = [&](std::string_view key) -> std::string {
    const store::ConfValue* v = doc.get(key);
    return v ? v->str() : std::string();
  };
  auto missing = [&](std::string_view key, std::string_view what) {
    return Error(Errc::config, f + " lacks " + std::string(key) + " (" + std::string(what) + ")",
                 "add it as in certbot's dns-rfc2136 credentials: " + std::string(key) + " = ...");
  };
  Credentials c;
  const std::string server = get("dns_rfc2136_server");
  if (server.empty()) return missing("dns_rfc2136_server", "the DNS server's IP address");
  std::uint16_t port = 53;
  if (const std::string p = get("dns_rfc2136_port"); !p.empty()) {
    auto parsed = dns::parse_server("127.0.0.1:" + p);
    if (!parsed)
      return Error(Errc::config, f + ": dns_rfc2136_port '" + p + "' is not a port number");
    port = parsed->port;
  }
  auto parsed = dns::parse_server(server, port);
  if (!parsed)
    return Error(Errc::config, f + ": dns_rfc2136_server '" + server + "' is not an IP address",
                 "give the primary DNS server's IP address");
  c.server = *parsed;
  c.server.port = port;
  c.key.name = get("dns_rfc2136_name");
  if (c.key.name.empty()) return missing("dns_rfc2136_name", "the TSIG key name");
  c.key.secret = get("dns_rfc2136_secret");
  if (c.key.secret.empty()) return missing("dns_rfc2136_secret", "the TSIG secret, base64");
  if (!is_base64(c.key.secret))
    return Error(Errc::config, f + ": dns_rfc2136_secret is not base64",
                 "copy the secret from the key's definition (tsig-keygen prints it)");
  std::string algorithm = get("dns_rfc2136_algorithm");
  if (algorithm.empty()) algorithm = "HMAC-MD5";  // certbot's default
  c.key.algorithm = dns::tsig_algorithm(algorithm);
  if (c.key.algorithm.empty())
    return Error(Errc::config,
                 f + ": dns_rfc2136_algorithm '" + algorithm +
                     "' is not a TSIG algorithm acmed "
                     "supports",
                 "use HMAC-SHA256 or HMAC-SHA512 (also HMAC-SHA1, -SHA224, -SHA384, HMAC-MD5)");
  return c;
}

Result<std::unique_ptr<challenge::Authenticator>> make_authenticator(Options options) {
  ACMED_TRY(Credentials creds, load_credentials(options.credentials));
  if (options.dns.resolvers.empty()) options.dns.resolvers.push_back(creds.server);
  auto provider = std::make_unique<Rfc2136Provider>(std::move(creds));
  provider->m_log = options.dns.log;
  return std::unique_ptr<challenge::Authenticator>(std::make_unique<dns::Dns01Authenticator>(
      "dns-rfc2136", std::move(provider), std::move(options.dns)));
}

}  // namespace acmed::plugins::dns_rfc2136
