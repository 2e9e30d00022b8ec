#include "acmed/dns/dns01.hpp"

#include <doctest/doctest.h>

using namespace acmed;

TEST_CASE("DNS server addresses: IP, IP:PORT, [IPv6]:PORT; names and bad ports are refused") {
  auto a = dns::parse_server("192.0.2.53");
  REQUIRE(a);
  CHECK(a->str() == "192.0.2.53:53");
  auto b = dns::parse_server("127.0.0.1:5353");
  REQUIRE(b);
  CHECK(b->port == 5353);
  auto c = dns::parse_server("[2001:db8::1]:54");
  REQUIRE(c);
  CHECK(c->address == "2001:db8::1");
  CHECK(c->str() == "[2001:db8::1]:54");
  auto d = dns::parse_server("2001:db8::1");
  REQUIRE(d);
  CHECK(d->port == 53);
  for (const char* bad :
       {"ns1.example.com", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:x", "[::1", ""}) {
    auto r = dns::parse_server(bad);
    CHECK_MESSAGE(!r, bad);
    if (!r) CHECK(r.error().code == Errc::usage);
  }
}

TEST_CASE("TSIG algorithms by certbot's names map to ldns's; unknown ones are empty") {
  CHECK(dns::tsig_algorithm("HMAC-SHA512") == "hmac-sha512.");
  CHECK(dns::tsig_algorithm("hmac-sha256") == "hmac-sha256.");
  CHECK(dns::tsig_algorithm("HMAC-MD5") == "hmac-md5.sig-alg.reg.int.");
  CHECK(dns::tsig_algorithm("hmac-md5.sig-alg.reg.int.") == "hmac-md5.sig-alg.reg.int.");
  CHECK(dns::tsig_algorithm("HMAC-SHA999").empty());
  CHECK(dns::tsig_algorithm("").empty());
}

TEST_CASE("propagation settings: check names, bounds, resolvers") {
  auto o = dns::make_options(std::vector<std::string>{"127.0.0.1:5300"}, "resolver", 7);
  REQUIRE(o);
  CHECK(o->check == dns::PropagationCheck::resolver);
  CHECK(o->propagation == std::chrono::seconds(7));
  REQUIRE(o->resolvers.size() == 1);
  CHECK(o->resolvers[0].port == 5300);
  auto d = dns::make_options({}, "", std::nullopt);
  REQUIRE(d);
  CHECK(d->check == dns::PropagationCheck::authoritative);
  CHECK(d->propagation == std::chrono::seconds(60));
  CHECK_FALSE(dns::make_options({}, "sometimes", std::nullopt));
  CHECK_FALSE(dns::make_options({}, "", -1));
  CHECK_FALSE(dns::make_options({}, "", 3601));
  CHECK_FALSE(dns::make_options(std::vector<std::string>{"dns.example"}, "", std::nullopt));
}

TEST_CASE("with the check off, the propagation time is a fixed wait and nothing is asked") {
  dns::Options o;
  o.check = dns::PropagationCheck::none;
  o.propagation = std::chrono::seconds(42);
  o.resolvers.push_back(dns::Server{"127.0.0.1", 9});  // would fail if it were asked
  std::chrono::milliseconds slept{0};
  o.sleep = [&](std::chrono::milliseconds d) { slept += d; };
  std::vector<dns::TxtRecord> records{
      {"example.com", "_acme-challenge.example.com", "example.com", "v"}};
  CHECK(dns::wait_for_propagation(o, records));
  CHECK(slept == std::chrono::seconds(42));
}
