#include "acmed/local/lineage.hpp"
#include "acmed/crypto/ca.hpp"
#include "local_test_util.hpp"

#include <doctest/doctest.h>

using namespace acmed;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  test::TempDir dir;
  crypto::TimePoint now = test::now_seconds();
  local::LocalCa ca = make_ca();
  store::Paths paths{dir / "etc", dir / "work", dir / "logs"};

  local::LocalCa make_ca() {
    auto created = local::LocalCa::create(dir / "ca", "a@b", now);
    REQUIRE(created.ok());
    return std::move(*created);
  }
  local::LeafCert leaf(std::vector<std::string> names,
                       local::Purpose purpose = local::Purpose::server) {
    auto made = local::make_leaf(ca, names, crypto::KeyType::ecdsa, purpose, "a@b", now);
    REQUIRE(made.ok());
    return std::move(*made);
  }
};

}  // namespace

TEST_CASE("--save stores the leaf as a lineage under the local server, chained to the root") {
  Fixture f;
  auto leaf = f.leaf({"localhost", "127.0.0.1"});
  auto name =
      local::save_lineage(f.paths, f.ca, leaf, crypto::KeyType::ecdsa, local::Purpose::server);
  REQUIRE_MESSAGE(name.ok(), (name.ok() ? "" : name.error().describe()));
  CHECK(*name == "localhost");
  auto lineage = store::load_lineage(f.paths, *name);
  REQUIRE_MESSAGE(lineage.ok(), (lineage.ok() ? "" : lineage.error().describe()));
  CHECK(local::is_local_lineage(lineage->conf));
  CHECK(lineage->conf.params.authenticator == "local");
  CHECK(lineage->conf.params.key_type == "ecdsa");
  CHECK(lineage->conf.check_renewable().ok());
  CHECK(lineage->version == 1);
  CHECK(*sys::read_file(f.paths.live_dir("localhost") / "chain.pem") == f.ca.cert_pem());
  CHECK(*sys::read_file(f.paths.live_dir("localhost") / "fullchain.pem") ==
        leaf.cert_pem + f.ca.cert_pem());
}

TEST_CASE("saving the same names again adds a version; other names make a new lineage") {
  Fixture f;
  REQUIRE(local::save_lineage(f.paths, f.ca, f.leaf({"localhost", "::1"}), crypto::KeyType::ecdsa,
                              local::Purpose::server)
              .ok());
  auto again = local::save_lineage(f.paths, f.ca, f.leaf({"::1", "localhost"}),
                                   crypto::KeyType::ecdsa, local::Purpose::server);
  REQUIRE(again.ok());
  CHECK(*again == "localhost");
  CHECK(store::load_lineage(f.paths, "localhost")->version == 2);
  auto other = local::save_lineage(f.paths, f.ca, f.leaf({"localhost"}), crypto::KeyType::ecdsa,
                                   local::Purpose::server);
  REQUIRE(other.ok());
  CHECK(*other == "localhost-0001");
}

TEST_CASE("renewing a local lineage gives a fresh certificate for the same names and purpose") {
  Fixture f;
  auto leaf = f.leaf({"app.test", "127.0.0.1"}, local::Purpose::client);
  REQUIRE(local::save_lineage(f.paths, f.ca, leaf, crypto::KeyType::ecdsa, local::Purpose::client)
              .ok());
  auto lineage = store::load_lineage(f.paths, "app.test");
  REQUIRE(lineage.ok());
  auto files = local::renew_lineage_files(f.ca, *lineage, "a@b", f.now + std::chrono::days(300));
  REQUIRE(files.ok());
  auto info = crypto::parse_certificate(files->cert);
  REQUIRE(info.ok());
  CHECK(info->dns_names == std::vector<std::string>{"app.test"});
  CHECK(info->ips == std::vector<std::string>{"127.0.0.1"});
  CHECK(info->not_after > lineage->cert.not_after);
  CHECK(files->privkey != leaf.key_pem);
  auto usage = crypto::certificate_usage(files->cert);
  REQUIRE(usage.ok());
  CHECK(usage->client_auth);
  CHECK(store::add_version(f.paths, "app.test", *files, lineage->conf).ok());
}

TEST_CASE("a lineage from an ACME CA is not renewed by the local CA") {
  Fixture f;
  REQUIRE(local::save_lineage(f.paths, f.ca, f.leaf({"x.test"}), crypto::KeyType::ecdsa,
                              local::Purpose::server)
              .ok());
  auto lineage = store::load_lineage(f.paths, "x.test");
  REQUIRE(lineage.ok());
  lineage->conf.params.server = "https://acme-v02.api.letsencrypt.org/directory";
  auto files = local::renew_lineage_files(f.ca, *lineage, "a@b", f.now);
  REQUIRE_FALSE(files.ok());
  CHECK(files.error().code == Errc::invalid_input);
}
