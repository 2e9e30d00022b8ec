#include "acmed/store/renewal_conf.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace acmed;
using namespace acmed::store;
using namespace std::chrono_literals;

namespace {

// A renewal conf the way certbot 2.x writes one for a webroot certificate (written for this test
// from certbot's documented format).
const std::string k_certbot_conf = R"(# renew_before_expiry = 30 days
version = 2.11.0
archive_dir = /etc/letsencrypt/archive/example.org
cert = /etc/letsencrypt/live/example.org/cert.pem
privkey = /etc/letsencrypt/live/example.org/privkey.pem
chain = /etc/letsencrypt/live/example.org/chain.pem
fullchain = /etc/letsencrypt/live/example.org/fullchain.pem

# Options used in the renewal process
[renewalparams]
account = 3f9b2c0d8e7a41f5b6c2d9e8a7b6c5d4
authenticator = webroot
webroot_path = /var/www/example,
server = https://acme-v02.api.letsencrypt.org/directory
key_type = ecdsa
renew_hook = systemctl reload nginx
pre_hook = "/usr/local/bin/maint on, quietly"
reuse_key = True
http01_port = None
installer = None
pref_challs = http-01,
some_future_option = kept as is
[[webroot_map]]
example.org = /var/www/example
www.example.org = /var/www/example
)";

}  // namespace

TEST_CASE("a renewal conf written by certbot is understood") {
  auto conf = parse_renewal_conf(k_certbot_conf, "/etc/letsencrypt/renewal/example.org.conf");
  REQUIRE(conf);
  CHECK(conf->version == "2.11.0");
  CHECK(conf->archive_dir == "/etc/letsencrypt/archive/example.org");
  CHECK(conf->cert == "/etc/letsencrypt/live/example.org/cert.pem");
  CHECK(conf->privkey == "/etc/letsencrypt/live/example.org/privkey.pem");
  CHECK(conf->chain == "/etc/letsencrypt/live/example.org/chain.pem");
  CHECK(conf->fullchain == "/etc/letsencrypt/live/example.org/fullchain.pem");
  CHECK(conf->renew_before_expiry.empty());  // only mentioned in a comment
  const RenewalParams& p = conf->params;
  CHECK(p.account == "3f9b2c0d8e7a41f5b6c2d9e8a7b6c5d4");
  CHECK(p.authenticator == "webroot");
  CHECK(p.installer.empty());  // "None"
  CHECK(p.server == "https://acme-v02.api.letsencrypt.org/directory");
  CHECK(p.key_type == "ecdsa");
  CHECK(p.settings.list("webroot_path") == std::vector<std::string>{"/var/www/example"});
  CHECK(p.deploy_hook == "systemctl reload nginx");
  CHECK(p.pre_hook == "/usr/local/bin/maint on, quietly");
  CHECK(p.reuse_key == true);
  CHECK_FALSE(p.settings.has("http01_port"));
  CHECK(p.pref_challs == std::vector<std::string>{"http-01"});
  const auto& map = p.settings.tables.at("webroot_map");
  REQUIRE(map.size() == 2);
  CHECK(map[0] == std::pair<std::string, std::string>{"example.org", "/var/www/example"});
  CHECK(map[1].first == "www.example.org");
  CHECK(p.settings.get("some_future_option") == "kept as is");
  CHECK(conf->check_renewable());
}

TEST_CASE("rewriting an unchanged renewal conf gives the same bytes") {
  auto conf = parse_renewal_conf(k_certbot_conf, "x.conf");
  REQUIRE(conf);
  CHECK(render_renewal_conf(*conf) == k_certbot_conf);
}

TEST_CASE("changing fields keeps unknown keys, comments and untouched spellings") {
  auto conf = parse_renewal_conf(k_certbot_conf, "x.conf");
  REQUIRE(conf);
  conf->params.authenticator = "nginx";
  conf->params.settings.erase("webroot_path");
  conf->params.settings.erase("webroot_map");
  conf->params.preferred_profile = "shortlived";
  conf->params.rsa_key_size = 4096;
  conf->params.reuse_key = false;
  conf->renew_before_expiry = "20 days";
  std::string text = render_renewal_conf(*conf);
  CHECK(text.find("some_future_option = kept as is\n") != std::string::npos);
  CHECK(text.find("# Options used in the renewal process\n[renewalparams]\n") != std::string::npos);
  CHECK(text.find("http01_port = None\n") != std::string::npos);  // unchanged: left alone
  CHECK(text.find("webroot_path") == std::string::npos);
  CHECK(text.find("[[webroot_map]]") == std::string::npos);
  CHECK(text.find("authenticator = nginx\n") != std::string::npos);
  CHECK(text.find("reuse_key = False\n") != std::string::npos);
  auto back = parse_renewal_conf(text, "x.conf");
  REQUIRE(back);
  CHECK(back->params.authenticator == "nginx");
  CHECK(back->params.preferred_profile == "shortlived");
  CHECK(back->params.rsa_key_size == 4096);
  CHECK(back->params.reuse_key == false);
  CHECK(back->renew_before_expiry == "20 days");
  CHECK(back->params.deploy_hook == "systemctl reload nginx");
  CHECK(back->doc.section("renewalparams")->get("some_future_option")->str() == "kept as is");
}

TEST_CASE("a new renewal conf is laid out like certbot's and reads back field for field") {
  RenewalConf conf;
  conf.version = "0.1.0";
  conf.archive_dir = "/c/archive/n";
  conf.cert = "/c/live/n/cert.pem";
  conf.privkey = "/c/live/n/privkey.pem";
  conf.chain = "/c/live/n/chain.pem";
  conf.fullchain = "/c/live/n/fullchain.pem";
  RenewalParams& p = conf.params;
  p.authenticator = "webroot";
  p.installer = "nginx";
  p.server = "https://acme.example/directory";
  p.account = "abc";
  p.key_type = "rsa";
  p.rsa_key_size = 3072;
  p.elliptic_curve = "secp384r1";
  p.settings.lists["webroot_path"] = {"/srv/www"};
  p.settings.tables["webroot_map"] = {{"a.example", "/srv/www"}, {"*.b.example", "/srv/b"}};
  p.pre_hook = "echo pre";
  p.post_hook = "echo 'post, with comma' # and hash";
  p.deploy_hook = "echo deploy";
  p.reuse_key = true;
  p.must_staple = false;
  p.allow_subset_of_names = true;
  p.autorenew = true;
  p.preferred_chain = "ISRG Root X1";
  p.pref_challs = {"http-01", "dns-01"};
  p.settings.text["http01_port"] = "8080";
  p.settings.text["http01_address"] = "127.0.0.1";
  p.settings.text["nginx_server_root"] = "/etc/nginx";
  p.settings.text["apache_server_root"] = "/etc/apache2";
  p.settings.text["manual_auth_hook"] = "/bin/auth";
  p.settings.text["manual_cleanup_hook"] = "/bin/cleanup";
  p.preferred_profile = "classic";
  p.required_profile = "tlsserver";
  std::string text = render_renewal_conf(conf);
  CHECK(text.rfind("# renew_before_expiry = 30 days\nversion = 0.1.0\narchive_dir = /c/archive/n\n"
                   "cert = /c/live/n/cert.pem\n",
                   0) == 0);
  CHECK(text.find("\n# Options used in the renewal process\n[renewalparams]\n") !=
        std::string::npos);
  CHECK(text.find("renew_hook = echo deploy\n") != std::string::npos);
  CHECK(text.find("webroot_path = /srv/www,\n") != std::string::npos);
  CHECK(text.find("[[webroot_map]]\na.example = /srv/www\n") != std::string::npos);
  auto back = parse_renewal_conf(text, "n.conf");
  REQUIRE(back);
  const RenewalParams& q = back->params;
  CHECK(back->cert == conf.cert);
  CHECK(back->fullchain == conf.fullchain);
  CHECK(q.authenticator == p.authenticator);
  CHECK(q.installer == p.installer);
  CHECK(q.server == p.server);
  CHECK(q.account == p.account);
  CHECK(q.key_type == p.key_type);
  CHECK(q.rsa_key_size == p.rsa_key_size);
  CHECK(q.elliptic_curve == p.elliptic_curve);
  CHECK(q.settings == p.settings);
  CHECK(q.pre_hook == p.pre_hook);
  CHECK(q.post_hook == p.post_hook);
  CHECK(q.deploy_hook == p.deploy_hook);
  CHECK(q.reuse_key == p.reuse_key);
  CHECK(q.must_staple == p.must_staple);
  CHECK(q.allow_subset_of_names == p.allow_subset_of_names);
  CHECK(q.autorenew == p.autorenew);
  CHECK(q.preferred_chain == p.preferred_chain);
  CHECK(q.pref_challs == p.pref_challs);
  CHECK(q.preferred_profile == p.preferred_profile);
  CHECK(q.required_profile == p.required_profile);
  CHECK(render_renewal_conf(*back) == text);
}

TEST_CASE("a missing key_type means rsa, as certbot before 1.25 wrote no key_type") {
  auto conf = parse_renewal_conf("[renewalparams]\nauthenticator = standalone\n", "old.conf");
  REQUIRE(conf);
  CHECK(conf->params.key_type.empty());
  CHECK(conf->params.key_type_or_rsa() == "rsa");
}

TEST_CASE("a deploy_hook key is read when there is no renew_hook") {
  auto conf = parse_renewal_conf("[renewalparams]\ndeploy_hook = /bin/x\n", "c.conf");
  REQUIRE(conf);
  CHECK(conf->params.deploy_hook == "/bin/x");
}

TEST_CASE("bad typed values in a renewal conf name file, line and key") {
  struct Bad {
    const char* text;
    const char* expect;
  };
  const Bad cases[] = {
      {"[renewalparams]\nauthenticator = webroot\nrsa_key_size = big\n", "c.conf:3: rsa_key_size"},
      {"[renewalparams]\nreuse_key = maybe\n", "c.conf:2: reuse_key"},
      {"[renewalparams]\nhttp01_port = 80,\n", "c.conf:2: http01_port"},
      {"[renewalparams]\nautorenew = yes\n", "c.conf:2: autorenew"},
      {"renew_before_expiry = soon\n", "c.conf:1: "},
      {"version = 1\n[renewalparams\n", "c.conf:2: "},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto conf = parse_renewal_conf(c.text, "c.conf");
    REQUIRE_FALSE(conf);
    CHECK(conf.error().code == Errc::config);
    CHECK(conf.error().message.rfind(c.expect, 0) == 0);
  }
}

TEST_CASE("a conf without renewalparams or authenticator is listed but not renewable") {
  auto none = parse_renewal_conf("version = 1.0\n", "a.conf");
  REQUIRE(none);
  auto st = none->check_renewable();
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::config);
  CHECK(st.error().message.find("a.conf") != std::string::npos);
  auto no_auth = parse_renewal_conf("[renewalparams]\nserver = https://x/dir\n", "b.conf");
  REQUIRE(no_auth);
  CHECK_FALSE(no_auth->check_renewable());
}

TEST_CASE("renew_before_expiry intervals parse like certbot's") {
  CHECK(*parse_interval("30 days") == std::chrono::seconds(30 * 86400));
  CHECK(*parse_interval("30") == std::chrono::seconds(30 * 86400));
  CHECK(*parse_interval("1 week") == std::chrono::seconds(7 * 86400));
  CHECK(*parse_interval("2 weeks 3 days") == std::chrono::seconds(17 * 86400));
  CHECK(*parse_interval("12 hours") == 12h);
  CHECK(*parse_interval("1 month") == std::chrono::seconds(30 * 86400));
  CHECK(*parse_interval("90 minutes") == 90min);
  for (const char* bad : {"", "soon", "days", "1 fortnight", "-3 days", "1 week 2", "3 days x"}) {
    CAPTURE(bad);
    auto r = parse_interval(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::config);
  }
}
