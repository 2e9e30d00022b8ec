#include "acmed/util/domain.hpp"

#include <doctest/doctest.h>

#include <string>

using acmed::Errc;
using acmed::util::check_email;
using namespace std::string_literals;

TEST_CASE("ordinary contact e-mail addresses are accepted") {
  CHECK(check_email("ops@example.com").ok());
  CHECK(check_email("first.last+certs@mail.example.co.uk").ok());
  CHECK(check_email("mailto:ops@example.com").ok());
}

TEST_CASE("an e-mail with CR, LF or another control character is refused as a usage error") {
  for (const std::string& bad :
       {"ops@example.com\r\nBcc: all@example.com"s, "ops@exa\nmple.com"s, "ops\x1b[2J@example.com"s,
        "ops@example.com\0x"s, "o\x7fps@x.com"s}) {
    auto st = check_email(bad);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == Errc::usage);
    CHECK(st.error().message.find("control character") != std::string::npos);
    CHECK(st.error().describe().find('\n') == std::string::npos);
    CHECK(st.error().describe().find('\r') == std::string::npos);
  }
}

TEST_CASE("an e-mail needs exactly one @ and a domain that passes the name checks") {
  CHECK(check_email("ops.example.com").error().message.find("no '@'") != std::string::npos);
  CHECK(check_email("a@b@example.com").error().message.find("more than one") != std::string::npos);
  CHECK(check_email("@example.com").error().message.find("before the '@'") != std::string::npos);
  for (const char* domain :
       {"localhost", "*.example.com", "127.0.0.1", "exa_mple.com", "-x.com", "example..com", ""})
    CHECK(check_email(std::string("ops@") + domain).error().message.find("after the '@'") !=
          std::string::npos);
  CHECK_FALSE(check_email("ops@example.com?subject=x").ok());
  CHECK_FALSE(check_email("a b@example.com").ok());
  CHECK_FALSE(check_email("caf\xc3\xa9@example.com").ok());
}
