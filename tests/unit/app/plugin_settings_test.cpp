// The plugin registry end to end: what the flags give a plugin is what a renewal conf stores and
// what a renewal builds the plugin with, for every setting of every registered plugin.
#include "acmed/app/plugins.hpp"
#include "acmed/store/renewal_conf.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <algorithm>
#include <set>

using namespace acmed;

namespace {

// Records every program run and answers success.
class RecordingRunner final : public sys::ProcessRunner {
 public:
  struct Call {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;
  };
  Result<sys::ProcessResult> run(const std::vector<std::string>& argv,
                                 const sys::ProcessOptions& options) override {
    calls.push_back({argv, options.extra_env});
    sys::ProcessResult r;
    r.exit_code = 0;
    return r;
  }
  std::vector<Call> calls;
};

// dns-rfc2136 reads its credentials file when it is built: the test writes a real one here.
std::string g_credentials;

// A value for `s` that is not its default, as a user would type it.
std::string given_value(const plugins::Setting& s, int n) {
  if (s.key == "dns_rfc2136_credentials") return g_credentials;
  if (s.kind == plugins::SettingKind::number) return std::to_string(s.max - n);
  // Values checked when the plugin is built: valid, and still not the default.
  if (s.key == "dns_resolver") return "192.0.2." + std::to_string(53 + n);
  if (s.key == "dns_propagation_check") return n ? "resolver" : "none";
  return "/given/" + s.key + "/" + std::to_string(n);
}

// flags -> settings -> [renewalparams] text -> parsed conf: the lineage a renewal sees.
store::Lineage lineage_from_flags(const plugins::Plugin& plugin, const util::Settings& settings,
                                  const std::vector<std::string>& names) {
  store::RenewalConf conf;
  if (plugin.authenticator) app::record_authenticator(conf.params, plugin, settings);
  if (plugin.installer) app::record_installer(conf.params, plugin, settings);
  std::string text = store::render_renewal_conf(conf);
  auto parsed = store::parse_renewal_conf(text, "renewal/a.example.conf");
  REQUIRE(parsed);
  store::Lineage lineage;
  lineage.name = "a.example";
  lineage.conf_path = "renewal/a.example.conf";
  lineage.conf = *parsed;
  lineage.names = names;
  return lineage;
}

}  // namespace

TEST_CASE("every setting of every plugin survives flags -> renewal conf -> renew") {
  test::TempDir dir;
  RecordingRunner runner;
  plugins::Environment env{dir / "config", dir / "work", &runner, false, {}};
  g_credentials = (dir / "rfc2136.ini").string();
  {
    std::ofstream creds(g_credentials);
    creds << "dns_rfc2136_server = 192.0.2.53\ndns_rfc2136_name = k\n"
             "dns_rfc2136_secret = c2VjcmV0\ndns_rfc2136_algorithm = HMAC-SHA256\n";
  }
  std::filesystem::permissions(g_credentials, std::filesystem::perms::owner_read |
                                                  std::filesystem::perms::owner_write);
  const std::vector<std::string> names = {"a.example", "b.example"};
  std::set<std::string> keys_seen;
  REQUIRE(plugins::all_plugins().size() >= 4);

  for (const plugins::Plugin* plugin : plugins::all_plugins()) {
    CAPTURE(plugin->name);
    // A non-default value for every setting that has a flag; list settings get two values, each
    // before one of the names (as `-w /1 -d a.example -w /2 -d b.example`).
    plugins::GivenFlags given;
    bool has_list = false;
    for (const auto& s : plugin->settings) {
      keys_seen.insert(s.key);
      if (s.flag.empty()) continue;
      if (s.kind == plugins::SettingKind::list) {
        has_list = true;
        for (int i = 0; i < 2; ++i) {
          given.emplace_back(s.key, given_value(s, i));
          given.emplace_back(plugins::k_domain_key, names[i]);
        }
      } else {
        given.emplace_back(s.key, given_value(s, 1));
      }
    }
    if (!has_list) {
      for (const auto& n : names) given.emplace_back(plugins::k_domain_key, n);
    }

    auto from_flags = plugins::settings_from_flags(*plugin, given);
    REQUIRE(from_flags);
    for (const auto& s : plugin->settings) {
      CAPTURE(s.key);
      if (s.flag.empty()) {
        CHECK(from_flags->has(s.key));  // derived (webroot_map) from the flags
      } else if (s.kind == plugins::SettingKind::list) {
        CHECK(from_flags->list(s.key) ==
              std::vector<std::string>{given_value(s, 0), given_value(s, 1)});
      } else {
        CHECK(from_flags->get(s.key) == given_value(s, 1));
      }
    }

    store::Lineage lineage = lineage_from_flags(*plugin, *from_flags, names);
    // What a renewal builds the plugin from is exactly what the flags gave.
    CHECK(plugins::settings_from_conf(*plugin, lineage.conf.params.settings) == *from_flags);
    if (plugin->authenticator) {
      auto auth = app::lineage_authenticator(lineage, lineage.conf.params, env);
      REQUIRE(auth);
      CHECK((*auth)->name() == plugin->name);
    }
    if (plugin->installer) {
      auto installer = app::lineage_installer(lineage, env);
      REQUIRE(installer);
      REQUIRE(*installer);
      CHECK((*installer)->name() == plugin->name);
    }
  }
  // The settings renewals used to lose are registered, so the loop above covered them.
  for (const char* key :
       {"nginx_ctl", "apache_ctl", "apache_vhost_root", "nginx_server_root", "apache_server_root",
        "webroot_path", "webroot_map", "http01_port", "http01_address"}) {
    CAPTURE(key);
    CHECK(keys_seen.count(key) == 1);
  }
}

TEST_CASE("webroot: -w before the -d names it serves becomes webroot_map, renewed name by name") {
  const plugins::Plugin* webroot = plugins::find_plugin("webroot");
  REQUIRE(webroot);
  plugins::GivenFlags given = {{"webroot_path", "/srv/a"},
                               {"", "a.example"},
                               {"webroot_path", "/srv/b"},
                               {"", "b.example"},
                               {"", "c.example"}};
  auto settings = plugins::settings_from_flags(*webroot, given);
  REQUIRE(settings);
  using Rows = std::vector<std::pair<std::string, std::string>>;
  CHECK(settings->tables.at("webroot_map") ==
        Rows{{"a.example", "/srv/a"}, {"b.example", "/srv/b"}, {"c.example", "/srv/b"}});
  CHECK(settings->list("webroot_path") == std::vector<std::string>{"/srv/a", "/srv/b"});
  std::string text = store::render_renewal_conf([&] {
    store::RenewalConf conf;
    app::record_authenticator(conf.params, *webroot, *settings);
    return conf;
  }());
  CHECK(text.find("webroot_path = /srv/a, /srv/b\n") != std::string::npos);
  CHECK(
      text.find("[[webroot_map]]\na.example = /srv/a\nb.example = /srv/b\nc.example = /srv/b\n") !=
      std::string::npos);

  SUBCASE("no -w at all is a usage error") {
    auto none = plugins::settings_from_flags(*webroot, {{"", "a.example"}});
    REQUIRE_FALSE(none);
    CHECK(none.error().code == Errc::usage);
  }
}

TEST_CASE("a renewal runs the nginx and apache programs and roots the flags named") {
  test::TempDir dir;
  struct Case {
    const char* plugin;
    plugins::GivenFlags given;
    std::string program;
    std::string root_seen;  // nginx: -c ROOT/nginx.conf; apache: APACHE_CONFDIR
  };
  const Case cases[] = {
      {"nginx",
       {{"nginx_ctl", "/opt/nginx/sbin/nginx"}, {"nginx_server_root", "/srv/nginx"}},
       "/opt/nginx/sbin/nginx",
       "/srv/nginx/nginx.conf"},
      {"apache",
       {{"apache_ctl", "/opt/apache/apachectl"}, {"apache_server_root", "/srv/apache2"}},
       "/opt/apache/apachectl",
       "/srv/apache2"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.plugin);
    const plugins::Plugin* plugin = plugins::find_plugin(c.plugin);
    REQUIRE(plugin);
    auto settings = plugins::settings_from_flags(*plugin, c.given);
    REQUIRE(settings);
    store::Lineage lineage = lineage_from_flags(*plugin, *settings, {"a.example"});
    RecordingRunner runner;
    plugins::Environment env{dir / "config", dir / "work", &runner, false, {}};
    auto installer = app::lineage_installer(lineage, env);
    REQUIRE(installer);
    REQUIRE(*installer);
    CHECK((*installer)->config_test());
    REQUIRE_FALSE(runner.calls.empty());
    for (const auto& call : runner.calls) {
      CHECK(call.argv.front() == c.program);
      bool root = std::find(call.argv.begin(), call.argv.end(), c.root_seen) != call.argv.end();
      auto confdir = call.env.find("APACHE_CONFDIR");
      if (confdir != call.env.end()) root = root || confdir->second == c.root_seen;
      CHECK(root);
    }
  }
}

TEST_CASE("renewal confs written by certbot build the same plugins") {
  test::TempDir dir;
  RecordingRunner runner;
  plugins::Environment env{dir / "config", dir / "work", &runner, false, {}};
  SUBCASE("webroot: webroot_path as certbot writes it, one root for names not in the map") {
    auto conf = store::parse_renewal_conf(
        "[renewalparams]\nauthenticator = webroot\nwebroot_path = /var/www/html,\n"
        "[[webroot_map]]\nexample.org = /var/www/example\n",
        "c.conf");
    REQUIRE(conf);
    store::Lineage lineage;
    lineage.conf = *conf;
    lineage.names = {"example.org", "www.example.org"};
    auto auth = app::lineage_authenticator(lineage, lineage.conf.params, env);
    REQUIRE(auth);
    CHECK((*auth)->name() == "webroot");
  }
  SUBCASE("nginx without nginx_ctl or http01_port: the defaults") {
    auto conf = store::parse_renewal_conf(
        "[renewalparams]\nauthenticator = nginx\ninstaller = nginx\nnginx_server_root = "
        "/etc/nginx\n",
        "c.conf");
    REQUIRE(conf);
    store::Lineage lineage;
    lineage.conf = *conf;
    auto installer = app::lineage_installer(lineage, env);
    REQUIRE(installer);
    REQUIRE(*installer);
    CHECK((*installer)->config_test());
    REQUIRE_FALSE(runner.calls.empty());
    CHECK(runner.calls.front().argv.front() == "nginx");
  }
  SUBCASE("an authenticator acmed does not have is a config error naming the conf") {
    auto conf = store::parse_renewal_conf("[renewalparams]\nauthenticator = dns-foo\n", "c.conf");
    REQUIRE(conf);
    store::Lineage lineage;
    lineage.conf = *conf;
    lineage.conf_path = "renewal/x.conf";
    auto auth = app::lineage_authenticator(lineage, lineage.conf.params, env);
    REQUIRE_FALSE(auth);
    CHECK(auth.error().code == Errc::config);
    CHECK(auth.error().message.find("renewal/x.conf") != std::string::npos);
  }
}
