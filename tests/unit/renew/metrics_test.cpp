#include "acmed/renew/metrics.hpp"

#include "acmed/store/status.hpp"
#include "acmed/sys/fs.hpp"
#include "fixtures.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

using namespace acmed;
namespace fs = std::filesystem;

namespace {

std::string unix_seconds(sys::TimePoint t) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("metrics: every lineage's certificate times and renewal history, and the run's totals") {
  test::TempDir dir;
  store::Paths paths{dir / "etc", dir / "work", dir / "logs"};
  test::LineageSpec a;
  a.names = {"a.test"};
  a.age = std::chrono::hours(24 * 10);
  test::make_lineage(paths, "a", a);
  test::LineageSpec b = a;
  b.names = {"b.test"};
  test::make_lineage(paths, "b", b);
  sys::TimePoint now = test::test_now();
  store::LineageStatus st;
  st.last_attempt = now - std::chrono::hours(1);
  st.last_renewed = now - std::chrono::hours(24 * 40);
  st.next_due = now + std::chrono::hours(2);
  st.failure_count = 3;
  st.last_error = "boom";
  REQUIRE(store::save_status(paths, "b", st));
  REQUIRE(store::record_check_times(paths, {{"a", now}, {"b", now}}));

  auto lineages = renew::collect_lineage_metrics(paths);
  REQUIRE(lineages);
  REQUIRE(lineages->size() == 2);
  renew::RunSummary summary;
  summary.started = now;
  summary.finished = now + std::chrono::milliseconds(1500);
  summary.lineages.resize(2);
  summary.lineages[0].outcome = renew::Outcome::not_due;
  summary.lineages[1].outcome = renew::Outcome::failed;
  std::string text = renew::render_metrics(*lineages, summary);

  sys::TimePoint nb = now - std::chrono::hours(24 * 10);
  sys::TimePoint na = nb + std::chrono::hours(24 * 90);
  CHECK(has_line(text, "# TYPE acmed_certificate_expiry_timestamp_seconds gauge"));
  CHECK(has_line(text,
                 "acmed_certificate_expiry_timestamp_seconds{lineage=\"a\"} " + unix_seconds(na)));
  CHECK(has_line(
      text, "acmed_certificate_not_before_timestamp_seconds{lineage=\"b\"} " + unix_seconds(nb)));
  CHECK(has_line(text,
                 "acmed_renewal_last_check_timestamp_seconds{lineage=\"a\"} " + unix_seconds(now)));
  CHECK(has_line(text, "acmed_renewal_last_attempt_timestamp_seconds{lineage=\"b\"} " +
                           unix_seconds(*st.last_attempt)));
  CHECK(text.find("acmed_renewal_last_attempt_timestamp_seconds{lineage=\"a\"}") ==
        std::string::npos);
  CHECK(has_line(text, "acmed_renewal_last_success_timestamp_seconds{lineage=\"b\"} " +
                           unix_seconds(*st.last_renewed)));
  CHECK(has_line(text, "acmed_renewal_consecutive_failures{lineage=\"a\"} 0"));
  CHECK(has_line(text, "acmed_renewal_consecutive_failures{lineage=\"b\"} 3"));
  CHECK(has_line(text, "acmed_renewal_next_due_timestamp_seconds{lineage=\"b\"} " +
                           unix_seconds(*st.next_due)));
  CHECK(has_line(text, "acmed_renew_last_run_timestamp_seconds " + unix_seconds(summary.finished)));
  CHECK(has_line(text, "acmed_renew_last_run_duration_seconds 1.500"));
  CHECK(has_line(text, "acmed_renew_last_run_success 0"));
  CHECK(has_line(text, "acmed_renew_last_run_lineages{outcome=\"not_due\"} 1"));
  CHECK(has_line(text, "acmed_renew_last_run_lineages{outcome=\"failed\"} 1"));
  CHECK(has_line(text, "acmed_renew_last_run_lineages{outcome=\"renewed\"} 0"));
}

TEST_CASE(
    "metrics: a lineage whose certificate is unreadable is listed without certificate times") {
  test::TempDir dir;
  store::Paths paths{dir / "etc", dir / "work", dir / "logs"};
  test::make_lineage(paths, "a");
  fs::path cert = fs::read_symlink(paths.live_dir("a") / "cert.pem");
  REQUIRE(sys::write_file_atomic(paths.live_dir("a") / cert, "not a certificate\n"));
  auto lineages = renew::collect_lineage_metrics(paths);
  REQUIRE(lineages);
  REQUIRE(lineages->size() == 1);
  std::string text = renew::render_metrics(*lineages, renew::RunSummary{});
  CHECK(text.find("acmed_certificate_expiry_timestamp_seconds{") == std::string::npos);
  CHECK(has_line(text, "acmed_renewal_consecutive_failures{lineage=\"a\"} 0"));
}

TEST_CASE("metrics: the file is replaced atomically and readable by the exporter (0644)") {
  test::TempDir dir;
  store::Paths paths{dir / "etc", dir / "work", dir / "logs"};
  test::make_lineage(paths, "a");
  fs::path file = dir / "acmed.prom";
  REQUIRE(sys::write_file_atomic(file, "old\n", 0600));
  REQUIRE(renew::write_metrics_file(file, paths, renew::RunSummary{}));
  auto text = sys::read_file(file);
  REQUIRE(text);
  CHECK(text->find("acmed_certificate_expiry_timestamp_seconds{lineage=\"a\"}") !=
        std::string::npos);
  struct stat sb {};
  REQUIRE(::stat(file.c_str(), &sb) == 0);
  CHECK((sb.st_mode & 07777) == 0644);
  CHECK_FALSE(renew::write_metrics_file(dir / "missing" / "x.prom", paths, renew::RunSummary{}));
}
