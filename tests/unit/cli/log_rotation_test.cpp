// certbot's log rotation: a new letsencrypt.log each run, --max-log-backups old ones.
#include "cli/logging.hpp"
#include "acmed/sys/fs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

using namespace acmed;
namespace fs = std::filesystem;

namespace {
std::string text(const fs::path& p) { return sys::read_file(p).value_or("<missing>"); }
}  // namespace

TEST_CASE("each run moves letsencrypt.log to .1, .1 to .2 ..., and keeps at most N backups") {
  test::TempDir dir;
  fs::path log = dir / "letsencrypt.log";
  for (int run = 1; run <= 4; ++run) {
    cli::rotate_run_logs(log, 2);
    REQUIRE(sys::write_file_atomic(log, "run " + std::to_string(run), 0666));
  }
  CHECK(text(log) == "run 4");
  CHECK(text(dir / "letsencrypt.log.1") == "run 3");
  CHECK(text(dir / "letsencrypt.log.2") == "run 2");
  CHECK(!fs::exists(dir / "letsencrypt.log.3"));
  struct stat st {};
  REQUIRE(::stat((dir / "letsencrypt.log.1").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("--max-log-backups 0 keeps appending to one file") {
  test::TempDir dir;
  fs::path log = dir / "letsencrypt.log";
  REQUIRE(sys::write_file_atomic(log, "old", 0600));
  cli::rotate_run_logs(log, 0);
  CHECK(text(log) == "old");
  CHECK(!fs::exists(dir / "letsencrypt.log.1"));
}
