#include "acmed/store/account.hpp"

#include "store_test_util.hpp"

#include <doctest/doctest.h>

#include <fstream>

using namespace acmed;
using namespace acmed::store;
using namespace acmed::store::testing;
using nlohmann::json;

namespace {

const std::string k_le = "https://acme-v02.api.letsencrypt.org/directory";

crypto::PrivateKey new_key(crypto::KeyType type = crypto::KeyType::ecdsa) {
  crypto::KeySpec spec;
  spec.type = type;
  auto key = crypto::PrivateKey::generate(spec);
  REQUIRE(key);
  return std::move(key).value();
}

sys::TimePoint at(const char* text) {
  sys::TimePoint t;
  REQUIRE(sys::parse_rfc3339(text, t));
  return t;
}

}  // namespace

TEST_CASE("accounts live under the host and path of the directory URL, as certbot keeps them") {
  Paths p;
  CHECK(*account_server_dir(p, k_le) ==
        "/etc/letsencrypt/accounts/acme-v02.api.letsencrypt.org/directory");
  CHECK(*account_server_dir(p, "https://acme-staging-v02.api.letsencrypt.org/directory") ==
        "/etc/letsencrypt/accounts/acme-staging-v02.api.letsencrypt.org/directory");
  CHECK(*account_server_dir(p, "https://127.0.0.1:14000/dir") ==
        "/etc/letsencrypt/accounts/127.0.0.1:14000/dir");
  CHECK(*account_server_dir(p, "https://ca.example/acme/v2/directory/?x=1#f") ==
        "/etc/letsencrypt/accounts/ca.example/acme/v2/directory");
  CHECK(*account_server_dir(p, "http://localhost") == "/etc/letsencrypt/accounts/localhost");
  for (const char* bad : {"acme-v02.api.letsencrypt.org/directory", "ftp://x/dir", "https:///dir",
                          "https://x/../../etc", "https://x/a/./b", "https://../dir"}) {
    CAPTURE(bad);
    auto r = account_server_dir(p, bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_input);
  }
}

TEST_CASE("an account saved for a server loads back with its key, URL and registration") {
  test::TempDir root;
  Paths p = paths_in(root);
  for (auto type : {crypto::KeyType::ecdsa, crypto::KeyType::rsa}) {
    crypto::PrivateKey key = new_key(type);
    json reg = {{"status", "valid"}, {"contact", {"mailto:admin@example.org"}}};
    const std::string url =
        "https://acme-v02.api.letsencrypt.org/acme/acct/" + std::to_string(static_cast<int>(type));
    auto id = save_account(p, k_le, key, url, reg, at("2026-11-26T12:34:56Z"));
    REQUIRE_MESSAGE(id, id.error().describe());
    CHECK(*id == key.certbot_account_id());
    fs::path dir = p.accounts_dir() / "acme-v02.api.letsencrypt.org" / "directory" / *id;
    CHECK(fs::is_directory(dir));

    auto account = load_account(p, k_le, *id);
    REQUIRE_MESSAGE(account, account.error().describe());
    CHECK(account->id == *id);
    CHECK(account->server == k_le);
    CHECK(account->dir == dir);
    CHECK(account->url == url);
    CHECK(account->registration == reg);
    CHECK(account->key.public_jwk() == key.public_jwk());
    CHECK(account->key.to_pem() == key.to_pem());
    CHECK(account->meta.creation_dt == "2026-11-26T12:34:56Z");
    CHECK_FALSE(account->meta.creation_host.empty());
  }
  auto ids = list_accounts(p, k_le);
  REQUIRE(ids);
  CHECK(ids->size() == 2);
  CHECK(std::is_sorted(ids->begin(), ids->end()));
  CHECK(list_accounts(p, "https://other.example/directory")->empty());
}

TEST_CASE("account files have certbot's names, shapes and private modes") {
  test::TempDir root;
  Paths p = paths_in(root);
  crypto::PrivateKey key = new_key();
  auto id = save_account(p, k_le, key, "https://ca/acct/1", json{{"status", "valid"}},
                         at("2026-01-02T03:04:05Z"));
  REQUIRE(id);
  fs::path dir = p.accounts_dir() / "acme-v02.api.letsencrypt.org" / "directory" / *id;
  auto regr = json::parse(*sys::read_file(dir / "regr.json"));
  CHECK(regr == json{{"body", {{"status", "valid"}}}, {"uri", "https://ca/acct/1"}});
  auto meta = json::parse(*sys::read_file(dir / "meta.json"));
  CHECK(meta["creation_dt"] == "2026-01-02T03:04:05Z");
  CHECK(meta.contains("register_to_eff"));
  CHECK(meta["register_to_eff"].is_null());
  CHECK(meta["creation_host"].is_string());
  auto jwk = json::parse(*sys::read_file(dir / "private_key.json"));
  CHECK(jwk["kty"] == "EC");
  CHECK(jwk.contains("d"));
  CHECK(mode_of(dir / "private_key.json") == 0600);
  CHECK(mode_of(dir / "regr.json") == 0644);
  for (fs::path d = dir; d != p.config_dir; d = d.parent_path()) {
    CAPTURE(d);
    CHECK(mode_of(d) == 0700);
  }
  // nothing but the account itself in the server dir (the temporary dir was renamed into place)
  int n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.parent_path())) ++n;
  CHECK(n == 1);
}

TEST_CASE("saving an existing account again updates its registration and keeps its meta") {
  test::TempDir root;
  Paths p = paths_in(root);
  crypto::PrivateKey key = new_key();
  auto id = save_account(p, k_le, key, "https://ca/acct/1", json{{"status", "valid"}},
                         at("2026-01-02T03:04:05Z"));
  REQUIRE(id);
  auto again = save_account(p, k_le, key, "https://ca/acct/1",
                            json{{"status", "valid"}, {"contact", json::array()}},
                            at("2027-01-01T00:00:00Z"));
  REQUIRE(again);
  CHECK(*again == *id);
  auto account = load_account(p, k_le, *id);
  REQUIRE(account);
  CHECK(account->registration.contains("contact"));
  CHECK(account->meta.creation_dt == "2026-01-02T03:04:05Z");
}

TEST_CASE("loading a missing or damaged account names what is wrong") {
  test::TempDir root;
  Paths p = paths_in(root);
  auto missing = load_account(p, k_le, "0123456789abcdef0123456789abcdef");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::not_found);
  CHECK(load_account(p, k_le, "../x").error().code == Errc::invalid_input);

  crypto::PrivateKey key = new_key();
  auto id =
      save_account(p, k_le, key, "https://ca/acct/1", json::object(), at("2026-01-02T03:04:05Z"));
  REQUIRE(id);
  fs::path dir = *account_server_dir(p, k_le) / *id;

  REQUIRE(sys::write_file_atomic(dir / "regr.json", "{\"body\": {}}"));
  auto no_uri = load_account(p, k_le, *id);
  REQUIRE_FALSE(no_uri);
  CHECK(no_uri.error().code == Errc::config);
  CHECK(no_uri.error().message.find("regr.json") != std::string::npos);

  REQUIRE(sys::write_file_atomic(dir / "regr.json", "{broken"));
  CHECK(load_account(p, k_le, *id).error().code == Errc::config);

  REQUIRE(sys::write_file_atomic(dir / "regr.json", R"({"body": {}, "uri": "https://ca/acct/1"})"));
  REQUIRE(
      sys::write_file_atomic(dir / "private_key.json", R"({"kty": "EC", "crv": "P-256"})", 0600));
  auto bad_key = load_account(p, k_le, *id);
  REQUIRE_FALSE(bad_key);
  CHECK(bad_key.error().describe().find("private_key.json") != std::string::npos);
}

TEST_CASE("a half-saved account is not listed and is cleaned up by its next save") {
  test::TempDir root;
  Paths p = paths_in(root);
  fs::path server_dir = *account_server_dir(p, k_le);
  REQUIRE(sys::make_dirs(server_dir / ".abc.acmed-tmp-XYZ123"));
  REQUIRE(sys::write_file_atomic(server_dir / ".abc.acmed-tmp-XYZ123" / "private_key.json", "{}"));
  REQUIRE(sys::make_dirs(server_dir / "no-key-yet"));
  CHECK(list_accounts(p, k_le)->empty());
  crypto::PrivateKey key = new_key();
  const std::string own_tmp = "." + key.certbot_account_id() + ".acmed-tmp-ABC123";
  REQUIRE(sys::make_dirs(server_dir / own_tmp));
  REQUIRE(
      save_account(p, k_le, key, "https://ca/acct/9", json::object(), at("2026-01-02T03:04:05Z")));
  CHECK_FALSE(fs::exists(server_dir / own_tmp));
  // another account's temporary may belong to a save running right now
  CHECK(fs::exists(server_dir / ".abc.acmed-tmp-XYZ123"));
  CHECK(*list_accounts(p, k_le) == std::vector<std::string>{key.certbot_account_id()});
}

TEST_CASE("Let's Encrypt v2 finds the accounts certbot made for v1, as certbot does") {
  test::TempDir root;
  Paths p = paths_in(root);
  crypto::PrivateKey key = new_key();
  const std::string v1 = "https://acme-v01.api.letsencrypt.org/directory";
  auto id = save_account(p, v1, key, "https://acme-v01.api.letsencrypt.org/acme/reg/7",
                         json::object(), at("2017-01-02T03:04:05Z"));
  REQUIRE(id);
  CHECK(*list_accounts(p, k_le) == std::vector<std::string>{*id});
  auto account = load_account(p, k_le, *id);
  REQUIRE_MESSAGE(account, account.error().describe());
  CHECK(account->dir == p.accounts_dir() / "acme-v01.api.letsencrypt.org/directory" / *id);
  CHECK(account->key.public_jwk() == key.public_jwk());
  CHECK_FALSE(fs::exists(p.accounts_dir() / "acme-v02.api.letsencrypt.org"));
  // once v2 has its own account, that one is used; other servers never fall back
  crypto::PrivateKey key2 = new_key();
  auto id2 = save_account(p, k_le, key2, "https://acme-v02.api.letsencrypt.org/acme/acct/8",
                          json::object(), at("2026-01-02T03:04:05Z"));
  REQUIRE(id2);
  CHECK(*list_accounts(p, k_le) == std::vector<std::string>{*id2});
  CHECK(list_accounts(p, "https://acme.example/directory")->empty());
}

TEST_CASE("a staged rollover key stays beside the stored one until committed, and keeps the id") {
  test::TempDir root;
  Paths p = paths_in(root);
  crypto::PrivateKey first = new_key();
  const std::string first_jwk = first.to_private_jwk().dump();
  auto id = save_account(p, k_le, first, "https://ca/acct/1", json::object(),
                         at("2026-11-26T12:34:56Z"));
  REQUIRE(id);
  auto account = load_account(p, k_le, *id);
  REQUIRE(account);
  CHECK_FALSE(staged_account_key(*account).value().has_value());

  crypto::PrivateKey second = new_key();
  const std::string second_jwk = second.to_private_jwk().dump();
  REQUIRE(stage_account_key(*account, second));
  CHECK(mode_of(account->dir / "rollover_key.json") == 0600);
  // Until committed, the stored key is the old one (a crash here keeps the account usable).
  CHECK(load_account(p, k_le, *id)->key.to_private_jwk().dump() == first_jwk);
  CHECK(staged_account_key(*account).value()->to_private_jwk().dump() == second_jwk);

  REQUIRE(commit_account_key(*account));
  auto after = load_account(p, k_le, *id);
  REQUIRE(after);
  CHECK(after->key.to_private_jwk().dump() == second_jwk);
  CHECK(after->url == "https://ca/acct/1");
  CHECK(mode_of(after->dir / "private_key.json") == 0600);
  CHECK_FALSE(staged_account_key(*after).value().has_value());
  CHECK(list_accounts(p, k_le).value() == std::vector<std::string>{*id});

  REQUIRE(stage_account_key(*after, new_key()));
  REQUIRE(discard_staged_account_key(*after));
  CHECK(load_account(p, k_le, *id)->key.to_private_jwk().dump() == second_jwk);
  CHECK_FALSE(staged_account_key(*after).value().has_value());
}

TEST_CASE("a removed account is gone at once and the others stay") {
  test::TempDir root;
  Paths p = paths_in(root);
  auto a = save_account(p, k_le, new_key(), "https://ca/acct/a", json::object(),
                        at("2026-11-26T12:34:56Z"));
  auto b = save_account(p, k_le, new_key(), "https://ca/acct/b", json::object(),
                        at("2026-11-26T12:34:56Z"));
  REQUIRE(a);
  REQUIRE(b);
  auto account = load_account(p, k_le, *a);
  REQUIRE(account);
  REQUIRE(remove_account(p, *account));
  CHECK(list_accounts(p, k_le).value() == std::vector<std::string>{*b});
  CHECK_FALSE(fs::exists(account->dir));
  CHECK(load_account(p, k_le, *a).error().code == Errc::not_found);
}

TEST_CASE("what an interrupted save left of an account is removed; complete accounts stay") {
  test::TempDir root;
  Paths p = paths_in(root);
  crypto::PrivateKey key = new_key();
  auto id = save_account(p, k_le, key, "https://ca.example/acct/1", json::object(),
                         at("2026-11-26T12:34:56Z"));
  REQUIRE(id);
  const fs::path server_dir = p.accounts_dir() / "acme-v02.api.letsencrypt.org" / "directory";
  const fs::path left = server_dir / ("." + *id + ".acmed-tmp-abc123");
  const fs::path other = server_dir / ".someoneelse.acmed-tmp-abc123";
  fs::create_directories(left);
  fs::create_directories(other);
  std::ofstream(left / "private_key.json") << "{}";
  REQUIRE(remove_account_temporaries(p, k_le, *id));
  CHECK_FALSE(fs::exists(left));
  CHECK(fs::exists(other));  // another id's save may be running
  CHECK(load_account(p, k_le, *id));
  CHECK(remove_account_temporaries(p, k_le, *id));  // idempotent
  CHECK(remove_account_temporaries(p, "ftp://x", *id).error().code == Errc::invalid_input);
}
