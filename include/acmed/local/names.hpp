// The names a local certificate is for, and the file names mkcert users expect for it.
#pragma once

#include "acmed/util/result.hpp"

#include <span>
#include <string>
#include <vector>

namespace acmed::local {

// Who a certificate is for: a server (serverAuth), or also a client (serverAuth + clientAuth).
enum class Purpose { server, client };

struct LeafNames {
  std::vector<std::string> all;       // normalised, duplicates dropped, in the order given
  std::vector<std::string> dns;       // host names and wildcards
  std::vector<std::string> ips;       // canonical IPv4 / IPv6 text
  std::vector<std::string> warnings;  // names that are valid but that browsers may refuse
};

// Validates and normalises the names given to `acmed local cert`. Unlike names for a public CA,
// single-label host names ("localhost", "myhost") are accepted. Errc::invalid_input naming the
// first bad name (empty, "..", a label over 63 characters, a name over 253, a bad character, a
// misplaced '*'), or when no name is given.
Result<LeafNames> parse_names(std::span<const std::string> names);

// mkcert's file naming: the first name with '*' written "_wildcard" and ':' written '_', then
// "+N" when N more names follow, then "-client" for client certificates ("localhost+2",
// "_wildcard.app.test", "__1"). The certificate goes to <base>.pem, the key to <base>-key.pem,
// a PKCS#12 bundle to <base>.p12.
std::string default_file_base(const LeafNames& names, Purpose purpose);

}  // namespace acmed::local
