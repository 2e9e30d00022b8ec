// `acmed local cert --save`: local certificates kept as lineages in the certbot layout, under a
// local "server", so that `acmed renew` renews them with the local CA instead of an ACME CA.
#pragma once

#include "acmed/local/leaf.hpp"
#include "acmed/local/local_ca.hpp"
#include "acmed/store/lineage.hpp"
#include "acmed/store/paths.hpp"

#include <string>
#include <string_view>

namespace acmed::local {

// [renewalparams] server of a local lineage: not a URL, so no ACME code can mistake it for one.
inline constexpr const char* k_local_server = "acmed-local";
// [renewalparams] authenticator of a local lineage: no challenge, the CA is on this machine.
inline constexpr const char* k_local_authenticator = "local";
// [renewalparams] key recording that the certificate is also for client authentication.
inline constexpr const char* k_local_client_key = "local_client";

// True when a renewal conf describes a local lineage (server k_local_server).
bool is_local_lineage(const store::RenewalConf& conf);

// Stores `leaf` as a lineage: the next version of the local lineage with exactly the same names
// when there is one, else a new lineage named after the first name as certbot names them
// ("localhost", "localhost-0001", ...). chain.pem is the local root. The caller holds the config
// dir lock. Returns the lineage name.
Result<std::string> save_lineage(const store::Paths& paths, const LocalCa& ca, const LeafCert& leaf,
                                 crypto::KeyType key_type, Purpose purpose);

// A new version for local lineage `lineage` (same names, key type and purpose), signed by `ca`,
// ready for store::add_version. Errc::invalid_input when the lineage is not local.
Result<store::CertFiles> renew_lineage_files(const LocalCa& ca, const store::Lineage& lineage,
                                             std::string_view user_at_host, crypto::TimePoint now);

}  // namespace acmed::local
