#include "acmed/local/trust_store.hpp"
#include "acmed/util/strings.hpp"

#include "acmed/local/local_ca.hpp"
#include "acmed/sys/fs.hpp"
#include "acmed/sys/lock.hpp"
#include "acmed/util/json.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <system_error>

namespace acmed::local {

namespace {

using nlohmann::json;

constexpr std::chrono::seconds k_tool_timeout{180};

std::string first_line(std::string_view text) {
  auto start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return {};
  text.remove_prefix(start);
  return std::string(text.substr(0, text.find('\n')));
}

// Outcome of running one tool: the result when it exited 0, otherwise a one-line reason.
struct ToolRun {
  bool ok = false;
  std::string why;
};

ToolRun run_tool(sys::ProcessRunner& runner, const std::vector<std::string>& argv) {
  sys::ProcessOptions options;
  options.timeout = k_tool_timeout;
  auto result = runner.run(argv, options);
  std::string name = fs::path(argv.front()).filename().string();
  if (!result) return {false, name + ": " + result.error().message};
  if (result->timed_out)
    return {false, name + " did not finish within " + std::to_string(k_tool_timeout.count()) + "s"};
  if (result->exit_code != 0) {
    std::string why = first_line(result->err);
    if (why.empty()) why = first_line(result->out);
    return {false, name + " exited with status " + std::to_string(result->exit_code) +
                       (why.empty() ? "" : ": " + why)};
  }
  return {true, {}};
}

// True when `dir`, or the nearest ancestor that exists, is writable by this process.
bool writable(const fs::path& dir) {
  std::error_code ec;
  fs::path p = dir;
  while (!fs::exists(p, ec) && p.has_parent_path() && p != p.parent_path()) p = p.parent_path();
  return ::access(p.c_str(), W_OK) == 0;
}

bool is_real_root(const fs::path& root) {
  std::error_code ec;
  return fs::weakly_canonical(root, ec) == fs::path("/");
}

std::string sudo_hint(const Environment& env) {
  return "run `sudo ACMED_LOCAL_CAROOT=" + env.ca_root.string() +
         " acmed local install` to add it there too";
}

// --- the record of what install added -----------------------------------------------------

fs::path record_path(const Environment& env) {
  return env.ca_root / k_install_record_file;
}

// Two record entries name the same place in the same store.
bool same_place(const json& a, const json& b) {
  auto field = [](const json& j, const char* k) { return j.value(k, std::string()); };
  if (field(a, "kind") != field(b, "kind")) return false;
  for (const char* k : {"file", "db", "nickname", "keystore", "alias"}) {
    if (field(a, k) != field(b, k)) return false;
  }
  return true;
}

Result<json> read_record(const Environment& env) {
  fs::path path = record_path(env);
  auto text = sys::read_file_limited(path, 1 << 20);
  if (!text) {
    if (text.error().code == Errc::not_found) return json::array();
    return std::move(text).error();
  }
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("entries") ||
      !doc["entries"].is_array()) {
    return Error(Errc::config, "the install record " + path.string() + " is damaged",
                 "remove it and take the CA out of your trust stores by hand");
  }
  for (const auto& e : doc["entries"]) {
    if (!e.is_object() || !e.contains("kind") || !e["kind"].is_string()) {
      return Error(Errc::config, "the install record " + path.string() + " has a bad entry",
                   "remove it and take the CA out of your trust stores by hand");
    }
  }
  return doc["entries"];
}

Status write_record(const Environment& env, const json& entries) {
  if (entries.empty()) return sys::remove_file(record_path(env));
  json doc = {{"version", 1}, {"entries", entries}};
  ACMED_TRY(std::string text, util::dump_json(doc, "the install record", 2));
  return sys::write_file_atomic(record_path(env), text + "\n", 0600);
}

// One install or uninstall run: the CA, the tools and the record it keeps up to date.
class Session {
 public:
  Session(const Environment& env, sys::ProcessRunner& runner, json entries)
      : m_env(env), m_runner(runner), m_entries(std::move(entries)) {}

  const Environment& env() const { return m_env; }
  sys::ProcessRunner& runner() { return m_runner; }
  json& entries() { return m_entries; }

  bool recorded(const json& entry) const {
    return std::any_of(m_entries.begin(), m_entries.end(),
                       [&](const json& e) { return same_place(e, entry); });
  }
  // Adds `entry` to the record and saves it at once, so a crash later still uninstalls it.
  Status remember(json entry) {
    if (!recorded(entry)) m_entries.push_back(std::move(entry));
    return write_record(m_env, m_entries);
  }
  // Drops `entry` from the record (an addition that was rolled back).
  Status forget(const json& entry) {
    json kept = json::array();
    for (auto& e : m_entries) {
      if (!same_place(e, entry)) kept.push_back(std::move(e));
    }
    m_entries = std::move(kept);
    return write_record(m_env, m_entries);
  }

 private:
  const Environment& m_env;
  sys::ProcessRunner& m_runner;
  json m_entries;
};

// --- Java keystores (keytool) -----------------------------------------------------------

bool java_has_alias(Session& s, const std::string& keytool, const std::string& keystore,
                    const std::string& alias) {
  return run_tool(s.runner(), {keytool, "-list", "-keystore", keystore, "-storepass",
                               k_java_storepass, "-alias", alias})
      .ok;
}

StoreOutcome remove_java(Session& s, const json& entry) {
  std::string keytool = entry.value("keytool", "");
  std::string keystore = entry.value("keystore", "");
  std::string alias = entry.value("alias", "");
  StoreOutcome out{
      "Java keystore " + keystore + " (alias " + alias + ")", StoreAction::removed, {}};
  std::error_code ec;
  if (!fs::exists(keystore, ec)) {
    out.detail = "the keystore is gone";
    return out;
  }
  if (!java_has_alias(s, keytool, keystore, alias)) {
    out.detail = "it was no longer there";
    return out;
  }
  auto run = run_tool(s.runner(), {keytool, "-delete", "-noprompt", "-keystore", keystore,
                                   "-storepass", k_java_storepass, "-alias", alias});
  if (!run.ok) return {out.store, StoreAction::failed, run.why};
  return out;
}

StoreOutcome install_java(Session& s, const LocalCa& ca) {
  const Environment& env = s.env();
  if (env.java_home.empty()) {
    return {"Java keystore", StoreAction::skipped,
            "JAVA_HOME is not set; set it to add the CA to that Java's cacerts"};
  }
  fs::path keytool = env.java_home / "bin" / "keytool";
  std::error_code ec;
  if (!fs::exists(keytool, ec)) {
    return {"Java keystore", StoreAction::skipped,
            "no keytool in JAVA_HOME (" + keytool.string() + ")"};
  }
  fs::path keystore = env.java_home / "lib" / "security" / "cacerts";
  if (!fs::exists(keystore, ec)) keystore = env.java_home / "jre" / "lib" / "security" / "cacerts";
  if (!fs::exists(keystore, ec)) {
    return {"Java keystore", StoreAction::skipped,
            "no cacerts keystore under JAVA_HOME (" + env.java_home.string() + ")"};
  }
  std::string alias = util::ascii_lower("acmed-development-ca-" + ca.serial_hex());
  json entry = {{"kind", "java"},
                {"keytool", keytool.string()},
                {"keystore", keystore.string()},
                {"alias", alias}};
  StoreOutcome out{"Java keystore " + keystore.string(), StoreAction::added, {}};
  if (::access(keystore.c_str(), W_OK) != 0) {
    return {out.store, StoreAction::skipped, "it is not writable by this user; " + sudo_hint(env)};
  }
  if (java_has_alias(s, keytool, keystore, alias)) {
    out.action = StoreAction::already_present;
    return out;
  }
  auto run = run_tool(s.runner(), {keytool.string(), "-importcert", "-noprompt", "-keystore",
                                   keystore.string(), "-storepass", k_java_storepass, "-alias",
                                   alias, "-file", ca.cert_path().string()});
  if (!run.ok) return {out.store, StoreAction::failed, run.why};
  if (auto st = s.remember(entry); !st)
    return {out.store, StoreAction::failed, st.error().describe()};
  return out;
}

// --- the Debian/Ubuntu system store -----------------------------------------------------

fs::path system_local_dir(const fs::path& root) {
  return root / "usr" / "local" / "share" / "ca-certificates";
}
fs::path system_etc_dir(const fs::path& root) {
  return root / "etc" / "ssl" / "certs";
}

std::vector<std::string> update_command(const Environment& env, const fs::path& root) {
  std::vector<std::string> argv{env.update_ca_certificates.string()};
  if (!is_real_root(root)) {
    argv.push_back("--sysroot");
    argv.push_back(root.string());
  }
  return argv;
}

// The body of a PEM certificate, to look for it in the bundle.
std::string pem_body(const std::string& pem) {
  auto begin = pem.find('\n');
  auto end = pem.find("-----END");
  if (begin == std::string::npos || end == std::string::npos || end <= begin) return pem;
  return pem.substr(begin + 1, end - begin - 1);
}

StoreOutcome install_system(Session& s, const LocalCa& ca) {
  const Environment& env = s.env();
  fs::path root = env.system_root;
  std::string stem = "acmed_development_CA_" + ca.serial_hex();
  fs::path file = system_local_dir(root) / (stem + ".crt");
  StoreOutcome out{"system store (" + file.string() + ")", StoreAction::added, {}};
  if (env.update_ca_certificates.empty()) {
    return {"system store", StoreAction::skipped,
            "update-ca-certificates was not found (this is not a Debian/Ubuntu system store)"};
  }
  if (!writable(system_local_dir(root))) {
    return {out.store, StoreAction::skipped,
            "writing to " + system_local_dir(root).string() + " needs root; " + sudo_hint(env)};
  }
  json entry = {{"kind", "system"}, {"file", file.string()}, {"root", root.string()}};
  auto existing = sys::read_file(file);
  bool present = existing && *existing == ca.cert_pem();
  if (present && s.recorded(entry)) {
    out.action = StoreAction::already_present;
    return out;
  }

  // Debian's ca-certificates-java hook copies new system CAs into Java's cacerts as
  // "debian:<name>.pem"; that copy is recorded too so uninstall removes it as well.
  fs::path hook_keystore = root / "etc" / "ssl" / "certs" / "java" / "cacerts";
  std::string hook_alias = "debian:" + stem + ".pem";
  std::error_code ec;
  bool watch_hook = !env.keytool.empty() && fs::exists(hook_keystore, ec) &&
                    !java_has_alias(s, env.keytool.string(), hook_keystore.string(), hook_alias);

  if (!present) {
    if (auto st = sys::make_dirs(system_local_dir(root), 0755); !st) {
      return {out.store, StoreAction::failed, st.error().describe()};
    }
    if (auto st = sys::write_file_atomic(file, ca.cert_pem(), 0644); !st) {
      return {out.store, StoreAction::failed, st.error().describe()};
    }
  }
  // Recorded before running the tool: if anything below fails, uninstall still cleans up.
  bool was_recorded = s.recorded(entry);
  if (auto st = s.remember(entry); !st)
    return {out.store, StoreAction::failed, st.error().describe()};
  auto run = run_tool(s.runner(), update_command(env, root));
  if (!run.ok) {
    // Nothing is left half-installed: the file goes again and the record forgets it.
    if (!present) (void)sys::remove_file(file);
    if (!was_recorded) (void)s.forget(entry);
    return {out.store, StoreAction::failed, run.why};
  }
  auto bundle = sys::read_file(system_etc_dir(root) / "ca-certificates.crt");
  if (!bundle || bundle->find(pem_body(ca.cert_pem())) == std::string::npos) {
    return {out.store, StoreAction::failed,
            "update-ca-certificates ran but " +
                (system_etc_dir(root) / "ca-certificates.crt").string() +
                " does not contain the CA"};
  }
  if (watch_hook && java_has_alias(s, env.keytool.string(), hook_keystore.string(), hook_alias)) {
    json hook_entry = {{"kind", "java"},
                       {"keytool", env.keytool.string()},
                       {"keystore", hook_keystore.string()},
                       {"alias", hook_alias}};
    if (auto st = s.remember(hook_entry); !st) {
      return {out.store, StoreAction::failed, st.error().describe()};
    }
    out.detail = "Debian's Java hook also added it to " + hook_keystore.string();
  }
  return out;
}

StoreOutcome remove_system(Session& s, const json& entry) {
  const Environment& env = s.env();
  fs::path file = entry.value("file", "");
  fs::path root = entry.value("root", "/");
  StoreOutcome out{"system store (" + file.string() + ")", StoreAction::removed, {}};
  if (env.update_ca_certificates.empty()) {
    return {out.store, StoreAction::failed, "update-ca-certificates was not found"};
  }
  if (!writable(file.parent_path())) {
    return {out.store, StoreAction::failed,
            "removing " + file.string() + " needs root; run `sudo ACMED_LOCAL_CAROOT=" +
                env.ca_root.string() + " acmed local uninstall`"};
  }
  if (auto st = sys::remove_file(file); !st)
    return {out.store, StoreAction::failed, st.error().describe()};
  // update-ca-certificates linked <etc>/<stem>.pem to the file and `openssl rehash` linked
  // <hash>.N to that; it only prunes dangling links when something else changed, so the links
  // that point at our certificate are removed here (and nothing else).
  fs::path etc = system_etc_dir(root);
  std::string pem_name = file.stem().string() + ".pem";
  std::error_code ec;
  std::vector<fs::path> links;
  for (const auto& de : fs::directory_iterator(etc, ec)) {
    if (!de.is_symlink(ec)) continue;
    fs::path target = fs::read_symlink(de.path(), ec);
    if (target == file || target == pem_name) links.push_back(de.path());
  }
  std::sort(links.begin(), links.end());
  for (const auto& link : links) {
    if (auto st = sys::remove_file(link); !st)
      return {out.store, StoreAction::failed, st.error().describe()};
  }
  auto run = run_tool(s.runner(), update_command(env, root));
  if (!run.ok) return {out.store, StoreAction::failed, run.why};
  return out;
}

// --- NSS databases (Chromium, Firefox) ------------------------------------------------------

constexpr const char* k_nss_files[] = {"cert9.db", "key4.db", "pkcs11.txt"};

std::string nss_nickname(const LocalCa& ca) {
  return "acmed development CA " + ca.serial_hex();
}

bool nss_has(Session& s, const fs::path& db, const std::string& nickname) {
  return run_tool(s.runner(),
                  {s.env().certutil.string(), "-L", "-d", "sql:" + db.string(), "-n", nickname})
      .ok;
}

// NSS databases of this user: Chromium's shared one (also the snap's), and Firefox profiles.
std::vector<fs::path> nss_databases(const Environment& env) {
  std::vector<fs::path> dbs{env.home / ".pki" / "nssdb"};
  std::error_code ec;
  fs::path snap_chromium = env.home / "snap" / "chromium" / "current" / ".pki" / "nssdb";
  if (fs::exists(snap_chromium / "cert9.db", ec)) dbs.push_back(snap_chromium);
  for (const fs::path& profiles :
       {env.home / ".mozilla" / "firefox",
        env.home / "snap" / "firefox" / "common" / ".mozilla" / "firefox"}) {
    std::vector<fs::path> found;
    for (const auto& de : fs::directory_iterator(profiles, ec)) {
      if (de.is_directory(ec) && fs::exists(de.path() / "cert9.db", ec)) found.push_back(de.path());
    }
    std::sort(found.begin(), found.end());
    dbs.insert(dbs.end(), found.begin(), found.end());
  }
  return dbs;
}

std::vector<StoreOutcome> install_nss(Session& s, const LocalCa& ca) {
  const Environment& env = s.env();
  if (env.certutil.empty()) {
    return {{"NSS databases (Chromium, Firefox)", StoreAction::skipped,
             "certutil was not found; install it (Debian/Ubuntu: apt install libnss3-tools) and "
             "run `acmed local install` again"}};
  }
  std::vector<StoreOutcome> outcomes;
  std::string nickname = nss_nickname(ca);
  for (const fs::path& db : nss_databases(env)) {
    StoreOutcome out{"NSS database " + db.string(), StoreAction::added, {}};
    json entry = {{"kind", "nss"}, {"db", db.string()}, {"nickname", nickname}};
    std::error_code ec;
    json created_dirs = json::array();
    bool created_db = false;
    if (!fs::exists(db / "cert9.db", ec)) {
      // Chromium reads ~/.pki/nssdb once it exists; creating it is what makes Chromium trust the
      // CA on a machine where it never ran.
      for (fs::path p = db; p != env.home && !fs::exists(p, ec); p = p.parent_path()) {
        created_dirs.insert(created_dirs.begin(), p.string());
      }
      if (auto st = sys::make_dirs(db, 0700); !st) {
        outcomes.push_back({out.store, StoreAction::failed, st.error().describe()});
        continue;
      }
      auto run = run_tool(s.runner(), {env.certutil.string(), "-N", "-d", "sql:" + db.string(),
                                       "--empty-password"});
      if (!run.ok) {
        outcomes.push_back({out.store, StoreAction::failed, run.why});
        continue;
      }
      created_db = true;
      out.detail = "created the database";
    }
    if (nss_has(s, db, nickname)) {
      out.action = StoreAction::already_present;
      outcomes.push_back(out);
      continue;
    }
    auto run = run_tool(s.runner(), {env.certutil.string(), "-A", "-d", "sql:" + db.string(), "-t",
                                     "C,,", "-n", nickname, "-i", ca.cert_path().string()});
    if (!run.ok) {
      outcomes.push_back({out.store, StoreAction::failed, run.why});
      continue;
    }
    entry["created_db"] = created_db;
    entry["created_dirs"] = created_dirs;
    if (auto st = s.remember(entry); !st) {
      outcomes.push_back({out.store, StoreAction::failed, st.error().describe()});
      continue;
    }
    outcomes.push_back(out);
  }
  return outcomes;
}

// True when `certutil -L` lists no certificate at all (its output is only the header).
bool nss_is_empty(Session& s, const fs::path& db) {
  sys::ProcessOptions options;
  options.timeout = k_tool_timeout;
  auto result =
      s.runner().run({s.env().certutil.string(), "-L", "-d", "sql:" + db.string()}, options);
  if (!result || result->exit_code != 0) return false;
  const std::string& text = result->out;
  auto header = text.find("SSL,S/MIME,JAR/XPI");
  if (header == std::string::npos) return false;
  return text.find_first_not_of(" \t\r\n", text.find('\n', header)) == std::string::npos;
}

StoreOutcome remove_nss(Session& s, const json& entry) {
  fs::path db = entry.value("db", "");
  std::string nickname = entry.value("nickname", "");
  StoreOutcome out{"NSS database " + db.string(), StoreAction::removed, {}};
  if (s.env().certutil.empty()) {
    return {
        out.store, StoreAction::failed,
        "certutil was not found; install it (apt install libnss3-tools) and run uninstall again"};
  }
  std::error_code ec;
  if (!fs::exists(db / "cert9.db", ec)) {
    out.detail = "the database is gone";
    return out;
  }
  if (nss_has(s, db, nickname)) {
    auto run = run_tool(
        s.runner(), {s.env().certutil.string(), "-D", "-d", "sql:" + db.string(), "-n", nickname});
    if (!run.ok) return {out.store, StoreAction::failed, run.why};
  } else {
    out.detail = "it was no longer there";
  }
  // A database install created is removed again when nothing else has been put in it since.
  if (entry.value("created_db", false) && nss_is_empty(s, db)) {
    for (const char* name : k_nss_files) (void)sys::remove_file(db / name);
    const json& dirs = entry.contains("created_dirs") ? entry["created_dirs"] : json::array();
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
      if (it->is_string()) fs::remove(fs::path(it->get<std::string>()), ec);  // only if empty
    }
    out.detail = "removed the database it had created";
  }
  return out;
}

// --- the CA directory -------------------------------------------------------------------

Status delete_ca_files(const Environment& env) {
  for (const char* name :
       {k_root_key_file, k_root_cert_file, k_install_record_file, ".acmed.lock"}) {
    ACMED_CHECK(sys::remove_file(env.ca_root / name));
  }
  std::error_code ec;
  fs::remove(env.ca_root, ec);  // only when empty: other files there are not ours
  return ok_status();
}

}  // namespace

bool StoreReport::any_failed() const {
  return std::any_of(stores.begin(), stores.end(),
                     [](const StoreOutcome& o) { return o.action == StoreAction::failed; });
}

Result<StoreReport> install(const Environment& env, sys::ProcessRunner& runner,
                            crypto::TimePoint now) {
  ACMED_CHECK(sys::make_dirs(env.ca_root, 0700));
  ACMED_TRY(auto lock, sys::DirLock::acquire(env.ca_root));
  StoreReport report;
  report.ca_root = env.ca_root;
  auto loaded = LocalCa::load(env.ca_root, now);
  if (!loaded && loaded.error().code == Errc::not_found) {
    loaded = LocalCa::create(env.ca_root, env.user_at_host, now);
    report.created_ca = loaded.ok();
  }
  if (!loaded) return std::move(loaded).error();
  const LocalCa& ca = *loaded;
  report.ca_name = ca.info().subject_cn;

  ACMED_TRY(json entries, read_record(env));
  Session session(env, runner, std::move(entries));
  report.stores.push_back(install_system(session, ca));
  for (auto& o : install_nss(session, ca)) report.stores.push_back(std::move(o));
  report.stores.push_back(install_java(session, ca));
  return report;
}

Result<StoreReport> uninstall(const Environment& env, sys::ProcessRunner& runner,
                              DeleteCa delete_ca) {
  std::error_code ec;
  if (!fs::is_directory(env.ca_root, ec)) {
    return Error(Errc::not_found, "there is no local CA in " + env.ca_root.string(),
                 "nothing to uninstall (set ACMED_LOCAL_CAROOT if your CA lives elsewhere)");
  }
  ACMED_TRY(auto lock, sys::DirLock::acquire(env.ca_root));
  StoreReport report;
  report.ca_root = env.ca_root;
  if (auto info = crypto::parse_certificate(
          sys::read_file_limited(env.ca_root / k_root_cert_file, 1 << 20).value_or(""))) {
    report.ca_name = info->subject_cn;
  }
  ACMED_TRY(json entries, read_record(env));
  Session session(env, runner, json::array());
  // Stores are undone in the reverse order of install (the system store's Java copy first).
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    const json& entry = *it;
    std::string kind = entry.value("kind", "");
    StoreOutcome out;
    if (kind == "system") {
      out = remove_system(session, entry);
    } else if (kind == "nss") {
      out = remove_nss(session, entry);
    } else if (kind == "java") {
      out = remove_java(session, entry);
    } else {
      out = {"unknown store '" + kind + "'", StoreAction::failed,
             "left in " + record_path(env).string()};
    }
    if (out.action == StoreAction::failed) {
      session.entries().insert(session.entries().begin(), entry);  // kept, in install order
    }
    report.stores.push_back(std::move(out));
  }
  ACMED_CHECK(write_record(env, session.entries()));
  // The CA is kept while some store still trusts it, so a later uninstall can finish the job.
  if (delete_ca == DeleteCa::yes && !report.any_failed()) {
    ACMED_CHECK(delete_ca_files(env));
    report.deleted_ca = true;
  }
  return report;
}

Result<std::vector<TrustCheck>> trust_status(const Environment& env, sys::ProcessRunner& runner,
                                             crypto::TimePoint now) {
  auto loaded = LocalCa::load(env.ca_root, now);
  if (!loaded) {
    if (loaded.error().code == Errc::not_found) {
      return Error(Errc::not_found, "there is no local CA in " + env.ca_root.string(),
                   "acmed local install creates one and trusts it");
    }
    return std::move(loaded).error();
  }
  const LocalCa& ca = *loaded;
  Session s(env, runner, json::array());
  std::vector<TrustCheck> out;
  // The bundle update-ca-certificates writes is what OpenSSL-based programs trust.
  fs::path bundle = system_etc_dir(env.system_root) / "ca-certificates.crt";
  auto text = sys::read_file_limited(bundle, 64 << 20);
  if (!text) {
    out.push_back(
        {"system store (" + bundle.string() + ")", TrustState::unknown, text.error().message});
  } else {
    bool in = text->find(pem_body(ca.cert_pem())) != std::string::npos;
    out.push_back({"system store (" + bundle.string() + ")",
                   in ? TrustState::trusted : TrustState::missing, ""});
  }
  std::error_code ec;
  if (env.certutil.empty()) {
    out.push_back({"NSS (Chromium, Firefox)", TrustState::unknown,
                   "certutil was not found (apt install libnss3-tools)"});
  } else {
    bool any = false;
    for (const auto& db : nss_databases(env)) {
      if (!fs::exists(db / "cert9.db", ec)) continue;
      any = true;
      out.push_back({"NSS database " + db.string(),
                     nss_has(s, db, nss_nickname(ca)) ? TrustState::trusted : TrustState::missing,
                     ""});
    }
    if (!any) {
      out.push_back({"NSS database " + (env.home / ".pki" / "nssdb").string(), TrustState::missing,
                     "no database yet (Chromium creates it on first run)"});
    }
  }
  if (env.java_home.empty()) {
    out.push_back({"Java keystore", TrustState::unknown, "JAVA_HOME is not set"});
  } else {
    fs::path keytool = env.java_home / "bin" / "keytool";
    fs::path keystore = env.java_home / "lib" / "security" / "cacerts";
    if (!fs::exists(keystore, ec))
      keystore = env.java_home / "jre" / "lib" / "security" / "cacerts";
    if (!fs::exists(keytool, ec) || !fs::exists(keystore, ec)) {
      out.push_back({"Java keystore", TrustState::unknown,
                     "no keytool or cacerts under JAVA_HOME (" + env.java_home.string() + ")"});
    } else {
      std::string alias = util::ascii_lower("acmed-development-ca-" + ca.serial_hex());
      bool in = java_has_alias(s, keytool.string(), keystore.string(), alias);
      out.push_back({"Java keystore " + keystore.string(),
                     in ? TrustState::trusted : TrustState::missing, ""});
    }
  }
  return out;
}

}  // namespace acmed::local
