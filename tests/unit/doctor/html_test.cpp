// Mixed content: which http:// URLs in a page a browser would load, from small hand-written
// pages, including the text that only looks like tags (comments, script bodies) and input that
// is cut off or malformed.
#include "acmed/doctor/html.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace acmed;
using namespace std::string_literals;
using doctor::find_mixed_content;
using doctor::InsecureRef;

namespace {

using Refs = std::vector<InsecureRef>;

}  // namespace

TEST_CASE("mixed content: every loading tag and attribute is found, in document order") {
  auto refs = find_mixed_content(
      "<html><head>"
      "<script src=\"http://a/s.js\"></script>"
      "<link rel=\"stylesheet\" href=\"http://a/c.css\">"
      "</head><body>"
      "<img src=\"http://a/i.png\">"
      "<iframe src=\"http://a/f\"></iframe>"
      "<video src=\"http://a/v.mp4\" poster=\"http://a/p.jpg\">"
      "<source src=\"http://a/v.webm\"><track src=\"http://a/t.vtt\"></video>"
      "<audio src=\"http://a/a.mp3\"></audio>"
      "<embed src=\"http://a/e.swf\">"
      "<object data=\"http://a/o.pdf\"></object>"
      "<form action=\"http://a/post\"></form>"
      "</body></html>");
  CHECK(refs == Refs{{"script", "src", "http://a/s.js"},
                     {"link", "href", "http://a/c.css"},
                     {"img", "src", "http://a/i.png"},
                     {"iframe", "src", "http://a/f"},
                     {"video", "src", "http://a/v.mp4"},
                     {"video", "poster", "http://a/p.jpg"},
                     {"source", "src", "http://a/v.webm"},
                     {"track", "src", "http://a/t.vtt"},
                     {"audio", "src", "http://a/a.mp3"},
                     {"embed", "src", "http://a/e.swf"},
                     {"object", "data", "http://a/o.pdf"},
                     {"form", "action", "http://a/post"}});
}

TEST_CASE("mixed content: each srcset candidate counts, with or without descriptors") {
  auto refs = find_mixed_content(
      "<img src=\"/i.png\" srcset=\"http://a/1.png 1x, https://a/2.png 2x,http://a/3.png 3x\">"
      "<picture><source srcset=\"http://a/s,1.webp 100w,http://a/s2.webp\"></picture>"
      "<img srcset=\"http://a/x.png,http://a/y.png\">");
  CHECK(refs == Refs{{"img", "srcset", "http://a/1.png"},
                     {"img", "srcset", "http://a/3.png"},
                     {"source", "srcset", "http://a/s,1.webp"},
                     {"source", "srcset", "http://a/s2.webp"},
                     {"img", "srcset", "http://a/x.png,http://a/y.png"}});
}

TEST_CASE("mixed content: a link's href counts only when its rel loads something") {
  auto refs = find_mixed_content(
      "<link rel=\"canonical\" href=\"http://a/\">"
      "<link rel=\"alternate\" hreflang=\"de\" href=\"http://a/de/\">"
      "<link href=\"http://a/no-rel\">"
      "<link rel=\"shortcut icon\" href=\"http://a/favicon.ico\">"
      "<link href=\"http://a/alt.css\" rel=\"alternate stylesheet\">"
      "<link rel=PRELOAD as=script href=http://a/p.js>"
      "<link rel=\"modulepreload\" href=\"http://a/m.js\">"
      "<link rel=\"manifest\" href=\"http://a/m.json\">");
  CHECK(refs == Refs{{"link", "href", "http://a/favicon.ico"},
                     {"link", "href", "http://a/alt.css"},
                     {"link", "href", "http://a/p.js"},
                     {"link", "href", "http://a/m.js"},
                     {"link", "href", "http://a/m.json"}});
}

TEST_CASE("mixed content: links to pages, https, protocol-relative and relative URLs are fine") {
  CHECK(find_mixed_content("<a href=\"http://a/\">a</a><area href=\"http://a/\">"
                           "<script src=\"https://a/s.js\"></script>"
                           "<img src=\"//a/i.png\"><img src=\"/i.png\"><img src=\"i/http://x\">"
                           "<img src=\"httpx://a\"><img src=\"http\"><img alt=\"http://a/\">"
                           "<form action=\"\"></form><form></form>")
            .empty());
}

TEST_CASE("mixed content: tag, attribute and scheme are case-insensitive; any quoting works") {
  auto refs = find_mixed_content(
      "<SCRIPT SRC='HTTP://A/S.JS'></SCRIPT>"
      "<Img Src=Http://a/i.png>"
      "<img src = \"http://a/spaced\" >"
      "<img/src=http://a/slash/>"
      "<iframe src=\"http://a/it's\" title='say \"hi\"'></iframe>");
  CHECK(refs == Refs{{"script", "src", "HTTP://A/S.JS"},
                     {"img", "src", "Http://a/i.png"},
                     {"img", "src", "http://a/spaced"},
                     {"img", "src", "http://a/slash/"},
                     {"iframe", "src", "http://a/it's"}});
}

TEST_CASE("mixed content: character references are decoded; the URL is read as a browser does") {
  auto refs = find_mixed_content(
      "<img src=\"http://a/i?x=1&amp;y=2&#38;z=3\">"
      "<img src=\"&#104;ttp://a/numeric\">"
      "<img src=\"&#x68;ttp&colon;//a/hex\">"
      "<img src=\"  http://a/padded  \">"
      "<img src=\"ht\ntp://a/newline\">"
      "<img src=\"http:a/no-slashes\">"
      "<img src=\"&#12354;http://a/\">");  // non-ASCII first: relative, not http
  CHECK(refs == Refs{{"img", "src", "http://a/i?x=1&y=2&z=3"},
                     {"img", "src", "http://a/numeric"},
                     {"img", "src", "http://a/hex"},
                     {"img", "src", "http://a/padded"},
                     {"img", "src", "http://a/newline"},
                     {"img", "src", "http:a/no-slashes"}});
}

TEST_CASE("mixed content: only the first of a repeated attribute counts, as in a browser") {
  CHECK(find_mixed_content("<img src=\"/ok.png\" src=\"http://a/i.png\">").empty());
  CHECK(find_mixed_content("<img src=\"http://a/i.png\" src=\"/ok.png\">") ==
        Refs{{"img", "src", "http://a/i.png"}});
}

TEST_CASE("mixed content: comments and the bodies of script and style are not tags") {
  auto refs = find_mixed_content(
      "<!-- <script src=\"http://a/commented.js\"></script> -->"
      "<!--><img src=http://a/after-empty-comment.png>"
      "<!DOCTYPE html><?xml version=\"1.0\"?>"
      "<script>document.write('<img src=http://x>'); if (a </b) {}</script>"
      "<script src=\"http://a/real.js\">var s = '</scriptx><img src=http://y>';</SCRIPT >"
      "<style>body { background: url(http://a/bg.png) } /* <img src=http://z> */</style>"
      "<textarea><img src=http://a/in-textarea></textarea>"
      "<img src=http://a/last.png>");
  CHECK(refs == Refs{{"img", "src", "http://a/after-empty-comment.png"},
                     {"script", "src", "http://a/real.js"},
                     {"img", "src", "http://a/last.png"}});
}

TEST_CASE("mixed content: truncated and malformed input does not crash and keeps what is whole") {
  CHECK(find_mixed_content("").empty());
  CHECK(find_mixed_content("<").empty());
  CHECK(find_mixed_content("</").empty());
  CHECK(find_mixed_content("<!--").empty());
  CHECK(find_mixed_content("<!-- <img src=http://a/x>").empty());
  CHECK(find_mixed_content("<img src=http://a/x").empty());  // cut off: a browser drops it
  CHECK(find_mixed_content("<img src=\"http://a/x>").empty());
  CHECK(find_mixed_content("<img src=").empty());
  CHECK(find_mixed_content("<img src").empty());
  CHECK(find_mixed_content("<script>unterminated <img src=http://a/x>").empty());
  CHECK(find_mixed_content("<script").empty());
  CHECK(find_mixed_content("<img src>").empty());
  CHECK(find_mixed_content("<img src=>").empty());
  CHECK(find_mixed_content("<img ===>").empty());
  CHECK(find_mixed_content("<img src=\"&#\"><img src=\"&#x;\"><img src=\"&#99999999999999999;\">"
                           "<img src=\"&\"><img srcset=\", , ,\"><img srcset=\"\">")
            .empty());
  CHECK(find_mixed_content("a < b <> c <3 </> <img async src=http://a/x.png> & d") ==
        Refs{{"img", "src", "http://a/x.png"}});
  std::string nul = "<img src=\"http://a/\0x\">"s;  // a NUL is just a byte
  CHECK(find_mixed_content(nul) == Refs{{"img", "src", "http://a/\0x"s}});
}

TEST_CASE("mixed content: at most `limit` results") {
  std::string page;
  for (int i = 0; i < 100; ++i) page += "<img src=\"http://a/" + std::to_string(i) + "\">";
  CHECK(find_mixed_content(page).size() == 50);
  auto refs = find_mixed_content(page, 3);
  CHECK(refs == Refs{{"img", "src", "http://a/0"},
                     {"img", "src", "http://a/1"},
                     {"img", "src", "http://a/2"}});
  CHECK(find_mixed_content(page, 0).empty());
  CHECK(find_mixed_content("<img srcset=\"http://a/1 1x, http://a/2 2x\">", 1).size() == 1);
}

TEST_CASE("mixed content: large hostile input is handled in linear time") {
  // Each would take minutes in a scanner that rescans from every '<', attribute or reference.
  struct Case {
    std::string open, unit, close;
  };
  for (const auto& c : std::vector<Case>{{"", "<", ""},
                                         {"", "<a ", ""},
                                         {"", "<!--", ""},
                                         {"", "<script>", ""},
                                         {"", "</", ""},
                                         {"<img ", "a ", ">"},
                                         {"<img ", "src ", ">"},
                                         {"<img src=\"", "&#1", "\">"},
                                         {"<img src=\"&#", "1", "\">"},
                                         {"<img srcset=\"", ", ", "\">"},
                                         {"<img srcset=\"", "x 1x,", "\">"},
                                         {"<link rel=\"", "x ", "\" href=http://a>"},
                                         {"<script>", "</scrip", "</script>"}}) {
    std::string page = c.open;
    while (page.size() < 500'000) page += c.unit;
    page += c.close;
    CHECK(find_mixed_content(page).empty());
  }
}
