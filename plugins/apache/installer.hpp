// Planning the edits that deploy a certificate into apache (Debian layout). Everything here reads
// and plans; the install::Transaction applies.
//
// What a deploy plans, per port-80 VirtualHost chosen for the names (vhost.hpp):
//  - sites-available/<site>-le-ssl.conf: <IfModule mod_ssl.c><VirtualHost ADDR:443> with the
//    port-80 vhost's body copied verbatim (minus its redirects to https and SSL lines), then
//    SSLEngine on, SSLCertificateFile/SSLCertificateKeyFile and an Include of the one
//    acmed-managed options file. If the file exists, only its certificate lines are updated.
//  - sites-enabled/<site>-le-ssl.conf -> ../sites-available/... as a2ensite makes it.
//  - mods-enabled/ links for ssl (and rewrite for the redirect, headers for HSTS) and the
//    modules their .load files say they depend on ("# Depends:"), as a2enmod makes them.
//  - <config_dir>/acmed-apache-tls.conf, written once.
//  - the redirect: lines appended inside the port-80 vhost, marked by an "# acmed:" comment.
//  - with Options::challenge_dir (fleet mode): an Alias of /.well-known/acme-challenge/ to the
//    directory and its <Directory> grant, appended inside the port-80 vhost after
//    k_challenge_dir_marker, with or without the redirect (whose RewriteCond lets the path by).
// Running it again on the result plans nothing.
#pragma once

#include "plugins/apache/apache.hpp"
#include "plugins/apache/config.hpp"

#include "acmed/install/plan.hpp"

#include <span>

namespace acmed::plugins::apache {

// The comment above the fleet challenge directory's Alias in a port-80 vhost.
inline constexpr const char* k_challenge_dir_marker = "# acmed: fleet challenge directory";

// The bytes of the acmed-managed TLS options file.
std::string options_file_text();

// Plans a deploy (when `deploy` is set) and/or `enhancements` for `names` on `config`.
// Errc::not_found when a name has no vhost or a module is not installed; Errc::conflict when an
// enhancement needs an HTTPS vhost that was never deployed; Errc::config for an unreadable
// existing -le-ssl.conf.
Result<install::Plan> plan_changes(Config& config, const Options& options,
                                   std::span<const std::string> names,
                                   const install::DeployRequest* deploy,
                                   std::span<const install::Enhancement> enhancements);

// Loads the config for `options` and, unless disabled, checks it against apache's own view
// (`-D DUMP_INCLUDES`, `-S`). Errc::server when apache rejects the config as it stands.
Result<Config> load_checked(const Options& options, ApacheControl& control);

}  // namespace acmed::plugins::apache
