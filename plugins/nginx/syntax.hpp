// A lossless concrete syntax tree for nginx's configuration language.
//
// The lexer follows nginx's own tokeniser (ngx_conf_read_token in src/core/ngx_conf_file.c):
// words end at whitespace, ';' or '{'; '}' and '#' are ordinary characters inside a word; a word
// may be single- or double-quoted (then it must be followed by whitespace, ';', '{' or ')');
// backslash escapes the next character; "${" keeps the brace inside the word; '#' starts a comment
// only where a word could start. Every byte of the input belongs to a word, a terminator, or the
// trivia (whitespace and comments) kept beside them, so print(parse(x)) == x for any x that
// parses. Files are bytes: nothing assumes UTF-8. The bodies of map, types, geo and split_clients
// are read with the same tokeniser, exactly as nginx reads them, and acmed never interprets or
// edits them; only *_by_lua_block bodies (Lua, not nginx syntax) are kept as opaque bytes.
#pragma once

#include "acmed/util/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::plugins::nginx {

struct Word {
  std::string before;  // trivia between the previous word and this one (empty for the first word)
  std::string raw;     // bytes as written, quotes and backslashes included
  std::string value;   // what nginx sees: quotes removed, \" \' \\ \t \r \n unescaped
};

enum class NodeKind {
  simple,    // name args... ;
  block,     // name args... { children }
  verbatim,  // name args... { body kept as bytes } (*_by_lua_block: the body is Lua, not nginx)
};

struct Node {
  std::string before;       // whitespace and comments before the first word
  std::vector<Word> words;  // name, then arguments
  std::string before_end;   // trivia between the last word and ';' or '{'
  NodeKind kind = NodeKind::simple;
  std::vector<Node> children;  // block: the directives inside
  std::string before_close;    // block: trivia before '}'
  std::string body;            // verbatim: bytes between '{' and '}'
  std::string after;           // after ';' or '}': blanks and a comment on the same line, if any
  std::size_t line = 0;        // 1-based line of the first word

  // The directive name ("" for a malformed node that never exists after parse()).
  const std::string& name() const;
  // Argument i (0-based, after the name) as nginx sees it, or "" when absent.
  std::string arg(std::size_t i) const;
  std::size_t arg_count() const { return words.empty() ? 0 : words.size() - 1; }
};

struct SyntaxTree {
  std::vector<Node> nodes;
  std::string trailing;  // trivia after the last node
};

// Parses `text`; `file_name` only names the file in errors ("x.conf:12: unexpected \"}\"").
// Errc::config with file:line on any syntax error nginx itself would reject. Never throws.
Result<SyntaxTree> parse(std::string_view text, std::string_view file_name);

// The exact bytes the tree stands for. For an unmodified tree, the bytes that were parsed.
std::string print(const SyntaxTree& tree);
std::string print(const Node& node);

// True if `value` can be written as a bare word that nginx reads back as the same value.
bool is_plain_word(std::string_view value);

// `value` as a word nginx reads back unchanged: bare when possible, else double-quoted.
std::string quote_word(std::string_view value);

}  // namespace acmed::plugins::nginx
