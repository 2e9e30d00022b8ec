#include "acmed/sys/fs.hpp"
#include "acmed/sys/lock.hpp"
#include "acmed/sys/process.hpp"
#include "acmed/sys/clock.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

using namespace acmed;
namespace fs = std::filesystem;

TEST_CASE("an atomic write replaces the content and applies the requested mode") {
  test::TempDir dir;
  auto path = dir / "key.pem";
  REQUIRE(sys::write_file_atomic(path, "old", 0644));
  REQUIRE(sys::write_file_atomic(path, "new secret", 0600));
  CHECK(*sys::read_file(path) == "new secret");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  // no temp file is left behind
  int entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);
}

TEST_CASE("create_file_atomic makes a new file with its mode and never replaces one") {
  test::TempDir dir;
  auto path = dir / "fleet.key";
  REQUIRE(sys::create_file_atomic(path, "first", 0600));
  CHECK(*sys::read_file(path) == "first");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  auto again = sys::create_file_atomic(path, "second", 0600);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == Errc::conflict);
  CHECK(again.error().message.find(path.string()) != std::string::npos);
  CHECK(*sys::read_file(path) == "first");
  // A dangling symlink is something there too: it is not followed to create its target.
  fs::create_symlink("nowhere", dir / "link");
  CHECK(sys::create_file_atomic(dir / "link", "x", 0600).error().code == Errc::conflict);
  CHECK_FALSE(fs::exists(dir / "nowhere"));
  int entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 2);
}

TEST_CASE("writing through a symlink replaces the target and keeps the link") {
  test::TempDir dir;
  REQUIRE(sys::write_file_atomic(dir / "real.conf", "a"));
  fs::create_symlink("real.conf", dir / "link.conf");
  REQUIRE(sys::write_file_atomic(dir / "link.conf", "b"));
  CHECK(fs::is_symlink(dir / "link.conf"));
  CHECK(*sys::read_file(dir / "real.conf") == "b");
}

TEST_CASE("an AtomicFile that is never committed leaves the old file untouched") {
  test::TempDir dir;
  REQUIRE(sys::write_file_atomic(dir / "f", "original"));
  {
    sys::AtomicFile f(dir / "f", 0644);
    REQUIRE(f.write("half-writ"));
  }
  CHECK(*sys::read_file(dir / "f") == "original");
  int entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);
}

TEST_CASE("reading a missing file is not_found and an oversized one is refused") {
  test::TempDir dir;
  auto missing = sys::read_file(dir / "nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::not_found);
  REQUIRE(sys::write_file_atomic(dir / "big", std::string(100, 'x')));
  auto big = sys::read_file_limited(dir / "big", 10);
  REQUIRE_FALSE(big);
  CHECK(big.error().code == Errc::invalid_input);
}

TEST_CASE("replace_symlink switches an existing link to a new target") {
  test::TempDir dir;
  fs::create_symlink("one", dir / "cur");
  REQUIRE(sys::replace_symlink(dir / "cur", "two"));
  CHECK(fs::read_symlink(dir / "cur") == "two");
}

TEST_CASE("a second lock on the same directory is refused and names the holder") {
  test::TempDir dir;
  auto first = sys::DirLock::acquire(dir.path());
  REQUIRE(first);
  // flock locks belong to the open file description, so a second open in the same process
  // conflicts exactly as another process would.
  auto second = sys::DirLock::acquire(dir.path());
  REQUIRE_FALSE(second);
  CHECK(second.error().code == Errc::locked);
  CHECK(second.error().message.find(std::to_string(::getpid())) != std::string::npos);
}

TEST_CASE("a lock is released when its holder goes away") {
  test::TempDir dir;
  { auto first = sys::DirLock::acquire(dir.path()); REQUIRE(first); }
  CHECK(sys::DirLock::acquire(dir.path()));
}

TEST_CASE("run_process captures output and exit code without a shell") {
  auto r = sys::run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
  REQUIRE(r);
  CHECK(r->exit_code == 3);
  CHECK(r->out == "out\n");
  CHECK(r->err == "err\n");
  auto arg = sys::run_process({"printf", "%s", "$(not expanded); rm -rf /"});
  REQUIRE(arg);
  CHECK(arg->out == "$(not expanded); rm -rf /");
}

TEST_CASE("run_process passes stdin and extra environment") {
  sys::ProcessOptions opt;
  opt.stdin_data = "hello";
  opt.extra_env["ACMED_TEST_VAR"] = "value";
  auto r = sys::run_process({"sh", "-c", "cat; printf %s \"$ACMED_TEST_VAR\""}, opt);
  REQUIRE(r);
  CHECK(r->out == "hellovalue");
}

TEST_CASE("run_process kills a child that outlives its timeout") {
  sys::ProcessOptions opt;
  opt.timeout = std::chrono::milliseconds(200);
  auto start = std::chrono::steady_clock::now();
  auto r = sys::run_process({"sleep", "30"}, opt);
  REQUIRE(r);
  CHECK(r->timed_out);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
}

TEST_CASE("a missing program is not_found") {
  auto r = sys::run_process({"acmed-no-such-program-xyz"});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::not_found);
}

TEST_CASE("RFC 3339 timestamps parse with fractions and offsets and format back in UTC") {
  sys::TimePoint t;
  REQUIRE(sys::parse_rfc3339("2026-11-26T22:48:27Z", t));
  CHECK(sys::format_rfc3339(t) == "2026-11-26T22:48:27Z");
  REQUIRE(sys::parse_rfc3339("2026-11-26T23:48:27.123456+01:00", t));
  CHECK(sys::format_rfc3339(t) == "2026-11-26T22:48:27Z");
  CHECK_FALSE(sys::parse_rfc3339("2026-11-26", t));
  CHECK_FALSE(sys::parse_rfc3339("2026-13-26T00:00:00Z", t));
  CHECK_FALSE(sys::parse_rfc3339("2026-11-26T00:00:00Zjunk", t));
}

TEST_CASE(
    "an RFC 3339 time a time point cannot hold is refused, not overflowed (found by fuzzing)") {
  sys::TimePoint t;
  REQUIRE(sys::parse_rfc3339("2200-01-01T00:00:00Z", t));
  CHECK(sys::format_rfc3339(t) == "2200-01-01T00:00:00Z");
  CHECK_FALSE(sys::parse_rfc3339("4052-12-01T00:00:00Z", t));
  CHECK_FALSE(sys::parse_rfc3339("9999-12-31T23:59:59Z", t));
  CHECK_FALSE(sys::parse_rfc3339("1000-01-01T00:00:00Z", t));
}

TEST_CASE("a file stamp changes when the file is replaced or rewritten in place") {
  test::TempDir dir;
  fs::path f = dir / "cert.pem";
  REQUIRE(sys::write_file_atomic(f, "one"));
  auto a = sys::stamp_file(f);
  REQUIRE(a);
  auto again = sys::stamp_file(f);
  REQUIRE(again);
  CHECK(*again == *a);
  REQUIRE(sys::write_file_atomic(f, "two"));  // same size, new file
  auto b = sys::stamp_file(f);
  REQUIRE(b);
  CHECK_FALSE(*b == *a);
  // Same size, same inode, rewritten in place: only mtime/ctime tell, and the kernel stamps them
  // at clock-tick granularity, so let one tick pass first.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  {
    std::FILE* f2 = std::fopen(f.c_str(), "r+");
    REQUIRE(f2);
    std::fputs("owo", f2);
    std::fclose(f2);
  }
  auto c = sys::stamp_file(f);
  REQUIRE(c);
  CHECK(c->ino == b->ino);
  CHECK_FALSE(*c == *b);
  auto missing = sys::stamp_file(dir / "nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::not_found);
}

TEST_CASE("DirLock with LockWait::yes waits for the holder instead of failing") {
  test::TempDir dir;
  auto held = sys::DirLock::acquire(dir.path());
  REQUIRE(held);
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto lock = sys::DirLock::acquire(dir.path(), sys::LockWait::yes);
    got = static_cast<bool>(lock);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_FALSE(got);  // still waiting (flock locks of two descriptors exclude each other)
  { auto release = std::move(*held); }
  waiter.join();
  CHECK(got);
}

TEST_CASE("a program acmed runs starts with SIGPIPE at its default, though acmed ignores it") {
  auto old_handler = ::signal(SIGPIPE, SIG_IGN);  // as main() does
  auto res = sys::run_process({"/bin/grep", "^SigIgn:", "/proc/self/status"});
  ::signal(SIGPIPE, old_handler);
  REQUIRE(res.ok());
  REQUIRE(res->exit_code == 0);
  // "SigIgn:\t<hex mask>": bit SIGPIPE-1 is set when the child inherited the ignore.
  std::string mask = res->out.substr(res->out.find('\t') + 1);
  unsigned long long ignored = std::stoull(mask, nullptr, 16);
  CHECK((ignored & (1ULL << (SIGPIPE - 1))) == 0);
}
