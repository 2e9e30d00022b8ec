#include "acmed/local/trust_store.hpp"
#include "acmed/local/local_ca.hpp"
#include "local_test_util.hpp"
#include "support/skip.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>

using namespace acmed;
namespace fs = std::filesystem;

namespace {

// A scratch Debian system store holding one unrelated CA, so update-ca-certificates behaves as
// on a real system (it only rewrites the bundle when there is something to put in it).
void make_system_store(const local::Environment& env, const test::TempDir& dir) {
  auto other = local::LocalCa::create(dir / "other-ca", "someone@else", test::now_seconds());
  REQUIRE(other.ok());
  auto root = env.system_root;
  fs::create_directories(root / "usr/share/ca-certificates/test");
  fs::create_directories(root / "usr/local/share/ca-certificates");
  fs::create_directories(root / "etc/ssl/certs");
  REQUIRE(
      sys::write_file_atomic(root / "usr/share/ca-certificates/test/other.crt", other->cert_pem()));
  REQUIRE(sys::write_file_atomic(root / "etc/ca-certificates.conf", "test/other.crt\n"));
  REQUIRE(test::run({env.update_ca_certificates.string(), "--sysroot", root.string()}).exit_code ==
          0);
}

std::string bundle(const local::Environment& env) {
  return sys::read_file(env.system_root / "etc/ssl/certs/ca-certificates.crt").value_or("");
}

bool in_bundle(const local::Environment& env, const std::string& pem) {
  auto body = pem.substr(pem.find('\n') + 1, 64);
  return bundle(env).find(body) != std::string::npos;
}

bool nss_has(const fs::path& db, const std::string& nickname) {
  return test::run({"certutil", "-L", "-d", "sql:" + db.string(), "-n", nickname}).exit_code == 0;
}

const local::StoreOutcome* find_store(const local::StoreReport& report, const std::string& prefix) {
  for (const auto& o : report.stores) {
    if (o.store.rfind(prefix, 0) == 0) return &o;
  }
  return nullptr;
}

// True when certutil and update-ca-certificates are installed; otherwise the test is skipped
// (support/skip.hpp: the binary exits 77 and CI fails).
bool tools_present() { return test::have_programs({"certutil", "update-ca-certificates"}); }

// Fails every run of one program; runs everything else for real.
class FailingRunner final : public sys::ProcessRunner {
 public:
  FailingRunner(std::string program, std::string option)
      : m_program(std::move(program)), m_option(std::move(option)) {}
  Result<sys::ProcessResult> run(const std::vector<std::string>& argv,
                                 const sys::ProcessOptions& options) override {
    if (fs::path(argv.front()).filename() == m_program &&
        std::find(argv.begin(), argv.end(), m_option) != argv.end()) {
      sys::ProcessResult r;
      r.exit_code = 255;
      r.err = "simulated failure\n";
      return r;
    }
    return sys::run_process(argv, options);
  }

 private:
  std::string m_program;
  std::string m_option;
};

}  // namespace

TEST_CASE("install trusts the CA in the system store and NSS; uninstall restores both exactly") {
  if (!tools_present()) return;
  test::TempDir dir;
  auto env = test::scratch_env(dir);
  make_system_store(env, dir);
  sys::RealProcessRunner runner;
  auto home_before = test::snapshot(env.home);
  auto system_before = test::snapshot(env.system_root);

  auto report = local::install(env, runner, test::now_seconds());
  REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.error().describe()));
  CHECK(report->created_ca);
  CHECK_FALSE(report->any_failed());
  CHECK(report->ca_name == "acmed development CA tester@testhost");
  auto ca = local::LocalCa::load(env.ca_root, test::now_seconds());
  REQUIRE(ca.ok());

  // system store: the file, the bundle, and openssl's hashed link
  auto crt = env.system_root / "usr/local/share/ca-certificates" /
             ("acmed_development_CA_" + ca->serial_hex() + ".crt");
  CHECK(sys::read_file(crt).value_or("") == ca->cert_pem());
  CHECK(in_bundle(env, ca->cert_pem()));
  auto sys_outcome = find_store(*report, "system store");
  REQUIRE(sys_outcome);
  CHECK(sys_outcome->action == local::StoreAction::added);

  // NSS: ~/.pki/nssdb was created and trusts the CA
  auto db = env.home / ".pki" / "nssdb";
  std::string nickname = "acmed development CA " + ca->serial_hex();
  CHECK(nss_has(db, nickname));
  auto trust = test::run({"certutil", "-L", "-d", "sql:" + db.string()}).out;
  CHECK(trust.find("C,,") != std::string::npos);

  // Java: no JAVA_HOME here
  auto java = find_store(*report, "Java keystore");
  REQUIRE(java);
  CHECK(java->action == local::StoreAction::skipped);
  CHECK(java->detail.find("JAVA_HOME") != std::string::npos);

  // the record names exactly those two places
  auto record = nlohmann::json::parse(*sys::read_file(env.ca_root / "installed.json"));
  REQUIRE(record["entries"].size() == 2);
  CHECK(record["entries"][0]["kind"] == "system");
  CHECK(record["entries"][1]["kind"] == "nss");

  // a second install changes nothing
  auto system_installed = test::snapshot(env.system_root);
  auto again = local::install(env, runner, test::now_seconds());
  REQUIRE(again.ok());
  CHECK_FALSE(again->created_ca);
  CHECK(find_store(*again, "system store")->action == local::StoreAction::already_present);
  CHECK(find_store(*again, "NSS database")->action == local::StoreAction::already_present);
  CHECK(test::snapshot(env.system_root) == system_installed);

  auto removed = local::uninstall(env, runner, local::DeleteCa::no);
  REQUIRE(removed.ok());
  CHECK_FALSE(removed->any_failed());
  CHECK(removed->stores.size() == 2);
  for (const auto& o : removed->stores) CHECK(o.action == local::StoreAction::removed);
  CHECK_FALSE(in_bundle(env, ca->cert_pem()));
  CHECK(test::snapshot(env.system_root) == system_before);
  CHECK(test::snapshot(env.home) == home_before);  // the NSS db install created is gone too
  // the CA stays, the record is gone
  CHECK(fs::exists(env.ca_root / "rootCA.pem"));
  CHECK(fs::exists(env.ca_root / "rootCA-key.pem"));
  CHECK_FALSE(fs::exists(env.ca_root / "installed.json"));
}

TEST_CASE("uninstall leaves an NSS database that existed before, minus the CA, and other certs") {
  if (!tools_present()) return;
  test::TempDir dir;
  auto env = test::scratch_env(dir);
  env.update_ca_certificates.clear();  // this test is about NSS only
  sys::RealProcessRunner runner;
  auto db = env.home / ".pki" / "nssdb";
  auto profile = env.home / ".mozilla" / "firefox" / "abcd.default-release";
  for (const auto& d : {db, profile}) {
    fs::create_directories(d);
    REQUIRE(
        test::run({"certutil", "-N", "-d", "sql:" + d.string(), "--empty-password"}).exit_code ==
        0);
  }
  // someone else's CA in Chromium's db must survive
  auto other = local::LocalCa::create(dir / "other", "x@y", test::now_seconds());
  REQUIRE(other.ok());
  REQUIRE(test::run({"certutil", "-A", "-d", "sql:" + db.string(), "-t", "C,,", "-n", "other", "-i",
                     (dir / "other" / "rootCA.pem").string()})
              .exit_code == 0);

  auto report = local::install(env, runner, test::now_seconds());
  REQUIRE(report.ok());
  auto ca = local::LocalCa::load(env.ca_root, test::now_seconds());
  REQUIRE(ca.ok());
  std::string nickname = "acmed development CA " + ca->serial_hex();
  CHECK(nss_has(db, nickname));
  CHECK(nss_has(profile, nickname));
  auto firefox = find_store(*report, "NSS database " + profile.string());
  REQUIRE(firefox);
  CHECK(firefox->action == local::StoreAction::added);
  auto system = find_store(*report, "system store");
  REQUIRE(system);
  CHECK(system->action == local::StoreAction::skipped);
  CHECK(system->detail.find("update-ca-certificates") != std::string::npos);

  auto removed = local::uninstall(env, runner, local::DeleteCa::no);
  REQUIRE(removed.ok());
  CHECK_FALSE(removed->any_failed());
  CHECK_FALSE(nss_has(db, nickname));
  CHECK_FALSE(nss_has(profile, nickname));
  CHECK(nss_has(db, "other"));
  CHECK(fs::exists(db / "cert9.db"));
  CHECK(fs::exists(profile / "cert9.db"));
}

TEST_CASE("without certutil the NSS databases are skipped with a hint to install libnss3-tools") {
  test::TempDir dir;
  auto env = test::scratch_env(dir);
  env.certutil.clear();
  env.update_ca_certificates.clear();
  sys::RealProcessRunner runner;
  auto report = local::install(env, runner, test::now_seconds());
  REQUIRE(report.ok());
  auto nss = find_store(*report, "NSS databases");
  REQUIRE(nss);
  CHECK(nss->action == local::StoreAction::skipped);
  CHECK(nss->detail.find("libnss3-tools") != std::string::npos);
  CHECK_FALSE(fs::exists(env.home / ".pki"));
  CHECK_FALSE(fs::exists(env.ca_root / "installed.json"));
}

TEST_CASE("a failing store is reported, the others are still installed, and only they recorded") {
  if (!tools_present()) return;
  test::TempDir dir;
  auto env = test::scratch_env(dir);
  make_system_store(env, dir);
  FailingRunner runner("certutil", "-A");
  auto report = local::install(env, runner, test::now_seconds());
  REQUIRE(report.ok());
  CHECK(report->any_failed());
  auto nss = find_store(*report, "NSS database");
  REQUIRE(nss);
  CHECK(nss->action == local::StoreAction::failed);
  CHECK(nss->detail.find("simulated failure") != std::string::npos);
  CHECK(find_store(*report, "system store")->action == local::StoreAction::added);
  auto record = nlohmann::json::parse(*sys::read_file(env.ca_root / "installed.json"));
  REQUIRE(record["entries"].size() == 1);
  CHECK(record["entries"][0]["kind"] == "system");

  sys::RealProcessRunner real;
  auto removed = local::uninstall(env, real, local::DeleteCa::yes);
  REQUIRE(removed.ok());
  CHECK(removed->deleted_ca);
  CHECK_FALSE(fs::exists(env.ca_root));
}

TEST_CASE("a failed removal keeps the record and the CA, so uninstall can be run again") {
  if (!tools_present()) return;
  test::TempDir dir;
  auto env = test::scratch_env(dir);
  env.update_ca_certificates.clear();
  sys::RealProcessRunner real;
  REQUIRE(local::install(env, real, test::now_seconds()).ok());
  auto record_before = *sys::read_file(env.ca_root / "installed.json");

  FailingRunner failing("certutil", "-D");
  auto removed = local::uninstall(env, failing, local::DeleteCa::yes);
  REQUIRE(removed.ok());
  CHECK(removed->any_failed());
  CHECK_FALSE(removed->deleted_ca);
  CHECK(fs::exists(env.ca_root / "rootCA.pem"));
  CHECK(*sys::read_file(env.ca_root / "installed.json") == record_before);

  auto retry = local::uninstall(env, real, local::DeleteCa::yes);
  REQUIRE(retry.ok());
  CHECK_FALSE(retry->any_failed());
  CHECK(retry->deleted_ca);
  CHECK_FALSE(fs::exists(env.ca_root));
  CHECK_FALSE(fs::exists(env.home / ".pki"));
}

TEST_CASE("install refuses a damaged CA and touches no store") {
  test::TempDir dir;
  auto env = test::scratch_env(dir);
  fs::create_directories(env.ca_root);
  REQUIRE(sys::write_file_atomic(env.ca_root / "rootCA.pem", "garbage"));
  REQUIRE(sys::write_file_atomic(env.ca_root / "rootCA-key.pem", "garbage", 0600));
  sys::RealProcessRunner runner;
  auto report = local::install(env, runner, test::now_seconds());
  REQUIRE_FALSE(report.ok());
  CHECK(report.error().code == Errc::config);
  CHECK(report.error().message.find("rootCA.pem") != std::string::npos);
  CHECK_FALSE(fs::exists(env.home / ".pki"));
  CHECK(*sys::read_file(env.ca_root / "rootCA.pem") == "garbage");
}

TEST_CASE("a damaged install record is an error, not a silent fresh start") {
  test::TempDir dir;
  auto env = test::scratch_env(dir);
  env.certutil.clear();
  env.update_ca_certificates.clear();
  sys::RealProcessRunner runner;
  REQUIRE(local::install(env, runner, test::now_seconds()).ok());
  REQUIRE(sys::write_file_atomic(env.ca_root / "installed.json", "{not json"));
  auto removed = local::uninstall(env, runner, local::DeleteCa::yes);
  REQUIRE_FALSE(removed.ok());
  CHECK(removed.error().code == Errc::config);
  CHECK(removed.error().message.find("installed.json") != std::string::npos);
  CHECK(fs::exists(env.ca_root / "rootCA.pem"));
}

TEST_CASE("uninstall without a CA directory says there is nothing to uninstall") {
  test::TempDir dir;
  auto env = test::scratch_env(dir);
  sys::RealProcessRunner runner;
  auto removed = local::uninstall(env, runner, local::DeleteCa::no);
  REQUIRE_FALSE(removed.ok());
  CHECK(removed.error().code == Errc::not_found);
}

TEST_CASE("install adds the CA to the keystore of $JAVA_HOME and uninstall removes it") {
  if (!test::have_programs({"keytool"})) return;
  auto keytool = sys::find_in_path("keytool");
  test::TempDir dir;
  auto env = test::scratch_env(dir);
  env.certutil.clear();
  env.update_ca_certificates.clear();
  // A scratch JDK layout: the real keytool, and a cacerts keystore with one unrelated entry.
  env.java_home = dir / "jdk";
  fs::create_directories(env.java_home / "bin");
  fs::create_directories(env.java_home / "lib" / "security");
  fs::create_symlink(fs::canonical(keytool), env.java_home / "bin" / "keytool");
  auto other = local::LocalCa::create(dir / "other", "x@y", test::now_seconds());
  REQUIRE(other.ok());
  auto cacerts = (env.java_home / "lib" / "security" / "cacerts").string();
  REQUIRE(
      test::run({keytool, "-importcert", "-noprompt", "-keystore", cacerts, "-storepass",
                 "changeit", "-alias", "other", "-file", (dir / "other" / "rootCA.pem").string()})
          .exit_code == 0);

  sys::RealProcessRunner runner;
  auto report = local::install(env, runner, test::now_seconds());
  REQUIRE(report.ok());
  auto java = find_store(*report, "Java keystore");
  REQUIRE(java);
  CHECK(java->action == local::StoreAction::added);
  auto list = test::run({keytool, "-list", "-keystore", cacerts, "-storepass", "changeit"}).out;
  CHECK(list.find("acmed-development-ca-") != std::string::npos);
  CHECK(list.find("other") != std::string::npos);

  auto removed = local::uninstall(env, runner, local::DeleteCa::no);
  REQUIRE(removed.ok());
  CHECK_FALSE(removed->any_failed());
  list = test::run({keytool, "-list", "-keystore", cacerts, "-storepass", "changeit"}).out;
  CHECK(list.find("acmed-development-ca-") == std::string::npos);
  CHECK(list.find("other") != std::string::npos);
}

TEST_CASE("when update-ca-certificates fails the system store is left as it was") {
  if (!tools_present()) return;
  test::TempDir dir;
  auto env = test::scratch_env(dir);
  env.certutil.clear();
  make_system_store(env, dir);
  auto before = test::snapshot(env.system_root);
  FailingRunner runner("update-ca-certificates", env.update_ca_certificates.string());
  auto report = local::install(env, runner, test::now_seconds());
  REQUIRE(report.ok());
  auto system = find_store(*report, "system store");
  REQUIRE(system);
  CHECK(system->action == local::StoreAction::failed);
  CHECK(test::snapshot(env.system_root) == before);
  CHECK_FALSE(fs::exists(env.ca_root / "installed.json"));
}
