// The nginx installer and authenticator planned against configs in a temp dir, with nginx itself
// replaced by a fake process runner.
#include "plugins/nginx/nginx.hpp"

#include "acmed/install/transaction.hpp"
#include "acmed/sys/fs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace acmed;
using namespace acmed::plugins;
namespace fs = std::filesystem;

namespace {

class FakeNginx final : public sys::ProcessRunner {
 public:
  Result<sys::ProcessResult> run(const std::vector<std::string>& argv,
                                 const sys::ProcessOptions&) override {
    calls.push_back(argv);
    sys::ProcessResult r;
    r.exit_code = 0;
    if (argv.back() == "-v") r.err = "nginx version: nginx/" + version + "\n";
    if (argv.back() == "-t" && fail_test) {
      r.exit_code = 1;
      r.err = "nginx: [emerg] duplicate listen options";
    }
    return r;
  }
  int count(const std::string& last_arg) const {
    int n = 0;
    for (const auto& c : calls) n += c.back() == last_arg;
    return n;
  }
  std::string version = "1.22.1";
  bool fail_test = false;
  std::vector<std::vector<std::string>> calls;
};

struct Site {
  test::TempDir dir;
  FakeNginx runner;
  nginx::Options options;

  explicit Site(const std::string& site_conf) {
    REQUIRE(sys::make_dirs(dir / "nginx/sites-enabled"));
    REQUIRE(sys::make_dirs(dir / "acmed"));
    REQUIRE(sys::write_file_atomic(dir / "nginx/nginx.conf",
                                   "events {}\nhttp {\n\tinclude sites-enabled/*;\n}\n"));
    REQUIRE(sys::write_file_atomic(dir / "nginx/sites-enabled/site", site_conf));
    options.server_root = dir / "nginx";
    options.config_dir = dir / "acmed";
    options.cross_check = nginx::CrossCheck::no;
    options.reload_wait = std::chrono::milliseconds(0);  // no nginx answers here: do not wait
    options.challenge_settle = std::chrono::milliseconds(0);
  }
  fs::path site() const { return dir / "nginx/sites-enabled/site"; }
  install::DeployRequest request(std::vector<std::string> names,
                                 std::vector<install::Enhancement> enh = {
                                     install::Enhancement::redirect}) {
    install::DeployRequest r;
    r.lineage = names.front();
    r.names = std::move(names);
    r.fullchain_path = dir / ("acmed/live/" + r.lineage + "/fullchain.pem");
    r.key_path = dir / ("acmed/live/" + r.lineage + "/privkey.pem");
    r.enhancements = std::move(enh);
    return r;
  }
  // Writes the plan's contents as a transaction would, without nginx.
  void write(const install::Plan& plan) {
    for (const auto& c : plan.changes) REQUIRE(sys::write_file_atomic(c.path, c.after, c.mode));
  }
  std::string after_for(const install::Plan& plan, const fs::path& path) {
    for (const auto& c : plan.changes)
      if (c.path == path) return c.after;
    FAIL("no change for " << path.string());
    return {};
  }
};

const char* k_site =
    "# my site\n"
    "server {\n"
    "\tlisten 80;\n"
    "\tlisten [::]:80;\n"
    "\tserver_name example.test www.example.test;\n"
    "\troot /var/www/html; # docroot\n"
    "}\n"
    "server {\n"
    "\tlisten 80;\n"
    "\tserver_name other.test;\n"
    "}\n";

}  // namespace

TEST_CASE("deploy adds TLS lines in the file's own indentation and a redirect, marked") {
  Site s(k_site);
  auto installer = nginx::make_installer(s.options, s.runner);
  auto req = s.request({"example.test", "www.example.test"});
  auto plan = installer->plan_deploy(req);
  REQUIRE_MESSAGE(plan.ok(), (plan.ok() ? "" : plan.error().describe()));
  std::string live = (s.dir / "acmed/live/example.test").string();
  std::string opts = (s.dir / "acmed/acmed-nginx-tls.conf").string();
  CHECK(s.after_for(*plan, s.site()) ==
        "# my site\n"
        "server {\n"
        "\tlisten 80;\n"
        "\tlisten [::]:80;\n"
        "\tlisten 443 ssl http2; # managed by acmed\n"
        "\tlisten [::]:443 ssl http2; # managed by acmed\n"
        "\tssl_certificate " +
            live +
            "/fullchain.pem; # managed by acmed\n"
            "\tssl_certificate_key " +
            live +
            "/privkey.pem; # managed by acmed\n"
            "\tinclude " +
            opts +
            "; # managed by acmed\n"
            "\tset $acmed_redirect $scheme; # managed by acmed\n"
            "\tif ($request_uri ~ \"^/\\.well-known/acme-challenge/\") { set $acmed_redirect "
            "challenge; } # managed by acmed\n"
            "\tif ($acmed_redirect = http) { return 301 https://$host$request_uri; } # managed by "
            "acmed\n"
            "\tserver_name example.test www.example.test;\n"
            "\troot /var/www/html; # docroot\n"
            "}\n"
            "server {\n"
            "\tlisten 80;\n"
            "\tserver_name other.test;\n"
            "}\n");
  CHECK(s.after_for(*plan, opts) == nginx::tls_options_text());
  CHECK(install::diff(*plan).find("+\tlisten 443 ssl http2; # managed by acmed\n") !=
        std::string::npos);
  CHECK(s.runner.count("-t") == 0);  // planning runs nothing but `nginx -v`
  CHECK(fs::exists(s.site()));
  CHECK_FALSE(fs::exists(opts));  // planning writes nothing
}

TEST_CASE("deploying twice changes nothing the second time") {
  Site s(k_site);
  auto installer = nginx::make_installer(s.options, s.runner);
  auto req =
      s.request({"example.test"}, {install::Enhancement::redirect, install::Enhancement::hsts});
  auto first = installer->plan_deploy(req);
  REQUIRE(first.ok());
  REQUIRE_FALSE(first->empty());
  s.write(*first);
  auto second = installer->plan_deploy(req);
  REQUIRE_MESSAGE(second.ok(), (second.ok() ? "" : second.error().describe()));
  CHECK(second->empty());
  CHECK(install::diff(*second) == "");
}

TEST_CASE("nginx 1.25.1 and later get `http2 on;` instead of the listen flag") {
  Site s("server {\n    listen 80;\n    server_name a.test;\n}\n");
  s.runner.version = "1.25.1";
  auto plan = nginx::make_installer(s.options, s.runner)->plan_deploy(s.request({"a.test"}, {}));
  REQUIRE(plan.ok());
  auto text = s.after_for(*plan, s.site());
  CHECK(text.find("    listen 443 ssl; # managed by acmed\n    http2 on; # managed by acmed\n") !=
        std::string::npos);
  CHECK(text.find("[::]") == std::string::npos);            // no IPv6 listen, no IPv6 line
  CHECK(text.find("acmed_redirect") == std::string::npos);  // no redirect asked
}

TEST_CASE("a name no server block serves is a clear not_found error") {
  Site s(k_site);
  auto plan = nginx::make_installer(s.options, s.runner)->plan_deploy(s.request({"nope.test"}));
  REQUIRE_FALSE(plan.ok());
  CHECK(plan.error().code == Errc::not_found);
  CHECK(plan.error().message.find("no nginx server block for nope.test") != std::string::npos);
}

TEST_CASE("a parse error in any loaded file refuses the plan naming file and line") {
  Site s(k_site);
  REQUIRE(sys::write_file_atomic(s.dir / "nginx/sites-enabled/zz-broken",
                                 "server {\n  listen 80\n}\n"));
  auto plan = nginx::make_installer(s.options, s.runner)->plan_deploy(s.request({"example.test"}));
  REQUIRE_FALSE(plan.ok());
  CHECK(plan.error().code == Errc::config);
  CHECK(plan.error().message.find("sites-enabled/zz-broken:3:") != std::string::npos);
}

TEST_CASE("an existing certificate of the TLS server is replaced in place, options kept") {
  Site s(
      "server {\n  listen 80;\n  server_name a.test;\n  return 301 https://$host$request_uri;\n}\n"
      "server {\n  listen 443 ssl;\n  server_name a.test;\n  ssl_certificate /old/cert.pem;\n"
      "  ssl_certificate_key /old/key.pem;\n  ssl_protocols TLSv1.3;\n}\n");
  auto req = s.request({"a.test"});
  auto plan = nginx::make_installer(s.options, s.runner)->plan_deploy(req);
  REQUIRE_MESSAGE(plan.ok(), (plan.ok() ? "" : plan.error().describe()));
  std::string live = (s.dir / "acmed/live/a.test").string();
  CHECK(
      s.after_for(*plan, s.site()) ==
      "server {\n  listen 80;\n  server_name a.test;\n  return 301 https://$host$request_uri;\n}\n"
      "server {\n  listen 443 ssl;\n  server_name a.test;\n  ssl_certificate " +
          live +
          "/fullchain.pem; # managed by acmed\n"
          "  ssl_certificate_key " +
          live +
          "/privkey.pem; # managed by acmed\n"
          "  ssl_protocols TLSv1.3;\n}\n");
}

TEST_CASE("the TLS options file is written once and never overwritten") {
  Site s(k_site);
  REQUIRE(sys::write_file_atomic(s.dir / "acmed/acmed-nginx-tls.conf", "# tuned by the admin\n"));
  auto plan = nginx::make_installer(s.options, s.runner)->plan_deploy(s.request({"other.test"}));
  REQUIRE(plan.ok());
  for (const auto& c : plan->changes) CHECK(c.path != s.dir / "acmed/acmed-nginx-tls.conf");
}

TEST_CASE("a one-line server block gets its closing brace on a line of its own") {
  Site s("server { listen 80; server_name a.test; }\n");
  auto plan = nginx::make_installer(s.options, s.runner)->plan_deploy(s.request({"a.test"}, {}));
  REQUIRE(plan.ok());
  auto text = s.after_for(*plan, s.site());
  CHECK(text.find("server { listen 80;\n    listen 443 ssl http2; # managed by acmed\n") == 0);
  CHECK(text.find("# managed by acmed\n    server_name a.test; }\n") != std::string::npos);
}

TEST_CASE("enhance adds HSTS once to a deployed server") {
  Site s("server {\n  listen 443 ssl;\n  server_name a.test;\n}\n");
  auto installer = nginx::make_installer(s.options, s.runner);
  std::vector<std::string> names{"a.test"};
  std::vector<install::Enhancement> hsts{install::Enhancement::hsts};
  auto plan = installer->plan_enhance(names, hsts);
  REQUIRE(plan.ok());
  CHECK(s.after_for(*plan, s.site())
            .find("  add_header Strict-Transport-Security \"max-age=31536000\" always; # managed "
                  "by acmed\n") != std::string::npos);
  s.write(*plan);
  auto again = installer->plan_enhance(names, hsts);
  REQUIRE(again.ok());
  CHECK(again->empty());
  std::vector<std::string> unknown{"b.test"};
  CHECK(installer->plan_enhance(unknown, hsts).error().code == Errc::not_found);
}

TEST_CASE("the authenticator adds a marked challenge location and cleanup restores the bytes") {
  Site s(k_site);
  auto auth = nginx::make_authenticator(s.options, s.runner);
  challenge::Task task{"www.example.test", "dns", "http-01", "tok_EN-1", "tok_EN-1.thumb", ""};
  std::vector<challenge::Task> tasks{task};
  REQUIRE(auth->perform(tasks));
  auto text = *sys::read_file(s.site());
  CHECK(
      text.find(
          "\tlisten [::]:80;\n\tlocation = /.well-known/acme-challenge/tok_EN-1 { default_type "
          "text/plain; return 200 \"tok_EN-1.thumb\"; } # acmed http-01 challenge (temporary)\n") !=
      std::string::npos);
  CHECK(s.runner.count("-t") == 1);
  CHECK(s.runner.count("reload") == 1);
  auth->cleanup(tasks);
  CHECK(*sys::read_file(s.site()) == k_site);
  CHECK(s.runner.count("reload") == 2);
  auth->cleanup(tasks);  // idempotent
  CHECK(s.runner.count("reload") == 2);
}

TEST_CASE("a stale challenge snippet from a crashed run is removed by the next perform") {
  std::string stale = std::string(k_site);
  stale.insert(stale.find("\tserver_name example"),
               "\tlocation = /.well-known/acme-challenge/old { return 200 \"old\"; } # acmed "
               "http-01 challenge (temporary)\n");
  Site s(stale);
  auto auth = nginx::make_authenticator(s.options, s.runner);
  std::vector<challenge::Task> tasks{{"other.test", "dns", "http-01", "t1", "t1.x", ""}};
  REQUIRE(auth->perform(tasks));
  auto text = *sys::read_file(s.site());
  CHECK(text.find("acme-challenge/old") == std::string::npos);
  CHECK(text.find("acme-challenge/t1") != std::string::npos);
}

TEST_CASE("the authenticator refuses unsafe tokens and unknown names, and nginx -t failures") {
  Site s(k_site);
  auto auth = nginx::make_authenticator(s.options, s.runner);
  std::vector<challenge::Task> bad{{"example.test", "dns", "http-01", "a\"b", "a\"b.x", ""}};
  CHECK(auth->perform(bad).error().code == Errc::protocol);
  std::vector<challenge::Task> unknown{{"nope.test", "dns", "http-01", "t", "t.x", ""}};
  CHECK(auth->perform(unknown).error().code == Errc::not_found);
  s.runner.fail_test = true;
  std::vector<challenge::Task> ok{{"example.test", "dns", "http-01", "t", "t.x", ""}};
  auto st = auth->perform(ok);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::server);
  auth->cleanup(ok);
  CHECK(*sys::read_file(s.site()) == k_site);
  CHECK(s.runner.count("reload") == 0);
}

TEST_CASE("nginx versions are read from `nginx -v`") {
  auto v = nginx::parse_version("nginx version: nginx/1.25.1 (Ubuntu)\n");
  REQUIRE(v);
  CHECK(v->at_least(1, 25, 1));
  CHECK_FALSE(nginx::parse_version("nginx version: nginx/1.22.1")->at_least(1, 25, 1));
  CHECK_FALSE(nginx::parse_version("openresty"));
}

TEST_CASE("a server block in a file outside the server root is not edited") {
  Site s("server {\n  listen 80;\n  server_name a.test;\n}\n");
  REQUIRE(sys::make_dirs(s.dir / "elsewhere"));
  REQUIRE(sys::write_file_atomic(s.dir / "elsewhere/b.conf",
                                 "server {\n  listen 80;\n  server_name b.test;\n}\n"));
  REQUIRE(sys::write_file_atomic(s.dir / "nginx/sites-enabled/z",
                                 "include " + (s.dir / "elsewhere/b.conf").string() + ";\n"));
  auto installer = nginx::make_installer(s.options, s.runner);
  auto outside = installer->plan_deploy(s.request({"b.test"}));
  REQUIRE_FALSE(outside.ok());
  CHECK(outside.error().code == Errc::conflict);
  CHECK(outside.error().message.find("outside") != std::string::npos);
  CHECK(installer->plan_deploy(s.request({"a.test"})).ok());
}

TEST_CASE("planning on certbot's test tree picks the right blocks and writes nothing") {
  test::TempDir dir;
  FakeNginx runner;
  nginx::Options options;
  options.server_root = test::data_path("corpus/nginx/certbot-unit");
  options.config_dir = dir / "acmed";
  options.cross_check = nginx::CrossCheck::no;
  auto installer = nginx::make_installer(options, runner);
  install::DeployRequest req;
  req.lineage = "ipv6.com";
  req.names = {"ipv6.com"};
  req.fullchain_path = "/etc/acmed/live/ipv6.com/fullchain.pem";
  req.key_path = "/etc/acmed/live/ipv6.com/privkey.pem";
  auto plan = installer->plan_deploy(req);
  REQUIRE_MESSAGE(plan.ok(), (plan.ok() ? "" : plan.error().describe()));
  REQUIRE(plan->changes.size() == 2);  // the site file and the new options file
  CHECK(plan->changes[0].path == options.server_root / "sites-enabled/ipv6.com");
  CHECK(plan->changes[0].after.find(
            "    listen [::]:80;\n    listen 443 ssl http2; # managed by acmed\n"
            "    listen [::]:443 ssl http2; # managed by acmed\n") != std::string::npos);
  req.names = {"www.example.com"};  // ".example.com" in sites-enabled/example.com
  auto wildcard = installer->plan_deploy(req);
  REQUIRE(wildcard.ok());
  CHECK(wildcard->changes[0].path == options.server_root / "sites-enabled/example.com");
}

TEST_CASE("a block that also serves other names redirects only the certificate's names") {
  Site s("server {\n  listen 80;\n  server_name a.test other.test;\n}\n");
  auto plan =
      nginx::make_installer(s.options, s.runner)->plan_deploy(s.request({"a.test", "*.w.test"}));
  // *.w.test has no server: it must be an error, not a silent partial install
  REQUIRE_FALSE(plan.ok());
  auto only_a = nginx::make_installer(s.options, s.runner)->plan_deploy(s.request({"a.test"}));
  REQUIRE(only_a.ok());
  auto text = s.after_for(*only_a, s.site());
  CHECK(text.find("  set $acmed_redirect no; # managed by acmed\n"
                  "  if ($host ~* \"^(a\\.test)$\") { set $acmed_redirect $scheme; } # managed by "
                  "acmed\n") != std::string::npos);
}

TEST_CASE("malformed nginx -v output gives no version") {
  CHECK_FALSE(nginx::parse_version("nginx version: nginx/1."));
  CHECK_FALSE(nginx::parse_version("nginx/x.2.3"));
  auto v = nginx::parse_version("nginx/1.27.0");
  REQUIRE(v);
  CHECK(v->minor == 27);
}

TEST_CASE("a server that returns at server level also gets the challenge as its first rewrite") {
  Site s(
      "server {\n  listen 80;\n  server_name a.test;\n  return 301 "
      "https://$host$request_uri;\n}\n");
  auto auth = nginx::make_authenticator(s.options, s.runner);
  std::vector<challenge::Task> tasks{{"a.test", "dns", "http-01", "tk", "tk.th", ""}};
  REQUIRE(auth->perform(tasks));
  CHECK(*sys::read_file(s.site()) ==
        "server {\n"
        "  if ($request_uri = /.well-known/acme-challenge/tk) { return 200 \"tk.th\"; } "
        "# acmed http-01 challenge (temporary)\n"
        "  listen 80;\n"
        "  location = /.well-known/acme-challenge/tk { default_type text/plain; return 200 "
        "\"tk.th\"; } # acmed http-01 challenge (temporary)\n"
        "  server_name a.test;\n  return 301 https://$host$request_uri;\n}\n");
  auth->cleanup(tasks);
  CHECK(*sys::read_file(s.site()) ==
        "server {\n  listen 80;\n  server_name a.test;\n  return 301 "
        "https://$host$request_uri;\n}\n");
}

TEST_CASE("the plugin error rule: an unsupported challenge type is internal, nothing runs") {
  Site s(k_site);
  auto auth = nginx::make_authenticator(s.options, s.runner);
  std::vector<challenge::Task> dns{{"example.test", "dns", "dns-01", "t", "t.x", ""}};
  auto st = auth->perform(dns);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::internal);
  CHECK(st.error().message.find("dns-01") != std::string::npos);
  auth->cleanup(dns);  // a cleanup after a refused perform changes nothing either
  CHECK(s.runner.calls.empty());
  CHECK(*sys::read_file(s.site()) == k_site);
}

namespace {

const char* k_fleet_site =
    "server {\n"
    "\tlisten 80;\n"
    "\tserver_name a.test;\n"
    "\troot /var/www/a;\n"
    "}\n"
    "server {\n"
    "\tlisten 443 ssl;\n"
    "\tserver_name a.test;\n"
    "\tssl_certificate /old/a.pem;\n"
    "\tssl_certificate_key /old/a.key;\n"
    "}\n"
    "server {\n"
    "\tlisten 80;\n"
    "\tserver_name other.test;\n"
    "}\n";

const char* k_fleet_location =
    "\tlocation ^~ /.well-known/acme-challenge/ { root /srv/fleet; default_type text/plain; } "
    "# managed by acmed\n";

bool has_note(const install::Plan& plan, std::string_view part) {
  return std::any_of(plan.notes.begin(), plan.notes.end(),
                     [&](const std::string& n) { return n.find(part) != std::string::npos; });
}

}  // namespace

TEST_CASE("--nginx-challenge-dir: the names' port-80 blocks serve it, TLS blocks do not") {
  Site s(k_fleet_site);
  s.options.challenge_dir = "/srv/fleet";
  auto plan = nginx::make_installer(s.options, s.runner)->plan_deploy(s.request({"a.test"}, {}));
  REQUIRE_MESSAGE(plan.ok(), (plan.ok() ? "" : plan.error().describe()));
  std::string live = (s.dir / "acmed/live/a.test").string();
  CHECK(s.after_for(*plan, s.site()) ==
        "server {\n"
        "\tlisten 80;\n" +
            std::string(k_fleet_location) +
            "\tserver_name a.test;\n"
            "\troot /var/www/a;\n"
            "}\n"
            "server {\n"
            "\tlisten 443 ssl;\n"
            "\tinclude " +
            (s.dir / "acmed/acmed-nginx-tls.conf").string() +
            "; # managed by acmed\n"
            "\tserver_name a.test;\n"
            "\tssl_certificate " +
            live + "/fullchain.pem; # managed by acmed\n\tssl_certificate_key " + live +
            "/privkey.pem; # managed by acmed\n"
            "}\n"
            "server {\n"
            "\tlisten 80;\n"
            "\tserver_name other.test;\n"
            "}\n");
  CHECK(
      has_note(*plan, "sites-enabled/site:1: serve /.well-known/acme-challenge/ from /srv/fleet"));
}

TEST_CASE("--nginx-challenge-dir is served with the redirect too, and only once") {
  Site s(k_site);
  s.options.challenge_dir = "/srv/fleet/";  // normalised: no trailing slash in root
  auto installer = nginx::make_installer(s.options, s.runner);
  auto req = s.request({"example.test", "www.example.test"});
  auto plan = installer->plan_deploy(req);
  REQUIRE_MESSAGE(plan.ok(), (plan.ok() ? "" : plan.error().describe()));
  std::string text = s.after_for(*plan, s.site());
  CHECK(text.find("\tif ($acmed_redirect = http) { return 301 https://$host$request_uri; } "
                  "# managed by acmed\n" +
                  std::string(k_fleet_location)) != std::string::npos);
  // One location for the two names of the block, none in other.test's block.
  CHECK(text.find("acme-challenge/ {") == text.rfind("acme-challenge/ {"));
  CHECK(text.find("\tserver_name other.test;\n}\n") != std::string::npos);
  s.write(*plan);
  auto again = installer->plan_deploy(req);
  REQUIRE(again.ok());
  CHECK(again->empty());
  // enhance sees acmed's location as well.
  std::vector<std::string> names{"example.test"};
  std::vector<install::Enhancement> hsts{install::Enhancement::hsts};
  auto enhanced = installer->plan_enhance(names, hsts);
  REQUIRE(enhanced.ok());
  CHECK(s.after_for(*enhanced, s.site()).find("acme-challenge/ {") ==
        s.after_for(*enhanced, s.site()).rfind("acme-challenge/ {"));
}

TEST_CASE("--nginx-challenge-dir: enhance adds it, a new directory replaces the old root") {
  Site s("server {\n  listen 80;\n  listen 443 ssl;\n  server_name a.test;\n}\n");
  s.options.challenge_dir = "/srv/one";
  std::vector<std::string> names{"a.test"};
  std::vector<install::Enhancement> none;
  auto plan = nginx::make_installer(s.options, s.runner)->plan_enhance(names, none);
  REQUIRE_MESSAGE(plan.ok(), (plan.ok() ? "" : plan.error().describe()));
  s.write(*plan);
  CHECK(*sys::read_file(s.site()) ==
        "server {\n  listen 80;\n  listen 443 ssl;\n  location ^~ /.well-known/acme-challenge/ { "
        "root /srv/one; default_type text/plain; } # managed by acmed\n  server_name a.test;\n}\n");
  s.options.challenge_dir = "/srv/two words";
  auto moved = nginx::make_installer(s.options, s.runner)->plan_enhance(names, none);
  REQUIRE(moved.ok());
  CHECK(s.after_for(*moved, s.site()) ==
        "server {\n  listen 80;\n  listen 443 ssl;\n  location ^~ /.well-known/acme-challenge/ { "
        "root \"/srv/two words\"; default_type text/plain; } # managed by acmed\n  server_name "
        "a.test;\n}\n");
}

TEST_CASE("--nginx-challenge-dir: a server-level return gets a first `break` for the path") {
  Site s(
      "server {\n  listen 80;\n  server_name a.test;\n  return 301 https://$host$request_uri;\n}\n"
      "server {\n  listen 443 ssl;\n  server_name a.test;\n}\n");
  s.options.challenge_dir = "/srv/fleet";
  auto installer = nginx::make_installer(s.options, s.runner);
  auto req = s.request({"a.test"});
  auto plan = installer->plan_deploy(req);
  REQUIRE_MESSAGE(plan.ok(), (plan.ok() ? "" : plan.error().describe()));
  std::string text = s.after_for(*plan, s.site());
  CHECK(text.find("server {\n"
                  "  if ($request_uri ~ \"^/\\.well-known/acme-challenge/\") { break; } # managed "
                  "by acmed\n"
                  "  listen 80;\n"
                  "  location ^~ /.well-known/acme-challenge/ { root /srv/fleet; default_type "
                  "text/plain; } # managed by acmed\n"
                  "  server_name a.test;\n  return 301 https://$host$request_uri;\n}\n") == 0);
  s.write(*plan);
  auto again = installer->plan_deploy(req);
  REQUIRE(again.ok());
  CHECK(again->empty());
}

TEST_CASE("--nginx-challenge-dir: the user's own location and a name without port 80 are notes") {
  Site s(
      "server {\n  listen 80;\n  server_name a.test;\n"
      "  location /.well-known/acme-challenge/ { root /var/www/le; }\n}\n"
      "server {\n  listen 443 ssl;\n  server_name b.test;\n}\n");
  s.options.challenge_dir = "/srv/fleet";
  auto plan =
      nginx::make_installer(s.options, s.runner)->plan_deploy(s.request({"a.test", "b.test"}, {}));
  REQUIRE_MESSAGE(plan.ok(), (plan.ok() ? "" : plan.error().describe()));
  CHECK(s.after_for(*plan, s.site()).find("/srv/fleet") == std::string::npos);
  CHECK(has_note(*plan, "has its own location /.well-known/acme-challenge/ (line 4)"));
  CHECK(has_note(*plan, "b.test: no server block listens on port 80 without TLS"));
}

TEST_CASE("--nginx-challenge-dir refuses relative and unsafe directories, changing nothing") {
  for (const char* dir : {"srv/fleet", "./fleet", "/srv/a\"b", "/srv/a'b", "/srv/a\nb", "/srv/a;b",
                          "/srv/a{b", "/srv/a}b", "/srv/$fleet", "/srv/a\\b", "/srv/a#b"}) {
    CAPTURE(dir);
    Site s(k_site);
    s.options.challenge_dir = dir;
    auto installer = nginx::make_installer(s.options, s.runner);
    auto plan = installer->plan_deploy(s.request({"example.test"}));
    REQUIRE_FALSE(plan.ok());
    CHECK(plan.error().code == Errc::usage);
    CHECK(plan.error().message.find("--nginx-challenge-dir") == 0);
    CHECK(plan.error().describe().find('\n') == std::string::npos);
    std::vector<std::string> names{"example.test"};
    std::vector<install::Enhancement> hsts{install::Enhancement::hsts};
    CHECK(installer->plan_enhance(names, hsts).error().code == Errc::usage);
    CHECK(s.runner.calls.empty());  // refused before nginx is asked anything
    CHECK(*sys::read_file(s.site()) == k_site);
  }
}

TEST_CASE("--nginx-challenge-dir: a config nginx -t rejects is restored byte for byte") {
  Site s(k_site);
  s.options.challenge_dir = "/srv/fleet";
  s.runner.fail_test = true;
  auto installer = nginx::make_installer(s.options, s.runner);
  auto plan = installer->plan_deploy(s.request({"example.test"}));
  REQUIRE(plan.ok());
  CHECK(s.after_for(*plan, s.site()).find(k_fleet_location) != std::string::npos);
  auto res = install::execute(*plan, *installer, s.dir / "backups", "deploy");
  REQUIRE_FALSE(res.ok());
  CHECK(res.error().code == Errc::server);
  CHECK(*sys::read_file(s.site()) == k_site);
  CHECK_FALSE(fs::exists(s.dir / "acmed/acmed-nginx-tls.conf"));
}
