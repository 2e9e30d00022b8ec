// The temporary http-01 edit the nginx and apache authenticators share: check the tasks, apply
// a plan through a non-persisted install::Transaction (config test, reload), and undo it byte
// for byte when validation ends.
#pragma once

#include "acmed/challenge/authenticator.hpp"
#include "acmed/install/transaction.hpp"

#include <memory>
#include <span>
#include <string_view>

namespace acmed::plugins::webconf {

// Checks every task before anything is published, the one rule for every plugin
// (docs/architecture.md, "Errors"): a type other than http-01 is Errc::internal (the client only
// hands out types from supported_types(), so it is acmed's bug); an unsafe token or key
// authorization is Errc::protocol (the CA sent it). `plugin` names the authenticator.
Status check_http01_tasks(std::string_view plugin, std::span<const challenge::Task> tasks);

// True if `ka` is token "." base64url thumbprint characters only (RFC 8555 section 8.1), at
// most 512 bytes: safe inside a quoted config string.
bool key_authorization_is_safe(std::string_view ka);

// One temporary edit of a server's config. undo() runs on every path (the authenticator's
// cleanup() and destructor); it never throws.
class TemporaryEdit {
 public:
  TemporaryEdit() = default;
  ~TemporaryEdit() { undo(); }
  TemporaryEdit(const TemporaryEdit&) = delete;
  TemporaryEdit& operator=(const TemporaryEdit&) = delete;

  // Undoes any earlier edit, then writes `plan` (never a checkpoint for `acmed rollback`),
  // runs the config test and reloads `server`. On failure the files are already restored.
  Status apply(install::ServerControl& server, const install::Plan& plan);
  // Restores every byte and reloads when the server had loaded the edit. Idempotent.
  void undo() noexcept;
  bool active() const { return m_tx != nullptr; }

 private:
  std::unique_ptr<install::Transaction> m_tx;
};

}  // namespace acmed::plugins::webconf
