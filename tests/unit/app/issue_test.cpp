// What certonly/run decide, without a CA: which lineage a request means, the dropped-names rule,
// when a lineage is due, how flags become an IssueRequest, and that a lineage that is not due is
// left alone without asking the CA.
#include "acmed/app/issue.hpp"
#include "acmed/renew/reissue.hpp"
#include "support/temp_dir.hpp"
#include "unit/renew/fixtures.hpp"

#include <doctest/doctest.h>

using namespace acmed;
using namespace std::chrono_literals;

namespace {

// A test::LineageSpec for `names`, issued `age` ago.
test::LineageSpec spec_for(std::vector<std::string> names,
                           std::chrono::hours age = std::chrono::hours(24 * 10),
                           std::string renew_before_expiry = {}) {
  test::LineageSpec spec;
  spec.names = std::move(names);
  spec.age = age;
  spec.renew_before_expiry = std::move(renew_before_expiry);
  return spec;
}

struct Store {
  test::TempDir dir;
  store::Paths paths{dir / "etc", dir / "work", dir / "logs"};
};

std::vector<util::Identifier> ids(const std::vector<std::string>& names) {
  std::vector<util::Identifier> out;
  for (const auto& n : names) {
    auto id = util::parse_identifier(n);
    REQUIRE(id);
    out.push_back(*id);
  }
  return out;
}

// Fails the test if anything tries to prove control of a name.
class NoAuthenticator final : public challenge::Authenticator {
 public:
  std::string name() const override { return "standalone"; }
  std::vector<std::string> supported_types() const override { return {"http-01"}; }
  Status perform(std::span<const challenge::Task>) override {
    FAIL("the CA was asked for a certificate");
    return {};
  }
  void cleanup(std::span<const challenge::Task>) noexcept override {}
};

}  // namespace

TEST_CASE("the lineage a request means: --cert-name, the same names, or with --expand a subset") {
  Store s;
  test::make_lineage(s.paths, "one.test", spec_for({"one.test", "www.one.test"}));
  test::make_lineage(s.paths, "two.test", spec_for({"two.test"}));
  app::IssueOptions o;
  CHECK(*app::matching_lineage(s.paths, o, ids({"www.one.test", "one.test"})) == "one.test");
  // A lineage covering some of the names, without --expand: certbot's non-interactive refusal.
  auto unexpanded = app::matching_lineage(s.paths, o, ids({"two.test", "extra.test"}));
  REQUIRE_FALSE(unexpanded);
  CHECK(unexpanded.error().code == Errc::usage);
  CHECK(unexpanded.error().message.find("two.test") != std::string::npos);
  CHECK(unexpanded.error().hint.find("--expand") != std::string::npos);
  // Names merely overlapping, or fewer than a lineage has, mean a new lineage.
  CHECK(app::matching_lineage(s.paths, o, ids({"one.test", "extra.test"}))->empty());
  CHECK(app::matching_lineage(s.paths, o, ids({"www.one.test"}))->empty());
  o.duplicate = true;
  CHECK(app::matching_lineage(s.paths, o, ids({"two.test", "extra.test"}))->empty());
  o.duplicate = false;
  o.expand = true;
  CHECK(*app::matching_lineage(s.paths, o, ids({"two.test", "extra.test"})) == "two.test");
  o.expand = false;
  o.cert_name = "two.test";
  CHECK(*app::matching_lineage(s.paths, o, ids({"other.test"})) == "two.test");
  o.cert_name = "new.test";
  CHECK(app::matching_lineage(s.paths, o, ids({"other.test"}))->empty());
  o.cert_name = "../etc";
  auto bad = app::matching_lineage(s.paths, o, ids({"other.test"}));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::invalid_input);
}

TEST_CASE("dropping names of an existing lineage needs --renew-with-new-domains") {
  std::set<std::string> have{"a.test", "b.test", "c.test"};
  auto refused = app::dropped_names("a.test", have, {"a.test"}, false);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::usage);
  CHECK(refused.error().message.find("b.test, c.test") != std::string::npos);
  CHECK(refused.error().hint.find("--renew-with-new-domains") != std::string::npos);
  auto allowed = app::dropped_names("a.test", have, {"a.test"}, true);
  REQUIRE(allowed);
  CHECK(*allowed == std::vector<std::string>{"b.test", "c.test"});
  auto adding = app::dropped_names("a.test", have, {"a.test", "b.test", "c.test", "d.test"}, false);
  REQUIRE(adding);
  CHECK(adding->empty());
}

TEST_CASE("a lineage is due after two thirds of its lifetime, or at renew_before_expiry") {
  Store s;
  test::make_lineage(s.paths, "young.test", spec_for({"young.test"}, 24h * 10));
  test::make_lineage(s.paths, "old.test", spec_for({"old.test"}, 24h * 70));
  test::make_lineage(s.paths, "rbe.test", spec_for({"rbe.test"}, 24h * 10, "85 days"));
  auto now = test::test_now();
  CHECK_FALSE(app::lifetime_due(*store::load_lineage(s.paths, "young.test"), now));
  CHECK(app::lifetime_due(*store::load_lineage(s.paths, "old.test"), now));
  CHECK(app::lifetime_due(*store::load_lineage(s.paths, "rbe.test"), now));
}

TEST_CASE("the flags become an IssueRequest: CA, key, profiles, account, plugin and hooks") {
  Store s;
  app::IssueOptions o;
  o.domains = {"A.test", "b.test", "a.test"};
  o.dry_run = true;
  o.key_type = "rsa";
  o.rsa_key_size = 3072;
  o.preferred_profile = "shortlived";
  o.emails = {"me@example.org"};
  o.agree_tos = true;
  o.eab_kid = "kid";
  o.eab_hmac_key = "key";
  o.use_plugin["standalone"] = true;
  o.plugin_flags = {{"http01_port", "8080"}};
  o.deploy_hook = "systemctl reload x";
  auto req = app::issue_request(o, s.paths, {});
  REQUIRE(req);
  CHECK(req->server == renew::k_le_staging);  // --dry-run without --server
  REQUIRE(req->identifiers.size() == 2);      // normalised, without repeats
  CHECK(req->identifiers[0].value == "a.test");
  CHECK(req->key.type == crypto::KeyType::rsa);
  CHECK(req->key.rsa_bits == 3072);
  CHECK(req->preferred_profile == "shortlived");
  CHECK(req->account.emails == std::vector<std::string>{"me@example.org"});
  CHECK(req->account.tos == acme::TosAgreement::agreed);
  REQUIRE(req->account.eab);
  CHECK(req->account.eab->kid == "kid");
  CHECK(req->params.authenticator == "standalone");
  CHECK(req->params.settings.get("http01_port") == "8080");
  CHECK(req->params.deploy_hook == "systemctl reload x");

  o.preferred_challenges = {"DNS", "http-01", "dns-01"};
  auto prefs = app::issue_request(o, s.paths, {});
  REQUIRE(prefs);
  CHECK(prefs->preferred_challenges == std::vector<std::string>{"dns-01", "http-01"});
  o.preferred_challenges = {"smtp"};
  auto unknown = app::issue_request(o, s.paths, {});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == Errc::usage);
}

TEST_CASE("contradicting flags are refused before anything happens") {
  app::IssueOptions o;
  o.use_plugin["webroot"] = true;
  o.use_plugin["nginx"] = true;
  auto two = app::check_flag_conflicts(o);
  REQUIRE_FALSE(two);
  CHECK(two.error().message.find("--webroot") != std::string::npos);
  app::IssueOptions p;
  p.staging = true;
  p.server = "https://x/dir";
  CHECK_FALSE(app::check_flag_conflicts(p));
}

TEST_CASE("a request for a lineage that is not due keeps it and asks nothing of the CA") {
  Store s;
  test::make_lineage(s.paths, "keep.test", spec_for({"keep.test"}, 24h));
  auto before = store::load_lineage(s.paths, "keep.test");
  REQUIRE(before);
  app::IssueOptions o;
  o.domains = {"keep.test"};
  o.server = "https://127.0.0.1:9/dir";  // nothing listens: any request would fail
  o.no_email = true;
  o.use_plugin["standalone"] = true;
  app::ObtainContext ctx;
  ctx.paths = s.paths;
  ctx.now = test::test_now();  // the fixture's clock: keep.test is a day old
  std::vector<std::string> said;
  ctx.log = [&](renew::LogLevel, std::string_view text) { said.emplace_back(text); };
  NoAuthenticator auth;
  auto obtained = app::obtain(o, ctx, auth);
  REQUIRE_MESSAGE(obtained, obtained.error().describe());
  CHECK(obtained->lineage == "keep.test");
  CHECK_FALSE(obtained->outcome);
  REQUIRE_FALSE(said.empty());
  CHECK(said.back().find("not yet due") != std::string::npos);
  CHECK(store::load_lineage(s.paths, "keep.test")->version == before->version);

  SUBCASE("dropping a name is refused in the same place, before the CA") {
    test::make_lineage(s.paths, "pair.test", spec_for({"pair.test", "www.pair.test"}));
    o.domains = {"pair.test"};
    o.cert_name = "pair.test";
    auto refused = app::obtain(o, ctx, auth);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == Errc::usage);
  }
}
