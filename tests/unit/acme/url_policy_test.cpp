// The URL policy (acme/url_policy.hpp): which URLs a CA may hand out and which addresses acmed
// connects to for it. The libcurl transport applies it on real connections
// (curl_transport_test.cpp); here the rules themselves.
#include "acmed/acme/url_policy.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

using namespace acmed;
using namespace acmed::acme;

namespace {

UrlPolicy policy_for(const std::string& directory) {
  auto p = UrlPolicy::for_directory(directory);
  REQUIRE_MESSAGE(p.ok(), p.error().describe());
  return std::move(*p);
}

bool has(const Status& s, const std::string& text) {
  return !s.ok() && s.error().message.find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("url policy: a directory is https, or http on a loopback host only") {
  CHECK(UrlPolicy::for_directory("https://acme-v02.api.letsencrypt.org/directory").ok());
  CHECK(UrlPolicy::for_directory("HTTPS://CA.example/dir").ok());
  CHECK(UrlPolicy::for_directory("http://127.0.0.1:14000/dir").ok());
  CHECK(UrlPolicy::for_directory("http://127.8.9.10/dir").ok());
  CHECK(UrlPolicy::for_directory("http://localhost:8080/dir").ok());
  CHECK(UrlPolicy::for_directory("http://[::1]:8080/dir").ok());
  for (const char* bad :
       {"http://ca.example/dir", "http://127.0.0.1.evil.example/dir",
        "http://127.0.0.1@evil.example/dir", "http://128.0.0.1/dir", "http://10.0.0.1/dir",
        "http://[::2]/dir", "ftp://127.0.0.1/dir", "file:///etc/passwd", "not a url"}) {
    auto p = UrlPolicy::for_directory(bad);
    REQUIRE_FALSE_MESSAGE(p.ok(), bad);
    CHECK(p.error().code == Errc::invalid_input);
    CHECK(p.error().message.find(bad) != std::string::npos);
  }
}

TEST_CASE("url policy: from an https directory every URL must be https, loopback included") {
  UrlPolicy p = policy_for("https://ca.example/dir");
  CHECK(p.check_url("https://ca.example/acme/order/1").ok());
  CHECK(p.check_url("https://cdn.other.example/cert/1").ok());
  for (const char* bad : {"http://ca.example/acme/order/1", "http://127.0.0.1:80/x",
                          "http://localhost/x", "http://[::1]/x", "ftp://ca.example/x"}) {
    auto s = p.check_url(bad);
    REQUIRE_FALSE_MESSAGE(s.ok(), bad);
    CHECK(s.error().code == Errc::protocol);
    CHECK(s.error().message.find(bad) != std::string::npos);
  }
  CHECK(has(p.check_url("http://127.0.0.1/x"), "is https://, so every URL"));
}

TEST_CASE("url policy: an http loopback directory allows plain http only to its own origin") {
  UrlPolicy p = policy_for("http://127.0.0.1:14000/dir");
  CHECK(p.check_url("http://127.0.0.1:14000/acme/new-order").ok());
  CHECK(p.check_url("HTTP://127.0.0.1:14000/acme/x").ok());
  CHECK(p.check_url("https://127.0.0.1:15000/acme/x").ok());  // https is always fine
  CHECK(has(p.check_url("http://127.0.0.1:15000/acme/x"), "directory's own origin"));
  CHECK(has(p.check_url("http://localhost:14000/acme/x"), "directory's own origin"));
  CHECK(has(p.check_url("http://127.0.0.2:14000/acme/x"), "directory's own origin"));
  CHECK(has(p.check_url("http://ca.example/x"), "directory's own origin"));

  UrlPolicy implicit_port = policy_for("http://localhost/dir");
  CHECK(implicit_port.check_url("http://localhost:80/x").ok());  // the same origin, spelled out
}

TEST_CASE("url policy: address scopes of IPv4 and IPv6 literals") {
  CHECK(literal_scope("8.8.8.8") == AddressScope::public_internet);
  CHECK(literal_scope("2001:4860:4860::8888") == AddressScope::public_internet);
  CHECK(literal_scope("127.0.0.1") == AddressScope::loopback);
  CHECK(literal_scope("127.255.0.9") == AddressScope::loopback);
  CHECK(literal_scope("::1") == AddressScope::loopback);
  CHECK(literal_scope("[::1]") == AddressScope::loopback);
  CHECK(literal_scope("::ffff:127.0.0.1") == AddressScope::loopback);          // IPv4-mapped
  CHECK(literal_scope("64:ff9b::10.0.0.1") == AddressScope::private_network);  // NAT64
  CHECK(literal_scope("10.1.2.3") == AddressScope::private_network);
  CHECK(literal_scope("172.16.0.1") == AddressScope::private_network);
  CHECK(literal_scope("172.31.255.255") == AddressScope::private_network);
  CHECK(literal_scope("172.32.0.1") == AddressScope::public_internet);
  CHECK(literal_scope("192.168.1.1") == AddressScope::private_network);
  CHECK(literal_scope("100.64.0.1") == AddressScope::private_network);
  CHECK(literal_scope("fd00::1") == AddressScope::private_network);
  CHECK(literal_scope("169.254.169.254") == AddressScope::link_local);  // cloud metadata
  CHECK(literal_scope("fe80::1%eth0") == AddressScope::link_local);
  CHECK(literal_scope("0.0.0.0") == AddressScope::special);
  CHECK(literal_scope("::") == AddressScope::special);
  CHECK(literal_scope("224.0.0.1") == AddressScope::special);
  CHECK(literal_scope("255.255.255.255") == AddressScope::special);
  CHECK(literal_scope("ff02::1") == AddressScope::special);
  CHECK_FALSE(literal_scope("ca.example").has_value());
  CHECK_FALSE(literal_scope("localhost").has_value());
}

TEST_CASE("url policy: socket addresses are classified like their text") {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  REQUIRE(::inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr) == 1);
  CHECK(address_scope(reinterpret_cast<const sockaddr*>(&v4)) == AddressScope::loopback);
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  REQUIRE(::inet_pton(AF_INET6, "::ffff:192.168.0.1", &v6.sin6_addr) == 1);
  CHECK(address_scope(reinterpret_cast<const sockaddr*>(&v6)) == AddressScope::private_network);
  sockaddr unix_like{};
  unix_like.sa_family = AF_UNIX;
  CHECK_FALSE(address_scope(&unix_like).has_value());
}

TEST_CASE(
    "url policy: a public CA's URLs may not reach loopback, link-local or private addresses") {
  UrlPolicy p = policy_for("https://ca.example/dir");
  REQUIRE(p.check_connection("https://ca.example/dir", AddressScope::public_internet).ok());
  CHECK(p.check_connection("https://ca.example/acme/order/1", AddressScope::public_internet).ok());
  for (AddressScope bad : {AddressScope::loopback, AddressScope::link_local,
                           AddressScope::private_network, AddressScope::special}) {
    auto s = p.check_connection("https://evil.example/acme/x", bad);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == Errc::protocol);
    CHECK(s.error().message.find("https://evil.example/acme/x") != std::string::npos);
    CHECK(s.error().message.find(to_string(bad)) != std::string::npos);
    // The directory's own name later resolving elsewhere (DNS rebinding) is refused too.
    CHECK_FALSE(p.check_connection("https://ca.example/acme/order/1", bad).ok());
  }
}

TEST_CASE("url policy: before the directory was reached, only public addresses are allowed") {
  UrlPolicy p = policy_for("https://ca.example/dir");
  CHECK_FALSE(p.check_connection("https://other.example/x", AddressScope::private_network).ok());
}

TEST_CASE("url policy: a CA reached on a private network may use that network, not loopback") {
  UrlPolicy p = policy_for("https://ca.corp.example/acme/directory");
  REQUIRE(
      p.check_connection("https://ca.corp.example/acme/directory", AddressScope::private_network)
          .ok());
  CHECK(p.check_connection("https://ca2.corp.example/acme/x", AddressScope::private_network).ok());
  CHECK(p.check_connection("https://ca.example/x", AddressScope::public_internet).ok());
  CHECK_FALSE(p.check_connection("https://ca.corp.example/x", AddressScope::loopback).ok());
  CHECK_FALSE(p.check_connection("https://ca.corp.example/x", AddressScope::link_local).ok());
  CHECK_FALSE(p.check_connection("https://ca.corp.example/x", AddressScope::special).ok());
}

TEST_CASE("url policy: a directory on loopback may send acmed anywhere (a test CA)") {
  UrlPolicy p = policy_for("https://127.0.0.1:14000/dir");
  CHECK(p.directory_on_loopback());
  for (AddressScope any : {AddressScope::loopback, AddressScope::link_local,
                           AddressScope::private_network, AddressScope::public_internet})
    CHECK(p.check_connection("https://127.0.0.1:14001/x", any).ok());
  CHECK_FALSE(policy_for("https://ca.example/dir").directory_on_loopback());
}

TEST_CASE("url policy: without a directory only the scheme rule applies") {
  UrlPolicy p;
  CHECK(p.check_url("https://ca.example/x").ok());
  CHECK(p.check_url("http://127.0.0.1:1/x").ok());
  CHECK_FALSE(p.check_url("http://ca.example/x").ok());
  CHECK(p.check_connection("https://ca.example/x", AddressScope::loopback).ok());
}
