// Result<T>: the error convention of the whole core (see docs/architecture.md, "Errors").
//
// Library functions return Result<T>; they never throw. Exceptions from third-party libraries are
// caught in the adapter that calls them and turned into an Error. The CLI turns an Error into one
// line on stderr and an exit code (docs/user-guide.md, "Exit codes").
#pragma once

// Only the forward declarations: the full JSON header stays out of the many translation units that
// use Result but never look inside a problem document.
#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace acmed {

// What kind of failure it was; the CLI maps these to exit codes, and code branches only on these.
enum class Errc {
  usage,          // bad flags or arguments given by the user
  invalid_input,  // a value given by the user is malformed (domain name, e-mail, file content)
  io,             // reading or writing a local file failed
  network,        // connection, DNS, TLS or timeout talking to a remote server (temporary)
  protocol,       // the remote server answered something that is not valid ACME/HTTP
  ca_problem,     // the CA answered with an RFC 7807 problem document
  bad_nonce,      // the CA rejected our nonce (retried internally, never shown)
  rate_limited,   // the CA says slow down (temporary)
  crypto,         // OpenSSL failed or a key/certificate is unusable
  config,         // a configuration file (ours or a web server's) is malformed
  server,         // a web server refused its config or could not be reloaded
  locked,         // another acmed holds the lock
  not_found,      // a named lineage, account or file does not exist
  conflict,       // the request contradicts existing state
  internal,       // a bug: an invariant of our own code did not hold
  interrupted,    // SIGINT, SIGTERM or SIGHUP stopped the run (cleanup done)
};

// Human-readable name of an Errc ("network", "rate_limited", ...).
const char* to_string(Errc code);

// True for failures worth retrying later unchanged (network, rate limiting).
bool is_temporary(Errc code);

struct Error {
  Errc code = Errc::internal;
  std::string message;               // what happened, in plain words, naming the thing involved
  std::string hint;                  // what the user can do next (may be empty)
  std::vector<std::string> context;  // innermost first: "while parsing /etc/nginx/x.conf:41"
  // The CA's RFC 7807 problem document, if any (null otherwise). Shared and immutable so that
  // copying an Error stays cheap; reading it needs <nlohmann/json.hpp>.
  std::shared_ptr<const nlohmann::json> problem;

  Error() = default;
  Error(Errc c, std::string msg, std::string hint_text = {})
      : code(c), message(std::move(msg)), hint(std::move(hint_text)) {}

  // Adds a context frame ("while ..."); returns *this for chaining.
  Error& with_context(std::string frame) & {
    context.push_back(std::move(frame));
    return *this;
  }
  Error&& with_context(std::string frame) && {
    context.push_back(std::move(frame));
    return std::move(*this);
  }

  // One line: "message (while a; while b)", each part through util::printable (escaped, capped).
  // The hint is not included.
  std::string describe() const;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return m_v.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(m_v); }
  const T& value() const& { return std::get<0>(m_v); }
  T&& value() && { return std::get<0>(std::move(m_v)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  Error& error() & { return std::get<1>(m_v); }
  const Error& error() const& { return std::get<1>(m_v); }
  Error&& error() && { return std::get<1>(std::move(m_v)); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> m_v;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : m_error(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return !m_error.has_value(); }
  explicit operator bool() const { return ok(); }
  Error& error() & { return *m_error; }
  const Error& error() const& { return *m_error; }
  Error&& error() && { return std::move(*m_error); }

 private:
  std::optional<Error> m_error;
};

using Status = Result<void>;

inline Status ok_status() { return {}; }

}  // namespace acmed

#define ACMED_CONCAT_INNER(a, b) a##b
#define ACMED_CONCAT(a, b) ACMED_CONCAT_INNER(a, b)

// ACMED_TRY(decl, expr): evaluates expr (a Result<T>); on error returns the Error from the
// enclosing function, otherwise declares `decl` from the value.  ACMED_TRY(auto key, load(path));
#define ACMED_TRY(decl, expr) ACMED_TRY_IMPL(decl, expr, ACMED_CONCAT(acmed_try_, __LINE__))
#define ACMED_TRY_IMPL(decl, expr, tmp)      \
  auto tmp = (expr);                         \
  if (!tmp) return std::move(tmp).error();   \
  decl = std::move(tmp).value()

// ACMED_CHECK(expr): evaluates expr (a Status or Result<T>); on error returns the Error.
#define ACMED_CHECK(expr) ACMED_CHECK_IMPL(expr, ACMED_CONCAT(acmed_check_, __LINE__))
#define ACMED_CHECK_IMPL(expr, tmp)        \
  do {                                     \
    auto tmp = (expr);                     \
    if (!tmp) return std::move(tmp).error(); \
  } while (false)
