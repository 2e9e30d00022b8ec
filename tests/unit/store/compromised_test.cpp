#include "acmed/store/compromised.hpp"

#include "store_test_util.hpp"

#include <doctest/doctest.h>

using namespace acmed;
using namespace acmed::store;
using namespace acmed::store::testing;

namespace {

crypto::PrivateKey new_key() {
  auto key = crypto::PrivateKey::generate(crypto::KeySpec{});
  REQUIRE(key);
  return std::move(key).value();
}

}  // namespace

TEST_CASE("a key recorded as compromised is known as such, once, and other keys are not") {
  test::TempDir root;
  Paths p = paths_in(root);
  REQUIRE(sys::make_dirs(p.config_dir));
  crypto::PrivateKey leaked = new_key();
  crypto::PrivateKey fine = new_key();
  CHECK_FALSE(is_compromised_key(p, leaked).value());  // no file yet

  REQUIRE(record_compromised_key(p, leaked, "a.example"));
  REQUIRE(record_compromised_key(p, leaked, "a.example"));  // idempotent
  CHECK(is_compromised_key(p, leaked).value());
  CHECK_FALSE(is_compromised_key(p, fine).value());
  auto text = sys::read_file(compromised_keys_file(p));
  REQUIRE(text);
  CHECK(*text == leaked.jwk_thumbprint() + " # a.example\n");

  // The same key read back from its PEM (what --reuse-key reads from live/) is recognised.
  auto again = crypto::PrivateKey::from_pem(leaked.to_pem());
  REQUIRE(again);
  CHECK(is_compromised_key(p, *again).value());
}
