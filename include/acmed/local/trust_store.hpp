// Putting the local CA into the trust stores of this machine and taking it out again.
//
// Stores: the Debian/Ubuntu system store (<root>/usr/local/share/ca-certificates +
// update-ca-certificates), NSS databases (~/.pki/nssdb for Chromium, Firefox profiles; via
// certutil), and the keystore of the Java in $JAVA_HOME (via its keytool). What install adds is
// recorded in <ca_root>/installed.json, so uninstall removes exactly that and nothing else.
#pragma once

#include "acmed/crypto/x509.hpp"
#include "acmed/local/environment.hpp"
#include "acmed/sys/process.hpp"
#include "acmed/util/result.hpp"

#include <string>
#include <vector>

namespace acmed::local {

inline constexpr const char* k_install_record_file = "installed.json";
// The password of Java's cacerts keystore as every JDK ships it.
inline constexpr const char* k_java_storepass = "changeit";

enum class StoreAction {
  added,            // install put the CA there
  already_present,  // install found it there already
  removed,          // uninstall took it out
  skipped,          // the store is absent or not writable; `detail` says why and what to do
  failed,           // a tool failed; `detail` has its message
};

struct StoreOutcome {
  std::string store;  // "system store (/usr/local/share/ca-certificates/x.crt)", ...
  StoreAction action = StoreAction::skipped;
  std::string detail;
};

struct StoreReport {
  fs::path ca_root;
  std::string ca_name;      // subject CN of the root
  bool created_ca = false;  // install made a new CA
  bool deleted_ca = false;  // uninstall --delete-ca removed the CA files
  std::vector<StoreOutcome> stores;
  bool any_failed() const;
};

// Loads the CA in env.ca_root (creating it when there is none) and adds it to every trust store
// present, recording each addition. Idempotent: a second run reports "already present". A store
// that cannot be used (tool missing, no root rights) is reported as skipped with the reason; a
// tool that fails is reported as failed and the others still run. Errc::config for a damaged CA,
// Errc::locked when another acmed is installing.
Result<StoreReport> install(const Environment& env, sys::ProcessRunner& runner,
                            crypto::TimePoint now);

enum class DeleteCa { no, yes };

// Removes the CA from every store recorded by install and forgets those it removed; a store that
// fails stays recorded (reported as failed). With DeleteCa::yes the CA files are deleted too, but
// only when every removal succeeded (report.deleted_ca). Stores install did not record are not
// touched. Errc::not_found when there is no CA directory.
Result<StoreReport> uninstall(const Environment& env, sys::ProcessRunner& runner,
                              DeleteCa delete_ca);

// Where the local CA is trusted now, store by store (for `acmed doctor --local`): read-only.
enum class TrustState { trusted, missing, unknown };
struct TrustCheck {
  std::string store;  // "system store (/etc/ssl/certs/ca-certificates.crt)", "NSS database ..."
  TrustState state = TrustState::unknown;
  std::string detail;  // why unknown (tool missing), or what was looked at
};
// The system bundle (what OpenSSL, curl and most programs read), every NSS database of the user
// (Chromium, Firefox), and the keystore of $JAVA_HOME. Errc::not_found when there is no CA.
Result<std::vector<TrustCheck>> trust_status(const Environment& env, sys::ProcessRunner& runner,
                                             crypto::TimePoint now);

}  // namespace acmed::local
