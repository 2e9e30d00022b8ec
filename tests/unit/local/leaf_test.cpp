#include "acmed/local/leaf.hpp"
#include "acmed/crypto/ca.hpp"
#include "local_test_util.hpp"
#include "support/skip.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

using namespace acmed;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  test::TempDir dir;
  crypto::TimePoint now = test::now_seconds();
  local::LocalCa ca = make_ca();

  local::LocalCa make_ca() {
    auto created = local::LocalCa::create(dir / "ca", "alice@laptop", now);
    REQUIRE(created.ok());
    return std::move(*created);
  }

  local::CertRequest request(std::vector<std::string> names) {
    fs::create_directories(dir / "out");
    local::CertRequest r;
    r.names = std::move(names);
    r.out_dir = dir / "out";
    r.user_at_host = "alice@laptop";
    return r;
  }
};

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("a default leaf is ECDSA P-256 for every name, serverAuth only, 397 days") {
  Fixture f;
  auto issued = local::issue_certificate(f.ca, f.request({"localhost", "127.0.0.1", "::1"}), f.now);
  REQUIRE_MESSAGE(issued.ok(), (issued.ok() ? "" : issued.error().describe()));
  CHECK(issued->cert_file == f.dir / "out" / "localhost+2.pem");
  CHECK(issued->key_file == f.dir / "out" / "localhost+2-key.pem");
  CHECK(mode_of(issued->key_file) == 0600);
  CHECK(mode_of(issued->cert_file) == 0644);

  auto pem = *sys::read_file(issued->cert_file);
  auto info = crypto::parse_certificate(pem);
  REQUIRE(info.ok());
  CHECK(info->dns_names == std::vector<std::string>{"localhost"});
  CHECK(info->ips == std::vector<std::string>{"127.0.0.1", "::1"});
  CHECK(info->subject_cn == "localhost");
  CHECK(info->issuer_cn == "acmed development CA alice@laptop");
  CHECK_FALSE(info->is_ca);
  CHECK(info->not_after - info->not_before == std::chrono::days(397));
  CHECK(info->not_before <= f.now);
  CHECK(info->not_after - f.now < std::chrono::days(398));  // under the browsers' limit

  auto usage = crypto::certificate_usage(pem);
  REQUIRE(usage.ok());
  CHECK(usage->server_auth);
  CHECK_FALSE(usage->client_auth);
  CHECK(usage->digital_signature);
  CHECK_FALSE(usage->key_cert_sign);
  CHECK(usage->organization == "acmed development certificate");

  auto key = crypto::PrivateKey::from_pem(*sys::read_file(issued->key_file));
  REQUIRE(key.ok());
  CHECK(key->spec().type == crypto::KeyType::ecdsa);
  CHECK(key->spec().curve == "secp256r1");
  CHECK(crypto::certificate_matches_key(pem, *key));
  CHECK(crypto::verify_chain(pem, f.ca.cert_pem()).ok());
}

TEST_CASE("openssl verifies a leaf against the root for TLS server use and the names") {
  Fixture f;
  auto issued = local::issue_certificate(f.ca, f.request({"*.app.test", "localhost"}), f.now);
  REQUIRE(issued.ok());
  CHECK(issued->cert_file.filename() == "_wildcard.app.test+1.pem");
  auto root = (f.dir / "ca" / "rootCA.pem").string();
  auto cert = issued->cert_file.string();
  CHECK(test::run({"openssl", "verify", "-purpose", "sslserver", "-CAfile", root,
                   "-verify_hostname", "x.app.test", cert})
            .exit_code == 0);
  CHECK(test::run({"openssl", "verify", "-purpose", "sslserver", "-CAfile", root,
                   "-verify_hostname", "localhost", cert})
            .exit_code == 0);
  // a wildcard covers one label only
  CHECK(test::run({"openssl", "verify", "-CAfile", root, "-verify_hostname", "a.b.app.test", cert})
            .exit_code != 0);
  CHECK(test::run({"openssl", "verify", "-CAfile", root, "-verify_hostname", "other.test", cert})
            .exit_code != 0);
  // not usable as a client certificate without --client
  CHECK(
      test::run({"openssl", "verify", "-purpose", "sslclient", "-CAfile", root, cert}).exit_code !=
      0);
}

TEST_CASE("--client adds clientAuth and names the files -client") {
  Fixture f;
  auto r = f.request({"alice.test"});
  r.purpose = local::Purpose::client;
  auto issued = local::issue_certificate(f.ca, r, f.now);
  REQUIRE(issued.ok());
  CHECK(issued->cert_file.filename() == "alice.test-client.pem");
  CHECK(issued->key_file.filename() == "alice.test-client-key.pem");
  auto usage = crypto::certificate_usage(*sys::read_file(issued->cert_file));
  REQUIRE(usage.ok());
  CHECK(usage->client_auth);
  CHECK(usage->server_auth);
  auto root = (f.dir / "ca" / "rootCA.pem").string();
  CHECK(test::run({"openssl", "verify", "-purpose", "sslclient", "-CAfile", root,
                   issued->cert_file.string()})
            .exit_code == 0);
}

TEST_CASE("--key-type rsa gives an RSA 2048 key with keyEncipherment") {
  Fixture f;
  auto r = f.request({"rsa.test"});
  r.key_type = crypto::KeyType::rsa;
  auto issued = local::issue_certificate(f.ca, r, f.now);
  REQUIRE(issued.ok());
  auto key = crypto::PrivateKey::from_pem(*sys::read_file(issued->key_file));
  REQUIRE(key.ok());
  CHECK(key->spec().type == crypto::KeyType::rsa);
  CHECK(key->spec().rsa_bits == 2048);
  auto text = test::run({"openssl", "x509", "-noout", "-ext", "keyUsage", "-in",
                         issued->cert_file.string()})
                  .out;
  CHECK(text.find("Key Encipherment") != std::string::npos);
  CHECK(crypto::verify_chain(*sys::read_file(issued->cert_file), f.ca.cert_pem()).ok());
}

TEST_CASE("--cert-file and --key-file choose the paths") {
  Fixture f;
  auto r = f.request({"localhost"});
  r.cert_file = f.dir / "my.crt";
  r.key_file = f.dir / "my.key";
  auto issued = local::issue_certificate(f.ca, r, f.now);
  REQUIRE(issued.ok());
  CHECK(fs::exists(f.dir / "my.crt"));
  CHECK(fs::exists(f.dir / "my.key"));
  CHECK(fs::is_empty(f.dir / "out"));
}

TEST_CASE("--pkcs12 writes one .p12 with key, certificate and root under the password changeit") {
  Fixture f;
  auto r = f.request({"localhost", "127.0.0.1"});
  r.format = local::OutputFormat::pkcs12;
  auto issued = local::issue_certificate(f.ca, r, f.now);
  REQUIRE_MESSAGE(issued.ok(), (issued.ok() ? "" : issued.error().describe()));
  CHECK(issued->cert_file == f.dir / "out" / "localhost+1.p12");
  CHECK(issued->key_file.empty());
  CHECK(mode_of(issued->cert_file) == 0600);
  std::vector<std::string> entries;
  for (auto& e : fs::directory_iterator(f.dir / "out")) entries.push_back(e.path().filename());
  CHECK(entries == std::vector<std::string>{"localhost+1.p12"});

  auto p12 = issued->cert_file.string();
  auto certs = test::run({"openssl", "pkcs12", "-in", p12, "-passin", "pass:changeit", "-nokeys"});
  REQUIRE(certs.exit_code == 0);
  CHECK(certs.out.find("subject=O = acmed development certificate") != std::string::npos);
  CHECK(certs.out.find("subject=O = acmed development CA") != std::string::npos);
  auto keys = test::run(
      {"openssl", "pkcs12", "-in", p12, "-passin", "pass:changeit", "-nocerts", "-nodes"});
  REQUIRE(keys.exit_code == 0);
  CHECK(keys.out.find("PRIVATE KEY") != std::string::npos);
  CHECK(
      test::run({"openssl", "pkcs12", "-in", p12, "-passin", "pass:wrong", "-nokeys"}).exit_code !=
      0);
}

TEST_CASE("Java's keytool reads the .p12") {
  if (!test::have_programs({"keytool"})) return;
  Fixture f;
  auto r = f.request({"localhost"});
  r.format = local::OutputFormat::pkcs12;
  auto issued = local::issue_certificate(f.ca, r, f.now);
  REQUIRE(issued.ok());
  auto list = test::run({"keytool", "-list", "-storetype", "PKCS12", "-keystore",
                         issued->cert_file.string(), "-storepass", "changeit"});
  CHECK(list.exit_code == 0);
  CHECK(list.out.find("PrivateKeyEntry") != std::string::npos);
}

TEST_CASE("--key-file with --pkcs12 is a usage error and writes nothing") {
  Fixture f;
  auto r = f.request({"localhost"});
  r.format = local::OutputFormat::pkcs12;
  r.key_file = f.dir / "out" / "k.pem";
  auto issued = local::issue_certificate(f.ca, r, f.now);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::usage);
  CHECK(fs::is_empty(f.dir / "out"));
}

TEST_CASE("a bad name writes nothing") {
  Fixture f;
  auto issued = local::issue_certificate(f.ca, f.request({"localhost", "a..b"}), f.now);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::invalid_input);
  CHECK(fs::is_empty(f.dir / "out"));
}

TEST_CASE("an unwritable certificate path leaves no key behind") {
  Fixture f;
  auto r = f.request({"localhost"});
  r.cert_file = f.dir / "missing-dir" / "cert.pem";
  auto issued = local::issue_certificate(f.ca, r, f.now);
  REQUIRE_FALSE(issued.ok());
  CHECK(fs::is_empty(f.dir / "out"));
  CHECK_FALSE(fs::exists(f.dir / "missing-dir"));
}

TEST_CASE("the same path for certificate and key is refused") {
  Fixture f;
  auto r = f.request({"localhost"});
  r.cert_file = f.dir / "out" / "both.pem";
  r.key_file = f.dir / "out" / "both.pem";
  auto issued = local::issue_certificate(f.ca, r, f.now);
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::usage);
  CHECK(fs::is_empty(f.dir / "out"));
}

TEST_CASE("a leaf never outlives its CA") {
  Fixture f;
  auto late = f.now + std::chrono::days(3650 - 10);
  auto leaf = local::make_leaf(f.ca, std::vector<std::string>{"localhost"}, crypto::KeyType::ecdsa,
                               local::Purpose::server, "a@b", late);
  REQUIRE(leaf.ok());
  CHECK(leaf->not_after == f.ca.info().not_after);
  auto info = crypto::parse_certificate(leaf->cert_pem);
  REQUIRE(info.ok());
  CHECK(info->not_after == f.ca.info().not_after);
}

TEST_CASE("a CA key that does not match the CA certificate signs nothing") {
  Fixture f;
  auto other = crypto::PrivateKey::generate({});
  REQUIRE(other.ok());
  crypto::LeafSpec spec;
  spec.dns_names = {"localhost"};
  spec.not_before = f.now;
  spec.not_after = f.now + 24h;
  auto signed_leaf = crypto::sign_leaf_certificate(*other, f.ca.cert_pem(), *other, spec);
  REQUIRE_FALSE(signed_leaf.ok());
  CHECK(signed_leaf.error().code == Errc::invalid_input);
}
