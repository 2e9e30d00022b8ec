// The nginx plugin against the real nginx binary: a private instance on free loopback ports, its
// config root, pid file and logs in the test's temp dir, always stopped by its PID.
#include "plugins/nginx/config.hpp"
#include "plugins/nginx/nginx.hpp"
#include "plugins/webconf/tls_check.hpp"

#include "acmed/install/transaction.hpp"
#include "acmed/sys/fs.hpp"
#include "acmed/sys/process.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_peer.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

using namespace acmed;
using namespace acmed::plugins;
namespace fs = std::filesystem;

namespace {

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

// Retries `fn` until it returns true, at most ~5 s (nginx reloads asynchronously).
bool eventually(const std::function<bool()>& fn) {
  for (int i = 0; i < 50; ++i) {
    if (fn()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void make_cert(const fs::path& dir, const std::string& name) {
  REQUIRE(sys::make_dirs(dir));
  auto res = sys::run_process(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-days", "2", "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name,
       "-keyout", (dir / "privkey.pem").string(), "-out", (dir / "fullchain.pem").string()});
  REQUIRE(res.ok());
  REQUIRE_MESSAGE(res->exit_code == 0, res->err);
}

class RealNginx {
 public:
  RealNginx() {
    http_port = free_port();
    https_port = free_port();
    root = dir / "nginx";
    REQUIRE(sys::make_dirs(root / "sites-enabled"));
    REQUIRE(sys::make_dirs(dir / "acmed"));
    REQUIRE(sys::write_file_atomic(
        root / "nginx.conf",
        "# test instance\nuser root;\nworker_processes 1;\npid " + (root / "nginx.pid").string() +
            ";\nerror_log " + (root / "error.log").string() +
            ";\nevents {\n    worker_connections 64;\n}\nhttp {\n    access_log off;\n"
            "    include sites-enabled/*.conf;\n}\n"));
    site_text =
        "server {\n    listen 127.0.0.1:" + std::to_string(http_port) +
        ";\n    server_name example.test;\n    location / {\n        return 200 \"hello\\n\";\n"
        "    }\n}\n";
    REQUIRE(sys::write_file_atomic(root / "sites-enabled/example.conf", site_text));
    options.server_root = root;
    options.prefix = root;
    options.config_dir = dir / "acmed";
    options.http01_port = http_port;
    options.https_port = https_port;
    options.tls_check_port = https_port;
  }
  ~RealNginx() { stop(); }

  void start() {
    auto res =
        sys::run_process({"nginx", "-p", root.string(), "-c", (root / "nginx.conf").string()});
    REQUIRE(res.ok());
    REQUIRE_MESSAGE(res->exit_code == 0, res->err);
    auto pid_text = sys::read_file(root / "nginx.pid");
    REQUIRE(pid_text.ok());
    pid = std::stoi(*pid_text);
    REQUIRE(eventually([&] { return http_get("/") == "200 hello\n"; }));
  }

  void stop() {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    for (int i = 0; i < 50 && ::kill(pid, 0) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
    pid = -1;
  }

  // "<status> <body>" of GET http://127.0.0.1:<http_port><path> with Host: example.test.
  std::string http_get(const std::string& path, const std::string& host = "example.test") {
    auto res = sys::run_process({"curl", "-s", "--max-time", "3", "-H", "Host: " + host, "-w",
                                 "%{http_code} %{redirect_url}", "-o", (dir / "body").string(),
                                 "http://127.0.0.1:" + std::to_string(http_port) + path});
    if (!res.ok()) return "curl failed";
    auto body = sys::read_file(dir / "body");
    std::string status = res->out.substr(0, 3);
    if (status == "301") return res->out;
    return status + " " + (body ? *body : "");
  }

  install::DeployRequest request() const {
    install::DeployRequest r;
    r.lineage = "example.test";
    r.names = {"example.test"};
    r.fullchain_path = dir / "acmed/live/example.test/fullchain.pem";
    r.key_path = dir / "acmed/live/example.test/privkey.pem";
    r.enhancements = {install::Enhancement::redirect};
    return r;
  }

  test::TempDir dir;
  fs::path root;
  int http_port = 0;
  int https_port = 0;
  int pid = -1;
  std::string site_text;
  nginx::Options options;
  sys::RealProcessRunner runner;
};

}  // namespace

TEST_CASE("real nginx: deploy serves the certificate on TLS, redirects HTTP, and rolls back") {
  RealNginx n;
  n.start();
  make_cert(n.dir / "acmed/live/example.test", "example.test");
  auto installer = nginx::make_installer(n.options, n.runner);
  auto req = n.request();
  auto plan = installer->plan_deploy(req);
  REQUIRE_MESSAGE(plan.ok(), (plan.ok() ? "" : plan.error().describe()));
  auto checkpoint = install::execute(*plan, *installer, n.dir / "backups", "deploy example.test",
                                     [&] { return installer->check_deployed(req); });
  REQUIRE_MESSAGE(checkpoint.ok(), (checkpoint.ok() ? "" : checkpoint.error().describe()));
  CHECK(fs::exists(*checkpoint / "manifest.json"));

  std::string https = "https://example.test:" + std::to_string(n.https_port) + "/";
  // The reload waited for the old workers to leave: the first request sees the new config.
  CHECK(n.http_get("/some/page?x=1") == "301 " + https + "some/page?x=1");
  CHECK(n.http_get("/.well-known/acme-challenge/abc") == "200 hello\n");  // not redirected
  // Only TLS 1.2 and 1.3 are offered.
  auto tls12 =
      sys::run_process({"curl", "-sk", "--max-time", "3", "--tls-max", "1.2", "--resolve",
                        "example.test:" + std::to_string(n.https_port) + ":127.0.0.1", https});
  REQUIRE(tls12.ok());
  CHECK(tls12->exit_code == 0);
  CHECK(tls12->out == "hello\n");
  auto tls11 = sys::run_process(
      {"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(n.https_port), "-tls1_1"},
      {{}, std::chrono::seconds(5), "", 1 << 20});
  REQUIRE(tls11.ok());
  CHECK(tls11->exit_code != 0);

  auto again = installer->plan_deploy(req);
  REQUIRE(again.ok());
  CHECK(again->empty());

  auto undone = install::rollback_last(n.dir / "backups", *installer);
  REQUIRE_MESSAGE(undone.ok(), (undone.ok() ? "" : undone.error().describe()));
  CHECK(*sys::read_file(n.root / "sites-enabled/example.conf") == n.site_text);
  CHECK_FALSE(fs::exists(n.dir / "acmed/acmed-nginx-tls.conf"));
  CHECK(n.http_get("/") == "200 hello\n");
}

TEST_CASE("real nginx: an edit nginx -t rejects leaves the config byte-identical and the site up") {
  RealNginx n;
  n.start();
  auto installer = nginx::make_installer(n.options, n.runner);
  auto req = n.request();  // its certificate files do not exist: nginx -t fails
  auto plan = installer->plan_deploy(req);
  REQUIRE(plan.ok());
  auto res = install::execute(*plan, *installer, n.dir / "backups", "deploy");
  REQUIRE_FALSE(res.ok());
  CHECK(res.error().code == Errc::server);
  CHECK(res.error().message.find("nginx rejects the configuration") != std::string::npos);
  CHECK(*sys::read_file(n.root / "sites-enabled/example.conf") == n.site_text);
  CHECK_FALSE(fs::exists(n.dir / "acmed/acmed-nginx-tls.conf"));
  CHECK(n.http_get("/") == "200 hello\n");
  CHECK(install::rollback_last(n.dir / "backups", *installer).error().code == Errc::not_found);
}

TEST_CASE("real nginx: when nginx is not running the reload fails and the config is restored") {
  RealNginx n;  // never started
  make_cert(n.dir / "acmed/live/example.test", "example.test");
  auto installer = nginx::make_installer(n.options, n.runner);
  auto req = n.request();
  auto plan = installer->plan_deploy(req);
  REQUIRE(plan.ok());
  auto res = install::execute(*plan, *installer, n.dir / "backups", "deploy");
  REQUIRE_FALSE(res.ok());
  CHECK(res.error().message.find("cannot reload nginx") != std::string::npos);
  CHECK(*sys::read_file(n.root / "sites-enabled/example.conf") == n.site_text);
}

TEST_CASE("real nginx: a config nginx already rejects is reported and left alone") {
  RealNginx n;
  REQUIRE(sys::write_file_atomic(n.root / "sites-enabled/bad.conf",
                                 "server { listen 127.0.0.1:1; unknown_directive; }\n"));
  auto installer = nginx::make_installer(n.options, n.runner);
  auto plan = installer->plan_deploy(n.request());
  REQUIRE_FALSE(plan.ok());
  CHECK(plan.error().code == Errc::server);
  CHECK(plan.error().message.find("before acmed changed anything") != std::string::npos);
}

TEST_CASE("real nginx: the files acmed reads are the files nginx -T reports") {
  RealNginx n;
  REQUIRE(sys::write_file_atomic(n.root / "sites-enabled/other.conf",
                                 "server { listen 127.0.0.1:1; }\n"));
  auto config = nginx::Config::load(n.root / "nginx.conf");
  REQUIRE(config.ok());
  CHECK(config->file_count() == 3);
  auto st = nginx::cross_check_with_nginx(*config, n.runner, {"nginx", "-p", n.root.string()});
  CHECK_MESSAGE(st.ok(), (st.ok() ? "" : st.error().describe()));
  // A file nginx loads that acmed's graph does not hold is reported by name.
  REQUIRE(sys::write_file_atomic(n.root / "sites-enabled/late.conf",
                                 "server { listen 127.0.0.1:2; }\n"));
  auto late = nginx::cross_check_with_nginx(*config, n.runner, {"nginx", "-p", n.root.string()});
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().code == Errc::config);
  CHECK(late.error().message.find("only nginx loads " +
                                  fs::canonical(n.root / "sites-enabled/late.conf").string()) !=
        std::string::npos);
}

TEST_CASE("real nginx: the http-01 authenticator answers the challenge, cleanup removes it") {
  RealNginx n;
  n.start();
  auto auth = nginx::make_authenticator(n.options, n.runner);
  std::vector<challenge::Task> tasks{
      {"example.test", "dns", "http-01", "Tok3n_-x", "Tok3n_-x.thumbprint", ""}};
  auto st = auth->perform(tasks);
  REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().describe()));
  // perform() returns once nginx answers: no waiting needed here.
  CHECK(n.http_get("/.well-known/acme-challenge/Tok3n_-x") == "200 Tok3n_-x.thumbprint");
  CHECK(n.http_get("/.well-known/acme-challenge/Tok3n_-x") == "200 Tok3n_-x.thumbprint");
  CHECK(n.http_get("/.well-known/acme-challenge/other") == "200 hello\n");
  auth->cleanup(tasks);
  CHECK(*sys::read_file(n.root / "sites-enabled/example.conf") == n.site_text);
  CHECK(n.http_get("/.well-known/acme-challenge/Tok3n_-x") == "200 hello\n");
}

TEST_CASE("real nginx: names of the same block outside the certificate keep plain HTTP") {
  RealNginx n;
  n.site_text.replace(n.site_text.find("server_name example.test;"), 25,
                      "server_name example.test other.test;");
  REQUIRE(sys::write_file_atomic(n.root / "sites-enabled/example.conf", n.site_text));
  n.start();
  make_cert(n.dir / "acmed/live/example.test", "example.test");
  auto installer = nginx::make_installer(n.options, n.runner);
  auto req = n.request();
  auto plan = installer->plan_deploy(req);
  REQUIRE(plan.ok());
  auto res = install::execute(*plan, *installer, n.dir / "backups", "deploy",
                              [&] { return installer->check_deployed(req); });
  REQUIRE_MESSAGE(res.ok(), (res.ok() ? "" : res.error().describe()));
  CHECK(n.http_get("/", "other.test") == "200 hello\n");
  CHECK(n.http_get("/", "EXAMPLE.test").rfind("301 https://", 0) == 0);
  CHECK(n.http_get("/.well-known/acme-challenge/x") == "200 hello\n");
}

TEST_CASE("real nginx: when the TLS port is taken the check fails and everything is restored") {
  RealNginx n;
  n.options.reload_wait = std::chrono::milliseconds(1500);
  n.start();
  make_cert(n.dir / "acmed/live/example.test", "example.test");
  // Something else holds 127.0.0.1:<https>: nginx cannot bind *:<https> and keeps its old config.
  int squatter = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(squatter >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(n.https_port));
  REQUIRE(::bind(squatter, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(squatter, 16) == 0);
  auto installer = nginx::make_installer(n.options, n.runner);
  auto req = n.request();
  auto plan = installer->plan_deploy(req);
  REQUIRE(plan.ok());
  auto res = install::execute(*plan, *installer, n.dir / "backups", "deploy",
                              [&] { return installer->check_deployed(req); });
  ::close(squatter);
  REQUIRE_FALSE(res.ok());
  CHECK(res.error().message.find("nginx does not serve the new certificate for example.test") !=
        std::string::npos);
  CHECK(*sys::read_file(n.root / "sites-enabled/example.conf") == n.site_text);
  CHECK_FALSE(fs::exists(n.dir / "acmed/acmed-nginx-tls.conf"));
  CHECK(n.http_get("/") == "200 hello\n");
}

TEST_CASE("real nginx: a server that redirects everything still answers the challenge") {
  RealNginx n;
  n.site_text.replace(n.site_text.find("    location / {"), 0,
                      "    return 301 https://$host$request_uri;\n");
  REQUIRE(sys::write_file_atomic(n.root / "sites-enabled/example.conf", n.site_text));
  auto started =
      sys::run_process({"nginx", "-p", n.root.string(), "-c", (n.root / "nginx.conf").string()});
  REQUIRE(started.ok());
  REQUIRE(started->exit_code == 0);
  n.pid = std::stoi(*sys::read_file(n.root / "nginx.pid"));
  REQUIRE(eventually([&] { return n.http_get("/").rfind("301 ", 0) == 0; }));
  auto auth = nginx::make_authenticator(n.options, n.runner);
  std::vector<challenge::Task> tasks{{"example.test", "dns", "http-01", "T0k", "T0k.th", ""}};
  auto st = auth->perform(tasks);
  REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().describe()));
  CHECK(n.http_get("/.well-known/acme-challenge/T0k") == "200 T0k.th");
  auth->cleanup(tasks);
  CHECK(*sys::read_file(n.root / "sites-enabled/example.conf") == n.site_text);
  CHECK(n.http_get("/.well-known/acme-challenge/T0k").rfind("301 ", 0) == 0);
}

TEST_CASE(
    "real nginx: a peer reset during the post-reload TLS check fails the deploy and rolls back") {
  // SIGPIPE at its default, fatal disposition, as in a program that never ignored it.
  auto old_handler = ::signal(SIGPIPE, SIG_DFL);
  RealNginx n;
  n.start();
  make_cert(n.dir / "acmed/live/example.test", "example.test");
  // The check is sent to a peer that reads the ClientHello and resets the connection.
  test::TlsPeer peer(test::TlsPeer::Behaviour::reset_after_client_hello,
                     n.dir / "acmed/live/example.test/fullchain.pem",
                     n.dir / "acmed/live/example.test/privkey.pem");
  n.options.tls_check_port = peer.port();
  n.options.reload_wait = std::chrono::milliseconds(1000);
  auto installer = nginx::make_installer(n.options, n.runner);
  auto req = n.request();
  auto plan = installer->plan_deploy(req);
  REQUIRE(plan.ok());
  auto res = install::execute(*plan, *installer, n.dir / "backups", "deploy",
                              [&] { return installer->check_deployed(req); });
  REQUIRE_FALSE(res.ok());
  CHECK(res.error().code == Errc::server);
  // The reset fails the connect or the handshake, depending on when it lands.
  CHECK(res.error().message.find("127.0.0.1:" + std::to_string(peer.port())) != std::string::npos);
  CHECK(res.error().message.find("reset by peer") != std::string::npos);
  CHECK(peer.connections() >= 1);
  CHECK(*sys::read_file(n.root / "sites-enabled/example.conf") == n.site_text);
  CHECK_FALSE(fs::exists(n.dir / "acmed/acmed-nginx-tls.conf"));
  CHECK(eventually([&] { return n.http_get("/") == "200 hello\n"; }));
  ::signal(SIGPIPE, old_handler);
}
