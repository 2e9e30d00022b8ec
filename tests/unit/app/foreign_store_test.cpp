// Reading lego's and acme.sh's stores for `acmed migrate`: acme.sh's conf syntax, lego's account
// directory names, the crontab lines that run a client, and how a lego command in cron maps to
// an authenticator. The end-to-end import runs in tests/integration/test_migrate_import.sh.
#include "acmed/app/foreign_store.hpp"
#include "acmed/sys/fs.hpp"
#include "tests/support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace acmed;
using acmed::test::TempDir;

namespace {

std::string value_of(const std::vector<std::pair<std::string, std::string>>& conf,
                     const std::string& key) {
  for (const auto& [k, v] : conf)
    if (k == key) return v;
  return "<absent>";
}

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  REQUIRE(sys::write_file_atomic(path, text).ok());
}

}  // namespace

TEST_CASE("acme.sh conf: quotes dropped, base64-wrapped values decoded, comments skipped") {
  const auto conf = app::parse_acmesh_conf(
      "# a comment\n"
      "Le_Domain='example.com'\n"
      "Le_Alt=\"www.example.com,api.example.com\"\n"
      "Le_HTTPPort=8080\n"
      "Le_ReloadCmd='__ACME_BASE64__START_c3lzdGVtY3RsIHJlbG9hZCBuZ2lueA==__ACME_BASE64__END_'\n"
      "Le_PreHook='__ACME_BASE64__START_!!!__ACME_BASE64__END_'\n"
      "not a setting\n"
      "  Le_Webroot='no'  \n");
  CHECK(value_of(conf, "Le_Domain") == "example.com");
  CHECK(value_of(conf, "Le_Alt") == "www.example.com,api.example.com");
  CHECK(value_of(conf, "Le_HTTPPort") == "8080");
  CHECK(value_of(conf, "Le_ReloadCmd") == "systemctl reload nginx");
  // Not base64 inside the markers: kept as written, never a crash.
  CHECK(value_of(conf, "Le_PreHook") == "__ACME_BASE64__START_!!!__ACME_BASE64__END_");
  CHECK(value_of(conf, "Le_Webroot") == "no");
  CHECK(conf.size() == 6);
}

TEST_CASE("lego files accounts under the CA's host, ':' written '_'") {
  CHECK(app::lego_server_dir("https://acme-v02.api.letsencrypt.org/directory") ==
        "acme-v02.api.letsencrypt.org");
  CHECK(app::lego_server_dir("https://127.0.0.1:14000/dir") == "127.0.0.1_14000");
  CHECK_FALSE(app::lego_server_dir("no-scheme").has_value());
  CHECK_FALSE(app::lego_server_dir("https:///dir").has_value());
}

TEST_CASE("cron entries: active lines that run the program itself, in every system crontab") {
  TempDir root;
  write(root / "etc/crontab", "# 0 1 * * * root lego renew\n0 2 * * * root /usr/bin/lego renew\n");
  write(root / "etc/cron.d/other", "0 3 * * * root legoland --renew\n");
  write(root / "var/spool/cron/crontabs/root",
        "37 0 * * * \"/root/.acme.sh\"/acme.sh --cron --home \"/root/.acme.sh\" > /dev/null\n");
  const auto lego = app::find_cron_entries(root.path(), "lego");
  REQUIRE(lego.size() == 1);
  CHECK(lego[0].file == root / "etc/crontab");
  CHECK(lego[0].line == 2);
  CHECK(lego[0].text == "0 2 * * * root /usr/bin/lego renew");
  const auto acmesh = app::find_cron_entries(root.path(), "acme.sh");
  REQUIRE(acmesh.size() == 1);
  CHECK(acmesh[0].line == 1);
  CHECK(app::find_cron_entries(root / "missing", "lego").empty());
}

TEST_CASE("lego: a store that is not there, and a certificate without its files, are named") {
  TempDir dir;
  CHECK(app::read_lego_store(dir.path(), "", {}).error().code == Errc::not_found);
  write(dir / "certificates/a.test.json", R"({"domain": "a.test"})");
  auto store = app::read_lego_store(dir.path(), "", {});
  REQUIRE(store.ok());
  CHECK(store->lineages.empty());
  REQUIRE(store->notes.size() == 1);
  CHECK(store->notes[0].find("a.test.crt is not imported") != std::string::npos);
}

TEST_CASE("lego: an account of a CA lego names only by host needs --server") {
  TempDir dir;
  write(
      dir / "accounts/ca.example_14000/me@example.com/account.json",
      R"({"email": "me@example.com", "registration": {"body": {}, "uri": "https://ca.example:14000/acct/1"}})");
  auto store = app::read_lego_store(dir.path(), "", {});
  REQUIRE(store.ok());
  CHECK(store->accounts.empty());
  REQUIRE(store->notes.size() == 1);
  CHECK(store->notes[0].find("pass --server URL") != std::string::npos);
  // With --server of that host the account is read (and here its missing key is named).
  store = app::read_lego_store(dir.path(), "https://ca.example:14000/dir", {});
  REQUIRE(store.ok());
  REQUIRE(store->notes.size() == 1);
  CHECK(store->notes[0].find("me@example.com.key") != std::string::npos);
}

TEST_CASE("acme.sh: a home without domain folders or accounts is not a store") {
  TempDir home;
  CHECK(app::read_acmesh_store(home.path(), {}).error().code == Errc::not_found);
}
