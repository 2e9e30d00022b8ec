#include "acmed/local/local_ca.hpp"
#include "acmed/crypto/ca.hpp"
#include "local_test_util.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

using namespace acmed;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

mode_t mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("a new local CA is a 10-year root CA named after the user, with a private key") {
  test::TempDir dir;
  auto now = test::now_seconds();
  auto ca = local::LocalCa::create(dir / "ca", "alice@laptop", now);
  REQUIRE_MESSAGE(ca.ok(), (ca.ok() ? "" : ca.error().describe()));
  CHECK(mode_of(dir / "ca") == 0700);
  CHECK(mode_of(dir / "ca" / "rootCA-key.pem") == 0600);
  CHECK(mode_of(dir / "ca" / "rootCA.pem") == 0644);

  const auto& info = ca->info();
  CHECK(info.subject_cn == "acmed development CA alice@laptop");
  CHECK(info.issuer_cn == info.subject_cn);
  CHECK(info.is_ca);
  CHECK(info.dns_names.empty());
  auto lifetime = info.not_after - info.not_before;
  CHECK(lifetime >= std::chrono::days(3650));
  CHECK(lifetime <= std::chrono::days(3650) + 2h);
  CHECK(info.not_before <= now);

  auto usage = crypto::certificate_usage(ca->cert_pem());
  REQUIRE(usage.ok());
  CHECK(usage->is_ca);
  CHECK(usage->path_len == 0);
  CHECK(usage->key_cert_sign);
  CHECK(usage->crl_sign);
  CHECK_FALSE(usage->has_name_constraints);
  CHECK_FALSE(usage->server_auth);
  CHECK(usage->organization == "acmed development CA");
  CHECK(usage->organizational_unit == "alice@laptop");
  CHECK(ca->serial_hex().size() == 32);  // 128 bits, without DER's sign byte

  // what was written is what load() reads back
  auto loaded = local::LocalCa::load(dir / "ca", now);
  REQUIRE(loaded.ok());
  CHECK(loaded->cert_pem() == ca->cert_pem());
  CHECK(loaded->serial_hex() == ca->serial_hex());
}

TEST_CASE("creating a CA where one exists is refused and leaves it alone") {
  test::TempDir dir;
  auto now = test::now_seconds();
  REQUIRE(local::LocalCa::create(dir / "ca", "a@b", now).ok());
  auto before = test::snapshot(dir / "ca");
  auto again = local::LocalCa::create(dir / "ca", "a@b", now);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == Errc::conflict);
  CHECK(test::snapshot(dir / "ca") == before);
}

TEST_CASE("loading a missing CA says to run acmed local install") {
  test::TempDir dir;
  auto ca = local::LocalCa::load(dir / "nothing", test::now_seconds());
  REQUIRE_FALSE(ca.ok());
  CHECK(ca.error().code == Errc::not_found);
  CHECK(ca.error().message.find((dir / "nothing").string()) != std::string::npos);
  CHECK(ca.error().hint.find("acmed local install") != std::string::npos);
}

TEST_CASE("a damaged CA is reported naming the file, never silently replaced") {
  test::TempDir dir;
  auto now = test::now_seconds();
  auto ca_dir = dir / "ca";
  REQUIRE(local::LocalCa::create(ca_dir, "a@b", now).ok());
  auto cert = *sys::read_file(ca_dir / "rootCA.pem");
  auto key = *sys::read_file(ca_dir / "rootCA-key.pem");

  auto expect_config_error = [&](const std::string& file) {
    auto loaded = local::LocalCa::load(ca_dir, now);
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().code == Errc::config);
    CHECK(loaded.error().message.find((ca_dir / file).string()) != std::string::npos);
    CHECK(loaded.error().message.find('\n') == std::string::npos);
    CHECK(loaded.error().hint.find("acmed local") != std::string::npos);
  };

  SUBCASE("certificate missing") {
    fs::remove(ca_dir / "rootCA.pem");
    expect_config_error("rootCA.pem");
  }
  SUBCASE("key missing") {
    fs::remove(ca_dir / "rootCA-key.pem");
    expect_config_error("rootCA-key.pem");
  }
  SUBCASE("certificate is garbage") {
    REQUIRE(sys::write_file_atomic(ca_dir / "rootCA.pem", "-----BEGIN CERTIFICATE-----\nxx\n"));
    expect_config_error("rootCA.pem");
  }
  SUBCASE("certificate truncated") {
    REQUIRE(sys::write_file_atomic(ca_dir / "rootCA.pem", cert.substr(0, cert.size() / 2)));
    expect_config_error("rootCA.pem");
  }
  SUBCASE("key is garbage") {
    REQUIRE(sys::write_file_atomic(ca_dir / "rootCA-key.pem", "not a key"));
    expect_config_error("rootCA-key.pem");
  }
  SUBCASE("key of another CA") {
    REQUIRE(local::LocalCa::create(dir / "other", "a@b", now).ok());
    REQUIRE(sys::write_file_atomic(ca_dir / "rootCA-key.pem",
                                   *sys::read_file(dir / "other" / "rootCA-key.pem")));
    expect_config_error("rootCA-key.pem");
  }
  SUBCASE("expired") {
    auto later = local::LocalCa::load(ca_dir, now + std::chrono::days(3651));
    REQUIRE_FALSE(later.ok());
    CHECK(later.error().message.find("validity") != std::string::npos);
  }
}

TEST_CASE("a leaf certificate where the CA certificate should be is not accepted as a CA") {
  test::TempDir dir;
  auto now = test::now_seconds();
  auto ca = local::LocalCa::create(dir / "ca", "a@b", now);
  REQUIRE(ca.ok());
  auto leaf_key = crypto::PrivateKey::generate({});
  REQUIRE(leaf_key.ok());
  crypto::LeafSpec spec;
  spec.dns_names = {"localhost"};
  spec.not_before = now - 1h;
  spec.not_after = now + 24h;
  auto leaf = crypto::sign_leaf_certificate(ca->key(), ca->cert_pem(), *leaf_key, spec);
  REQUIRE(leaf.ok());
  fs::create_directories(dir / "fake");
  REQUIRE(sys::write_file_atomic(dir / "fake" / "rootCA.pem", *leaf));
  REQUIRE(sys::write_file_atomic(dir / "fake" / "rootCA-key.pem", leaf_key->to_pem(), 0600));
  auto loaded = local::LocalCa::load(dir / "fake", now);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().message.find("not a CA certificate") != std::string::npos);
}
