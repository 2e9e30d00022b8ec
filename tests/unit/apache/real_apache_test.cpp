// Against a real Debian apache2 on loopback: a config tree in a TempDir (fixture.hpp), apache
// started in the foreground on free high ports and always stopped by its PID. Skipped (with a
// message) where apache2 is not installed.
#include "plugins/apache/apache.hpp"
#include "plugins/apache/installer.hpp"

#include "acmed/install/transaction.hpp"
#include "acmed/sys/fs.hpp"
#include "acmed/sys/process.hpp"
#include "fixture.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

extern char** environ;

using namespace acmed;
using namespace acmed::plugins::apache;
namespace fs = std::filesystem;

namespace {

// True when apache2, apache2ctl and mod_ssl are installed; otherwise the test is skipped
// (support/skip.hpp: the binary exits 77 and CI fails).
bool have_apache() {
  if (!test::have_programs({"apache2", "/usr/sbin/apache2ctl"})) return false;
  // A module is a plain file (mode 0644), not a program: check that it exists.
  const char* mod_ssl = "/usr/lib/apache2/modules/mod_ssl.so";
  std::error_code ec;
  if (!fs::is_regular_file(mod_ssl, ec)) {
    test::skip(std::string(mod_ssl) + " is not installed");
    return false;
  }
  return true;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// apache2 -D FOREGROUND under envvars; stopped by PID in the destructor, pass or fail.
class Apache {
 public:
  Apache(const fs::path& root, int port) : m_port(port) {
    std::string cmd = ". '" + root.string() + "/envvars' && exec /usr/sbin/apache2 -d '" +
                      root.string() + "' -D FOREGROUND";
    const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
    REQUIRE(::posix_spawn(&m_pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) ==
            0);
    for (int i = 0; i < 100 && !port_open(port); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE_MESSAGE(port_open(port), "apache did not start; see " << root / "log/error.log");
  }
  ~Apache() { stop(); }
  void stop() {
    if (m_pid <= 0) return;
    ::kill(m_pid, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(m_pid, nullptr, WNOHANG) == m_pid) {
        m_pid = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (m_pid > 0) {
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, nullptr, 0);
      m_pid = -1;
    }
    for (int i = 0; i < 100 && port_open(m_port); ++i)  // children exit after the parent
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

 private:
  pid_t m_pid = -1;
  int m_port;
};

struct Curl {
  int code = 0;
  std::string body;
  std::string location;
};

// curl (the real client) for one URL; `resolve` pins the name to 127.0.0.1.
Curl curl(const std::string& url, const std::string& host, int port,
          std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {"curl",
                                   "-s",
                                   "-k",
                                   "--max-time",
                                   "5",
                                   "--resolve",
                                   host + ":" + std::to_string(port) + ":127.0.0.1",
                                   "-w",
                                   "\n%{http_code} %{redirect_url}"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(url);
  auto r = sys::run_process(argv);
  REQUIRE(r);
  Curl c;
  auto nl = r->out.rfind('\n');
  if (nl == std::string::npos) return c;
  c.body = r->out.substr(0, nl);
  std::string tail = r->out.substr(nl + 1);
  c.code = std::atoi(tail.c_str());
  auto sp = tail.find(' ');
  if (sp != std::string::npos) c.location = tail.substr(sp + 1);
  return c;
}

// Every file and link under `root` (link targets, not followed), except apache's runtime dirs.
std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = it->path().lexically_relative(root).string();
    if (rel == "run" || rel == "log" || rel == "lock") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink()) {
      out[rel] = "-> " + fs::read_symlink(it->path()).string();
    } else if (it->is_regular_file()) {
      out[rel] = *sys::read_file(it->path());
    } else {
      out[rel] = "dir";
    }
  }
  return out;
}

struct Site {
  test::TempDir dir;
  int http = free_port();
  int https = free_port();
  fs::path root;
  Options options;
  sys::RealProcessRunner runner;
  install::DeployRequest request;

  Site() {
    root = test::make_debian_tree(dir.path(), http, https);
    options.server_root = root;
    options.http01_port = std::to_string(http);
    options.https_port = std::to_string(https);
    options.config_dir = dir / "le";
    options.work_dir = dir / "work";
    options.reload_settle = std::chrono::milliseconds(500);
    fs::path live = dir / "le/live/example.test";
    REQUIRE(sys::make_dirs(live));
    auto r = sys::run_process(
        {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", (live / "privkey.pem").string(), "-out",
         (live / "fullchain.pem").string(), "-days", "2", "-subj", "/CN=example.test", "-addext",
         "subjectAltName=DNS:example.test,DNS:www.example.test"});
    REQUIRE(r);
    REQUIRE(r->exit_code == 0);
    request.lineage = "example.test";
    request.names = {"example.test", "www.example.test"};
    request.fullchain_path = live / "fullchain.pem";
    request.key_path = live / "privkey.pem";
    request.enhancements = {install::Enhancement::redirect};
  }
  std::string http_url(const std::string& path = "/") const {
    return "http://example.test:" + std::to_string(http) + path;
  }
  std::string https_url() const { return "https://example.test:" + std::to_string(https) + "/"; }
};

}  // namespace

TEST_CASE("real apache: acmed's view of a Debian tree matches apache2ctl -D DUMP_INCLUDES and -S") {
  if (!have_apache()) return;
  Site s;
  ApacheControl control(s.options, s.runner);
  auto cfg = load_checked(s.options, control);
  REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().describe()));
  CHECK(cfg->vhosts.size() == 2);
}

TEST_CASE("real apache: deploy serves the certificate on https, redirects http, keeps challenges") {
  if (!have_apache()) return;
  Site s;
  Apache apache(s.root, s.http);
  CHECK(curl(s.http_url(), "example.test", s.http).body == "hello from example.test\n");
  auto installer = make_installer(s.options, s.runner);
  auto plan = installer->plan_deploy(s.request);
  REQUIRE_MESSAGE(plan, (plan ? "" : plan.error().describe()));
  auto cp = install::execute(*plan, *installer, s.dir / "work/backups", "deploy example.test");
  REQUIRE_MESSAGE(cp, (cp ? "" : cp.error().describe()));
  Curl tls{};
  for (int i = 0; i < 50 && tls.code != 200; ++i) {
    tls = curl(s.https_url(), "example.test", s.https);
    if (tls.code != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(tls.code == 200);
  CHECK(tls.body == "hello from example.test\n");
  // only TLS 1.2 and 1.3 are offered
  CHECK(curl(s.https_url(), "example.test", s.https, {"--tlsv1.0", "--tls-max", "1.1"}).code == 0);
  CHECK(curl(s.https_url(), "example.test", s.https, {"--tlsv1.2", "--tls-max", "1.2"}).code ==
        200);
  // the served certificate is ours: curl verifies it against the file as a CA
  CHECK(
      curl(s.https_url(), "example.test", s.https, {"--cacert", s.request.fullchain_path.string()})
          .code == 200);
  Curl redirect = curl(s.http_url("/page?q=1"), "example.test", s.http);
  CHECK(redirect.code == 301);
  CHECK(redirect.location == "https://example.test:" + std::to_string(s.https) + "/page?q=1");
  // the ACME challenge path is not redirected
  CHECK(curl(s.http_url("/.well-known/acme-challenge/x"), "example.test", s.http).code == 404);
  // a second run changes nothing
  auto again = installer->plan_deploy(s.request);
  REQUIRE(again);
  CHECK(again->empty());
  // and acmed rollback restores the tree and the plain-HTTP site
  auto snapshot_after = snapshot(s.root);
  auto rb = install::rollback_last(s.dir / "work/backups", *installer);
  REQUIRE_MESSAGE(rb, (rb ? "" : rb.error().describe()));
  CHECK_FALSE(fs::exists(fs::symlink_status(s.root / "sites-enabled/example-le-ssl.conf")));
  CHECK_FALSE(fs::exists(fs::symlink_status(s.root / "mods-enabled/ssl.load")));
  CHECK(snapshot(s.root) != snapshot_after);
  Curl plain{};
  for (int i = 0; i < 50 && plain.code != 200; ++i) {
    plain = curl(s.http_url(), "example.test", s.http);
    if (plain.code != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(plain.code == 200);
}

TEST_CASE("real apache: a configtest failure after the edit leaves the tree byte-identical") {
  if (!have_apache()) return;
  Site s;
  Apache apache(s.root, s.http);
  auto before = snapshot(s.root);
  auto installer = make_installer(s.options, s.runner);
  auto plan = installer->plan_deploy(s.request);
  REQUIRE(plan);
  for (auto& c : plan->changes)  // an edit apache rejects
    if (c.path.filename() == "example-le-ssl.conf") c.after += "NoSuchDirective on\n";
  auto cp = install::execute(*plan, *installer, s.dir / "work/backups", "deploy");
  REQUIRE_FALSE(cp);
  CHECK(cp.error().code == Errc::server);
  CHECK(cp.error().message.find("NoSuchDirective") != std::string::npos);
  CHECK(snapshot(s.root) == before);
  CHECK(curl(s.http_url(), "example.test", s.http).body == "hello from example.test\n");
}

TEST_CASE("real apache: a module whose .so is missing fails the configtest and changes nothing") {
  if (!have_apache()) return;
  Site s;
  test::write_text(s.root / "mods-available/rewrite.load",
                   "LoadModule rewrite_module /usr/lib/apache2/modules/mod_missing_rewrite.so\n");
  Apache apache(s.root, s.http);
  auto before = snapshot(s.root);
  auto installer = make_installer(s.options, s.runner);
  auto plan = installer->plan_deploy(s.request);
  REQUIRE(plan);
  auto cp = install::execute(*plan, *installer, s.dir / "work/backups", "deploy");
  REQUIRE_FALSE(cp);
  CHECK(cp.error().message.find("mod_missing_rewrite") != std::string::npos);
  CHECK(snapshot(s.root) == before);
  CHECK(curl(s.http_url(), "example.test", s.http).code == 200);
}

TEST_CASE(
    "real apache: with apache stopped the deploy is refused, nothing changes, nothing starts") {
  if (!have_apache()) return;
  Site s;
  auto before = snapshot(s.root);
  auto installer = make_installer(s.options, s.runner);
  auto plan = installer->plan_deploy(s.request);
  REQUIRE(plan);
  auto cp = install::execute(*plan, *installer, s.dir / "work/backups", "deploy");
  REQUIRE_FALSE(cp);
  CHECK(cp.error().message.find("not running") != std::string::npos);
  CHECK(snapshot(s.root) == before);
  CHECK_FALSE(port_open(s.http));
}

TEST_CASE("real apache: http-01 answers through apache and cleanup restores the tree") {
  if (!have_apache()) return;
  Site s;
  Apache apache(s.root, s.http);
  auto before = snapshot(s.root);
  auto auth = make_authenticator(s.options, s.runner);
  std::vector<challenge::Task> tasks(1);
  tasks[0].identifier = "example.test";
  tasks[0].identifier_type = "dns";
  tasks[0].type = "http-01";
  tasks[0].token = "tok_123-abc";
  tasks[0].key_authorization = "tok_123-abc.thumbprint";
  auto st = auth->perform(tasks);
  REQUIRE_MESSAGE(st, (st ? "" : st.error().describe()));
  CHECK(fs::exists(s.root / "conf-enabled/acmed-http01.conf"));
  Curl got = curl(s.http_url("/.well-known/acme-challenge/tok_123-abc"), "example.test", s.http);
  CHECK(got.code == 200);
  CHECK(got.body == "tok_123-abc.thumbprint");
  // also through the default vhost (any name the CA may ask for)
  CHECK(curl("http://other.test:" + std::to_string(s.http) +
                 "/.well-known/acme-challenge/tok_123-abc",
             "other.test", s.http)
            .body == "tok_123-abc.thumbprint");
  auth->cleanup(tasks);
  CHECK(snapshot(s.root) == before);
  CHECK(curl(s.http_url("/.well-known/acme-challenge/tok_123-abc"), "example.test", s.http).code ==
        404);
  CHECK(curl(s.http_url(), "example.test", s.http).code == 200);
}

TEST_CASE("real apache: http-01 with apache stopped fails and leaves nothing behind") {
  if (!have_apache()) return;
  Site s;
  auto before = snapshot(s.root);
  auto auth = make_authenticator(s.options, s.runner);
  std::vector<challenge::Task> tasks(1);
  tasks[0].identifier = "example.test";
  tasks[0].type = "http-01";
  tasks[0].token = "tok";
  tasks[0].key_authorization = "tok.x";
  auto st = auth->perform(tasks);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::server);
  auth->cleanup(tasks);
  CHECK(snapshot(s.root) == before);
  CHECK_FALSE(fs::exists(s.dir / "work/http_challenges" / ("acmed-" + std::to_string(::getpid()))));
}

TEST_CASE("real apache: http-01 gets past a vhost's own front-controller rewrite rule") {
  if (!have_apache()) return;
  Site s;
  std::string www = (s.dir / "www").string();
  fs::create_symlink("../mods-available/rewrite.load", s.root / "mods-enabled/rewrite.load");
  test::write_text(s.root / "sites-available/example.conf",
                   "<VirtualHost *:" + std::to_string(s.http) +
                       ">\n    ServerName example.test\n"
                       "    DocumentRoot " +
                       www + "\n    <Directory " + www +
                       ">\n        Require all granted\n"
                       "    </Directory>\n    RewriteEngine on\n    RewriteRule ^ /index.html [L]\n"
                       "</VirtualHost>\n");
  Apache apache(s.root, s.http);
  CHECK(curl(s.http_url("/.well-known/acme-challenge/t1"), "example.test", s.http).body ==
        "hello from example.test\n");  // the rule really catches everything
  auto before = snapshot(s.root);
  auto auth = make_authenticator(s.options, s.runner);
  std::vector<challenge::Task> tasks(1);
  tasks[0].identifier = "example.test";
  tasks[0].type = "http-01";
  tasks[0].token = "t1";
  tasks[0].key_authorization = "t1.key";
  auto st = auth->perform(tasks);
  REQUIRE_MESSAGE(st, (st ? "" : st.error().describe()));
  CHECK(curl(s.http_url("/.well-known/acme-challenge/t1"), "example.test", s.http).body ==
        "t1.key");
  auth->cleanup(tasks);
  CHECK(snapshot(s.root) == before);
}

TEST_CASE(
    "real apache: a snippet left by a killed acmed is replaced, a user's file of that name is "
    "not") {
  if (!have_apache()) return;
  Site s;
  Apache apache(s.root, s.http);
  std::vector<challenge::Task> tasks(1);
  tasks[0].identifier = "example.test";
  tasks[0].type = "http-01";
  tasks[0].token = "t2";
  tasks[0].key_authorization = "t2.key";
  test::write_text(s.root / "conf-enabled/acmed-http01.conf",
                   "# acmed: TEMPORARY file for ACME http-01 challenges (old.test).\n");
  auto auth = make_authenticator(s.options, s.runner);
  auto st = auth->perform(tasks);
  REQUIRE_MESSAGE(st, (st ? "" : st.error().describe()));
  CHECK(curl(s.http_url("/.well-known/acme-challenge/t2"), "example.test", s.http).body ==
        "t2.key");
  auth->cleanup(tasks);
  CHECK_FALSE(fs::exists(s.root / "conf-enabled/acmed-http01.conf"));

  test::write_text(s.root / "conf-enabled/acmed-http01.conf", "# the user's own file\n");
  auto st2 = auth->perform(tasks);
  REQUIRE_FALSE(st2);
  CHECK(st2.error().code == Errc::conflict);
  auth->cleanup(tasks);
  CHECK(*sys::read_file(s.root / "conf-enabled/acmed-http01.conf") == "# the user's own file\n");
}

TEST_CASE(
    "real apache: the post-reload TLS check asks the HTTPS vhost's own port, and a different "
    "certificate there fails it") {
  if (!have_apache()) return;
  Site s;
  s.options.tls_check_wait = std::chrono::milliseconds(2000);
  Apache apache(s.root, s.http);
  auto installer = make_installer(s.options, s.runner);
  auto plan = installer->plan_deploy(s.request);
  REQUIRE_MESSAGE(plan, (plan ? "" : plan.error().describe()));
  // The check runs inside the transaction: it must find the certificate on s.https (not 443).
  auto cp = install::execute(*plan, *installer, s.dir / "work/backups", "deploy example.test",
                             [&] { return installer->check_deployed(s.request); });
  REQUIRE_MESSAGE(cp, (cp ? "" : cp.error().describe()));

  // Asked about another certificate, the same check says which server, name, address and port.
  fs::path other = s.dir / "other";
  REQUIRE(sys::make_dirs(other));
  auto r = sys::run_process(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", (other / "privkey.pem").string(), "-out", (other / "fullchain.pem").string(),
       "-days", "2", "-subj", "/CN=example.test"});
  REQUIRE(r);
  REQUIRE(r->exit_code == 0);
  install::DeployRequest wrong = s.request;
  wrong.fullchain_path = other / "fullchain.pem";
  auto st = installer->check_deployed(wrong);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::server);
  CHECK(st.error().message.find("apache does not serve the new certificate for example.test on "
                                "127.0.0.1:" +
                                std::to_string(s.https)) != std::string::npos);
}

TEST_CASE("real apache: --apache-challenge-dir serves the fleet's files beside http-01") {
  if (!have_apache()) return;
  Site s;
  fs::path fleet = s.dir / "fleet";
  test::write_text(fleet / ".well-known/acme-challenge/fleet-tok", "fleet-tok.key");
  ::chmod(fleet.c_str(), 0755);
  ::chmod((fleet / ".well-known").c_str(), 0755);
  ::chmod((fleet / ".well-known/acme-challenge").c_str(), 0755);
  ::chmod((fleet / ".well-known/acme-challenge/fleet-tok").c_str(), 0644);
  s.options.challenge_dir = fleet;
  s.request.enhancements = {};
  Apache apache(s.root, s.http);
  auto installer = make_installer(s.options, s.runner);
  auto plan = installer->plan_deploy(s.request);
  REQUIRE_MESSAGE(plan, (plan ? "" : plan.error().describe()));
  auto cp = install::execute(*plan, *installer, s.dir / "work/backups", "deploy");
  REQUIRE_MESSAGE(cp, (cp ? "" : cp.error().describe()));
  auto fleet_body = [&] {
    return curl(s.http_url("/.well-known/acme-challenge/fleet-tok"), "example.test", s.http).body;
  };
  CHECK(fleet_body() == "fleet-tok.key");
  CHECK(curl(s.http_url(), "example.test", s.http).body == "hello from example.test\n");

  // The apache authenticator still answers its own tokens, and the fleet's stay served.
  auto http01 = [&](const std::string& token) {
    auto auth = make_authenticator(s.options, s.runner);
    std::vector<challenge::Task> tasks(1);
    tasks[0].identifier = "example.test";
    tasks[0].type = "http-01";
    tasks[0].token = token;
    tasks[0].key_authorization = token + ".own";
    auto before = snapshot(s.root);
    auto st = auth->perform(tasks);
    REQUIRE_MESSAGE(st, (st ? "" : st.error().describe()));
    CHECK(curl(s.http_url("/.well-known/acme-challenge/" + token), "example.test", s.http).body ==
          token + ".own");
    CHECK(fleet_body() == "fleet-tok.key");
    auth->cleanup(tasks);
    CHECK(snapshot(s.root) == before);
  };
  http01("own-1");

  // With the redirect: the fleet's files are still served over plain HTTP, the rest is a 301.
  std::vector<std::string> names = s.request.names;
  std::vector<install::Enhancement> redirect{install::Enhancement::redirect};
  auto enhance = installer->plan_enhance(names, redirect);
  REQUIRE_MESSAGE(enhance, (enhance ? "" : enhance.error().describe()));
  REQUIRE(install::execute(*enhance, *installer, s.dir / "work/backups", "enhance"));
  CHECK(fleet_body() == "fleet-tok.key");
  Curl page = curl(s.http_url("/page"), "example.test", s.http);
  CHECK(page.code == 301);
  CHECK(page.location == "https://example.test:" + std::to_string(s.https) + "/page");
  http01("own-2");
}
