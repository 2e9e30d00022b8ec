// Reading another client's store for `acmed migrate --from lego|acme.sh`: its accounts and
// certificates, and how each certificate was obtained, as what acmed would write in the certbot
// layout. Nothing here writes: migrate.cpp imports what these return. The source store is never
// changed.
//
// lego (4.x): <path>/accounts/<host>[_<port>]/<email>/{account.json,keys/<email>.key} and
// <path>/certificates/<domain>.{crt,issuer.crt,key,json} (a wildcard's "*" written "_"). lego
// keeps no record of how it obtained a certificate: that is read from the lego command in a
// cron entry (--http, --http.port, --http.webroot, --tls, --dns ...), when there is one.
//
// acme.sh (3.x): <home>/<domain>[_ecc]/{<domain>.conf,<domain>.key,<domain>.cer,ca.cer,
// fullchain.cer} with Le_Domain, Le_Alt, Le_Webroot (a document root, "no" for standalone,
// "alpn", "dns" for manual DNS, "dns_<provider>"), Le_HTTPPort, Le_TLSPort, Le_API and the
// hooks (Le_PreHook, Le_PostHook, Le_RenewHook, Le_ReloadCmd, base64-wrapped as acme.sh writes
// them); accounts in <home>/ca/<host>[:<port>]/<path>/{account.key,ca.conf (ACCOUNT_URL)}.
#pragma once

#include "acmed/crypto/key.hpp"
#include "acmed/store/lineage.hpp"
#include "acmed/util/result.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::app {

struct ForeignAccount {
  std::string source;  // the file it was read from
  std::string server;  // ACME directory URL
  crypto::PrivateKey key;
  std::string url;              // the account URL
  nlohmann::json registration;  // the account object, as far as the store kept it
};

struct ForeignLineage {
  std::string name;    // the lineage name to create (the first name, "*." dropped, as certbot)
  std::string source;  // the directory or file it was read from
  store::CertFiles files;
  // What the renewal conf gets: authenticator, settings, server, hooks, key (no account id: the
  // account is the one at `server`, see ForeignStore::accounts).
  store::RenewalParams params;
  // Why it cannot be imported as it is (no authenticator acmed has, no CA known); empty when it
  // can. migrate's own plugin flags may still make it importable.
  std::string unmapped;
  std::vector<std::string> notes;  // what was not carried over, for the user to see to
};

// A line of a crontab that runs the other client.
struct CronEntry {
  std::filesystem::path file;  // as found under the system root
  std::size_t line = 0;        // 1-based
  std::string text;
};

struct ForeignStore {
  std::vector<ForeignAccount> accounts;
  std::vector<ForeignLineage> lineages;
  std::vector<CronEntry> cron;
  std::vector<std::string> notes;  // things found but not read (a broken file, an unknown CA)
};

// The system crontabs under `root` (/etc/crontab, /etc/cron.d/*, /var/spool/cron/crontabs/*)
// whose active lines run `program` ("lego" or "acme.sh"). Unreadable files are skipped.
std::vector<CronEntry> find_cron_entries(const std::filesystem::path& root,
                                         std::string_view program);

// The lego store at `dir`. `server` (--server, may be empty) names the CA of accounts lego filed
// under a host it does not spell out (anything but Let's Encrypt); `cron` gives the lego
// commands that tell how certificates were obtained. Errc::not_found when `dir` has neither
// accounts/ nor certificates/. A certificate or account that does not read is a note, not an
// error.
Result<ForeignStore> read_lego_store(const std::filesystem::path& dir, std::string_view server,
                                     std::vector<CronEntry> cron);

// The acme.sh home at `home`. Errc::not_found when it holds no acme.sh domain folder and no
// account. As read_lego_store, a broken folder is a note.
Result<ForeignStore> read_acmesh_store(const std::filesystem::path& home,
                                       std::vector<CronEntry> cron);

// Values of an acme.sh .conf file (KEY='value' lines, base64-wrapped values decoded).
std::vector<std::pair<std::string, std::string>> parse_acmesh_conf(std::string_view text);

// The directory lego files accounts of directory URL `server` under: its host with ":" as "_".
// nullopt when the URL has no host.
std::optional<std::string> lego_server_dir(std::string_view server);

}  // namespace acmed::app
