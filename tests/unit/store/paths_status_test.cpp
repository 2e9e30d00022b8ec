#include "acmed/store/paths.hpp"
#include "acmed/store/status.hpp"
#include "acmed/sys/fs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>


#include <sys/stat.h>

using namespace acmed;
using namespace acmed::store;
using namespace std::chrono_literals;

namespace {

Paths paths_in(const test::TempDir& dir) {
  Paths p;
  p.config_dir = dir / "etc";
  p.work_dir = dir / "lib";
  p.logs_dir = dir / "log";
  return p;
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

sys::TimePoint at(const char* text) {
  sys::TimePoint t;
  REQUIRE(sys::parse_rfc3339(text, t));
  return t;
}

}  // namespace

TEST_CASE("default paths are certbot's") {
  Paths p;
  CHECK(p.config_dir == "/etc/letsencrypt");
  CHECK(p.work_dir == "/var/lib/letsencrypt");
  CHECK(p.logs_dir == "/var/log/letsencrypt");
  CHECK(p.live_dir("a.example") == "/etc/letsencrypt/live/a.example");
  CHECK(p.archive_dir("a.example") == "/etc/letsencrypt/archive/a.example");
  CHECK(p.renewal_conf("a.example") == "/etc/letsencrypt/renewal/a.example.conf");
  CHECK(p.status_file("a.example") == "/var/lib/letsencrypt/acmed/status/a.example.json");
}

TEST_CASE("a new lineage is named after its first domain, with -0001, -0002 on a clash") {
  test::TempDir dir;
  Paths p = paths_in(dir);
  CHECK(*new_lineage_name(p, "a.example") == "a.example");
  REQUIRE(sys::make_dirs(p.renewal_dir()));
  REQUIRE(sys::write_file_atomic(p.renewal_conf("a.example"), "version = 1\n"));
  CHECK(*new_lineage_name(p, "a.example") == "a.example-0001");
  // a leftover live or archive dir also takes the name
  REQUIRE(sys::make_dirs(p.live_dir("a.example-0001")));
  CHECK(*new_lineage_name(p, "a.example") == "a.example-0002");
  REQUIRE(sys::make_dirs(p.archive_dir("a.example-0002")));
  CHECK(*new_lineage_name(p, "a.example") == "a.example-0003");
  CHECK(lineage_exists(p, "a.example-0002"));
  CHECK_FALSE(lineage_exists(p, "a.example-0003"));
}

TEST_CASE("a wildcard lineage is named after the domain below the wildcard") {
  test::TempDir dir;
  CHECK(*new_lineage_name(paths_in(dir), "*.b.example") == "b.example");
}

TEST_CASE("unsafe lineage names are refused") {
  for (const char* bad : {"", "a/b", "..", "a..b", ".hidden", "sp ace", "tab\tx"}) {
    CAPTURE(bad);
    auto st = validate_lineage_name(bad);
    REQUIRE_FALSE(st);
    CHECK(st.error().code == Errc::invalid_input);
  }
  CHECK_FALSE(validate_lineage_name(std::string(201, 'a')));
  CHECK(validate_lineage_name("a.example-0001"));
  test::TempDir dir;
  auto r = new_lineage_name(paths_in(dir), "../etc");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::invalid_input);
}

TEST_CASE("a lineage status survives a save and load, in a private file") {
  test::TempDir dir;
  Paths p = paths_in(dir);
  LineageStatus s;
  s.last_checked = at("2026-11-26T10:00:00Z");
  s.last_renewed = at("2026-10-01T08:30:00Z");
  s.last_attempt = at("2026-11-25T09:00:00Z");
  s.next_due = at("2026-12-20T00:00:00Z");
  s.last_error = "urn:ietf:params:acme:error:rateLimited: too many";
  s.stale_alerted = "AB:CD";
  s.failure_count = 3;
  AriState a;
  a.cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
  a.window_start = at("2026-12-18T00:00:00Z");
  a.window_end = at("2026-12-20T00:00:00Z");
  a.retry_after_until = at("2026-11-26T16:00:00Z");
  a.explanation_url = "https://acme.example/docs/ari";
  a.chosen_time = at("2026-12-19T03:04:05Z");
  s.ari = a;
  CertCache c;
  c.file = sys::FileStamp{2049, 1234567, 1289, 1795745286039172208, 1795745286039172999};
  c.info.subject_cn = "a.example";
  c.info.issuer_cn = "Pebble Intermediate CA 1";
  c.info.dns_names = {"a.example", "www.a.example"};
  c.info.ips = {"192.0.2.1"};
  c.info.not_before = at("2026-11-01T00:00:00Z");
  c.info.not_after = at("2027-01-30T00:00:00Z");
  c.info.serial = std::string("\x00\x87\x65\x43\x21", 5);
  c.info.authority_key_id = std::string(20, '\xab');
  c.info.sha256_fingerprint = std::string(64, 'c');
  s.cert = c;
  REQUIRE(save_status(p, "a.example", s));
  auto back = load_status(p, "a.example");
  REQUIRE(back);
  CHECK(*back == s);
  CHECK(mode_of(p.status_file("a.example")) == 0600);
  CHECK(mode_of(p.status_dir()) == 0700);
  auto json = nlohmann::json::parse(*sys::read_file(p.status_file("a.example")));
  CHECK(json["format"] == 1);
  CHECK(json["ari"]["window_start"] == "2026-12-18T00:00:00Z");
  CHECK(json["next_due"] == "2026-12-20T00:00:00Z");
}

TEST_CASE("a missing status file is an empty history, absent times are left out") {
  test::TempDir dir;
  Paths p = paths_in(dir);
  auto s = load_status(p, "never.example");
  REQUIRE(s);
  CHECK(*s == LineageStatus{});
  REQUIRE(save_status(p, "never.example", LineageStatus{}));
  auto json = nlohmann::json::parse(*sys::read_file(p.status_file("never.example")));
  CHECK_FALSE(json.contains("last_checked"));
  CHECK_FALSE(json.contains("ari"));
  CHECK(*load_status(p, "never.example") == LineageStatus{});
}

TEST_CASE("a corrupt status file is a config error naming the file") {
  test::TempDir dir;
  Paths p = paths_in(dir);
  REQUIRE(sys::make_dirs(p.status_dir()));
  for (const char* bad :
       {"{not json", "[1,2]", R"({"last_checked": "yesterday"})", R"({"failure_count": -1})",
        R"({"ari": 5})", R"({"last_error": 7})", R"({"ari": {"window_end": 12}})",
        R"({"cert": 3})", R"({"cert": {"not_before": "2026-11-01T00:00:00Z"}})",
        R"({"cert": {"file": {"dev": 1, "ino": 2, "size": 3, "mtime_ns": 4, "ctime_ns": 5}}})",
        R"({"cert": {"file": {"dev": "x"}, "not_before": "2026-11-01T00:00:00Z"}})",
        R"({"cert": {"file": {"dev": 1, "ino": 2, "size": 3, "mtime_ns": 4, "ctime_ns": 5},
            "not_before": "2026-11-01T00:00:00Z", "not_after": "2027-01-01T00:00:00Z",
            "serial": "not base64!"}})"}) {
    CAPTURE(bad);
    REQUIRE(sys::write_file_atomic(p.status_file("c.example"), bad));
    auto s = load_status(p, "c.example");
    REQUIRE_FALSE(s);
    CHECK(s.error().code == Errc::config);
    CHECK(s.error().message.find(p.status_file("c.example").string()) != std::string::npos);
  }
}

TEST_CASE("status of an unsafe lineage name is refused before touching the disk") {
  test::TempDir dir;
  Paths p = paths_in(dir);
  CHECK_FALSE(save_status(p, "../x", LineageStatus{}));
  CHECK_FALSE(load_status(p, "../x"));
  CHECK_FALSE(fs::exists(p.work_dir));
}

TEST_CASE("check times: merged across runs, later times win, long-unchecked names dropped") {
  test::TempDir dir;
  Paths p = paths_in(dir);
  auto none = load_check_times(p);
  REQUIRE(none);
  CHECK(none->empty());
  REQUIRE(record_check_times(p, {{"a", at("2026-11-26T10:00:00Z")}, {"b", at("2026-11-26T10:00:00Z")}}));
  // a run over "a" only (another config dir sharing the work dir keeps "b"), then an older time
  REQUIRE(record_check_times(p, {{"a", at("2026-11-26T22:00:00Z")}}));
  REQUIRE(record_check_times(p, {{"b", at("2026-11-26T09:00:00Z")}}));
  auto times = load_check_times(p);
  REQUIRE(times);
  CHECK(times->at("a") == at("2026-11-26T22:00:00Z"));
  CHECK(times->at("b") == at("2026-11-26T10:00:00Z"));  // earlier time does not win
  CHECK(mode_of(p.work_dir / "acmed" / "checked.json") == 0600);
  // 91 days later "b" (deleted meanwhile, never checked again) is forgotten
  REQUIRE(record_check_times(p, {{"a", at("2027-02-25T10:00:00Z")}}));
  times = load_check_times(p);
  REQUIRE(times);
  CHECK(times->size() == 1);
  CHECK(times->count("a") == 1);
}

TEST_CASE("load_status folds the check time in when it is later than the file's own") {
  test::TempDir dir;
  Paths p = paths_in(dir);
  CheckTimes times{{"a", at("2026-11-26T22:00:00Z")}};
  LineageStatus s;
  s.last_checked = at("2026-11-26T08:00:00Z");
  REQUIRE(save_status(p, "a", s));
  auto merged = load_status(p, "a", times);
  REQUIRE(merged);
  CHECK(merged->last_checked == at("2026-11-26T22:00:00Z"));
  s.last_checked = at("2026-11-27T00:00:00Z");
  REQUIRE(save_status(p, "a", s));
  merged = load_status(p, "a", times);
  REQUIRE(merged);
  CHECK(merged->last_checked == at("2026-11-27T00:00:00Z"));
}

TEST_CASE("a broken check-times file is a config error, and the next record replaces it") {
  test::TempDir dir;
  Paths p = paths_in(dir);
  REQUIRE(sys::make_dirs(p.work_dir / "acmed"));
  for (const char* bad : {"{nope", "[]", R"({"checked": 1})", R"({"checked": {"a": "noon"}})"}) {
    CAPTURE(bad);
    REQUIRE(sys::write_file_atomic(p.work_dir / "acmed" / "checked.json", bad));
    auto t = load_check_times(p);
    REQUIRE_FALSE(t);
    CHECK(t.error().code == Errc::config);
    CHECK(t.error().message.find("checked.json") != std::string::npos);
  }
  REQUIRE(record_check_times(p, {{"a", at("2026-11-26T10:00:00Z")}}));
  auto t = load_check_times(p);
  REQUIRE(t);
  CHECK(t->size() == 1);
}

TEST_CASE("a check-times file that cannot be read is kept, not overwritten") {
  test::TempDir dir;
  Paths p = paths_in(dir);
  REQUIRE(record_check_times(p, {{"a", at("2026-11-26T10:00:00Z")}}));
  fs::path file = p.work_dir / "acmed" / "checked.json";
  std::string before = sys::read_file(file).value_or("");
  // a directory where the file should be: reading fails with an I/O error, not a parse error
  fs::remove(file);
  fs::create_directory(file);
  auto r = record_check_times(p, {{"b", at("2026-11-26T11:00:00Z")}});
  REQUIRE_FALSE(r);
  CHECK(r.error().code != Errc::config);
  CHECK(fs::is_directory(file));
}
