#include "acmed/doctor/html.hpp"

#include <algorithm>
#include <array>
#include <optional>

namespace acmed::doctor {

namespace {

constexpr auto npos = std::string_view::npos;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
bool is_alpha(char c) {
  return lower(c) >= 'a' && lower(c) <= 'z';
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// The attributes of each tag that a browser fetches or submits to. A link's href counts only
// for some rel values (loads_resource), so "rel" is kept for links as a third value.
struct Loads {
  std::string_view tag;
  std::array<std::string_view, 2> attrs;
};
constexpr std::array<Loads, 11> k_loads{{
    {"script", {"src", ""}},
    {"link", {"href", ""}},
    {"img", {"src", "srcset"}},
    {"iframe", {"src", ""}},
    {"source", {"src", "srcset"}},
    {"audio", {"src", ""}},
    {"video", {"src", "poster"}},
    {"track", {"src", ""}},
    {"embed", {"src", ""}},
    {"object", {"data", ""}},
    {"form", {"action", ""}},
}};

// Elements whose body is text, not tags (section 13.2.5.2-3): an <img> inside is never loaded.
constexpr std::array<std::string_view, 4> k_raw_text{"script", "style", "textarea", "title"};

// rel tokens for which the browser fetches the href; canonical, alternate, author and the like
// only name a page. "shortcut icon" and "alternate stylesheet" match through their tokens.
constexpr std::array<std::string_view, 9> k_loading_rels{
    "stylesheet", "icon",    "apple-touch-icon", "apple-touch-icon-precomposed",
    "mask-icon",  "preload", "modulepreload",    "prefetch",
    "manifest"};

int digit_value(char c, bool hex) {
  if (c >= '0' && c <= '9') return c - '0';
  if (hex && lower(c) >= 'a' && lower(c) <= 'f') return lower(c) - 'a' + 10;
  return -1;
}

// Character references in an attribute value (section 13.5): numeric ones, which browsers also
// take without the ';', and the few names that can spell a URL's scheme. Only ASCII results
// are decoded, since a scheme is ASCII; anything else stays as written.
std::string decode(std::string_view v) {
  static constexpr std::array<std::string_view, 7> k_names{"amp;",  "lt;",    "gt;", "quot;",
                                                           "apos;", "colon;", "sol;"};
  static constexpr std::string_view k_chars = "&<>\"':/";  // what each of k_names stands for
  std::string out;
  for (std::size_t i = 0; i < v.size();) {
    std::string_view rest = v.substr(i + 1);
    if (v[i] == '&' && rest.starts_with('#')) {
      bool hex = rest.size() > 1 && lower(rest[1]) == 'x';
      std::size_t j = hex ? 2 : 1;
      unsigned long code = 0;
      for (int d = 0; j < rest.size() && (d = digit_value(rest[j], hex)) >= 0; ++j) {
        if (code < 0x110000) code = code * (hex ? 16 : 10) + static_cast<unsigned long>(d);
      }
      if (j > (hex ? 2u : 1u) && code > 0 && code < 0x80) {
        out += static_cast<char>(code);
        i += 1 + j + (j < rest.size() && rest[j] == ';' ? 1 : 0);
        continue;
      }
    } else if (v[i] == '&') {
      auto it = std::find_if(k_names.begin(), k_names.end(),
                             [&](std::string_view name) { return rest.starts_with(name); });
      if (it != k_names.end()) {
        out += k_chars[static_cast<std::size_t>(it - k_names.begin())];
        i += 1 + it->size();
        continue;
      }
    }
    out += v[i++];
  }
  return out;
}

// A browser's URL parser drops surrounding spaces and control characters and every tab or
// newline (WHATWG URL, basic URL parser), so "\thttp:\n//x" is http://x.
std::string clean_url(std::string_view v) {
  while (!v.empty() && static_cast<unsigned char>(v.front()) <= ' ') v.remove_prefix(1);
  while (!v.empty() && static_cast<unsigned char>(v.back()) <= ' ') v.remove_suffix(1);
  std::string out;
  for (char c : v) {
    if (c != '\t' && c != '\n' && c != '\r') out += c;
  }
  return out;
}

// "http:" without the slashes is still http://host on an https:// page (special schemes take
// any number of slashes), so the scheme alone decides.
bool insecure(std::string_view url) {
  return url.size() >= 5 && iequals(url.substr(0, 5), "http:");
}

bool loads_resource(std::string_view rel) {
  for (std::size_t i = 0; i < rel.size();) {
    while (i < rel.size() && is_space(rel[i])) ++i;
    std::size_t start = i;
    while (i < rel.size() && !is_space(rel[i])) ++i;
    for (auto name : k_loading_rels) {
      if (iequals(rel.substr(start, i - start), name)) return true;
    }
  }
  return false;
}

// The URLs of a srcset (section 4.8.4.3.3): comma-separated candidates, each a URL and optional
// descriptors ("2x", "300w"). A URL may contain commas; only trailing ones end it.
std::vector<std::string_view> srcset_urls(std::string_view v) {
  std::vector<std::string_view> out;
  for (std::size_t i = 0; i < v.size();) {
    while (i < v.size() && (is_space(v[i]) || v[i] == ',')) ++i;
    std::size_t start = i;
    while (i < v.size() && !is_space(v[i])) ++i;
    std::string_view url = v.substr(start, i - start);
    bool ended = url.ends_with(',');
    while (url.ends_with(',')) url.remove_suffix(1);
    if (!url.empty()) out.push_back(url);
    if (!ended) i = std::min(v.find(',', i), v.size());  // past the descriptors
  }
  return out;
}

struct Tag {
  std::string_view name;
  const Loads* loads = nullptr;                           // null: nothing of this tag is loaded
  std::array<std::optional<std::string_view>, 3> values;  // loads->attrs[0], [1], then rel
  std::size_t end = 0;  // just past the '>'; 0 when the input ends inside the tag
};

// The tag whose name starts at `i` (section 13.2.5.6-13.2.5.39, without the parse errors).
// Later duplicates of an attribute are ignored, as browsers ignore them.
Tag read_tag(std::string_view html, std::size_t i) {
  Tag tag;
  std::size_t start = i;
  while (i < html.size() && !is_space(html[i]) && html[i] != '/' && html[i] != '>') ++i;
  tag.name = html.substr(start, i - start);
  for (const auto& loads : k_loads) {
    if (iequals(tag.name, loads.tag)) tag.loads = &loads;
  }
  while (i < html.size()) {
    if (html[i] == '>') {
      tag.end = i + 1;
      return tag;
    }
    if (is_space(html[i]) || html[i] == '/') {
      ++i;
      continue;
    }
    std::size_t name_start = i++;  // a leading '=' is part of the name
    while (i < html.size() && !is_space(html[i]) && html[i] != '/' && html[i] != '>' &&
           html[i] != '=') {
      ++i;
    }
    std::string_view attr = html.substr(name_start, i - name_start);
    while (i < html.size() && is_space(html[i])) ++i;
    std::string_view value;  // an attribute without a value has the empty one
    if (i < html.size() && html[i] == '=') {
      ++i;
      while (i < html.size() && is_space(html[i])) ++i;
      if (i < html.size() && (html[i] == '"' || html[i] == '\'')) {
        std::size_t close = html.find(html[i], i + 1);
        if (close == npos) return tag;
        value = html.substr(i + 1, close - i - 1);
        i = close + 1;
      } else {
        std::size_t value_start = i;
        while (i < html.size() && !is_space(html[i]) && html[i] != '>') ++i;
        value = html.substr(value_start, i - value_start);
      }
    }
    if (!tag.loads) continue;
    for (std::size_t k = 0; k < 2; ++k) {
      const auto& name = tag.loads->attrs[k];
      if (!name.empty() && !tag.values[k] && iequals(attr, name)) tag.values[k] = value;
    }
    if (!tag.values[2] && iequals(attr, "rel")) tag.values[2] = value;
  }
  return tag;
}

void report(const Tag& tag, std::size_t limit, std::vector<InsecureRef>& out) {
  const Loads& loads = *tag.loads;
  if (loads.tag == "link" && !(tag.values[2] && loads_resource(decode(*tag.values[2])))) return;
  for (std::size_t k = 0; k < 2; ++k) {
    if (!tag.values[k]) continue;
    std::string value = decode(*tag.values[k]);
    std::vector<std::string_view> urls{value};
    if (loads.attrs[k] == "srcset") urls = srcset_urls(value);
    for (auto url : urls) {
      std::string cleaned = clean_url(url);
      if (out.size() < limit && insecure(cleaned)) {
        out.push_back({std::string(loads.tag), std::string(loads.attrs[k]), std::move(cleaned)});
      }
    }
  }
}

// Where the end tag "</name" of a raw text element starts, or the end of the input.
std::size_t raw_text_end(std::string_view html, std::size_t i, std::string_view name) {
  for (; (i = html.find("</", i)) != npos; i += 2) {
    std::size_t after = i + 2 + name.size();
    if (after > html.size() || !iequals(html.substr(i + 2, name.size()), name)) continue;
    if (after == html.size() || is_space(html[after]) || html[after] == '/' || html[after] == '>') {
      return i;
    }
  }
  return html.size();
}

}  // namespace

std::vector<InsecureRef> find_mixed_content(std::string_view html, std::size_t limit) {
  std::vector<InsecureRef> out;
  std::size_t i = 0;
  while (out.size() < limit && (i = html.find('<', i)) != npos) {
    std::string_view rest = html.substr(i);
    if (rest.starts_with("<!--")) {
      // from the first '-' after "<!", so that "<!-->" and "<!--->" are whole (empty) comments
      std::size_t end = html.find("-->", i + 2);
      i = end == npos ? html.size() : end + 3;
      continue;
    }
    bool closing = rest.starts_with("</");
    std::size_t name_at = i + (closing ? 2 : 1);
    if (name_at >= html.size() || !is_alpha(html[name_at])) {
      // <!DOCTYPE>, <?xml ?> and "</ x>" are bogus comments up to the next '>'; other '<' is text
      bool bogus = rest.starts_with("<!") || rest.starts_with("<?") || closing;
      std::size_t end = bogus ? html.find('>', i) : i;
      i = end == npos ? html.size() : end + 1;
      continue;
    }
    Tag tag = read_tag(html, name_at);
    if (tag.end == 0) break;  // cut off inside the tag: a browser drops it
    i = tag.end;
    if (closing) continue;
    if (tag.loads) report(tag, limit, out);
    for (auto name : k_raw_text) {
      if (iequals(tag.name, name)) i = raw_text_end(html, i, name);
    }
  }
  return out;
}

}  // namespace acmed::doctor
