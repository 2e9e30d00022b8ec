// The temporary http-01 edit the nginx and apache authenticators share: check the tasks, apply
// a plan through a non-persisted install::Transaction (config test, reload), and undo it byte
// for byte when validation ends.
#pragma once

#include "acmed/challenge/authenticator.hpp"
#include "acmed/install/transaction.hpp"

#include <filesystem>
#include <memory>
#include <span>
#include <string>
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

// The fleet challenge directory (`--nginx-challenge-dir`, `--apache-challenge-dir`: the fleet
// agent's --challenge-dir, docs/fleet.md) as the installers write it into a config: absolute,
// lexically normal, without a trailing slash. Errc::usage (one line naming `flag`) for a relative
// path or one holding a byte acmed will not put in a config: control characters (CR, LF, ...),
// quotes, backslash, ';', '{', '}', '#', '$' (nginx and apache expand variables with it).
Result<std::string> challenge_dir(std::string_view flag, const std::filesystem::path& dir);

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
