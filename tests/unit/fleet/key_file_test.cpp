// The fleet key file (fleet/key_file.hpp): creation, permissions and what is refused on reading.
#include "acmed/fleet/key_file.hpp"

#include "acmed/crypto/encoding.hpp"
#include "acmed/sys/fs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <string>

using namespace acmed;
namespace fs = std::filesystem;

namespace {

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

void write_key_file(const fs::path& path, std::string_view text, mode_t mode = 0600) {
  REQUIRE(sys::write_file_atomic(path, text, mode));
}

}  // namespace

TEST_CASE("fleet key: a generated key file is one line of base64, mode 0600, and reads back") {
  test::TempDir dir;
  auto path = dir / "fleet.key";
  REQUIRE(fleet::generate_fleet_key(path));
  CHECK(mode_of(path) == 0600);
  auto text = sys::read_file(path);
  REQUIRE(text.ok());
  CHECK(text->size() == 45);
  CHECK(text->back() == '\n');
  CHECK(text->find('\n') == 44);
  auto raw = crypto::base64_decode(text->substr(0, 44));
  REQUIRE(raw.ok());
  auto key = fleet::read_fleet_key(path);
  REQUIRE_MESSAGE(key.ok(), key.error().describe());
  CHECK(std::string(reinterpret_cast<const char*>(key->bytes().data()), 32) == *raw);
  // A second key in another file is another key.
  REQUIRE(fleet::generate_fleet_key(dir / "other.key"));
  CHECK(*sys::read_file(dir / "other.key") != *text);
}

TEST_CASE("fleet key: generating over an existing file is refused and leaves it unchanged") {
  test::TempDir dir;
  auto path = dir / "fleet.key";
  write_key_file(path, "precious\n");
  auto again = fleet::generate_fleet_key(path);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == Errc::conflict);
  CHECK(*sys::read_file(path) == "precious\n");
}

TEST_CASE("fleet key: a missing file is not_found") {
  test::TempDir dir;
  auto key = fleet::read_fleet_key(dir / "absent.key");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().code == Errc::not_found);
  CHECK(key.error().message.find("absent.key") != std::string::npos);
}

TEST_CASE("fleet key: a file group or others may access is refused with the chmod to run") {
  test::TempDir dir;
  auto path = dir / "fleet.key";
  REQUIRE(fleet::generate_fleet_key(path));
  for (mode_t mode : {0640, 0604, 0660, 0620, 0644}) {
    REQUIRE(::chmod(path.c_str(), mode) == 0);
    auto key = fleet::read_fleet_key(path);
    REQUIRE_FALSE(key.ok());
    CHECK(key.error().code == Errc::config);
    CHECK(key.error().hint == "chmod 600 " + path.string());
  }
  REQUIRE(::chmod(path.c_str(), 0400) == 0);
  CHECK(fleet::read_fleet_key(path).ok());
}

TEST_CASE("fleet key: anything but 32 bytes of base64 on one line is a config error") {
  test::TempDir dir;
  auto path = dir / "fleet.key";
  const std::string good = crypto::base64_encode(std::string(32, 'k'));
  write_key_file(path, good);  // no newline is fine
  CHECK(fleet::read_fleet_key(path).ok());
  write_key_file(path, "  " + good + "\r\n");  // blanks around it too
  CHECK(fleet::read_fleet_key(path).ok());
  const std::string bad[] = {
      "",
      "\n",
      crypto::base64_encode(std::string(31, 'k')) + "\n",  // too short
      crypto::base64_encode(std::string(33, 'k')) + "\n",  // too long
      good.substr(0, 43) + "!\n",                          // not the alphabet
      good.substr(0, 20) + "\n" + good.substr(20) + "\n",  // two lines
      crypto::base64url_encode(std::string(32, '\xfb')),   // base64url is not base64
      std::string(2000, 'A'),                              // far too big for a key file
  };
  for (const std::string& text : bad) {
    write_key_file(path, text);
    auto key = fleet::read_fleet_key(path);
    REQUIRE_FALSE(key.ok());
    CHECK(key.error().code == Errc::config);
  }
}
