#include "plugins/apache/installer.hpp"
#include "plugins/apache/vhost.hpp"

#include "acmed/install/transaction.hpp"
#include "acmed/sys/fs.hpp"
#include "fixture.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace acmed;
using namespace acmed::plugins::apache;
namespace fs = std::filesystem;
using install::Enhancement;

namespace {

class FakeServer final : public install::ServerControl {
 public:
  std::string name() const override { return "fake"; }
  Status config_test() override { return {}; }
  Status reload() override { return {}; }
};

struct Setup {
  test::TempDir dir;
  fs::path root;
  Options options;
  Setup() {
    root = test::make_debian_tree(dir.path(), 18080, 18443);
    options.server_root = root;
    options.http01_port = "18080";
    options.https_port = "18443";
    options.config_dir = dir / "le";
    options.work_dir = dir / "work";
    options.cross_check = CrossCheck::no;
  }
  Config config() {
    auto c = load(LoadOptions{root, {}, {}, {}});
    REQUIRE_MESSAGE(c, (c ? "" : c.error().describe()));
    return std::move(c).value();
  }
  install::DeployRequest request(std::vector<std::string> names,
                                 std::vector<Enhancement> enh = {Enhancement::redirect}) {
    install::DeployRequest r;
    r.lineage = names.front();
    r.names = names;
    r.fullchain_path = dir / ("le/live/" + names.front() + "/fullchain.pem");
    r.key_path = dir / ("le/live/" + names.front() + "/privkey.pem");
    r.enhancements = std::move(enh);
    return r;
  }
  install::Plan plan(const install::DeployRequest& r) {
    Config c = config();
    auto p = plan_changes(c, options, r.names, &r, r.enhancements);
    REQUIRE_MESSAGE(p, (p ? "" : p.error().describe()));
    return std::move(p).value();
  }
  void apply(const install::Plan& p) {
    FakeServer server;
    auto cp = install::execute(p, server, dir / "backups", "test");
    REQUIRE_MESSAGE(cp, (cp ? "" : cp.error().describe()));
  }
};

const install::FileChange* change_for(const install::Plan& p, const fs::path& path) {
  for (const auto& c : p.changes)
    if (c.path == path) return &c;
  return nullptr;
}

bool has_link(const install::Plan& p, const fs::path& link, const fs::path& target) {
  for (const auto& l : p.links)
    if (l.path == link && l.target == target) return true;
  return false;
}

}  // namespace

TEST_CASE("a deploy plans the -le-ssl vhost, the site and module links, options and redirect") {
  Setup s;
  auto r = s.request({"example.test", "www.example.test"});
  auto plan = s.plan(r);
  const auto* ssl = change_for(plan, s.root / "sites-available/example-le-ssl.conf");
  REQUIRE(ssl);
  CHECK_FALSE(ssl->before);
  const std::string& t = ssl->after;
  CHECK(t.find("<IfModule mod_ssl.c>\n<VirtualHost *:18443>\n") != std::string::npos);
  CHECK(t.find("\tServerName example.test\n\tServerAlias www.example.test\n") != std::string::npos);
  CHECK(t.find("\tSSLEngine on\n") != std::string::npos);
  CHECK(t.find("\tSSLCertificateFile " + r.fullchain_path.string() + "\n") != std::string::npos);
  CHECK(t.find("\tSSLCertificateKeyFile " + r.key_path.string() + "\n") != std::string::npos);
  CHECK(t.find("\tInclude " + (s.dir / "le/acmed-apache-tls.conf").string() + "\n") !=
        std::string::npos);
  CHECK(t.find("</VirtualHost>\n</IfModule>\n") != std::string::npos);
  CHECK(t.find("Listen") == std::string::npos);  // ports.conf already listens on 18443 with ssl
  CHECK(has_link(plan, s.root / "sites-enabled/example-le-ssl.conf",
                 "../sites-available/example-le-ssl.conf"));
  for (const char* m : {"ssl.load", "ssl.conf", "socache_shmcb.load", "rewrite.load"})
    CHECK(has_link(plan, s.root / "mods-enabled" / m, fs::path("../mods-available") / m));
  // setenvif and mime (ssl's other dependencies) are enabled already: not linked again
  CHECK_FALSE(has_link(plan, s.root / "mods-enabled/mime.load", "../mods-available/mime.load"));
  const auto* opts = change_for(plan, s.dir / "le/acmed-apache-tls.conf");
  REQUIRE(opts);
  CHECK(opts->after.find("SSLProtocol -all +TLSv1.2 +TLSv1.3\n") != std::string::npos);
  CHECK(opts->after.find("SSLSessionTickets off\n") != std::string::npos);
  CHECK(opts->after.find("SSLCompression off\n") != std::string::npos);
  CHECK(opts->after.find("SSLHonorCipherOrder off\n") != std::string::npos);
}

TEST_CASE("the redirect goes into the port-80 vhost's real file and changes only added lines") {
  Setup s;
  auto plan = s.plan(s.request({"example.test"}));
  // the edit goes to sites-available (the real file), never replaces the sites-enabled symlink
  const auto* site = change_for(plan, s.root / "sites-available/example.conf");
  REQUIRE(site);
  std::string d = install::diff(plan);
  CHECK(d.find(
            "+\t# acmed: redirect to HTTPS, ACME challenges excepted\n"
            "+\tRewriteEngine on\n"
            "+\tRewriteCond %{SERVER_NAME} =example.test\n"
            "+\tRewriteCond %{REQUEST_URI} !^/\\.well-known/acme-challenge/\n"
            "+\tRewriteRule ^ https://%{SERVER_NAME}:18443%{REQUEST_URI} [END,NE,R=permanent]\n") !=
        std::string::npos);
  // every removed line of the user's file is none: only additions
  std::string only_site = install::unified_diff(*site->before, site->after, "a", "b");
  for (std::size_t p = only_site.find("\n-"); p != std::string::npos;
       p = only_site.find("\n-", p + 1))
    FAIL("a line of the user's file was changed: " << only_site);
  // the new lines follow the last line of the body, right before </VirtualHost>
  CHECK(site->after.find("error.log\n\t# acmed: redirect") != std::string::npos);
}

TEST_CASE("a second deploy after the first was applied plans nothing") {
  Setup s;
  auto r =
      s.request({"example.test", "www.example.test"}, {Enhancement::redirect, Enhancement::hsts});
  s.apply(s.plan(r));
  CHECK(fs::is_symlink(s.root / "sites-enabled/example-le-ssl.conf"));
  CHECK(fs::read_symlink(s.root / "mods-enabled/ssl.load") == "../mods-available/ssl.load");
  auto again = s.plan(r);
  CHECK(again.empty());
  CHECK(install::diff(again).empty());
}

TEST_CASE("the HTTPS vhost leaves out the port-80 redirects and SSL lines but keeps the rest") {
  Setup s;
  test::write_text(
      s.root / "sites-available/example.conf",
      "<VirtualHost *:18080>\n  ServerName example.test\n  DocumentRoot /srv\n"
      "  RewriteEngine on\n  RewriteCond %{HTTPS} off\n  RewriteRule ^/(.*) "
      "https://example.test/$1 [R]\n"
      "  RewriteRule ^/old$ /new [PT]\n  Redirect permanent /x https://example.test/x\n"
      "  SSLEngine off\n  Alias /static /srv/static\n</VirtualHost>\n");
  auto plan = s.plan(s.request({"example.test"}, {}));
  const auto* ssl = change_for(plan, s.root / "sites-available/example-le-ssl.conf");
  REQUIRE(ssl);
  CHECK(ssl->after.find("RewriteCond %{HTTPS} off") == std::string::npos);
  CHECK(ssl->after.find("https://example.test/$1") == std::string::npos);
  CHECK(ssl->after.find("Redirect permanent") == std::string::npos);
  CHECK(ssl->after.find("SSLEngine off") == std::string::npos);
  CHECK(ssl->after.find("  RewriteRule ^/old$ /new [PT]\n") != std::string::npos);
  CHECK(ssl->after.find("  Alias /static /srv/static\n") != std::string::npos);
  CHECK(ssl->after.find("  DocumentRoot /srv\n") != std::string::npos);
  // without --redirect the port-80 file is untouched
  CHECK_FALSE(change_for(plan, s.root / "sites-available/example.conf"));
}

TEST_CASE("a vhost that already redirects to https gets no second redirect") {
  Setup s;
  test::write_text(s.root / "sites-available/example.conf",
                   "<VirtualHost *:18080>\n  ServerName example.test\n"
                   "  Redirect permanent / https://example.test/\n</VirtualHost>\n");
  auto plan = s.plan(s.request({"example.test"}));
  CHECK_FALSE(change_for(plan, s.root / "sites-available/example.conf"));
}

TEST_CASE("a name without a vhost is refused before anything is planned") {
  Setup s;
  Config c = s.config();
  auto r = s.request({"example.test", "other.test"});
  auto p = plan_changes(c, s.options, r.names, &r, r.enhancements);
  REQUIRE_FALSE(p);
  CHECK(p.error().code == Errc::not_found);
  CHECK(p.error().message.find("other.test") != std::string::npos);
}

TEST_CASE("a missing mod_ssl is reported as not installed") {
  Setup s;
  fs::remove(s.root / "mods-available/ssl.load");
  Config c = s.config();
  auto r = s.request({"example.test"});
  auto p = plan_changes(c, s.options, r.names, &r, r.enhancements);
  REQUIRE_FALSE(p);
  CHECK(p.error().code == Errc::not_found);
  CHECK(p.error().message.find("ssl") != std::string::npos);
}

TEST_CASE("enhance --hsts before any deploy is a conflict; after it adds one Header line") {
  Setup s;
  std::vector<std::string> names = {"example.test"};
  std::vector<Enhancement> hsts = {Enhancement::hsts};
  {
    Config c = s.config();
    auto p = plan_changes(c, s.options, names, nullptr, hsts);
    REQUIRE_FALSE(p);
    CHECK(p.error().code == Errc::conflict);
  }
  s.apply(s.plan(s.request(names, {})));
  Config c = s.config();
  auto p = plan_changes(c, s.options, names, nullptr, hsts);
  REQUIRE(p);
  const auto* ssl = change_for(*p, s.root / "sites-available/example-le-ssl.conf");
  REQUIRE(ssl);
  CHECK(ssl->after.find("\tHeader always set Strict-Transport-Security max-age=31536000\n") !=
        std::string::npos);
  CHECK(has_link(*p, s.root / "mods-enabled/headers.load", "../mods-available/headers.load"));
  s.apply(*p);
  Config c2 = s.config();
  auto again = plan_changes(c2, s.options, names, nullptr, hsts);
  REQUIRE(again);
  CHECK(again->empty());
}

TEST_CASE("a renewed lineage path updates only the certificate lines of the existing vhost") {
  Setup s;
  s.apply(s.plan(s.request({"example.test"}, {})));
  auto r = s.request({"example.test"}, {});
  r.fullchain_path = s.dir / "le/live/example.test-0001/fullchain.pem";
  r.key_path = s.dir / "le/live/example.test-0001/privkey.pem";
  auto plan = s.plan(r);
  REQUIRE(plan.changes.size() == 1);
  std::string d = install::diff(plan);
  CHECK(d.find("-\tSSLCertificateFile") != std::string::npos);
  CHECK(d.find("+\tSSLCertificateFile " + r.fullchain_path.string()) != std::string::npos);
  CHECK(plan.links.empty());
}

TEST_CASE("--apache-enmod takes certbot's a2enmod and refuses any other program") {
  Setup s;
  s.options.enmod = "/usr/sbin/a2enmod";
  s.options.ensite = "a2ensite";
  Config c = s.config();
  auto r = s.request({"example.test"});
  CHECK(plan_changes(c, s.options, r.names, &r, r.enhancements));
  s.options.enmod = "/opt/bin/my-enmod";
  auto p = plan_changes(c, s.options, r.names, &r, r.enhancements);
  REQUIRE_FALSE(p);
  CHECK(p.error().code == Errc::usage);
}

TEST_CASE("two port-80 vhosts in one file get one HTTPS file each") {
  Setup s;
  test::write_text(s.root / "sites-available/example.conf",
                   "<VirtualHost *:18080>\n  ServerName a.test\n</VirtualHost>\n"
                   "<VirtualHost *:18080>\n  ServerName b.test\n</VirtualHost>\n");
  auto plan = s.plan(s.request({"a.test", "b.test"}, {}));
  const auto* a = change_for(plan, s.root / "sites-available/example-a.test-le-ssl.conf");
  const auto* b = change_for(plan, s.root / "sites-available/example-b.test-le-ssl.conf");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->after.find("ServerName a.test") != std::string::npos);
  CHECK(b->after.find("ServerName b.test") != std::string::npos);
  s.apply(plan);
  CHECK(s.plan(s.request({"a.test", "b.test"}, {})).empty());
}

TEST_CASE("a name already served by an HTTPS vhost gets its certificate lines updated in place") {
  Setup s;
  for (const char* m : {"ssl.load", "ssl.conf", "socache_shmcb.load"})
    fs::create_symlink(std::string("../mods-available/") + m, s.root / "mods-enabled" / m);
  test::write_text(s.root / "sites-available/mine-ssl.conf",
                   "<IfModule mod_ssl.c>\n  <VirtualHost *:18443>\n    ServerName example.test\n"
                   "    SSLEngine on\n    SSLCertificateFile /etc/ssl/old.pem\n"
                   "    SSLCertificateKeyFile /etc/ssl/old.key\n  </VirtualHost>\n</IfModule>\n");
  fs::create_symlink("../sites-available/mine-ssl.conf", s.root / "sites-enabled/mine-ssl.conf");
  auto r = s.request({"example.test"}, {});
  auto plan = s.plan(r);
  CHECK_FALSE(change_for(plan, s.root / "sites-available/example-le-ssl.conf"));
  const auto* mine = change_for(plan, s.root / "sites-available/mine-ssl.conf");
  REQUIRE(mine);
  CHECK(mine->after ==
        "<IfModule mod_ssl.c>\n  <VirtualHost *:18443>\n    ServerName example.test\n"
        "    SSLEngine on\n    SSLCertificateFile " +
            r.fullchain_path.string() +
            "\n"
            "    SSLCertificateKeyFile " +
            r.key_path.string() + "\n    Include " + (s.dir / "le/acmed-apache-tls.conf").string() +
            "\n  </VirtualHost>\n</IfModule>\n");
  CHECK(plan.links.empty());
  s.apply(plan);
  CHECK(s.plan(r).empty());
}

TEST_CASE("a vhost root apache would never load is refused at planning time") {
  Setup s;
  fs::remove_all(s.root / "sites-enabled");
  test::write_text(s.root / "apache2.conf", *sys::read_file(s.root / "apache2.conf") +
                                                "Include sites-available/example.conf\n");
  Config c = s.config();
  auto r = s.request({"example.test"}, {});
  auto p = plan_changes(c, s.options, r.names, &r, r.enhancements);
  REQUIRE_FALSE(p);
  CHECK(p.error().code == Errc::config);
  CHECK(p.error().message.find("would not load") != std::string::npos);
}

namespace {

class FailingServer final : public install::ServerControl {
 public:
  std::string name() const override { return "fake"; }
  Status config_test() override { return Error(Errc::server, "apache rejects the configuration"); }
  Status reload() override { return {}; }
};

std::string fleet_block(const std::string& dir) {
  return "\t# acmed: fleet challenge directory (acmed fleet agent --challenge-dir)\n"
         "\tAlias /.well-known/acme-challenge/ " +
         dir +
         "/.well-known/acme-challenge/\n"
         "\t<Directory " +
         dir +
         "/.well-known/acme-challenge>\n"
         "\t\tRequire all granted\n"
         "\t\tOptions None\n"
         "\t\tAllowOverride None\n"
         "\t\tForceType text/plain\n"
         "\t</Directory>\n";
}

}  // namespace

TEST_CASE("--apache-challenge-dir: the port-80 vhost aliases it, with and without the redirect") {
  for (bool redirect : {false, true}) {
    CAPTURE(redirect);
    Setup s;
    s.options.challenge_dir = s.dir / "fleet/";
    std::string dir = (s.dir / "fleet").string();
    auto r = s.request(
        {"example.test", "www.example.test"},
        redirect ? std::vector<Enhancement>{Enhancement::redirect} : std::vector<Enhancement>{});
    auto plan = s.plan(r);
    const auto* site = change_for(plan, s.root / "sites-available/example.conf");
    REQUIRE(site);
    std::string redirect_end = "[END,NE,R=permanent]\n";
    std::string before_block =
        redirect ? redirect_end : std::string("\tErrorLog ${APACHE_LOG_DIR}/error.log\n");
    CHECK(site->after.find(before_block + fleet_block(dir) + "</VirtualHost>\n") !=
          std::string::npos);
    CHECK((site->after.find("RewriteRule") != std::string::npos) == redirect);
    // Only the port-80 vhost: the new HTTPS vhost has no such Alias.
    const auto* ssl = change_for(plan, s.root / "sites-available/example-le-ssl.conf");
    REQUIRE(ssl);
    CHECK(ssl->after.find("acme-challenge") == std::string::npos);
    // mod_alias is enabled already (Debian's default): no link for it.
    CHECK_FALSE(has_link(plan, s.root / "mods-enabled/alias.load", "../mods-available/alias.load"));
    // Applied, a second plan changes nothing.
    s.apply(plan);
    auto again = s.plan(r);
    CHECK(again.empty());
    Config c = s.config();
    std::vector<std::string> names{"example.test"};
    std::vector<Enhancement> hsts{Enhancement::hsts};
    auto enhanced = plan_changes(c, s.options, names, nullptr, hsts);
    REQUIRE(enhanced);
    CHECK(change_for(*enhanced, s.root / "sites-available/example.conf") == nullptr);
  }
}

TEST_CASE("--apache-challenge-dir: a new directory replaces the old one in acmed's block") {
  Setup s;
  s.options.challenge_dir = "/srv/one";
  auto r = s.request({"example.test"}, {});
  s.apply(s.plan(r));
  s.options.challenge_dir = "/srv/two";
  auto plan = s.plan(r);
  const auto* site = change_for(plan, s.root / "sites-available/example.conf");
  REQUIRE(site);
  CHECK(site->after.find(fleet_block("/srv/two")) != std::string::npos);
  CHECK(site->after.find("/srv/one") == std::string::npos);
}

TEST_CASE("--apache-challenge-dir: the user's own Alias and redirect are reported, not changed") {
  Setup s;
  test::write_text(s.root / "sites-available/example.conf",
                   "<VirtualHost *:18080>\n\tServerName example.test\n"
                   "\tAlias /.well-known/acme-challenge/ /var/www/le/\n"
                   "</VirtualHost>\n<VirtualHost *:18080>\n\tServerName b.test\n"
                   "\tRedirect permanent / https://b.test/\n</VirtualHost>\n");
  s.options.challenge_dir = "/srv/fleet";
  auto plan = s.plan(s.request({"example.test", "b.test"}, {}));
  const auto* site = change_for(plan, s.root / "sites-available/example.conf");
  REQUIRE(site);
  auto has_note = [&](std::string_view part) {
    return std::any_of(plan.notes.begin(), plan.notes.end(),
                       [&](const std::string& n) { return n.find(part) != std::string::npos; });
  };
  CHECK(has_note("has its own Alias for /.well-known/acme-challenge/ (line 3)"));
  CHECK(has_note("line 7 redirects /.well-known/acme-challenge/ to https too"));
  // b.test's vhost gets the block; example.test's keeps its own Alias only.
  CHECK(site->after.find("\tAlias /.well-known/acme-challenge/ /var/www/le/\n</VirtualHost>") !=
        std::string::npos);
  CHECK(site->after.find("\tRedirect permanent / https://b.test/\n" + fleet_block("/srv/fleet")) !=
        std::string::npos);
}

TEST_CASE("--apache-challenge-dir refuses relative and unsafe directories, changing nothing") {
  for (const char* dir : {"srv/fleet", "/srv/a\"b", "/srv/a\nb", "/srv/a;b", "/srv/a{b", "/srv/a}b",
                          "/srv/${X}", "/srv/a\\b"}) {
    CAPTURE(dir);
    Setup s;
    std::string before = *sys::read_file(s.root / "sites-available/example.conf");
    s.options.challenge_dir = dir;
    Config c = s.config();
    auto r = s.request({"example.test"});
    auto plan = plan_changes(c, s.options, r.names, &r, r.enhancements);
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == Errc::usage);
    CHECK(plan.error().message.find("--apache-challenge-dir") == 0);
    CHECK(plan.error().describe().find('\n') == std::string::npos);
    CHECK(*sys::read_file(s.root / "sites-available/example.conf") == before);
  }
}

TEST_CASE("--apache-challenge-dir: a configtest failure restores the vhost byte for byte") {
  Setup s;
  s.options.challenge_dir = "/srv/fleet";
  std::string before = *sys::read_file(s.root / "sites-available/example.conf");
  auto plan = s.plan(s.request({"example.test"}));
  REQUIRE(change_for(plan, s.root / "sites-available/example.conf"));
  FailingServer server;
  auto cp = install::execute(plan, server, s.dir / "backups", "test");
  REQUIRE_FALSE(cp);
  CHECK(*sys::read_file(s.root / "sites-available/example.conf") == before);
  CHECK_FALSE(fs::exists(s.root / "sites-available/example-le-ssl.conf"));
}
