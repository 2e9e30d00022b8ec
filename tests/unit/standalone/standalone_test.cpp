#include "plugins/standalone/standalone.hpp"

#include "acmed/sys/process.hpp"

#include <doctest/doctest.h>

using namespace acmed;
using plugins::standalone::StandaloneAuthenticator;

namespace {
sys::ProcessResult fetch(int port, const std::string& path) {
  auto r = sys::run_process({"curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "5",
                             "http://127.0.0.1:" + std::to_string(port) + path});
  REQUIRE(r);
  return *r;
}
}  // namespace

TEST_CASE("standalone answers exactly the expected tokens and 404 otherwise") {
  StandaloneAuthenticator auth({"127.0.0.1", 0, "", 443, false});
  std::vector<challenge::Task> tasks{{"a.example", "dns", "http-01", "tokA", "tokA.thumb", ""},
                                     {"b.example", "dns", "http-01", "tokB", "tokB.thumb", ""}};
  REQUIRE(auth.perform(tasks));
  int port = auth.bound_port();
  REQUIRE(port > 0);
  CHECK(fetch(port, "/.well-known/acme-challenge/tokA").out == "tokA.thumb\n200");
  CHECK(fetch(port, "/.well-known/acme-challenge/tokB").out == "tokB.thumb\n200");
  CHECK(fetch(port, "/.well-known/acme-challenge/other").out == "not found\n\n404");
  CHECK(fetch(port, "/etc/passwd").out == "not found\n\n404");
  auth.cleanup(tasks);
  CHECK(auth.bound_port() == 0);
  auto after = sys::run_process({"curl", "-s", "--max-time", "2", "http://127.0.0.1:" + std::to_string(port) + "/"});
  REQUIRE(after);
  CHECK(after->exit_code != 0);  // nobody listens any more
}

TEST_CASE("standalone says clearly when the port is already taken") {
  StandaloneAuthenticator first({"127.0.0.1", 0, "", 443, false});
  std::vector<challenge::Task> tasks{{"a.example", "dns", "http-01", "t", "t.x", ""}};
  REQUIRE(first.perform(tasks));
  StandaloneAuthenticator second({"127.0.0.1", first.bound_port(), "", 443, false});
  auto st = second.perform(tasks);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::conflict);
  CHECK(st.error().message.find("already in use") != std::string::npos);
  first.cleanup(tasks);
}

TEST_CASE("standalone refuses a malformed address and an unsafe token") {
  StandaloneAuthenticator bad_addr({"not-an-ip", 0, "", 443, false});
  std::vector<challenge::Task> tasks{{"a.example", "dns", "http-01", "t", "t.x", ""}};
  auto st = bad_addr.perform(tasks);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::usage);
  StandaloneAuthenticator auth({"127.0.0.1", 0, "", 443, false});
  std::vector<challenge::Task> evil{{"a.example", "dns", "http-01", "../x", "k", ""}};
  CHECK_FALSE(auth.perform(evil));
}
