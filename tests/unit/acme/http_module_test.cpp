// Loading the libcurl module (acme/http_module.hpp): where it is looked for, and which files are
// refused before anything is loaded from them.
#include "acmed/acme/http_module.hpp"

#include "acmed/sys/fs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

using namespace acmed;
namespace fs = std::filesystem;

TEST_CASE("the module is found next to the binary in the build tree and loads") {
  auto candidates = acme::http_module_candidates();
  REQUIRE_FALSE(candidates.empty());
  fs::path self = fs::read_symlink("/proc/self/exe");
  CHECK(candidates.front() == self.parent_path().parent_path() / "lib" / "acmed" / "acmed-http.so");
  auto module = acme::http_module();
  REQUIRE_MESSAGE(module, (module ? "" : module.error().describe()));
  CHECK(acme::http_module_file() == candidates.front());  // not the install dir's
  CHECK((*module)->url_is_allowed("https://acme.example/dir"));
  CHECK_FALSE((*module)->url_is_allowed("http://acme.example/dir"));
  // loaded once: the same table every time
  CHECK(*acme::http_module() == *module);
}

TEST_CASE("a module file others could replace is refused") {
  test::TempDir dir;
  fs::path lib = dir / "lib";
  REQUIRE(sys::make_dirs(lib, 0755));
  fs::path file = lib / "acmed-http.so";
  REQUIRE(sys::write_file_atomic(file, "not really a module", 0644));
  CHECK(acme::check_module_file(file));

  REQUIRE(::chmod(file.c_str(), 0646) == 0);
  auto writable = acme::check_module_file(file);
  REQUIRE_FALSE(writable);
  CHECK(writable.error().message.find("writable by") != std::string::npos);
  REQUIRE(::chmod(file.c_str(), 0664) == 0);
  auto group_writable = acme::check_module_file(file);
  REQUIRE_FALSE(group_writable);
  CHECK(group_writable.error().message.find("writable by group or others") != std::string::npos);
  REQUIRE(::chmod(file.c_str(), 0644) == 0);

  fs::create_symlink(file, lib / "link.so");  // the final component must not be a symlink
  CHECK_FALSE(acme::check_module_file(lib / "link.so"));

  REQUIRE(::chmod(lib.c_str(), 0777) == 0);  // anyone could swap the file
  auto dir_writable = acme::check_module_file(file);
  REQUIRE_FALSE(dir_writable);
  CHECK(dir_writable.error().message.find(lib.string()) != std::string::npos);
  REQUIRE(::chmod(lib.c_str(), 0755) == 0);

  if (::geteuid() == 0) {  // a file of another user (only root can make one)
    REQUIRE(::chown(file.c_str(), 65534, 65534) == 0);
    auto foreign = acme::check_module_file(file);
    REQUIRE_FALSE(foreign);
    CHECK(foreign.error().message.find("another user") != std::string::npos);
  }

  auto missing = acme::check_module_file(lib / "nope.so");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::not_found);
  auto not_regular = acme::check_module_file(lib);
  REQUIRE_FALSE(not_regular);
}
