#include "acmed/store/configobj.hpp"

#include <algorithm>

namespace acmed::store {

namespace {

constexpr std::string_view k_space = " \t";

std::string_view trim_left(std::string_view s) {
  auto p = s.find_first_not_of(k_space);
  return p == std::string_view::npos ? std::string_view{} : s.substr(p);
}

std::string_view trim(std::string_view s) {
  s = trim_left(s);
  auto p = s.find_last_not_of(k_space);
  return p == std::string_view::npos ? std::string_view{} : s.substr(0, p + 1);
}

bool is_quote(char c) {
  return c == '"' || c == '\'';
}

// Reads the parser's input line by line and builds errors that name file and line.
class Parser {
 public:
  Parser(std::string_view text, std::string_view file_name) : m_file(file_name) {
    std::size_t pos = 0;
    while (pos < text.size()) {
      auto nl = text.find('\n', pos);
      auto line = text.substr(pos, nl == std::string_view::npos ? text.size() - pos : nl - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      m_lines.push_back(line);
      if (nl == std::string_view::npos) break;
      pos = nl + 1;
    }
  }

  Result<ConfSection> parse() {
    ConfSection root;
    std::vector<ConfSection*> stack{&root};
    std::vector<std::string> pending;
    for (m_index = 0; m_index < m_lines.size(); ++m_index) {
      std::string_view line = trim_left(m_lines[m_index]);
      if (line.empty() || line.front() == '#') {
        pending.emplace_back(line);
        continue;
      }
      if (line.front() == '[') {
        ACMED_CHECK(parse_header(line, stack, pending));
        continue;
      }
      ACMED_TRY(ConfEntry entry, parse_entry(line));
      entry.comments = std::move(pending);
      pending.clear();
      ConfSection& current = *stack.back();
      if (current.find(entry.key)) {
        return error_at(entry.line, "duplicate key '" + entry.key + "'");
      }
      current.entries.push_back(std::move(entry));
    }
    root.final_comments = std::move(pending);
    return root;
  }

 private:
  Error error_at(int line, const std::string& what) const {
    return Error(Errc::config, std::string(m_file) + ":" + std::to_string(line) + ": " + what,
                 "fix or remove that line; the file is in configobj (INI) syntax");
  }
  Error error(const std::string& what) const { return error_at(line_no(), what); }
  int line_no() const { return static_cast<int>(m_index) + 1; }

  // A possibly quoted name ending at `stop`; `rest` receives what follows it.
  Result<std::string> parse_name(std::string_view s, char stop, std::string_view& rest) const {
    s = trim_left(s);
    if (!s.empty() && is_quote(s.front())) {
      auto close = s.find(s.front(), 1);
      if (close == std::string_view::npos) return error("unclosed quote in name");
      rest = trim_left(s.substr(close + 1));
      return std::string(s.substr(1, close - 1));
    }
    auto end = s.find(stop);
    if (end == std::string_view::npos) end = s.size();
    rest = s.substr(end);
    return std::string(trim(s.substr(0, end)));
  }

  Status parse_header(std::string_view line, std::vector<ConfSection*>& stack,
                      std::vector<std::string>& pending) {
    std::size_t depth = 0;
    while (depth < line.size() && line[depth] == '[') ++depth;
    std::string_view rest;
    ACMED_TRY(std::string name, parse_name(line.substr(depth), ']', rest));
    if (name.empty()) return error("empty section name");
    std::size_t closing = 0;
    while (closing < rest.size() && rest[closing] == ']') ++closing;
    if (closing != depth)
      return error("section header '" + std::string(line) + "' has unbalanced brackets");
    rest = trim_left(rest.substr(closing));
    if (!rest.empty() && rest.front() != '#') return error("text after section header");
    if (depth > stack.size()) {
      return error("section '" + name + "' is nested more than one level below its parent");
    }
    stack.resize(depth);
    ConfSection& parent = *stack.back();
    if (parent.section(name)) return error("duplicate section '" + name + "'");
    ConfSection& section = parent.sections.emplace_back();
    section.name = std::move(name);
    section.comments = std::move(pending);
    pending.clear();
    section.inline_comment = std::string(rest);
    section.line = line_no();
    stack.push_back(&section);
    return {};
  }

  Result<ConfEntry> parse_entry(std::string_view line) {
    ConfEntry entry;
    entry.line = line_no();
    std::string_view rest;
    ACMED_TRY(entry.key, parse_name(line, '=', rest));
    if (rest.empty() || rest.front() != '=') return error("expected 'key = value'");
    if (entry.key.empty()) return error("empty key before '='");
    std::string_view value = trim_left(rest.substr(1));
    if (value.starts_with("\"\"\"") || value.starts_with("'''")) {
      ACMED_CHECK(parse_triple(value, entry));
      return entry;
    }
    ACMED_CHECK(parse_list(value, entry));
    return entry;
  }

  // A triple-quoted scalar, which may run over several lines.
  Status parse_triple(std::string_view value, ConfEntry& entry) {
    std::string_view delim = value.substr(0, 3);
    std::string text;
    std::string_view current = value.substr(3);
    for (;;) {
      auto close = current.find(delim);
      if (close != std::string_view::npos) {
        text += current.substr(0, close);
        auto after = trim_left(current.substr(close + 3));
        if (!after.empty() && after.front() != '#') return error("text after closing quotes");
        entry.inline_comment = std::string(after);
        entry.value = ConfValue::scalar(std::move(text));
        return {};
      }
      text += current;
      if (m_index + 1 >= m_lines.size()) {
        return error_at(entry.line, "unclosed triple quote for '" + entry.key + "'");
      }
      text += '\n';
      current = m_lines[++m_index];
    }
  }

  // A scalar or comma list, each item quoted or bare, then an optional comment.
  Status parse_list(std::string_view value, ConfEntry& entry) {
    std::vector<std::string> items;
    bool saw_comma = false;
    std::string_view s = value;
    for (;;) {
      s = trim_left(s);
      if (s.empty() || s.front() == '#') break;
      if (is_quote(s.front())) {
        auto close = s.find(s.front(), 1);
        if (close == std::string_view::npos) {
          return error("unclosed quote in value of '" + entry.key + "'");
        }
        items.emplace_back(s.substr(1, close - 1));
        s = trim_left(s.substr(close + 1));
      } else if (s.front() == ',') {
        // Only "key = ," (the empty list) may start with a comma.
        if (saw_comma || !items.empty()) return error("empty item in list '" + entry.key + "'");
        saw_comma = true;
        s = trim_left(s.substr(1));
        if (!s.empty() && s.front() != '#') {
          return error("empty item in list '" + entry.key + "'");
        }
        break;
      } else {
        auto end = s.find_first_of(",#");
        items.emplace_back(trim(s.substr(0, end)));
        s = end == std::string_view::npos ? std::string_view{} : s.substr(end);
      }
      if (s.empty() || s.front() == '#') break;
      if (s.front() != ',') return error("unexpected text after value of '" + entry.key + "'");
      saw_comma = true;
      s = s.substr(1);
      auto next = trim_left(s);
      if (!next.empty() && next.front() == ',') {
        return error("empty item in list '" + entry.key + "'");
      }
    }
    entry.inline_comment = std::string(s);
    if (saw_comma) {
      entry.value = ConfValue::list(std::move(items));
    } else {
      entry.value = ConfValue::scalar(items.empty() ? std::string() : std::move(items.front()));
    }
    return {};
  }

  std::string_view m_file;
  std::vector<std::string_view> m_lines;
  std::size_t m_index = 0;
};

enum class Role { key, value };

bool needs_quotes(std::string_view s, Role role) {
  if (s.empty()) return true;
  if (k_space.find(s.front()) != std::string_view::npos) return true;
  if (k_space.find(s.back()) != std::string_view::npos) return true;
  if (role == Role::key && (s.front() == '[' || s.find_first_of("=]") != std::string_view::npos))
    return true;
  return s.find_first_of(",#\"'\n") != std::string_view::npos;
}

std::string quote(std::string_view s, Role role = Role::value) {
  if (!needs_quotes(s, role)) return std::string(s);
  bool has_dq = s.find('"') != std::string_view::npos;
  bool has_sq = s.find('\'') != std::string_view::npos;
  bool has_nl = s.find('\n') != std::string_view::npos;
  if (!has_nl && !has_dq) return "\"" + std::string(s) + "\"";
  if (!has_nl && !has_sq) return "'" + std::string(s) + "'";
  if (s.find("\"\"\"") == std::string_view::npos && s.back() != '"') {
    return "\"\"\"" + std::string(s) + "\"\"\"";
  }
  return "'''" + std::string(s) + "'''";
}

std::string render_value(const ConfValue& v) {
  if (!v.is_list) return v.items.empty() ? std::string("\"\"") : quote(v.items.front());
  if (v.items.empty()) return ",";
  if (v.items.size() == 1) return quote(v.items.front()) + ",";
  std::string out;
  for (std::size_t i = 0; i < v.items.size(); ++i) {
    if (i) out += ", ";
    out += quote(v.items[i]);
  }
  return out;
}

void render_comments(const std::vector<std::string>& comments, std::string& out) {
  for (const auto& c : comments) out += c + "\n";
}

void render_section(const ConfSection& s, int depth, std::string& out) {
  if (depth > 0) {
    render_comments(s.comments, out);
    std::string open(static_cast<std::size_t>(depth), '['),
        close(static_cast<std::size_t>(depth), ']');
    out += open + quote(s.name, Role::key) + close;
    if (!s.inline_comment.empty()) out += " " + s.inline_comment;
    out += "\n";
  }
  for (const auto& e : s.entries) {
    render_comments(e.comments, out);
    out += quote(e.key, Role::key) + " = " + render_value(e.value);
    if (!e.inline_comment.empty()) out += " " + e.inline_comment;
    out += "\n";
  }
  for (const auto& sub : s.sections) render_section(sub, depth + 1, out);
}

}  // namespace

const std::string& ConfValue::str() const {
  static const std::string k_empty;
  return items.empty() ? k_empty : items.front();
}

const ConfEntry* ConfSection::find(std::string_view key) const {
  auto it =
      std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.key == key; });
  return it == entries.end() ? nullptr : &*it;
}

const ConfValue* ConfSection::get(std::string_view key) const {
  const ConfEntry* e = find(key);
  return e ? &e->value : nullptr;
}

void ConfSection::set(std::string_view key, ConfValue value) {
  for (auto& e : entries) {
    if (e.key == key) {
      e.value = std::move(value);
      return;
    }
  }
  ConfEntry& e = entries.emplace_back();
  e.key = std::string(key);
  e.value = std::move(value);
}

bool ConfSection::erase(std::string_view key) {
  auto it =
      std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.key == key; });
  if (it == entries.end()) return false;
  entries.erase(it);
  return true;
}

const ConfSection* ConfSection::section(std::string_view n) const {
  auto it =
      std::find_if(sections.begin(), sections.end(), [&](const auto& s) { return s.name == n; });
  return it == sections.end() ? nullptr : &*it;
}

ConfSection* ConfSection::section(std::string_view n) {
  auto it =
      std::find_if(sections.begin(), sections.end(), [&](const auto& s) { return s.name == n; });
  return it == sections.end() ? nullptr : &*it;
}

ConfSection& ConfSection::ensure_section(std::string_view n) {
  if (ConfSection* s = section(n)) return *s;
  ConfSection& s = sections.emplace_back();
  s.name = std::string(n);
  return s;
}

Result<ConfSection> parse_configobj(std::string_view text, std::string_view file_name) {
  return Parser(text, file_name).parse();
}

std::string render_configobj(const ConfSection& root) {
  std::string out;
  render_section(root, 0, out);
  render_comments(root.final_comments, out);
  return out;
}

}  // namespace acmed::store
