#include "plugins/nginx/servers.hpp"

#include "acmed/sys/fs.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

using namespace acmed;
using namespace acmed::plugins::nginx;

namespace {

struct Loaded {
  test::TempDir dir;
  Config config;
  std::vector<Server> servers;
};

std::unique_ptr<Loaded> load(const std::string& http_body) {
  auto l = std::make_unique<Loaded>();
  REQUIRE(sys::write_file_atomic(l->dir / "nginx.conf", "events {}\nhttp {\n" + http_body + "}\n"));
  auto c = Config::load(l->dir / "nginx.conf");
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().describe()));
  l->config = std::move(c).value();
  l->servers = http_servers(l->config);
  return l;
}

// server_name argument of the first chosen server, or "none".
std::string chosen(const Loaded& l, std::string_view host, int port = 80, Tls tls = Tls::plain) {
  auto idx = select_servers(l.servers, host, port, tls);
  if (idx.empty()) return "none";
  const auto& names = l.servers[idx.front()].names;
  return names.empty() ? "unnamed" : names.front();
}

}  // namespace

TEST_CASE("exact names win over wildcards, leading over trailing wildcards, wildcards over regex") {
  auto l = load(
      "server { listen 80; server_name ~^www\\.example\\.com$; }\n"
      "server { listen 80; server_name www.example.*; }\n"
      "server { listen 80; server_name *.example.com; }\n"
      "server { listen 80; server_name www.example.com; }\n");
  CHECK(chosen(*l, "www.example.com") == "www.example.com");
  CHECK(chosen(*l, "WWW.Example.COM") == "www.example.com");
  CHECK(chosen(*l, "a.example.com") == "*.example.com");
  CHECK(chosen(*l, "www.example.org") == "www.example.*");
  CHECK(chosen(*l, "example.com") == "none");
}

TEST_CASE("the longest leading wildcard wins and .name matches the bare name too") {
  auto l = load(
      "server { listen 80; server_name .example.com; }\n"
      "server { listen 80; server_name *.shop.example.com; }\n");
  CHECK(chosen(*l, "example.com") == ".example.com");
  CHECK(chosen(*l, "a.example.com") == ".example.com");
  CHECK(chosen(*l, "a.shop.example.com") == "*.shop.example.com");
  CHECK(chosen(*l, "shop.example.com") == ".example.com");  // "*." needs at least one label
}

TEST_CASE("the first matching regex in config order wins, named captures are accepted") {
  auto l = load(
      "server { listen 80; server_name ~^(?<sub>.+)\\.example\\.net$; }\n"
      "server { listen 80; server_name ~example; }\n");
  CHECK(chosen(*l, "a.example.net") == "~^(?<sub>.+)\\.example\\.net$");
  CHECK(chosen(*l, "example.org") == "~example");
}

TEST_CASE("only servers listening on the requested port and TLS mode are considered") {
  auto l = load(
      "server { listen 443 ssl; server_name a.test; }\n"
      "server { listen 8080; server_name b.test; }\n"
      "server { server_name c.test; }\n"
      "server { listen [::]:80; listen 127.0.0.1; server_name d.test; }\n");
  CHECK(chosen(*l, "a.test") == "none");
  CHECK(chosen(*l, "a.test", 443, Tls::ssl) == "a.test");
  CHECK(chosen(*l, "b.test") == "none");
  CHECK(chosen(*l, "b.test", 8080) == "b.test");
  CHECK(chosen(*l, "c.test") == "c.test");  // no listen: *:80
  CHECK(chosen(*l, "d.test") == "d.test");
}

TEST_CASE("a name is resolved per listening address, so two blocks can both serve it") {
  auto l = load(
      "server { listen 127.0.0.1:80; server_name *.x.test; }\n"
      "server { listen 80; server_name www.x.test; }\n"
      "server { listen 80; server_name www.x.test; }\n");
  auto idx = select_servers(l->servers, "www.x.test", 80, Tls::plain);
  CHECK(idx == std::vector<std::size_t>{0, 1});  // the duplicate name: the first block wins
}

TEST_CASE("listen and server_name written in an included file count for the server") {
  test::TempDir dir;
  REQUIRE(sys::write_file_atomic(
      dir / "nginx.conf",
      "http { server { include inc.conf; } }\nstream { server { listen 80; } }\n"));
  REQUIRE(sys::write_file_atomic(dir / "inc.conf",
                                 "listen [::]:80 default_server;\nserver_name i.test;\n"));
  auto c = Config::load(dir / "nginx.conf");
  REQUIRE(c.ok());
  auto servers = http_servers(*c);
  REQUIRE(servers.size() == 1);  // the stream server is not an http server
  REQUIRE(servers[0].listens.size() == 1);
  CHECK(servers[0].listens[0].ipv6);
  CHECK(servers[0].names == std::vector<std::string>{"i.test"});
}

TEST_CASE("listen arguments: addresses, ports, flags; unix sockets and quic are skipped") {
  auto parse_one = [](const std::string& text) {
    auto t = parse("listen " + text + ";", "t");
    REQUIRE(t.ok());
    return parse_listen(t->nodes[0]);
  };
  auto a = parse_one("127.0.0.1:8443 ssl http2");
  REQUIRE(a);
  CHECK(a->address == "127.0.0.1");
  CHECK(a->port == 8443);
  CHECK(a->ssl);
  CHECK(a->http2);
  auto b = parse_one("[::1]");
  REQUIRE(b);
  CHECK(b->ipv6);
  CHECK(b->port == 80);
  auto c = parse_one("localhost");
  REQUIRE(c);
  CHECK(c->address == "localhost");
  CHECK_FALSE(parse_one("unix:/run/x.sock"));
  CHECK_FALSE(parse_one("443 quic"));
  CHECK_FALSE(parse_one("99999"));
  CHECK_FALSE(parse_one("[::1"));
}

TEST_CASE("an invalid regex name matches nothing instead of failing") {
  CHECK_FALSE(match_name("~(unclosed", "a.test"));
  CHECK_FALSE(match_name("", "a.test"));
  CHECK_FALSE(match_name("_", "a.test"));
}
