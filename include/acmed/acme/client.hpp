// The RFC 8555 client: directory, nonces, signed requests, accounts, and the issuance flow
// (order -> authorizations -> challenges through an Authenticator -> finalize -> certificate).
//
// Typical use (the CLI):
//   auto client = acme::Client::connect(url, transport_options);          // no request yet
//   auto account = client->find_or_create_account(account_key, {...});     // or use_account()
//   auto issued = client->obtain({ids, "", ...}, cert_key, authenticator);
//   on error: error.describe(), error.hint, acme::retry_after(error)
#pragma once

#include "acmed/acme/messages.hpp"
#include "acmed/acme/transport.hpp"
#include "acmed/challenge/authenticator.hpp"
#include "acmed/crypto/key.hpp"
#include "acmed/crypto/x509.hpp"
#include "acmed/sys/clock.hpp"
#include "acmed/util/result.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::acme {

// Wall-clock time plus the ability to wait; tests inject one that only pretends to wait.
class Sleeper : public sys::Clock {
 public:
  virtual void sleep(std::chrono::milliseconds duration) = 0;
};

// The real clock and std::this_thread::sleep_for.
class RealSleeper final : public Sleeper {
 public:
  sys::TimePoint now() const override;
  void sleep(std::chrono::milliseconds duration) override;
};

enum class LogLevel { debug, info, warning };
using LogFn = std::function<void(LogLevel, std::string_view)>;

// How the order is polled (RFC 8555 section 7.5.1 asks clients to poll with backoff and to
// honour Retry-After).
struct PollPolicy {
  std::chrono::milliseconds first_delay{50};   // after answering challenges / finalizing
  std::chrono::milliseconds max_delay{2'000};  // exponential backoff (x2) stops growing here
  std::chrono::seconds max_retry_after{60};    // a longer Retry-After from the CA is cut to this
  std::chrono::seconds timeout{300};           // then Errc::network "timed out waiting"
  // A 404 on the certificate URL of a valid order is retried for this long (within timeout).
  std::chrono::seconds certificate_grace{30};
};

struct ClientOptions {
  PollPolicy poll;
  int max_bad_nonce_retries = 10;  // badNonce is retried silently this many times
  int max_transient_retries = 2;   // 5xx / dropped connection, idempotent requests only
  std::chrono::milliseconds transient_backoff{500};  // doubled per retry
  // Everything the client does, counted from its creation (certbot's --issuance-timeout):
  // requests are cut and retries, waits and polling stop when it runs out; the time an
  // Authenticator spends publishing challenges is not counted.
  std::chrono::seconds issuance_timeout{90};
  // The retries of one request (waits included) stop after this long.
  std::chrono::seconds retry_budget{30};
  std::shared_ptr<Sleeper> sleeper;  // null: RealSleeper
  LogFn log;                         // null: silent
};

enum class TosAgreement { not_agreed, agreed };

// What newAccount should do (RFC 8555 section 7.3).
enum class AccountMode {
  find_or_create,  // the CA returns the existing account for this key, or creates one
  find_only,       // onlyReturnExisting (RFC 8555 section 7.3.1): Errc::not_found if none
};

// RFC 8555 section 7.3.4; both values as the CA hands them out.
struct ExternalAccountBinding {
  std::string kid;
  std::string hmac_key;  // base64url
};

struct AccountOptions {
  AccountMode mode = AccountMode::find_or_create;
  std::vector<std::string> emails;  // "mailto:" is added
  TosAgreement tos = TosAgreement::not_agreed;
  std::optional<ExternalAccountBinding> eab;
};

// What to do when the CA does not offer the requested profile (draft-ietf-acme-profiles).
enum class ProfileMode {
  preferred,  // log a warning and use the CA's default
  required,   // fail with Errc::invalid_input
};

// Whether an order may use authorizations that are valid from earlier orders (RFC 8555 section
// 7.1.4 lets a CA hand them out again).
enum class AuthorizationReuse {
  allow,  // answer only what the CA asks (real issuance)
  // Dry runs: an order that comes back with valid authorizations has them deactivated and is
  // placed once more, and the order's valid authorizations are deactivated afterwards, whether
  // it succeeded or not (RFC 8555 section 7.5.2), so every run answers its challenges.
  // Deactivations that fail are warnings.
  fresh,
};

struct ObtainRequest {
  crypto::Identifiers identifiers;  // dns (may include "*.x" wildcards) and ip (RFC 8738)
  std::string profile;              // empty: the CA's default
  ProfileMode profile_mode = ProfileMode::preferred;
  std::string replaces;  // RFC 9773 section 5 certificate id of the cert being renewed
  // Called when newOrder was refused because of `replaces` (see obtain()) and the order without
  // it went through. May be null.
  std::function<void(std::string_view why)> replaces_refused;
  std::string preferred_chain;  // issuer CN of the chain to prefer; empty: the CA's default
  // Challenge types to answer with, most preferred first (challenge::challenge_order); empty:
  // the authenticator's supported_types().
  std::vector<std::string> challenge_types;
  // Called, when the order fails validation, with every name whose authorization is invalid
  // ("*.x" for a wildcard's), before obtain() returns the error. May be null.
  std::function<void(const std::vector<std::string>& names)> authorizations_failed;
  AuthorizationReuse authorization_reuse = AuthorizationReuse::allow;
};

// RFC 5280 section 5.3.1 reason codes (RFC 8555 section 7.6 sends them as "reason"). A CA may
// accept only some: Let's Encrypt takes the five certbot names (0, 1, 3, 4, 5).
enum class RevocationReason {
  unspecified = 0,
  key_compromise = 1,
  ca_compromise = 2,
  affiliation_changed = 3,
  superseded = 4,
  cessation_of_operation = 5,
  certificate_hold = 6,
  remove_from_crl = 8,
  privilege_withdrawn = 9,
  aa_compromise = 10,
};

// A reason by certbot's name ("keycompromise"), RFC 5280's name in any case ("keyCompromise",
// "cACompromise") or its number ("1"). Errc::usage naming the text and listing the names.
Result<RevocationReason> parse_revocation_reason(std::string_view text);
// certbot's spelling of the reason ("keycompromise"), lower-case RFC 5280 for the others.
std::string_view to_string(RevocationReason reason);

struct IssuedCertificate {
  std::string cert_pem;       // the leaf
  std::string chain_pem;      // intermediates
  std::string fullchain_pem;  // leaf + intermediates
  std::string order_url;
  std::string profile;  // the profile requested ("" = CA default)
};

// Whether `error` is the CA saying the certificate is revoked already (RFC 8555 section 7.6).
bool is_already_revoked(const Error& error);

class Client {
 public:
  // Builds a client with the libcurl transport (open_http_transport). Errc::invalid_input when
  // `directory_url` is not an allowed URL; Errc::io for an unreadable CA bundle. Sends nothing yet.
  static Result<Client> connect(std::string directory_url, TransportOptions transport_options,
                                ClientOptions options = {});
  // Builds a client on any transport (tests use a scripted one). Sends nothing.
  Client(std::string directory_url, std::unique_ptr<Transport> transport,
         ClientOptions options = {});
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  // The directory (RFC 8555 section 7.1.1), fetched on first use and cached. Errc::protocol
  // "URL is not an ACME directory"; Errc::network when unreachable.
  Result<Directory> directory();

  // newAccount (RFC 8555 section 7.3) with `key`; on success the client signs later requests
  // with this account. Idempotent: an existing account for the key is returned, not duplicated.
  Result<Account> find_or_create_account(std::shared_ptr<const crypto::PrivateKey> key,
                                         const AccountOptions& options);

  // Uses a known account (URL saved earlier) without asking the CA: the warm path.
  void use_account(std::shared_ptr<const crypto::PrivateKey> key, std::string account_url);

  // The current account object (POST-as-GET, RFC 8555 section 7.3.3 / 7.1.2). Needs an account.
  Result<Account> fetch_account();
  // Replaces the account's contact list ("mailto:" added; empty clears it), RFC 8555 section
  // 7.3.2. Idempotent. Needs an account.
  Result<Account> update_contacts(const std::vector<std::string>& emails);
  // Deactivates the account for good (RFC 8555 section 7.3.6); its key cannot be used again.
  Status deactivate_account();
  // Rolls the account over to `new_key` (RFC 8555 section 7.3.5); on success later requests
  // are signed with it. Errc::conflict (with the CA's problem) if the key already has an account.
  Status change_account_key(std::shared_ptr<const crypto::PrivateKey> new_key);

  // Runs a whole order (RFC 8555 section 7.4) with a CSR for `cert_key`, publishing challenges
  // through `authenticator` (whose cleanup() always runs). Needs an account. Errors name the
  // identifier that failed; the CA's problem is in Error::problem.
  // - newOrder refused while `replaces` was sent (alreadyReplaced, unauthorized, malformed,
  //   conflict, or HTTP 400/403/404/409): ordered once more without it (RFC 9773 section 5 makes
  //   it optional), and request.replaces_refused is told when that order went through.
  // - invalidProfile (draft-ietf-acme-profiles): Errc::invalid_input for a required profile; a
  //   preferred one is dropped with a warning and the order is sent again without it.
  // - a 404 on the certificate URL of a valid order is retried (the CA may not have published
  //   it yet) with backoff, within poll.timeout.
  Result<IssuedCertificate> obtain(const ObtainRequest& request, const crypto::PrivateKey& cert_key,
                                   challenge::Authenticator& authenticator);
  // The same with a CSR the user made (certbot's --csr), sent as it is; the certificate must
  // carry the CSR's public key. request.identifiers must be the CSR's names.
  Result<IssuedCertificate> obtain(const ObtainRequest& request,
                                   const crypto::CertificateRequest& csr,
                                   challenge::Authenticator& authenticator);

  // revokeCert (RFC 8555 section 7.6) for the first certificate in `cert_pem`, signed by the
  // account (needs an account). Errc::invalid_input when the PEM is not a certificate; the CA's
  // refusal as Errc::ca_problem with its problem (alreadyRevoked: see is_already_revoked;
  // badRevocationReason: the message names the reason). Not idempotent on the CA's side.
  Status revoke(std::string_view cert_pem, RevocationReason reason);
  // The same, signed with the certificate's own key (jwk): works without the account.
  Status revoke_with_certificate_key(std::string_view cert_pem, RevocationReason reason,
                                     const crypto::PrivateKey& cert_key);

  // ARI (RFC 9773 section 4): the CA's suggested renewal window for `cert_id`
  // (crypto::ari_cert_id). Errc::not_found when the CA has no renewalInfo endpoint.
  Result<RenewalInfo> renewal_info(std::string_view cert_id);

  // Requests sent so far (every retry and poll counts), for benchmarks and tests.
  const TransportStats& stats() const;

 private:
  struct State;
  std::unique_ptr<State> m;
};

}  // namespace acmed::acme
