// The dns-rfc2136 authenticator: dns-01 through TSIG-signed RFC 2136 dynamic updates, with
// certbot's credentials file (dns_rfc2136_server, _port, _name, _secret, _algorithm).
#pragma once

#include "acmed/challenge/authenticator.hpp"
#include "acmed/dns/dns01.hpp"

#include <filesystem>
#include <memory>

namespace acmed::plugins::dns_rfc2136 {

struct Credentials {
  dns::Server server;
  dns::TsigKey key;
};

// Reads a certbot dns-rfc2136 credentials file. Refuses (Errc::config, with the chmod to run) a
// file that group or others may read or write; Errc::not_found when missing; Errc::config naming
// the file and the key when a key is missing or malformed.
Result<Credentials> load_credentials(const std::filesystem::path& file);

struct Options {
  std::filesystem::path credentials;
  dns::Options dns;  // resolvers empty: the zone is looked up at dns_rfc2136_server, as certbot
};

// The authenticator, with the credentials already read and checked.
Result<std::unique_ptr<challenge::Authenticator>> make_authenticator(Options options);

}  // namespace acmed::plugins::dns_rfc2136
