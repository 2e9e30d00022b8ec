// certbot's rules for the flags issue 11 adds, without a CA: key type and size on an existing
// lineage, -a/-i/--configurator and -i null, OCSP flags refused, --no-verify-ssl for a loopback
// server only, --email with --register-unsafely-without-email, and what `renew`'s plugin and key
// options change in a lineage's params.
#include "acmed/app/issue.hpp"
#include "acmed/app/renew.hpp"

#include <doctest/doctest.h>

using namespace acmed;

namespace {

crypto::KeySpec ecdsa(std::string curve = "secp256r1") {
  crypto::KeySpec k;
  k.type = crypto::KeyType::ecdsa;
  k.curve = std::move(curve);
  return k;
}
crypto::KeySpec rsa(int bits) {
  crypto::KeySpec k;
  k.type = crypto::KeyType::rsa;
  k.rsa_bits = bits;
  return k;
}

}  // namespace

TEST_CASE("an existing lineage keeps its key type and size when no key option is given") {
  app::IssueOptions o;
  auto k = app::key_for_existing(o, ecdsa(), rsa(4096), "a.test");
  REQUIRE(k);
  CHECK(k->type == crypto::KeyType::rsa);
  CHECK(k->rsa_bits == 4096);
}

TEST_CASE("changing the key type without --cert-name is refused with certbot's question") {
  app::IssueOptions o;
  o.key_type_given = true;
  auto k = app::key_for_existing(o, ecdsa(), rsa(2048), "a.test");
  REQUIRE(!k);
  CHECK(k.error().code == Errc::usage);
  CHECK(k.error().message ==
        "Are you trying to change the key type of the certificate named a.test from rsa to ecdsa?");
  o.cert_name = "a.test";
  auto ok = app::key_for_existing(o, ecdsa("secp384r1"), rsa(2048), "a.test");
  REQUIRE(ok);
  CHECK(ok->type == crypto::KeyType::ecdsa);
  CHECK(ok->curve == "secp384r1");
}

TEST_CASE("a size or curve change of the same type needs no --cert-name") {
  app::IssueOptions o;
  o.rsa_key_size_given = true;
  auto k = app::key_for_existing(o, rsa(3072), rsa(2048), "a.test");
  REQUIRE(k);
  CHECK(k->rsa_bits == 3072);
  app::IssueOptions c;
  c.elliptic_curve_given = true;
  auto p521 = app::key_for_existing(c, ecdsa("secp521r1"), ecdsa(), "a.test");
  REQUIRE(p521);
  CHECK(p521->curve == "secp521r1");
}

TEST_CASE("--reuse-key with another key type or size is refused unless --new-key") {
  app::IssueOptions o;
  o.reuse_key = true;
  o.rsa_key_size_given = true;
  auto k = app::key_for_existing(o, rsa(4096), rsa(2048), "a.test");
  REQUIRE(!k);
  CHECK(k.error().code == Errc::usage);
  CHECK(k.error().message.find("--reuse-key") != std::string::npos);
  o.new_key = true;
  CHECK(app::key_for_existing(o, rsa(4096), rsa(2048), "a.test"));
  app::IssueOptions same;
  same.reuse_key = true;
  same.rsa_key_size_given = true;
  CHECK(app::key_for_existing(same, rsa(2048), rsa(2048), "a.test"));  // no change: fine
}

TEST_CASE("-a, -i, --configurator and -i null choose the plugins") {
  app::IssueOptions o;
  o.authenticator = "webroot";
  o.installer = "nginx";
  CHECK(app::check_flag_conflicts(o));
  REQUIRE(app::chosen_plugin(o));
  CHECK(app::chosen_plugin(o)->name == "webroot");
  REQUIRE(app::chosen_installer(o));
  CHECK(app::chosen_installer(o)->name == "nginx");
  o.installer = "null";
  CHECK(app::check_flag_conflicts(o));
  CHECK(app::chosen_installer(o) == nullptr);

  app::IssueOptions c;
  c.configurator = "nginx";
  CHECK(app::chosen_plugin(c)->name == "nginx");
  CHECK(app::chosen_installer(c)->name == "nginx");
  c.authenticator = "webroot";
  CHECK(!app::check_flag_conflicts(c));

  app::IssueOptions flag;  // --nginx alone is -a nginx -i nginx
  flag.use_plugin["nginx"] = true;
  CHECK(app::chosen_installer(flag)->name == "nginx");
  flag.authenticator = "standalone";
  auto both = app::check_flag_conflicts(flag);
  REQUIRE(!both);
  CHECK(both.error().message == "--nginx and -a standalone contradict each other");

  app::IssueOptions unknown;
  unknown.authenticator = "dns-cloudflare";
  CHECK(app::check_flag_conflicts(unknown).error().code == Errc::usage);
  app::IssueOptions not_installer;
  not_installer.installer = "standalone";
  CHECK(app::check_flag_conflicts(not_installer).error().code == Errc::usage);
}

TEST_CASE("--must-staple and --staple-ocsp are refused with the reason") {
  app::IssueOptions o;
  o.must_staple = true;
  auto s = app::check_flag_conflicts(o);
  REQUIRE(!s);
  CHECK(s.error().message.find("ended OCSP") != std::string::npos);
  app::IssueOptions p;
  p.staple_ocsp = true;
  CHECK(app::check_flag_conflicts(p).error().message.find("ended OCSP") != std::string::npos);
}

TEST_CASE("--no-verify-ssl only with a loopback --server, and only then is verification off") {
  CHECK(app::loopback_url("https://127.0.0.1:14000/dir"));
  CHECK(app::loopback_url("https://[::1]:14000/dir"));
  CHECK(app::loopback_url("https://localhost/dir"));
  CHECK(!app::loopback_url("https://127.0.0.1.example.com/dir"));
  CHECK(!app::loopback_url("https://acme-v02.api.letsencrypt.org/directory"));
  CHECK(!app::loopback_url("ftp://127.0.0.1/"));
  app::IssueOptions o;
  o.no_verify_ssl = true;
  CHECK(!app::check_flag_conflicts(o));  // Let's Encrypt production
  o.server = "https://127.0.0.1:14000/dir";
  CHECK(app::check_flag_conflicts(o));
  CHECK(!app::transport_options(o).verify_peer);
  app::IssueOptions plain;
  plain.server = "https://127.0.0.1:14000/dir";
  CHECK(app::transport_options(plain).verify_peer);
}

TEST_CASE("--email with --register-unsafely-without-email registers with the address") {
  app::IssueOptions o;
  o.emails = {"a@example.com"};
  o.no_email = true;
  CHECK(app::check_flag_conflicts(o));
}

TEST_CASE("renew's plugin and key options rewrite each lineage's params") {
  app::IssueOptions o;
  o.authenticator = "standalone";
  o.plugin_flags = {{"http01_port", "8080"}};
  o.installer = "null";
  o.key_type = "rsa";
  o.rsa_key_size = 3072;
  o.key_type_given = o.rsa_key_size_given = true;
  o.no_reuse_key = true;
  auto edit = app::renew_param_overrides(o);
  REQUIRE(edit);
  store::RenewalParams p;
  p.authenticator = "webroot";
  p.installer = "nginx";
  p.key_type = "ecdsa";
  p.elliptic_curve = "secp256r1";
  p.reuse_key = true;
  (*edit)(p);
  CHECK(p.authenticator == "standalone");
  CHECK(p.settings.get("http01_port") == "8080");
  CHECK(p.installer.empty());
  CHECK(p.key_type == "rsa");
  CHECK(p.rsa_key_size == 3072);
  CHECK(p.elliptic_curve.empty());
  CHECK(p.reuse_key == false);

  app::IssueOptions none;
  auto keep = app::renew_param_overrides(none);
  REQUIRE(keep);
  store::RenewalParams q = p;
  (*keep)(q);
  CHECK(q.authenticator == "standalone");
  CHECK(q.key_type == "rsa");
  CHECK(q.rsa_key_size == 3072);
}
