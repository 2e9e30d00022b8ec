// Test lineages: real certificates (from a throwaway CA) with chosen validity, stored with the
// real store, so the runner is tested against what it will meet on disk.
#pragma once

#include "acmed/crypto/ca.hpp"
#include "acmed/crypto/key.hpp"
#include "acmed/crypto/x509.hpp"
#include "acmed/store/lineage.hpp"
#include "acmed/store/paths.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace acmed::test {

using namespace std::chrono_literals;

// A fixed "now" for the tests: 2026-06-01T00:00:00Z.
inline sys::TimePoint test_now() {
  sys::TimePoint t;
  REQUIRE(sys::parse_rfc3339("2026-06-01T00:00:00Z", t));
  return t;
}

class TestCa {
 public:
  TestCa() {
    auto key = crypto::PrivateKey::generate({});
    REQUIRE(key);
    m_key = std::make_unique<crypto::PrivateKey>(std::move(*key));
    crypto::RootCaSpec spec{"acmed tests", "", "acmed test root", test_now() - 24h * 3650,
                            test_now() + 24h * 3650};
    auto cert = crypto::make_root_certificate(*m_key, spec);
    REQUIRE(cert);
    m_cert = *cert;
  }

  // A leaf for `names` valid from not_before to not_after, with its key.
  store::CertFiles issue(const std::vector<std::string>& names, sys::TimePoint not_before,
                         sys::TimePoint not_after) const {
    auto leaf_key = crypto::PrivateKey::generate({});
    REQUIRE(leaf_key);
    crypto::LeafSpec spec;
    spec.dns_names = names;
    spec.organization = "acmed tests";
    spec.not_before = not_before;
    spec.not_after = not_after;
    auto cert = crypto::sign_leaf_certificate(*m_key, m_cert, *leaf_key, spec);
    REQUIRE(cert);
    return {*cert, m_cert, *cert + m_cert, leaf_key->to_pem()};
  }

 private:
  std::unique_ptr<crypto::PrivateKey> m_key;
  std::string m_cert;
};

inline const TestCa& test_ca() {
  static TestCa ca;
  return ca;
}

struct LineageSpec {
  std::vector<std::string> names{"example.test"};
  std::chrono::hours age{24 * 10};       // how long ago it was issued
  std::chrono::hours lifetime{24 * 90};  // its validity
  std::string renew_before_expiry;
  std::string pre_hook, post_hook, deploy_hook;
  std::string authenticator = "webroot";
  bool autorenew = true;
  std::optional<sys::TimePoint> now;  // issued `age` before this; default test_now()
  std::string server = "https://127.0.0.1:14000/dir";
  std::string account = "0123456789abcdef";
  std::string preferred_profile;
};

// Writes lineage `name` as certbot would have: version 1 and a renewal conf.
inline void make_lineage(const store::Paths& paths, const std::string& name,
                         const LineageSpec& spec = {}) {
  sys::TimePoint nb = spec.now.value_or(test_now()) - spec.age;
  auto files = test_ca().issue(spec.names, nb, nb + spec.lifetime);
  store::RenewalConf conf;
  conf.renew_before_expiry = spec.renew_before_expiry;
  conf.params.authenticator = spec.authenticator;
  conf.params.server = spec.server;
  conf.params.account = spec.account;
  conf.params.preferred_profile = spec.preferred_profile;
  conf.params.key_type = "ecdsa";
  conf.params.pre_hook = spec.pre_hook;
  conf.params.post_hook = spec.post_hook;
  conf.params.deploy_hook = spec.deploy_hook;
  if (!spec.autorenew) conf.params.autorenew = false;
  auto made = store::create_lineage(paths, name, files, conf);
  REQUIRE_MESSAGE(made, (made ? "" : made.error().describe()));
}

}  // namespace acmed::test
