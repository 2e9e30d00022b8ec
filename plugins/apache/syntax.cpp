#include "plugins/apache/syntax.hpp"

#include "plugins/webconf/files.hpp"

#include "acmed/sys/fs.hpp"

#include <algorithm>

namespace acmed::plugins::apache {

namespace {

// apr_isspace in the C locale.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// One logical line: its text with continuations removed, and where each byte came from.
struct Logical {
  std::string text;
  std::vector<std::size_t> at;  // at[i]: offset in the file of text[i]; at[size]: content end
  std::size_t begin = 0;        // file offset of the line's first byte
  std::string eol;
  int line_no = 0;
};

// Splits `bytes` into logical lines as ap_cfg_getline does: a physical line ends at '\n'; when
// the bytes before it (an optional '\r' skipped) end in '\\', the next physical line continues
// this one and the backslash and newline are not part of the text.
std::vector<Logical> split_lines(std::string_view bytes) {
  std::vector<Logical> out;
  std::size_t pos = 0;
  int line_no = 1;
  while (pos < bytes.size()) {
    Logical l;
    l.begin = pos;
    l.line_no = line_no;
    auto append = [&](std::size_t from, std::size_t to) {
      for (std::size_t i = from; i < to; ++i) {
        l.text.push_back(bytes[i]);
        l.at.push_back(i);
      }
    };
    while (true) {
      std::size_t nl = bytes.find('\n', pos);
      std::size_t end = nl == std::string_view::npos ? bytes.size() : nl;  // content end
      if (nl != std::string_view::npos && end > pos && bytes[end - 1] == '\r') --end;
      // httpd reads a line as a C string: a NUL ends its text, the rest is ignored, and such a
      // line never continues (checked with apache2 -t). The ignored bytes stay in the tail.
      std::size_t nul = bytes.substr(pos, end - pos).find('\0');
      std::size_t stop = nul == std::string_view::npos ? end : pos + nul;
      bool continued = nl != std::string_view::npos && nul == std::string_view::npos && end > pos &&
                       bytes[end - 1] == '\\';
      append(pos, continued ? end - 1 : stop);
      if (nl == std::string_view::npos) {  // last line, no newline
        l.at.push_back(bytes.size());
        pos = bytes.size();
        break;
      }
      ++line_no;
      pos = nl + 1;
      if (continued) {
        if (pos >= bytes.size()) {  // a continuation at the very end of the file
          l.at.push_back(bytes.size());
          break;
        }
        continue;
      }
      l.at.push_back(end);
      l.eol = std::string(bytes.substr(end, nl + 1 - end));
      break;
    }
    out.push_back(std::move(l));
  }
  return out;
}

// ap_getword_conf: the word starting at text[p] (p at a non-blank). Returns its end (after a
// closing quote) and sets `value`.
std::size_t get_word(std::string_view text, std::size_t p, std::size_t limit, std::string& value) {
  value.clear();
  char quote = text[p];
  if (quote == '"' || quote == '\'') {
    std::size_t e = p + 1;
    while (e < limit && text[e] != quote) {
      if (text[e] == '\\' && e + 1 < limit && (text[e + 1] == quote || text[e + 1] == '\\')) {
        value.push_back(text[e + 1]);
        e += 2;
      } else {
        value.push_back(text[e++]);
      }
    }
    if (e < limit) ++e;  // the closing quote; a missing one takes the rest of the line
    return e;
  }
  std::size_t e = p;
  while (e < limit && !is_space(text[e])) {
    if (text[e] == '\\' && e + 1 < limit && text[e + 1] == '\\') {
      value.push_back('\\');
      e += 2;
      continue;
    }
    value.push_back(text[e++]);
  }
  return e;
}

// Printing and walking recurse once per section level: bound it far above any real config.
constexpr std::size_t k_max_depth = 500;

class Parser {
 public:
  Parser(std::string_view bytes, const std::filesystem::path& path)
      : m_bytes(bytes), m_path(path) {}

  Result<ConfigFile> run() {
    ConfigFile file;
    file.path = m_path;
    for (const Logical& l : split_lines(m_bytes)) {
      m_line = &l;
      ACMED_CHECK(line(0, l.eol));
    }
    // httpd reads a conditional section to the end of the file when its close tag is missing
    // (and says "Expected </IfModule>" only when it skips the section: see the loader).
    while (!m_open.empty()) {
      Node n = std::move(m_open.back());
      m_open.pop_back();
      std::string name = n.head.name();
      if (!is_conditional_section(name)) {
        return error(n.head.line_no, "<" + name + "> is not closed",
                     "add </" + name + "> at the end of the section");
      }
      n.closed_at_eof = true;
      n.close = Line{};
      n.close.kind = LineKind::close;
      n.close.line_no = n.head.line_no;
      file.warnings.push_back(m_path.string() + ":" + std::to_string(n.head.line_no) + ": <" +
                              name +
                              "> is not closed; read as closed at the end of the file, as "
                              "httpd does");
      current().push_back(std::move(n));
    }
    file.nodes = std::move(m_top);
    return file;
  }

 private:
  // Bytes of text[a, b), continuations inside included. The bytes before text[0] (continuations
  // at the very start of the line) belong to the indentation: see leading().
  std::string raw(std::size_t a, std::size_t b) const {
    std::size_t from = m_line->at[a];
    std::size_t to = m_line->at[b];
    return std::string(m_bytes.substr(from, to - from));
  }
  // Indentation of text from `start` to `p`: from the line's first byte when start is 0.
  std::string leading(std::size_t start, std::size_t p) const {
    std::size_t from = start == 0 ? m_line->begin : m_line->at[start];
    return std::string(m_bytes.substr(from, m_line->at[p] - from));
  }
  std::size_t skip_space(std::size_t p, std::size_t limit) const {
    while (p < limit && is_space(m_line->text[p])) ++p;
    return p;
  }
  Error error(int line_no, const std::string& what, const std::string& hint) const {
    return Error(Errc::config, m_path.string() + ":" + std::to_string(line_no) + ": " + what, hint);
  }
  std::vector<Node>& current() { return m_open.empty() ? m_top : m_open.back().children; }

  // Handles the logical line's text from `start` (0, or where a further close tag begins).
  Status line(std::size_t start, const std::string& eol) {
    const std::string& t = m_line->text;
    const std::size_t len = t.size();
    Line out;
    out.line_no = m_line->line_no;
    std::size_t p = skip_space(start, len);
    std::size_t end = len;  // end of content without trailing blanks
    while (end > p && is_space(t[end - 1])) --end;
    if (p == len) {
      out.kind = LineKind::blank;
      out.indent = leading(start, len);
      out.eol = eol;
      current().push_back(Node{std::move(out), {}, {}});
      return ok_status();
    }
    out.indent = leading(start, p);
    if (t[p] == '#' && start == 0) {
      out.kind = LineKind::comment;
      out.words.push_back(Word{"", raw(p, end), t.substr(p, end - p)});
      out.tail = raw(end, len);
      out.eol = eol;
      current().push_back(Node{std::move(out), {}, {}});
      return ok_status();
    }
    if (t.compare(p, 2, "</") == 0) return close_tag(std::move(out), p, end, eol);
    if (t[p] == '<') return open_tag(std::move(out), p, end, eol);
    out.kind = LineKind::directive;
    m_last_end = p;
    read_words(out, p, end);
    out.tail = raw(m_last_end, len);
    out.eol = eol;
    current().push_back(Node{std::move(out), {}, {}});
    return ok_status();
  }

  // Appends the words of the text from `q` to `limit` to `out`, each with the bytes before it
  // (from m_last_end); m_last_end ends after the last word.
  void read_words(Line& out, std::size_t q, std::size_t limit) {
    const std::string& t = m_line->text;
    while (q < limit) {
      Word w;
      std::size_t e = get_word(t, q, limit, w.value);
      w.space = raw(m_last_end, q);
      w.raw = raw(q, e);
      out.words.push_back(std::move(w));
      m_last_end = e;
      q = skip_space(e, limit);
    }
  }

  Status open_tag(Line out, std::size_t p, std::size_t end, const std::string& eol) {
    const std::string& t = m_line->text;
    out.kind = LineKind::open;
    std::size_t name_end = p + 1;
    while (name_end < end && !is_space(t[name_end]) && t[name_end] != '>') ++name_end;
    std::size_t gt = t.rfind('>', end == 0 ? 0 : end - 1);
    if (gt == std::string::npos || gt < name_end) {
      std::string tag = "<" + t.substr(p + 1, name_end - p - 1) + ">";
      // httpd reads "<Name" alone as the section with no arguments (core.c checks the
      // arguments before the '>'), and says so.
      if (skip_space(name_end, end) == end) {
        return error(out.line_no, tag + " directive requires additional arguments",
                     "write " + tag.substr(0, tag.size() - 1) + " arguments>");
      }
      return error(out.line_no, tag + " directive missing closing '>'",
                   "end the section's first line with '>'");
    }
    out.words.push_back(Word{"", raw(p, name_end), t.substr(p, name_end - p)});
    m_last_end = name_end;
    read_words(out, skip_space(name_end, gt), gt);
    out.tail = raw(m_last_end, t.size());
    out.eol = eol;
    if (out.name().empty()) {
      return error(out.line_no, "a section tag without a name", "write <Name arguments>");
    }
    if (m_open.size() >= k_max_depth) {
      return error(out.line_no, "sections nest deeper than " + std::to_string(k_max_depth),
                   "this is not a configuration apache would accept");
    }
    m_open.push_back(Node{std::move(out), {}, {}});
    return ok_status();
  }

  Status close_tag(Line out, std::size_t p, std::size_t end, const std::string& eol) {
    const std::string& t = m_line->text;
    out.kind = LineKind::close;
    std::size_t e = p;
    while (e < end && !is_space(t[e])) ++e;
    std::string word = t.substr(p, e - p);
    if (word.size() < 4 || word.back() != '>') {
      return error(out.line_no, word + " is missing its closing '>'", "write </Name>");
    }
    out.words.push_back(Word{"", raw(p, e), word});
    std::string name = out.name();
    if (m_open.empty()) {
      return error(out.line_no, "</" + name + "> without a matching <" + name + ">",
                   "remove it or add the opening tag");
    }
    Node section = std::move(m_open.back());
    m_open.pop_back();
    if (!iequals(section.head.name(), name)) {
      return error(out.line_no,
                   "</" + name + "> does not match <" + section.head.name() + "> opened on line " +
                       std::to_string(section.head.line_no),
                   "close the sections in the order they were opened");
    }
    // httpd ignores the rest of the line, another close tag included (apache2 -t agrees).
    section.close_has_text = skip_space(e, end) < end;
    out.tail = raw(e, t.size());
    out.eol = eol;
    section.close = std::move(out);
    current().push_back(std::move(section));
    return ok_status();
  }

  std::string_view m_bytes;
  const std::filesystem::path& m_path;
  const Logical* m_line = nullptr;
  std::size_t m_last_end = 0;
  std::vector<Node> m_top;
  std::vector<Node> m_open;  // sections being read, innermost last
};

void print_line(const Line& l, std::string& out) {
  out += l.indent;
  for (const Word& w : l.words) {
    out += w.space;
    out += w.raw;
  }
  out += l.tail;
  out += l.eol;
}

void print_nodes(const std::vector<Node>& nodes, std::string& out) {
  for (const Node& n : nodes) {
    print_line(n.head, out);
    if (n.is_section()) {
      print_nodes(n.children, out);
      print_line(n.close, out);
    }
  }
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  if (v.front() == '"' || v.front() == '\'' || v.front() == '#' || v.back() == '\\') return true;
  return std::any_of(v.begin(), v.end(), [](char c) { return is_space(c); }) ||
         v.find("\\\\") != std::string_view::npos;
}

// The smallest indentation step from a section's first line to its first non-blank child.
void min_indent_step(const std::vector<Node>& nodes, std::string& best) {
  for (const Node& n : nodes) {
    if (!n.is_section()) continue;
    for (const Node& c : n.children) {
      if (c.head.kind == LineKind::blank) continue;
      std::string step = webconf::indent_step(n.head.indent, c.head.indent);
      if (!step.empty() && (best.empty() || step.size() < best.size())) best = step;
      break;
    }
    min_indent_step(n.children, best);
  }
}

}  // namespace

std::string Line::name() const {
  if (words.empty() || kind == LineKind::comment || kind == LineKind::blank) return {};
  std::string_view n = words.front().value;
  if (kind == LineKind::open && !n.empty() && n.front() == '<') n.remove_prefix(1);
  if (kind == LineKind::close) {
    if (n.size() >= 2 && n.substr(0, 2) == "</") n.remove_prefix(2);
    if (!n.empty() && n.back() == '>') n.remove_suffix(1);
  }
  return std::string(n);
}

bool Line::is(std::string_view n) const {
  return kind != LineKind::comment && kind != LineKind::blank && iequals(name(), n);
}

std::vector<std::string> Line::args() const {
  std::vector<std::string> out;
  if (kind == LineKind::comment) return out;
  for (std::size_t i = 1; i < words.size(); ++i) out.push_back(words[i].value);
  return out;
}

Result<ConfigFile> parse(std::string_view bytes, const std::filesystem::path& path) {
  return Parser(bytes, path).run();
}

Result<ConfigFile> parse_file(const std::filesystem::path& path) {
  ACMED_TRY(std::string bytes, sys::read_file(path));
  return parse(bytes, path);
}

std::string print(const ConfigFile& file) {
  std::string out;
  print_nodes(file.nodes, out);
  return out;
}

std::string print(const Node& node) {
  std::string out;
  print_nodes({node}, out);
  return out;
}

bool is_conditional_section(std::string_view name) {
  for (const char* c : {"IfModule", "IfDefine", "IfVersion", "IfFile", "IfDirective", "IfSection"})
    if (iequals(name, c)) return true;
  return false;
}

bool writable_value(std::string_view value) {
  return value.find_first_of("\r\n") == std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string quote_word(std::string_view value) {
  if (!needs_quotes(value)) return std::string(value);
  // Inside quotes apache turns \" into " and \\ into \; any other backslash stays as written.
  std::string out = "\"";
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    bool escape =
        c == '"' ||
        (c == '\\' && (i + 1 == value.size() || value[i + 1] == '\\' || value[i + 1] == '"'));
    if (escape) out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

Line make_directive(std::string_view indent, std::string_view name,
                    const std::vector<std::string>& args, std::string_view eol) {
  Line l;
  l.kind = LineKind::directive;
  l.indent = indent;
  l.words.push_back(Word{"", std::string(name), std::string(name)});
  for (const std::string& a : args) l.words.push_back(Word{" ", quote_word(a), a});
  l.eol = eol;
  return l;
}

Line make_comment(std::string_view indent, std::string_view text, std::string_view eol) {
  Line l;
  l.kind = LineKind::comment;
  l.indent = indent;
  std::string body = "# " + std::string(text);
  l.words.push_back(Word{"", body, body});
  l.eol = eol;
  return l;
}

Node make_section(std::string_view indent, std::string_view name,
                  const std::vector<std::string>& args, std::string_view eol) {
  Node n;
  n.head = make_directive(indent, "<" + std::string(name), args, eol);
  n.head.kind = LineKind::open;
  n.head.tail = ">";
  n.close.kind = LineKind::close;
  n.close.indent = indent;
  std::string close = "</" + std::string(name) + ">";
  n.close.words.push_back(Word{"", close, close});
  n.close.eol = eol;
  return n;
}

std::string file_eol(const ConfigFile& file) {
  for (const Node& n : file.nodes) {
    if (!n.head.eol.empty()) return n.head.eol;
  }
  return "\n";
}

std::string indent_unit(const ConfigFile& file) {
  std::string best;
  min_indent_step(file.nodes, best);
  return best.empty() ? std::string(webconf::k_default_indent) : best;
}

std::string child_indent(const Node& section, std::string_view unit) {
  for (auto it = section.children.rbegin(); it != section.children.rend(); ++it) {
    if (it->head.kind != LineKind::blank) return it->head.indent;
  }
  return section.head.indent + std::string(unit);
}

void append_node(std::vector<Node>& list, Node node, std::string_view eol) {
  if (!list.empty()) {
    Node* last = &list.back();
    if (last->is_section() && last->closed_at_eof) {
      std::string close = "</" + last->head.name() + ">";
      last->close.words = {Word{"", close, close}};
      last->closed_at_eof = false;
      const Node* inner = last->children.empty() ? last : &last->children.back();
      const Line& before = inner == last         ? last->head
                           : inner->is_section() ? inner->close
                                                 : inner->head;
      if (before.eol.empty()) last->close.indent = std::string(eol);
    }
    Line* line = last->is_section() ? &last->close : &last->head;
    if (line->eol.empty()) line->eol = eol;
  }
  list.push_back(std::move(node));
}

}  // namespace acmed::plugins::apache
