// The checks on a chain a CA issued, before acmed stores it; and the PEM splitter's limits.
#include "acmed/crypto/x509.hpp"
#include "openssl_helpers.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

using namespace acmed;
using namespace acmed::crypto;
using acmed::test::make_test_cert;

namespace {

struct Pki {
  PrivateKey root_key = PrivateKey::generate(KeySpec{}).value();
  PrivateKey inter_key = PrivateKey::generate(KeySpec{}).value();
  PrivateKey leaf_key = PrivateKey::generate(KeySpec{}).value();
  std::string root = make_test_cert(test::ca_options("test root"), root_key);
  std::string inter = make_test_cert(test::ca_options("test inter"), inter_key, root, &root_key);

  std::string leaf(const std::string& san, const std::string& not_before = {},
                   const std::string& not_after = {}) {
    auto o = test::leaf_options("a.test", san);
    o.not_before = not_before;
    o.not_after = not_after;
    return make_test_cert(o, leaf_key, inter, &inter_key);
  }
};

Identifiers ids(std::vector<std::string> dns, std::vector<std::string> ip = {}) {
  return Identifiers{std::move(dns), std::move(ip)};
}

const TimePoint k_now = std::chrono::system_clock::now();

}  // namespace

TEST_CASE("a chain for exactly the requested names, valid now and linked, is accepted") {
  Pki p;
  CHECK(check_issued_chain({p.leaf("DNS:a.test,DNS:B.Test,IP:127.0.0.1"), p.inter},
                           ids({"a.test", "b.test"}, {"127.0.0.1"}), k_now)
            .ok());
  // IPs compare in canonical form; order and case of the names do not matter.
  CHECK(check_issued_chain({p.leaf("IP:0:0:0:0:0:0:0:1,DNS:A.TEST")}, ids({"a.test"}, {"0::1"}),
                           k_now)
            .ok());
  CHECK(check_issued_chain({p.leaf("DNS:a.test"), p.inter, p.root}, ids({"a.test"}), k_now).ok());
}

TEST_CASE("a certificate for other, more or fewer names is refused naming the difference") {
  Pki p;
  auto other = check_issued_chain({p.leaf("DNS:evil.example"), p.inter}, ids({"a.test"}), k_now);
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().code == Errc::protocol);
  CHECK(other.error().message ==
        "the CA issued a certificate with names that were not requested (evil.example) and not "
        "the requested names (a.test)");
  auto extra =
      check_issued_chain({p.leaf("DNS:a.test,DNS:evil.example"), p.inter}, ids({"a.test"}), k_now);
  REQUIRE_FALSE(extra.ok());
  CHECK(extra.error().message.find("not requested (evil.example)") != std::string::npos);
  auto fewer =
      check_issued_chain({p.leaf("DNS:a.test"), p.inter}, ids({"a.test", "b.test"}), k_now);
  REQUIRE_FALSE(fewer.ok());
  CHECK(fewer.error().message.find("not the requested names (b.test)") != std::string::npos);
  auto ip = check_issued_chain({p.leaf("DNS:a.test,IP:127.0.0.2"), p.inter},
                               ids({"a.test"}, {"127.0.0.1"}), k_now);
  REQUIRE_FALSE(ip.ok());
  CHECK(ip.error().message.find("(127.0.0.2)") != std::string::npos);
  auto none = check_issued_chain({p.leaf("")}, ids({"a.test"}), k_now);
  CHECK_FALSE(none.ok());
}

TEST_CASE("an expired certificate or one not valid yet is refused") {
  Pki p;
  auto expired = check_issued_chain({p.leaf("DNS:a.test", "20200101000000Z", "20200301000000Z")},
                                    ids({"a.test"}), k_now);
  REQUIRE_FALSE(expired.ok());
  CHECK(expired.error().message.find("already expired") != std::string::npos);
  auto future = check_issued_chain({p.leaf("DNS:a.test", "20990101000000Z", "20990301000000Z")},
                                   ids({"a.test"}), k_now);
  REQUIRE_FALSE(future.ok());
  CHECK(future.error().message.find("not valid yet") != std::string::npos);
  // The test leaf's notBefore is an hour ago: seen from 2 minutes before that it is clock skew,
  // from 10 minutes before it is not valid yet.
  const std::string leaf = p.leaf("DNS:a.test");
  using std::chrono::hours, std::chrono::minutes;
  CHECK(check_issued_chain({leaf}, ids({"a.test"}), k_now - hours(1) - minutes(2)).ok());
  CHECK_FALSE(check_issued_chain({leaf}, ids({"a.test"}), k_now - hours(1) - minutes(10)).ok());
}

TEST_CASE("a chain whose certificates do not sign each other is refused") {
  Pki p;
  PrivateKey stranger_key = PrivateKey::generate(KeySpec{}).value();
  // Same name as the real intermediate, other key: the name matches, the signature does not.
  std::string impostor = make_test_cert(test::ca_options("test inter"), stranger_key);
  auto forged = check_issued_chain({p.leaf("DNS:a.test"), impostor}, ids({"a.test"}), k_now);
  REQUIRE_FALSE(forged.ok());
  CHECK(forged.error().message.find("chain from the CA is broken: certificate 1") !=
        std::string::npos);
  auto reversed =
      check_issued_chain({p.leaf("DNS:a.test"), p.root, p.inter}, ids({"a.test"}), k_now);
  REQUIRE_FALSE(reversed.ok());
  CHECK(reversed.error().message.find("certificate 1 is not issued by certificate 2") !=
        std::string::npos);
}

TEST_CASE("a chain of more than a few certificates is refused before it is decoded") {
  Pki p;
  std::string bundle = p.leaf("DNS:a.test");
  for (int i = 0; i < 10'000; ++i) bundle += p.inter;
  auto split = split_pem_chain(bundle);
  REQUIRE_FALSE(split.ok());
  CHECK(split.error().code == Errc::protocol);
  CHECK(split.error().message.find("more than 8 certificates") != std::string::npos);

  std::string eight = p.leaf("DNS:a.test");
  for (int i = 0; i < 7; ++i) eight += p.inter;
  REQUIRE(split_pem_chain(eight).ok());
  CHECK(split_pem_chain(eight)->size() == k_max_chain_certificates);
  std::vector<std::string> nine(9, p.inter);
  nine.front() = p.leaf("DNS:a.test");
  CHECK(check_issued_chain(nine, ids({"a.test"}), k_now).error().message.find("chain of 9") !=
        std::string::npos);
}

TEST_CASE("a large trusted-roots bundle is still read (the cap is for chains from a CA)") {
  Pki p;
  std::string roots;
  for (int i = 0; i < 2'000; ++i) roots += p.root;
  CHECK(verify_chain(p.leaf("DNS:a.test") + p.inter, roots).ok());
}

TEST_CASE("PEM errors still name the line where they are") {
  Pki p;
  auto bad = split_pem_chain(p.inter + "\n\ngarbage\n");
  REQUIRE_FALSE(bad.ok());
  const std::size_t lines =
      static_cast<std::size_t>(std::count(p.inter.begin(), p.inter.end(), '\n'));
  CHECK(bad.error().message.find("at line " + std::to_string(lines + 3)) != std::string::npos);
  auto no_end = split_pem_chain(p.inter + "-----BEGIN CERTIFICATE-----\nAAAA\n");
  REQUIRE_FALSE(no_end.ok());
  CHECK(no_end.error().message.find("has no END line") != std::string::npos);
}
