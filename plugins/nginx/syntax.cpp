#include "plugins/nginx/syntax.hpp"

#include <string>

namespace acmed::plugins::nginx {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// nginx's unescaping of a word (ngx_conf_read_token): \" \' \\ lose the backslash, \t \r \n
// become control characters, any other backslash stays as written.
std::string unescape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) {
      char n = raw[i + 1];
      if (n == '"' || n == '\'' || n == '\\') {
        out += n;
        ++i;
        continue;
      }
      if (n == 't' || n == 'r' || n == 'n') {
        out += n == 't' ? '\t' : n == 'r' ? '\r' : '\n';
        ++i;
        continue;
      }
    }
    out += raw[i];
  }
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view file) : m_text(text), m_file(file) {}

  Result<SyntaxTree> run() {
    SyntaxTree tree;
    ACMED_CHECK(parse_nodes(tree.nodes, tree.trailing, 0));
    return tree;
  }

 private:
  static constexpr int k_max_depth = 100;

  Error error_at(std::size_t line, const std::string& what) const {
    return Error(Errc::config, std::string(m_file) + ":" + std::to_string(line) + ": " + what,
                 "fix the file so that `nginx -t` accepts it");
  }

  bool eof() const { return m_pos >= m_text.size(); }
  char peek() const { return m_text[m_pos]; }
  char take() {
    char c = m_text[m_pos++];
    if (c == '\n') ++m_line;
    return c;
  }

  // nginx reads a config through a 4096-byte buffer (NGX_CONF_BUFFER) and refuses a token that
  // fills it: a bare word or a comment of 4096 bytes or more, a quoted string whose bytes after
  // the opening quote (closing quote included) reach 4096 (checked with nginx -t).
  static constexpr std::size_t k_conf_buffer = 4096;

  Error too_long(std::size_t line, std::string_view token) const {
    return error_at(line, "too long parameter \"" + std::string(token.substr(0, 10)) +
                              "...\" started (nginx refuses words, strings and comments of " +
                              std::to_string(k_conf_buffer) + " bytes or more)");
  }

  // A '#' comment at m_pos, to the end of the line (the newline is not taken).
  Status take_comment() {
    std::size_t start = m_pos;
    while (!eof() && peek() != '\n') take();
    if (m_pos - start >= k_conf_buffer) return too_long(m_line, m_text.substr(start));
    return {};
  }

  // Whitespace and '#' comments (a comment runs to the end of the line).
  Result<std::string> take_trivia() {
    std::size_t start = m_pos;
    while (!eof()) {
      char c = peek();
      if (is_space(c)) {
        take();
      } else if (c == '#') {
        ACMED_CHECK(take_comment());
      } else {
        break;
      }
    }
    return std::string(m_text.substr(start, m_pos - start));
  }

  // After ';' or '}': blanks followed by a comment on the same line belong to the node.
  Result<std::string> take_after() {
    std::size_t start = m_pos;
    std::size_t p = m_pos;
    while (p < m_text.size() && (m_text[p] == ' ' || m_text[p] == '\t')) ++p;
    if (p >= m_text.size() || m_text[p] != '#') return std::string();
    m_pos = p;
    ACMED_CHECK(take_comment());  // no newline consumed, so m_line is unchanged
    return std::string(m_text.substr(start, m_pos - start));
  }

  Result<Word> take_word() {
    std::size_t start = m_pos;
    std::size_t start_line = m_line;
    char first = peek();
    if (first == '"' || first == '\'') {
      take();
      bool escaped = false;
      for (;;) {
        if (eof()) return error_at(start_line, "unexpected end of file in a quoted string");
        char c = take();
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
        } else if (c == first) {
          break;
        }
      }
      // nginx wants a separator right after a closing quote.
      if (eof()) return error_at(m_line, "unexpected end of file, expecting \";\" or \"}\"");
      char next = peek();
      if (!is_space(next) && next != ';' && next != '{' && next != ')') {
        return error_at(m_line, std::string("unexpected \"") + next + "\"");
      }
      if (m_pos - start - 1 >= k_conf_buffer) return too_long(start_line, m_text.substr(start + 1));
      Word w;
      w.raw = std::string(m_text.substr(start, m_pos - start));
      w.value = unescape(std::string_view(w.raw).substr(1, w.raw.size() - 2));
      return w;
    }
    bool escaped = false;
    bool variable = false;
    while (!eof()) {
      char c = peek();
      if (escaped) {
        escaped = false;
        take();
        continue;
      }
      if (c == '{' && variable) {  // "${name}" stays one word
        take();
        continue;
      }
      variable = false;
      if (c == '\\') {
        escaped = true;
      } else if (c == '$') {
        variable = true;
      } else if (is_space(c) || c == ';' || c == '{') {
        break;
      }
      take();
    }
    if (m_pos - start >= k_conf_buffer) return too_long(start_line, m_text.substr(start));
    if (eof()) return error_at(m_line, "unexpected end of file, expecting \";\" or \"}\"");
    Word w;
    w.raw = std::string(m_text.substr(start, m_pos - start));
    w.value = unescape(w.raw);
    return w;
  }

  // Body of a *_by_lua_block: Lua source up to the matching '}' (strings, comments and long
  // brackets skipped, as the lua module's own lexer does).
  Result<std::string> take_lua_body(std::size_t open_line) {
    std::size_t start = m_pos;
    int depth = 1;
    auto long_bracket_level = [&](std::size_t p) -> int {  // "[==[" -> 2, else -1
      if (p >= m_text.size() || m_text[p] != '[') return -1;
      int level = 0;
      ++p;
      while (p < m_text.size() && m_text[p] == '=') ++level, ++p;
      return (p < m_text.size() && m_text[p] == '[') ? level : -1;
    };
    auto skip_long = [&](int level) -> bool {
      for (int i = 0; i < level + 2; ++i) take();
      std::string close = "]" + std::string(static_cast<std::size_t>(level), '=') + "]";
      while (!eof()) {
        if (m_text.substr(m_pos, close.size()) == close) {
          for (std::size_t i = 0; i < close.size(); ++i) take();
          return true;
        }
        take();
      }
      return false;
    };
    while (!eof()) {
      char c = peek();
      if (c == '-' && m_pos + 1 < m_text.size() && m_text[m_pos + 1] == '-') {
        take();
        take();
        int level = long_bracket_level(m_pos);
        if (level >= 0) {
          if (!skip_long(level)) break;
        } else {
          while (!eof() && peek() != '\n') take();
        }
      } else if (c == '"' || c == '\'') {
        take();
        while (!eof()) {
          char d = take();
          if (d == '\\' && !eof()) {
            take();
          } else if (d == c || d == '\n') {
            break;
          }
        }
      } else if (int level = long_bracket_level(m_pos); level >= 0) {
        if (!skip_long(level)) break;
      } else if (c == '{') {
        ++depth;
        take();
      } else if (c == '}') {
        if (--depth == 0) {
          std::string body(m_text.substr(start, m_pos - start));
          take();
          return body;
        }
        take();
      } else {
        take();
      }
    }
    return error_at(open_line, "unexpected end of file in the Lua block opened here");
  }

  Status parse_nodes(std::vector<Node>& out, std::string& tail, int depth) {
    if (depth > k_max_depth) return error_at(m_line, "blocks nested too deeply");
    std::size_t open_line = m_line;
    for (;;) {
      ACMED_TRY(std::string trivia, take_trivia());
      if (eof()) {
        if (depth > 0) {
          return error_at(m_line, "unexpected end of file, expecting \"}\" (block opened at line " +
                                      std::to_string(open_line) + ")");
        }
        tail = std::move(trivia);
        return {};
      }
      char c = peek();
      if (c == '}') {
        if (depth == 0) return error_at(m_line, "unexpected \"}\"");
        take();
        tail = std::move(trivia);
        return {};
      }
      if (c == ';' || c == '{') return error_at(m_line, std::string("unexpected \"") + c + "\"");
      Node node;
      node.before = std::move(trivia);
      node.line = m_line;
      ACMED_CHECK(parse_directive(node, depth));
      out.push_back(std::move(node));
    }
  }

  Status parse_directive(Node& node, int depth) {
    std::string before;
    for (;;) {
      ACMED_TRY(Word w, take_word());
      w.before = std::move(before);
      node.words.push_back(std::move(w));
      ACMED_TRY(std::string trivia, take_trivia());
      if (eof()) return error_at(m_line, "unexpected end of file, expecting \";\" or \"}\"");
      char c = peek();
      if (c == ';') {
        node.before_end = std::move(trivia);
        take();
        node.kind = NodeKind::simple;
        break;
      }
      if (c == '{') {
        node.before_end = std::move(trivia);
        std::size_t open_line = m_line;
        take();
        if (ends_with(node.words.front().value, "_by_lua_block")) {
          node.kind = NodeKind::verbatim;
          ACMED_TRY(node.body, take_lua_body(open_line));
        } else {
          node.kind = NodeKind::block;
          ACMED_CHECK(parse_nodes(node.children, node.before_close, depth + 1));
        }
        break;
      }
      if (c == '}') return error_at(m_line, "unexpected \"}\"");
      before = std::move(trivia);
    }
    ACMED_TRY(node.after, take_after());
    return {};
  }

  std::string_view m_text;
  std::string_view m_file;
  std::size_t m_pos = 0;
  std::size_t m_line = 1;
};

void print_to(const Node& node, std::string& out) {
  out += node.before;
  for (const auto& w : node.words) {
    out += w.before;
    out += w.raw;
  }
  out += node.before_end;
  switch (node.kind) {
    case NodeKind::simple:
      out += ';';
      break;
    case NodeKind::block:
      out += '{';
      for (const auto& child : node.children) print_to(child, out);
      out += node.before_close;
      out += '}';
      break;
    case NodeKind::verbatim:
      out += '{';
      out += node.body;
      out += '}';
      break;
  }
  out += node.after;
}

}  // namespace

const std::string& Node::name() const {
  static const std::string k_empty;
  return words.empty() ? k_empty : words.front().value;
}

std::string Node::arg(std::size_t i) const {
  return i + 1 < words.size() ? words[i + 1].value : std::string();
}

Result<SyntaxTree> parse(std::string_view text, std::string_view file_name) {
  return Parser(text, file_name).run();
}

std::string print(const SyntaxTree& tree) {
  std::string out;
  for (const auto& node : tree.nodes) print_to(node, out);
  out += tree.trailing;
  return out;
}

std::string print(const Node& node) {
  std::string out;
  print_to(node, out);
  return out;
}

bool is_plain_word(std::string_view value) {
  if (value.empty()) return false;
  for (char c : value) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("._-/:~*=+,@%!^[]").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

std::string quote_word(std::string_view value) {
  if (is_plain_word(value)) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace acmed::plugins::nginx
