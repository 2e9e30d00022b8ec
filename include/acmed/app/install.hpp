// Installing certificates into web servers: `run` (obtain, then install), `install`, `enhance`
// and `rollback`. Every change goes through install::Transaction (checkpoint, config test,
// reload, TLS check, byte-for-byte rollback); web-server edits are made under the store lock, so
// two acmed processes never edit a server at once.
#pragma once

#include "acmed/app/issue.hpp"
#include "acmed/install/installer.hpp"

#include <functional>
#include <string_view>
#include <vector>

namespace acmed::app {

struct InstallEnvironment {
  store::Paths paths;
  plugins::Environment plugins;
  renew::Logger log;
  std::function<void(std::string_view)> print_diff;  // --dry-run output (stdout)
};

// The DNS names of `names` (IP addresses dropped): what a web server's server blocks are matched
// by.
std::vector<std::string> dns_names(const std::vector<std::string>& names);

// Records the chosen installer and its settings in lineage `lineage`'s renewal conf, so renewals
// reload that server. One read-modify-write under the store lock (store::update_renewal_conf),
// waiting for another acmed that holds it.
Status record_installer(const store::Paths& paths, const std::string& lineage,
                        const IssueOptions& options);

// `install --cert-name NAME`: deploys the lineage into the chosen installer, and records the
// installer in its renewal conf. `install --cert-path|--fullchain-path F --key-path K [-d NAME]`
// (certbot's meaning): deploys files that are not a lineage's, for -d's names or else every DNS
// name of the certificate; nothing is recorded. With --cert-name, given paths replace the
// lineage's own files. The files are checked first (a certificate chain, a key that belongs to
// it, not expired, covering every name): Errc::invalid_input naming the file, nothing changed.
Status install_lineage(const IssueOptions& options, const InstallEnvironment& env);

// `enhance`: adds --redirect/--hsts/--uir for --cert-name's names (or -d).
Status enhance(const IssueOptions& options, const InstallEnvironment& env);

// `rollback`: undoes the last checkpoint, on the server it was made for (its saved control
// settings, unless the flags name others). `force`: also files changed since.
Status rollback(IssueOptions options, bool force, const InstallEnvironment& env);

// `run` (acmed without a subcommand): checks the server first (config test, a server block for
// every name), obtains a certificate (from the CA, or the local CA with --local), records the
// installer, and deploys it.
Status obtain_and_install(const IssueOptions& options, const ObtainContext& obtain_ctx,
                          const InstallEnvironment& env);

}  // namespace acmed::app
