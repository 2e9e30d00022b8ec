// ACME accounts in certbot's layout, under <config_dir>/accounts/<server path>/<id>/:
//
//   private_key.json   the private JWK of the account key (0600)
//   regr.json          {"body": {...}, "uri": "<account URL>"}
//   meta.json          {"creation_dt": "...Z", "creation_host": "...", "register_to_eff": null}
//
// <server path> is certbot's rule: the host (with ":port" if the URL has one) followed by the path
// of the directory URL, so https://acme-v02.api.letsencrypt.org/directory keeps its accounts in
// accounts/acme-v02.api.letsencrypt.org/directory/. <id> is PrivateKey::certbot_account_id() of
// the account key. accounts/ and every directory below it are 0700.
#pragma once

#include "acmed/crypto/key.hpp"
#include "acmed/store/paths.hpp"
#include "acmed/sys/clock.hpp"
#include "acmed/util/result.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::store {

struct AccountMeta {
  std::string creation_dt;  // RFC 3339
  std::string creation_host;
};

struct Account {
  std::string id;
  std::string server;  // the ACME directory URL it belongs to
  fs::path dir;
  crypto::PrivateKey key;
  std::string url;              // the account URL (the "kid" of RFC 8555 section 6.2)
  nlohmann::json registration;  // the account object as the CA returned it (regr.json body)
  AccountMeta meta;
};

// accounts/<server path> for directory URL `server_url`. Errc::invalid_input for a URL that is
// not http(s), has no host, or whose path has "." or ".." segments.
Result<fs::path> account_server_dir(const Paths& paths, std::string_view server_url);

// Saves account `key` registered at `server_url` as `account_url` with the CA's account object
// `registration`; `now` becomes meta.json's creation_dt. A new account appears at once, complete
// (built in a temporary dir, then renamed into place). Saving an existing id rewrites regr.json
// and keeps meta.json. Returns the account id. Errc::io on write failure.
Result<std::string> save_account(const Paths& paths, std::string_view server_url,
                                 const crypto::PrivateKey& key, std::string_view account_url,
                                 const nlohmann::json& registration, sys::TimePoint now);

// Ids of the accounts stored for `server_url`, sorted; empty if there are none. Like certbot, Let's
// Encrypt's v2 endpoints fall back to the accounts of their v1 endpoints
// (acme-v01.api.letsencrypt.org/directory, acme-staging.api.letsencrypt.org/directory) when they
// have none of their own; load_account looks there too. Nothing is linked or moved.
Result<std::vector<std::string>> list_accounts(const Paths& paths, std::string_view server_url);

// Loads account `id` of `server_url`. Errc::not_found if it does not exist; Errc::config naming
// the file when a file is not valid JSON or lacks "uri"; Errc::invalid_input from crypto when the
// key does not parse.
Result<Account> load_account(const Paths& paths, std::string_view server_url, std::string_view id);

// Rewrites regr.json of a loaded account with the CA's account object (after a contact update),
// atomically. Errc::io on write failure.
Status save_registration(const Account& account, const nlohmann::json& registration);

// Account key rollover (RFC 8555 section 7.3.5) keeps the account id (the directory name: certbot
// derives it from the first key, and renewal confs name it) and goes in two steps around the CA's
// answer, so that a crash between them leaves both keys on disk:
//   stage_account_key    writes the new key to <dir>/rollover_key.json (0600, atomically)
//   commit_account_key   renames it over private_key.json (atomic) and syncs the directory
// staged_account_key reads a staged key back (nullopt when there is none); discard removes it.
Status stage_account_key(const Account& account, const crypto::PrivateKey& new_key);
Result<std::optional<crypto::PrivateKey>> staged_account_key(const Account& account);
Status commit_account_key(const Account& account);
Status discard_staged_account_key(const Account& account);

// Removes what an interrupted save_account of account `id` at `server_url` left (its temporary
// directory, which may hold the key). Best effort and idempotent; a complete account stays.
Status remove_account_temporaries(const Paths& paths, std::string_view server_url,
                                  std::string_view id);

// Removes a stored account: its directory is renamed out of sight first (atomic: the account is
// there or gone), then deleted. Errc::io on failure. Takes the store lock.
Status remove_account(const Paths& paths, const Account& account);

}  // namespace acmed::store
