// certbot's renewal conf (<config_dir>/renewal/<name>.conf): where a lineage's files are and how
// to renew it. Top level: version, archive_dir, cert, privkey, chain, fullchain and optionally
// renew_before_expiry; then a [renewalparams] section with the options the certificate was
// obtained with, and inside it an optional [[webroot_map]] subsection (domain = webroot).
//
// certbot's conventions kept here: "None" means absent; booleans are True/False; a missing
// key_type means rsa (certbot before 1.25 did not write it); the deploy hook is stored under
// certbot's historical key "renew_hook".
#pragma once

#include "acmed/store/configobj.hpp"
#include "acmed/util/result.hpp"
#include "acmed/util/settings.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acmed::store {

struct RenewalParams {
  std::string authenticator;  // "webroot", "nginx", "apache", "standalone", "manual", ...
  std::string installer;      // empty: none
  std::string server;         // ACME directory URL
  std::string account;        // account id (see account.hpp)
  std::string key_type;       // "ecdsa" / "rsa" as written; empty when absent (see key_type_or_rsa)
  std::optional<int> rsa_key_size;
  std::string elliptic_curve;  // "secp256r1", "secp384r1"
  std::string pre_hook;
  std::string post_hook;
  std::string deploy_hook;  // key "renew_hook" in the file, as certbot writes it
  std::optional<bool> reuse_key;
  std::optional<bool> must_staple;
  std::optional<bool> allow_subset_of_names;
  std::optional<bool> autorenew;
  std::string preferred_chain;
  std::vector<std::string> pref_challs;  // "http-01", "dns-01", ...
  std::string preferred_profile;  // acmed: ACME profile to ask for when the CA offers it
  std::string required_profile;   // acmed: ACME profile that must be used
  // Every other key of [renewalparams]: the settings of the lineage's plugins (nginx_ctl,
  // webroot_path, http01_port, the [[webroot_map]] table, ...; see plugins/registry.hpp) and
  // keys acmed does not know, which are written back as read.
  util::Settings settings;

  // key_type, or "rsa" when the file has none (certbot's rule for confs written before 1.25).
  std::string key_type_or_rsa() const { return key_type.empty() ? "rsa" : key_type; }
};

struct RenewalConf {
  std::string version;  // version of the program that last wrote the file
  std::filesystem::path archive_dir;
  std::filesystem::path cert;
  std::filesystem::path privkey;
  std::filesystem::path chain;
  std::filesystem::path fullchain;
  std::string renew_before_expiry;  // e.g. "30 days"; empty when absent
  RenewalParams params;

  // The document as read: keys acmed does not know and comments survive render_renewal_conf.
  ConfSection doc;
  std::string file_name;  // where it was read from, for error messages (empty for a new conf)

  // Errc::config when the conf cannot drive a renewal: no [renewalparams] or no authenticator
  // (certbot skips such lineages too). Listing and loading do not require this.
  Status check_renewable() const;
};

// Parses a renewal conf. Errc::config "<file_name>:<line>: ..." for configobj syntax errors and
// for typed values that do not parse (rsa_key_size = abc, reuse_key = maybe). Missing keys are
// not an error here (see RenewalConf::check_renewable and load_lineage).
Result<RenewalConf> parse_renewal_conf(std::string_view text, std::string_view file_name);

// The file text for `conf`: the fields are written into conf.doc (keys whose value did not change
// keep their original spelling and comments; empty fields are removed) and the doc is rendered.
std::string render_renewal_conf(const RenewalConf& conf);

// certbot's renew_before_expiry interval: "30 days", "2 weeks 3 days", "12 hours", a bare number
// means days. Units: second, minute, hour, day, week, month (30 days), year (365 days), singular
// or plural. Errc::config naming the text otherwise.
Result<std::chrono::seconds> parse_interval(std::string_view text);

}  // namespace acmed::store
