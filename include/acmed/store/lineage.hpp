// Certificate lineages in certbot's layout (see paths.hpp): every version N of a certificate is
// kept as archive/<name>/{cert,chain,fullchain,privkey}N.pem, and live/<name>/ holds relative
// symlinks to the current version plus a README.
//
// Crash safety. A new version is written in this order: the four archive files of version N (each
// atomically: temp + fsync + rename), the renewal conf (atomically), and last the live links. The
// live links are switched all at once: a complete new live directory is built beside the old one
// (live/.<name>.acmed-new) and exchanged with it by one renameat2(RENAME_EXCHANGE), so the four
// links can never point at two different versions, not even for an instant (switching the links
// one by one, as certbot does, leaves a window where cert.pem and privkey.pem do not match). Where
// the file system cannot exchange (EINVAL), the links are replaced one by one, each atomically.
// Leftovers of an interrupted write (temporary files, a half-written version that no link points
// at) are ignored; the next write removes temporaries and uses 1 + the highest N in the archive.
//
// A new lineage writes its renewal conf LAST: renewal/<name>.conf is what makes a lineage exist
// (list_lineages reads renewal/*.conf), so an interrupted first issuance never shows up as a
// broken lineage; its orphaned archive/live dirs only make the next name get a "-0001" suffix.
//
// Every function here that writes takes the store lock itself (store/lock.hpp): Errc::locked, naming
// the other process, when another acmed holds it; inside one process holding it is shared, so
// writes to different lineages may run at the same time from several threads (each only cleans
// up its own temporaries). A caller that decides and then writes (which lineage, which name)
// holds a StoreLock across both; a read-modify-write of a renewal conf is
// update_renewal_conf (store/lock.hpp).
#pragma once

#include "acmed/crypto/key.hpp"
#include "acmed/crypto/x509.hpp"
#include "acmed/store/paths.hpp"
#include "acmed/store/renewal_conf.hpp"
#include "acmed/util/result.hpp"

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::store {

// The PEM texts of one version.
struct CertFiles {
  std::string cert;       // the leaf certificate
  std::string chain;      // the intermediates
  std::string fullchain;  // cert followed by chain
  std::string privkey;    // the certificate's private key
};

// The steps of writing a version, in order.
enum class WriteStep {
  archive_privkey,
  archive_cert,
  archive_chain,
  archive_fullchain,
  renewal_conf,
  live_links,
  done,
};

// Test seam: called before each step (and with `done` after the last). An error returned from it
// stops the write right there, exactly as a crash would: nothing is cleaned up or rolled back.
using WriteHook = std::function<Status(WriteStep)>;

struct Lineage {
  std::string name;
  std::filesystem::path conf_path;
  RenewalConf conf;
  int version = 0;                 // the N that the live links point at
  crypto::CertInfo cert;           // the current certificate
  crypto::KeySpec key;             // type and size of the current private key
  std::vector<std::string> names;  // SAN DNS names then IPs of the current cert: the truth,
                                   // whatever was asked for
};

// Creates lineage `name` with version 1 of `files`, and renewal/<name>.conf from `conf` (its
// top-level paths and version are filled in here). Errc::invalid_input for a bad name,
// Errc::conflict if anything of that lineage already exists, Errc::crypto (nothing written) if
// the certificate does not parse or does not match the key, Errc::io on write failure.
// Returns the version written (1).
Result<int> create_lineage(const Paths& paths, std::string_view name, const CertFiles& files,
                           RenewalConf conf, const WriteHook& hook = {});

// The mode of a new version's private key when the previous one had `previous`: 0600 plus the
// previous key's group bits and others' read bit (certbot's rule). add_version also gives the new
// key the previous key's group; the first key of a lineage is 0600, owned by the writer.
mode_t private_key_mode(mode_t previous);

// Adds version N = 1 + highest version in the archive to existing lineage `name`, rewrites its
// renewal conf from `conf` (unknown keys kept) and points the live links at N. Errc::not_found if
// the lineage has no renewal conf; Errc::conflict if the conf's paths are not the standard ones
// under paths.config_dir (acmed never writes outside them); Errc::crypto as create_lineage.
// Returns N.
Result<int> add_version(const Paths& paths, std::string_view name, const CertFiles& files,
                        RenewalConf conf, const WriteHook& hook = {});

// Repairs the live links of lineage `name` (certbot's update_symlinks): points all four, as
// relative links written all at once (as add_version does), at the version they agree on when
// its four archive files are there and the certificate belongs to the key, else at the highest
// such version in the archive. Errc::not_found without a renewal conf; Errc::conflict when the
// conf's paths are not the standard ones; Errc::config when the archive holds no complete
// version. Returns the version linked. Idempotent.
Result<int> update_symlinks(const Paths& paths, std::string_view name);

// Rewrites only the renewal conf of lineage `name` (for example after changing the authenticator),
// atomically. Errc::not_found if the lineage has no renewal conf.
Status save_renewal_conf(const Paths& paths, std::string_view name, RenewalConf conf);

// Reads renewal/<name>.conf. Errc::not_found if missing, Errc::config if malformed.
Result<RenewalConf> read_renewal_conf(const Paths& paths, std::string_view name);

// Loads lineage `name`: its renewal conf, the version its live links point at, the current
// certificate and key type. Errc::not_found if there is no renewal conf; Errc::config if the live
// links are missing, point at different versions or outside the archive dir; Errc::crypto if the
// certificate or key does not parse or do not belong together.
Result<Lineage> load_lineage(const Paths& paths, std::string_view name);

// Names of all lineages (renewal/*.conf), sorted. Empty when the renewal dir does not exist.
Result<std::vector<std::string>> lineage_names(const Paths& paths);

struct LineageEntry {
  std::string name;
  Result<Lineage> lineage;  // a broken lineage is reported here and does not stop the listing
};

// Every lineage, each loaded on its own. Errc::io only if the renewal dir cannot be read.
Result<std::vector<LineageEntry>> list_lineages(const Paths& paths);

// The private key the live links of `name` point at (for reuse_key). Errc::not_found if the
// lineage has no conf, Errc::crypto if the key does not parse.
Result<crypto::PrivateKey> read_current_key(const Paths& paths, std::string_view name);

}  // namespace acmed::store
