#include "acmed/app/foreign_store.hpp"

#include "acmed/crypto/encoding.hpp"
#include "acmed/crypto/x509.hpp"
#include "acmed/store/account.hpp"
#include "acmed/sys/fs.hpp"
#include "acmed/util/strings.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <system_error>

namespace acmed::app {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t k_max_file = std::size_t{1} << 20;  // any one file of a foreign store

std::vector<fs::path> sorted_entries(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// The words of a shell command line, with '...' and "..." quoting and backslash escapes;
// enough for the crontab lines that start a client (no expansion).
std::vector<std::string> shell_words(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < line.size()) {
        word += line[++i];
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

std::string base_name(std::string_view word) {
  auto slash = word.rfind('/');
  return std::string(slash == std::string_view::npos ? word : word.substr(slash + 1));
}

// The index of the word that runs `program`, or words.size().
std::size_t program_word(const std::vector<std::string>& words, std::string_view program) {
  for (std::size_t i = 0; i < words.size(); ++i)
    if (base_name(words[i]) == program) return i;
  return words.size();
}

// The lineage name certbot gives a certificate: its first name, a wildcard's "*." dropped.
std::string lineage_name_for(std::string_view first) {
  return std::string(first.starts_with("*.") ? first.substr(2) : first);
}

// Key type and size of the renewal conf, from the certificate's key.
void record_key(store::RenewalParams& params, const crypto::PrivateKey& key) {
  const crypto::KeySpec spec = key.spec();
  if (spec.type == crypto::KeyType::rsa) {
    params.key_type = "rsa";
    params.rsa_key_size = spec.rsa_bits;
  } else {
    params.key_type = "ecdsa";
    params.elliptic_curve = spec.curve;
  }
}

// The four PEM texts of a version from a certificate file (leaf, or leaf + chain), an optional
// chain file and the key. Errc::crypto / Errc::protocol when they do not read or belong together.
// The key's type and size go into `params`.
Result<store::CertFiles> cert_files(const std::string& cert_text, const std::string& chain_text,
                                    const std::string& key_text, store::RenewalParams& params) {
  ACMED_TRY(std::vector<std::string> blocks, crypto::split_pem_chain(cert_text));
  std::vector<std::string> chain(blocks.begin() + 1, blocks.end());
  if (chain.empty() && !chain_text.empty()) {
    ACMED_TRY(chain, crypto::split_pem_chain(chain_text));
  }
  if (chain.empty())
    return Error(Errc::crypto, "the certificate comes without its chain (no issuer certificate)");
  ACMED_TRY(crypto::PrivateKey key, crypto::PrivateKey::from_pem(key_text));
  if (!crypto::certificate_matches_key(blocks.front(), key))
    return Error(Errc::crypto, "the certificate does not belong to the key beside it");
  store::CertFiles files;
  files.cert = blocks.front();
  for (const std::string& c : chain) files.chain += c;
  files.fullchain = files.cert + files.chain;
  files.privkey = key.to_pem();
  record_key(params, key);
  return files;
}

Result<std::string> read_text(const fs::path& path) {
  return sys::read_file_limited(path, k_max_file);
}

// ---- lego ----

// How one lego command line obtained its certificates.
struct LegoCommand {
  std::string server;
  std::vector<std::string> domains;
  std::string authenticator;  // empty: not an acmed one (then `unmapped` says why)
  util::Settings settings;
  std::vector<std::string> pref_challs;
  std::string unmapped;
};

// "host:port", ":port" or "port" -> address and port.
void split_listen(std::string_view value, std::string& address, std::string& port) {
  auto colon = value.rfind(':');
  if (colon == std::string_view::npos) {
    port = std::string(value);
    return;
  }
  address = std::string(value.substr(0, colon));
  port = std::string(value.substr(colon + 1));
  if (address.size() > 2 && address.front() == '[' && address.back() == ']')
    address = address.substr(1, address.size() - 2);
}

LegoCommand parse_lego_command(const std::vector<std::string>& words, std::size_t first) {
  LegoCommand cmd;
  bool http = false, tls = false;
  std::string webroot, http_listen, tls_listen, dns;
  for (std::size_t i = first + 1; i < words.size(); ++i) {
    std::string flag = words[i], value;
    if (auto eq = flag.find('='); flag.starts_with("-") && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < words.size() &&  // flags with a value (--email, --path: not needed here)
               (flag == "--server" || flag == "-s" || flag == "--email" || flag == "-m" ||
                flag == "--domains" || flag == "-d" || flag == "--http.webroot" ||
                flag == "--http.port" || flag == "--tls.port" || flag == "--dns" ||
                flag == "--path")) {
      value = words[++i];
    }
    if (flag == "--server" || flag == "-s") cmd.server = value;
    if (flag == "--domains" || flag == "-d") cmd.domains.push_back(util::ascii_lower(value));
    if (flag == "--http") http = true;
    if (flag == "--http.webroot") webroot = value;
    if (flag == "--http.port") http_listen = value;
    if (flag == "--tls") tls = true;
    if (flag == "--tls.port") tls_listen = value;
    if (flag == "--dns") dns = value;
  }
  if (http && !webroot.empty()) {
    cmd.authenticator = "webroot";
    cmd.settings.lists["webroot_path"] = {webroot};
    for (const std::string& d : cmd.domains)
      cmd.settings.tables["webroot_map"].emplace_back(d, webroot);
  } else if (http) {
    cmd.authenticator = "standalone";
    std::string address, port = "80";
    if (!http_listen.empty()) split_listen(http_listen, address, port);
    cmd.settings.text["http01_port"] = port;
    if (!address.empty()) cmd.settings.text["http01_address"] = address;
  } else if (tls) {
    cmd.authenticator = "tls-alpn-01";
    std::string address, port = "443";
    if (!tls_listen.empty()) split_listen(tls_listen, address, port);
    cmd.settings.text["tls_alpn_01_port"] = port;
    if (!address.empty()) cmd.settings.text["tls_alpn_01_address"] = address;
    cmd.pref_challs = {"tls-alpn-01"};
  } else if (!dns.empty()) {
    cmd.unmapped = "lego obtained it with --dns " + dns +
                   ", whose credentials lego reads from its environment; give migrate the "
                   "matching acmed flags (for example --dns-rfc2136 "
                   "--dns-rfc2136-credentials FILE)";
  } else {
    cmd.unmapped = "the lego command in cron names no challenge (--http, --tls or --dns)";
  }
  return cmd;
}

const std::map<std::string, std::string, std::less<>>& known_lego_servers() {
  static const std::map<std::string, std::string, std::less<>> servers{
      {"acme-v02.api.letsencrypt.org", "https://acme-v02.api.letsencrypt.org/directory"},
      {"acme-staging-v02.api.letsencrypt.org",
       "https://acme-staging-v02.api.letsencrypt.org/directory"},
  };
  return servers;
}

// The directory URL of lego's account dir `dir_name`: --server when its host is that dir's,
// else a cron command's --server, else Let's Encrypt's by name. Empty when unknown.
std::string lego_directory_url(const std::string& dir_name, std::string_view server,
                               const std::vector<LegoCommand>& commands) {
  if (!server.empty() && lego_server_dir(server) == dir_name) return std::string(server);
  for (const LegoCommand& c : commands)
    if (!c.server.empty() && lego_server_dir(c.server) == dir_name) return c.server;
  if (auto it = known_lego_servers().find(dir_name); it != known_lego_servers().end())
    return it->second;
  return {};
}

Result<ForeignAccount> read_lego_account(const fs::path& email_dir, const std::string& url) {
  const fs::path account_file = email_dir / "account.json";
  const std::string email = email_dir.filename().string();
  ACMED_TRY(std::string text, read_text(account_file));
  ACMED_TRY(std::string key_text, read_text(email_dir / "keys" / (email + ".key")));
  json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("registration") || !j["registration"].is_object())
    return Error(Errc::config, "it has no registration");
  const json& reg = j["registration"];
  if (!reg.contains("uri") || !reg["uri"].is_string())
    return Error(Errc::config, "its registration has no uri");
  ACMED_TRY(crypto::PrivateKey key, crypto::PrivateKey::from_pem(key_text));
  json body = reg.contains("body") && reg["body"].is_object() ? reg["body"] : json::object();
  return ForeignAccount{account_file.string(), url, std::move(key), reg["uri"].get<std::string>(),
                        std::move(body)};
}

void read_lego_accounts(const fs::path& dir, std::string_view server,
                        const std::vector<LegoCommand>& commands, ForeignStore& out) {
  for (const fs::path& host_dir : sorted_entries(dir / "accounts")) {
    if (!is_dir(host_dir)) continue;
    const std::string host = host_dir.filename().string();
    const std::string url = lego_directory_url(host, server, commands);
    for (const fs::path& email_dir : sorted_entries(host_dir)) {
      if (!is_file(email_dir / "account.json")) continue;
      if (url.empty()) {
        out.notes.push_back("lego's account " + email_dir.string() + " is not imported: lego " +
                            "keeps only its CA's host (" + host + "), not the directory URL; " +
                            "pass --server URL");
        continue;
      }
      Result<ForeignAccount> account = read_lego_account(email_dir, url);
      if (account)
        out.accounts.push_back(std::move(*account));
      else
        out.notes.push_back("lego's account " + email_dir.string() +
                            " is not imported: " + account.error().message);
    }
  }
}

// The lego command (from cron) that obtains the certificate named `first` (its first -d).
const LegoCommand* lego_command_for(const std::vector<LegoCommand>& commands,
                                    std::string_view first) {
  for (const LegoCommand& c : commands)
    if (!c.domains.empty() && c.domains.front() == first) return &c;
  return nullptr;
}

Result<ForeignLineage> read_lego_certificate(const fs::path& certs, const std::string& base,
                                             const std::vector<LegoCommand>& commands) {
  ACMED_TRY(std::string meta_text, read_text(certs / (base + ".json")));
  ACMED_TRY(std::string crt, read_text(certs / (base + ".crt")));
  ACMED_TRY(std::string key_text, read_text(certs / (base + ".key")));
  const std::string issuer = read_text(certs / (base + ".issuer.crt")).value_or("");
  json meta = json::parse(meta_text, nullptr, false);
  if (!meta.is_object() || !meta.contains("domain") || !meta["domain"].is_string())
    return Error(Errc::config, base + ".json has no domain");
  ForeignLineage lin;
  lin.source = (certs / (base + ".crt")).string();
  ACMED_TRY(lin.files, cert_files(crt, issuer, key_text, lin.params));
  const std::string first = util::ascii_lower(meta["domain"].get<std::string>());
  lin.name = lineage_name_for(first);
  // For now the certificate's URL: read_lego_store puts the directory URL of the account at
  // that CA in its place.
  if (meta.contains("certUrl") && meta["certUrl"].is_string())
    lin.params.server = meta["certUrl"].get<std::string>();
  if (const LegoCommand* cmd = lego_command_for(commands, first)) {
    lin.params.authenticator = cmd->authenticator;
    lin.params.settings = cmd->settings;
    lin.params.pref_challs = cmd->pref_challs;
    lin.unmapped = cmd->unmapped;
  } else {
    lin.unmapped = "lego keeps no record of how it obtained a certificate and no lego command " +
                   std::string("in cron obtains ") + first +
                   "; give migrate the acmed flags to renew it with (for example --webroot -w DIR, "
                   "or --standalone --http-01-port PORT)";
  }
  return lin;
}

void read_lego_certificates(const fs::path& dir, const std::vector<LegoCommand>& commands,
                            ForeignStore& out) {
  const fs::path certs = dir / "certificates";
  for (const fs::path& meta_file : sorted_entries(certs)) {
    if (meta_file.extension() != ".json" || !is_file(meta_file)) continue;
    const std::string base = meta_file.stem().string();
    Result<ForeignLineage> lin = read_lego_certificate(certs, base, commands);
    if (lin)
      out.lineages.push_back(std::move(*lin));
    else
      out.notes.push_back("lego's certificate " + (certs / (base + ".crt")).string() +
                          " is not imported: " + lin.error().message);
  }
}

// ---- acme.sh ----

constexpr std::string_view k_b64_start = "__ACME_BASE64__START_";
constexpr std::string_view k_b64_end = "__ACME_BASE64__END_";

std::string conf_value(const std::vector<std::pair<std::string, std::string>>& conf,
                       std::string_view key) {
  for (const auto& [k, v] : conf)
    if (k == key) return v;
  return {};
}

Result<ForeignAccount> read_acmesh_account(const fs::path& home, const std::string& server) {
  store::Paths probe;
  probe.config_dir = "/";
  ACMED_TRY(fs::path rel_dir, store::account_server_dir(probe, server));
  const fs::path ca_dir = home / "ca" / rel_dir.lexically_relative(probe.accounts_dir());
  ACMED_TRY(std::string ca_conf_text, read_text(ca_dir / "ca.conf"));
  ACMED_TRY(std::string key_text, read_text(ca_dir / "account.key"));
  const auto ca_conf = parse_acmesh_conf(ca_conf_text);
  const std::string url = conf_value(ca_conf, "ACCOUNT_URL");
  if (url.empty())
    return Error(Errc::config, (ca_dir / "ca.conf").string() + " has no ACCOUNT_URL");
  ACMED_TRY(crypto::PrivateKey key, crypto::PrivateKey::from_pem(key_text));
  json registration = json::object();
  if (Result<std::string> text = read_text(ca_dir / "account.json"); text) {
    json j = json::parse(*text, nullptr, false);
    if (j.is_object()) registration = std::move(j);
  }
  return ForeignAccount{(ca_dir / "account.key").string(), server, std::move(key), url,
                        std::move(registration)};
}

// The non-empty items of a comma-separated list.
std::vector<std::string> split_commas(std::string_view list) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    std::size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    if (comma > pos) out.emplace_back(list.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

// How acme.sh's Le_Webroot obtained the certificate, as an acmed authenticator.
void map_acmesh_method(const std::vector<std::pair<std::string, std::string>>& conf,
                       const std::vector<std::string>& names, ForeignLineage& lin) {
  const std::string webroot = conf_value(conf, "Le_Webroot");
  store::RenewalParams& p = lin.params;
  auto port_or = [&conf](std::string_view key, const char* fallback) {
    std::string v = conf_value(conf, key);
    return v.empty() || v == "no" ? std::string(fallback) : v;
  };
  if (webroot == "no") {
    p.authenticator = "standalone";
    p.settings.text["http01_port"] = port_or("Le_HTTPPort", "80");
  } else if (webroot == "alpn") {
    p.authenticator = "tls-alpn-01";
    p.settings.text["tls_alpn_01_port"] = port_or("Le_TLSPort", "443");
    p.pref_challs = {"tls-alpn-01"};
  } else if (webroot == "dns") {
    lin.unmapped =
        "acme.sh obtained it in manual DNS mode; renew it with acmed's "
        "--manual --preferred-challenges dns plus an --manual-auth-hook, or a DNS plugin";
  } else if (webroot.starts_with("dns_")) {
    lin.unmapped = "acme.sh obtained it through its DNS API '" + webroot +
                   "', which acmed does not have; give migrate a DNS plugin's flags (for example "
                   "--dns-rfc2136 --dns-rfc2136-credentials FILE)";
  } else if (webroot.starts_with("/")) {
    // One root for all names, or one per name in order (acme.sh: "root1,root2").
    const std::vector<std::string> roots = split_commas(webroot);
    p.authenticator = "webroot";
    p.settings.lists["webroot_path"] = {roots.front()};
    for (std::size_t i = 0; i < names.size(); ++i)
      p.settings.tables["webroot_map"].emplace_back(names[i], roots[std::min(i, roots.size() - 1)]);
  } else {
    lin.unmapped = "acme.sh's Le_Webroot '" + webroot + "' is not a way acmed knows";
  }
}

Result<ForeignLineage> read_acmesh_domain(const fs::path& home, const fs::path& folder,
                                          ForeignStore& out) {
  std::string domain = folder.filename().string();
  if (domain.ends_with("_ecc")) domain.resize(domain.size() - 4);
  ACMED_TRY(std::string conf_text, read_text(folder / (domain + ".conf")));
  const auto conf = parse_acmesh_conf(conf_text);
  const std::string le_domain = util::ascii_lower(conf_value(conf, "Le_Domain"));
  if (le_domain.empty()) return Error(Errc::config, domain + ".conf has no Le_Domain");
  std::vector<std::string> names{le_domain};
  if (std::string alt = conf_value(conf, "Le_Alt"); !alt.empty() && alt != "no")
    for (const std::string& name : split_commas(alt)) names.push_back(util::ascii_lower(name));
  ForeignLineage lin;
  lin.source = folder.string();
  lin.name = lineage_name_for(le_domain);
  ACMED_TRY(std::string cer, read_text(folder / (domain + ".cer")));
  ACMED_TRY(std::string key_text, read_text(folder / (domain + ".key")));
  const std::string chain = read_text(folder / "ca.cer").value_or("");
  ACMED_TRY(lin.files, cert_files(cer, chain, key_text, lin.params));

  lin.params.server = conf_value(conf, "Le_API");
  if (lin.params.server.empty())
    lin.unmapped = domain + ".conf names no CA (Le_API); pass --server URL";
  map_acmesh_method(conf, names, lin);
  // acmed runs hooks as the user it runs as (root, from acmed.timer): a command from a file that
  // another user could have written would run with root's rights.
  struct stat st {};
  const fs::path conf_file = folder / (domain + ".conf");
  const bool trusted =
      ::stat(conf_file.c_str(), &st) == 0 && st.st_uid == ::geteuid() && (st.st_mode & 022) == 0;
  std::vector<std::string> deploy;
  for (const char* key : {"Le_PreHook", "Le_PostHook", "Le_RenewHook", "Le_ReloadCmd"}) {
    std::string hook = conf_value(conf, key);
    if (hook.empty()) continue;
    if (!trusted) {
      lin.notes.push_back("the hooks of " + lin.name + " are not imported: " + conf_file.string() +
                          " is not yours alone (another user could have written them); add them "
                          "with `acmed reconfigure --cert-name " +
                          lin.name + "`");
      break;
    }
    // acme.sh runs Le_RenewHook after a renewal and Le_ReloadCmd after installing the new
    // files: both are acmed's deploy hook.
    if (std::string_view(key) == "Le_PreHook")
      lin.params.pre_hook = hook;
    else if (std::string_view(key) == "Le_PostHook")
      lin.params.post_hook = hook;
    else
      deploy.push_back(hook);
  }
  lin.params.deploy_hook = util::join(deploy, " && ");
  std::vector<std::string> copies;
  for (const char* key :
       {"Le_RealCertPath", "Le_RealKeyPath", "Le_RealCACertPath", "Le_RealFullChainPath"})
    if (std::string path = conf_value(conf, key); !path.empty()) copies.push_back(path);
  if (!copies.empty())
    lin.notes.push_back("acme.sh installed copies of " + lin.name + " at " +
                        util::join(copies, ", ") + ": point the server at /etc/letsencrypt/live/" +
                        lin.name + "/ instead (acmed renews the files there)");
  if (!lin.params.server.empty()) {
    Result<ForeignAccount> account = read_acmesh_account(home, lin.params.server);
    bool known =
        std::any_of(out.accounts.begin(), out.accounts.end(),
                    [&](const ForeignAccount& a) { return a.server == lin.params.server; });
    if (account && !known)
      out.accounts.push_back(std::move(*account));
    else if (!account)
      lin.unmapped =
          "its account at " + lin.params.server + " does not read: " + account.error().message;
  }
  return lin;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_acmesh_conf(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = util::trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty() || line.front() == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string key(line.substr(0, eq));
    std::string_view value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') &&
        value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    std::string decoded(value);
    if (value.starts_with(k_b64_start) && value.ends_with(k_b64_end) &&
        value.size() >= k_b64_start.size() + k_b64_end.size()) {
      std::string_view inner =
          value.substr(k_b64_start.size(), value.size() - k_b64_start.size() - k_b64_end.size());
      if (Result<std::string> d = crypto::base64_decode(inner); d) decoded = *d;
    }
    out.emplace_back(std::move(key), std::move(decoded));
  }
  return out;
}

std::vector<CronEntry> find_cron_entries(const fs::path& root, std::string_view program) {
  std::vector<fs::path> files{root / "etc/crontab"};
  for (const char* dir : {"etc/cron.d", "var/spool/cron/crontabs"})
    for (const fs::path& f : sorted_entries(root / dir))
      if (is_file(f)) files.push_back(f);
  std::vector<CronEntry> out;
  for (const fs::path& file : files) {
    Result<std::string> text = read_text(file);
    if (!text) continue;
    std::size_t pos = 0, number = 0;
    while (pos < text->size()) {
      std::size_t nl = text->find('\n', pos);
      if (nl == std::string::npos) nl = text->size();
      std::string line = text->substr(pos, nl - pos);
      pos = nl + 1;
      ++number;
      std::string_view t = util::trim(line);
      if (t.empty() || t.front() == '#') continue;
      const std::vector<std::string> words = shell_words(t);
      if (program_word(words, program) < words.size()) out.push_back({file, number, line});
    }
  }
  return out;
}

Result<ForeignStore> read_lego_store(const fs::path& dir, std::string_view server,
                                     std::vector<CronEntry> cron) {
  if (!is_dir(dir / "accounts") && !is_dir(dir / "certificates"))
    return Error(Errc::not_found, "there is no lego store at " + dir.string(),
                 "pass lego's --path directory as --source");
  std::vector<LegoCommand> commands;
  for (const CronEntry& entry : cron) {
    const std::vector<std::string> words = shell_words(entry.text);
    commands.push_back(parse_lego_command(words, program_word(words, "lego")));
  }
  ForeignStore out;
  out.cron = std::move(cron);
  read_lego_accounts(dir, server, commands, out);
  read_lego_certificates(dir, commands, out);
  // Each certificate renews with the account lego holds at the CA its URL points at.
  for (ForeignLineage& lin : out.lineages) {
    const std::optional<std::string> host = lego_server_dir(lin.params.server);
    lin.params.server.clear();
    for (const ForeignAccount& a : out.accounts)
      if (host && lego_server_dir(a.server) == host) {
        lin.params.server = a.server;
        break;
      }
    if (lin.params.server.empty() && lin.unmapped.empty())
      lin.unmapped = "lego holds no importable account at its CA (" + host.value_or("?") + ")";
  }
  return out;
}

Result<ForeignStore> read_acmesh_store(const fs::path& home, std::vector<CronEntry> cron) {
  ForeignStore out;
  out.cron = std::move(cron);
  bool any = is_dir(home / "ca");
  for (const fs::path& folder : sorted_entries(home)) {
    if (!is_dir(folder) || folder.filename() == "ca" || folder.filename() == "deploy" ||
        folder.filename() == "dnsapi" || folder.filename() == "notify")
      continue;
    std::string domain = folder.filename().string();
    if (domain.ends_with("_ecc")) domain.resize(domain.size() - 4);
    if (!is_file(folder / (domain + ".conf"))) continue;
    any = true;
    Result<ForeignLineage> lin = read_acmesh_domain(home, folder, out);
    if (lin)
      out.lineages.push_back(std::move(*lin));
    else
      out.notes.push_back("acme.sh's " + folder.string() +
                          " is not imported: " + lin.error().message);
  }
  if (!any)
    return Error(Errc::not_found, "there is no acme.sh home at " + home.string(),
                 "pass acme.sh's --home directory as --source");
  return out;
}

std::optional<std::string> lego_server_dir(std::string_view server) {
  std::string_view rest = server;
  auto scheme = rest.find("://");
  if (scheme == std::string_view::npos) return std::nullopt;
  rest.remove_prefix(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.empty()) return std::nullopt;
  std::string host(rest);
  std::replace(host.begin(), host.end(), ':', '_');
  return host;
}

}  // namespace acmed::app
