#include "acmed/store/account.hpp"

#include "acmed/store/lock.hpp"

#include "acmed/sys/fs.hpp"

#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace acmed::store {

namespace {

using nlohmann::json;

constexpr std::string_view k_tmp_marker = ".acmed-tmp-";

Error bad_url(std::string_view url, const std::string& why) {
  return Error(Errc::invalid_input,
               "'" + std::string(url) + "' is not a usable ACME directory URL: " + why,
               "give the full directory URL, like https://acme-v02.api.letsencrypt.org/directory");
}

// Creates every directory from accounts/ down to `dir` with mode 0700.
Status make_private_dirs(const Paths& paths, const fs::path& dir) {
  ACMED_CHECK(sys::make_dirs(paths.config_dir, 0755));
  fs::path current = paths.accounts_dir();
  ACMED_CHECK(sys::make_dirs(current, 0700));
  for (const auto& part : dir.lexically_relative(paths.accounts_dir())) {
    current /= part;
    ACMED_CHECK(sys::make_dirs(current, 0700));
  }
  return {};
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<json> read_json(const fs::path& file) {
  ACMED_TRY(std::string text, sys::read_file_limited(file, 1 << 20));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Error(Errc::config, file.string() + " is not a JSON object",
                 "restore the file from a backup, or register a new account");
  }
  return j;
}

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

Status write_regr(const fs::path& dir, std::string_view account_url, const json& registration) {
  json regr = {{"body", registration}, {"uri", std::string(account_url)}};
  return sys::write_file_atomic(dir / "regr.json", dump(regr), 0644);
}

// Removes temporary dirs left by an interrupted save of account `id`, best effort. Temporaries of
// other ids are left alone: another process may be saving that account right now.
void remove_temporaries(const fs::path& server_dir, const std::string& id) {
  std::string own = "." + id + std::string(k_tmp_marker);
  std::error_code ec;
  for (fs::directory_iterator it(server_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().starts_with(own)) fs::remove_all(it->path(), ec);
  }
}

// Ids of the complete accounts in `server_dir`, sorted; empty if it does not exist.
Result<std::vector<std::string>> account_ids_in(const fs::path& server_dir) {
  std::vector<std::string> ids;
  std::error_code ec;
  fs::directory_iterator it(server_dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return ids;
  if (ec) return Error(Errc::io, "cannot list " + server_dir.string() + ": " + ec.message());
  for (fs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) return Error(Errc::io, "cannot list " + server_dir.string() + ": " + ec.message());
    std::string name = it->path().filename().string();
    // Only account dirs: skip temporaries and the path segments of other servers below this one.
    if (name.starts_with(".") || !fs::exists(it->path() / "private_key.json", ec)) continue;
    ids.push_back(name);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

Result<fs::path> account_server_dir(const Paths& paths, std::string_view server_url) {
  std::string_view rest = server_url;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return bad_url(server_url, "it does not start with https://");
  }
  rest = rest.substr(0, rest.find_first_of("?#"));
  auto slash = rest.find('/');
  std::string_view host = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (host.empty()) return bad_url(server_url, "it has no host");
  fs::path dir = paths.accounts_dir() / std::string(host);
  // certbot joins host and path as they are; empty segments ("//", a trailing '/') add nothing.
  std::size_t pos = 0;
  while (pos < path.size()) {
    auto next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    std::string_view segment = path.substr(pos, next - pos);
    if (segment == "." || segment == "..") return bad_url(server_url, "its path has '.' or '..'");
    if (!segment.empty()) dir /= std::string(segment);
    pos = next + 1;
  }
  if (host == "." || host == "..") return bad_url(server_url, "its host is '.' or '..'");
  return dir;
}

namespace {

// Where accounts of `server_url` are looked for: its own dir, then (for Let's Encrypt) the dir
// of the ACME v1 endpoint whose accounts certbot lets the v2 endpoint reuse.
Result<std::vector<fs::path>> search_dirs(const Paths& paths, std::string_view server_url) {
  static constexpr std::pair<std::string_view, std::string_view> k_reuse[] = {
      {"acme-v02.api.letsencrypt.org/directory", "acme-v01.api.letsencrypt.org/directory"},
      {"acme-staging-v02.api.letsencrypt.org/directory",
       "acme-staging.api.letsencrypt.org/directory"},
  };
  ACMED_TRY(fs::path dir, account_server_dir(paths, server_url));
  std::vector<fs::path> dirs{dir};
  std::string relative = dir.lexically_relative(paths.accounts_dir()).string();
  for (const auto& [current, previous] : k_reuse) {
    if (relative == current) dirs.push_back(paths.accounts_dir() / std::string(previous));
  }
  return dirs;
}

}  // namespace

Status remove_account_temporaries(const Paths& paths, std::string_view server_url,
                                  std::string_view id) {
  ACMED_TRY(fs::path server_dir, account_server_dir(paths, server_url));
  remove_temporaries(server_dir, std::string(id));
  return ok_status();
}

Result<std::string> save_account(const Paths& paths, std::string_view server_url,
                                 const crypto::PrivateKey& key, std::string_view account_url,
                                 const json& registration, sys::TimePoint now) {
  ACMED_TRY(auto lock, StoreLock::acquire(paths));
  ACMED_TRY(fs::path server_dir, account_server_dir(paths, server_url));
  std::string id = key.certbot_account_id();
  ACMED_CHECK(validate_lineage_name(id));
  fs::path dir = server_dir / id;
  ACMED_CHECK(make_private_dirs(paths, server_dir));
  remove_temporaries(server_dir, id);
  std::error_code ec;
  if (fs::is_directory(dir, ec)) {
    ACMED_CHECK(write_regr(dir, account_url, registration));
    return id;
  }
  std::string tmpl = (server_dir / ("." + id + std::string(k_tmp_marker) + "XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) {
    return Error(Errc::io, "cannot create a directory in " + server_dir.string() + ": " +
                               std::strerror(errno));
  }
  fs::path tmp = tmpl;
  json meta = {{"creation_dt", sys::format_rfc3339(now)},
               {"creation_host", hostname()},
               {"register_to_eff", nullptr}};
  ACMED_CHECK(sys::write_file_atomic(tmp / "private_key.json", dump(key.to_private_jwk()), 0600));
  ACMED_CHECK(write_regr(tmp, account_url, registration));
  ACMED_CHECK(sys::write_file_atomic(tmp / "meta.json", dump(meta), 0644));
  ACMED_CHECK(sys::sync_dir(tmp));
  if (::rename(tmp.c_str(), dir.c_str()) != 0) {
    int err = errno;
    fs::remove_all(tmp, ec);
    return Error(Errc::io, "cannot rename " + tmp.string() + " to " + dir.string() + ": " +
                               std::strerror(err));
  }
  ACMED_CHECK(sys::sync_dir(server_dir));
  return id;
}

Result<std::vector<std::string>> list_accounts(const Paths& paths, std::string_view server_url) {
  ACMED_TRY(auto dirs, search_dirs(paths, server_url));
  std::vector<std::string> ids;
  for (const auto& server_dir : dirs) {
    ACMED_TRY(ids, account_ids_in(server_dir));
    if (!ids.empty()) break;
  }
  return ids;
}

Result<Account> load_account(const Paths& paths, std::string_view server_url, std::string_view id) {
  ACMED_TRY(auto dirs, search_dirs(paths, server_url));
  if (!validate_lineage_name(id)) {
    return Error(Errc::invalid_input, "'" + std::string(id) + "' is not an account id");
  }
  std::error_code ec;
  auto found = std::find_if(dirs.begin(), dirs.end(), [&](const fs::path& d) {
    return fs::is_directory(d / std::string(id), ec);
  });
  if (found == dirs.end()) {
    return Error(Errc::not_found,
                 "no account " + std::string(id) + " for " + std::string(server_url) + " in " +
                     dirs.front().string(),
                 "register one, or check --server and --config-dir");
  }
  fs::path dir = *found / std::string(id);
  ACMED_TRY(json jwk, read_json(dir / "private_key.json"));
  auto key = crypto::PrivateKey::from_private_jwk(jwk);
  if (!key) {
    return std::move(key).error().with_context("while reading " +
                                               (dir / "private_key.json").string());
  }
  ACMED_TRY(json regr, read_json(dir / "regr.json"));
  auto uri = regr.find("uri");
  if (uri == regr.end() || !uri->is_string() || uri->get<std::string>().empty()) {
    return Error(Errc::config, (dir / "regr.json").string() + " has no account \"uri\"",
                 "register a new account");
  }
  AccountMeta meta;
  if (fs::exists(dir / "meta.json", ec)) {
    ACMED_TRY(json m, read_json(dir / "meta.json"));
    if (auto dt = m.find("creation_dt"); dt != m.end() && dt->is_string()) meta.creation_dt = *dt;
    if (auto h = m.find("creation_host"); h != m.end() && h->is_string()) meta.creation_host = *h;
  }
  auto body = regr.find("body");
  return Account{
      std::string(id),        std::string(server_url), dir,
      std::move(key).value(), uri->get<std::string>(), body != regr.end() ? *body : json::object(),
      std::move(meta)};
}

namespace {
constexpr std::string_view k_rollover_key = "rollover_key.json";
}  // namespace

Status save_registration(const Account& account, const json& registration) {
  return write_regr(account.dir, account.url, registration);
}

Status stage_account_key(const Account& account, const crypto::PrivateKey& new_key) {
  ACMED_CHECK(
      sys::write_file_atomic(account.dir / k_rollover_key, dump(new_key.to_private_jwk()), 0600));
  return sys::sync_dir(account.dir);
}

Result<std::optional<crypto::PrivateKey>> staged_account_key(const Account& account) {
  const fs::path file = account.dir / k_rollover_key;
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::optional<crypto::PrivateKey>();
  ACMED_TRY(json jwk, read_json(file));
  auto key = crypto::PrivateKey::from_private_jwk(jwk);
  if (!key) return std::move(key).error().with_context("while reading " + file.string());
  return std::optional<crypto::PrivateKey>(std::move(*key));
}

Status commit_account_key(const Account& account) {
  const fs::path from = account.dir / k_rollover_key;
  const fs::path to = account.dir / "private_key.json";
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Error(Errc::io, "cannot rename " + from.string() + " to " + to.string() + ": " +
                               std::strerror(errno));
  }
  return sys::sync_dir(account.dir);
}

Status discard_staged_account_key(const Account& account) {
  return sys::remove_file(account.dir / k_rollover_key);
}

Status remove_account(const Paths& paths, const Account& account) {
  ACMED_TRY(auto lock, StoreLock::acquire(paths));
  const fs::path parent = account.dir.parent_path();
  const fs::path hidden = parent / ("." + account.id + std::string(k_tmp_marker) + "removed");
  std::error_code ec;
  fs::remove_all(hidden, ec);
  if (::rename(account.dir.c_str(), hidden.c_str()) != 0) {
    return Error(Errc::io, "cannot remove " + account.dir.string() + ": " + std::strerror(errno));
  }
  ACMED_CHECK(sys::sync_dir(parent));
  fs::remove_all(hidden, ec);
  if (ec) {
    return Error(Errc::io, "cannot delete " + hidden.string() + ": " + ec.message());
  }
  return {};
}

}  // namespace acmed::store
