// Mixed content on a page served over https://: the part of `acmed doctor` that finds the
// subresources a browser would block or warn about (W3C Mixed Content, section 4.3) once the
// site moves to HTTPS.
//
// A small tag scanner that follows the HTML tokenizer only where it decides which text is a tag
// and what an attribute's value is (WHATWG HTML, section 13.2.5): comments, raw text bodies,
// quoting and character references. It is not an HTML parser and builds no tree.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::doctor {

// One subresource of an HTML page fetched over https:// that is loaded over plain http://.
struct InsecureRef {
  std::string tag;   // lower case: "script", "link", "img", "iframe", "source", "audio", "video",
                     // "form", "embed", "object", "track"
  std::string attr;  // lower case: "src", "href", "action", "data", "srcset", "poster"
  std::string url;   // the http:// URL as written: character references decoded, surrounding
                     // white space and any tab or newline removed (as a browser's URL parser does)
  bool operator==(const InsecureRef&) const = default;
};

// Every http:// URL in the page's tags that a browser would load as a subresource or submit a
// form to, in document order: script src; link href when rel names a loaded resource
// (stylesheet, icon, preload, modulepreload, prefetch, manifest, ...; not canonical or
// alternate); img src and each srcset candidate; iframe src; source src and srcset; audio and
// video src; video poster; track src; embed src; object data; form action. Links (<a href>),
// https://, protocol-relative and relative URLs are not mixed content. Comments and the bodies
// of script, style, textarea and title are skipped; a tag cut off by the end of the input is
// dropped, as a browser drops it. At most `limit` results. Never throws on malformed input
// (beyond std::bad_alloc); time is linear in the size of `html`.
std::vector<InsecureRef> find_mixed_content(std::string_view html, std::size_t limit = 50);

}  // namespace acmed::doctor
