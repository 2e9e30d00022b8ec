// A lossless concrete syntax tree for Apache httpd configuration files.
//
// The tokenising rules follow httpd 2.4 (server/util.c ap_cfg_getline, ap_getword_conf;
// server/config.c): a line ending in a backslash continues on the next one (comments included);
// a logical line whose first non-blank byte is '#' is a comment (a '#' later in a line is data);
// words are bare or quoted with " or ', where \" (inside that quote) and \\ are escapes; a line
// starting with '<' opens a section that ends at the last '>' of the line, "</Name>" closes it,
// and further "</Other>" on the same line close the enclosing ones.
//
// Every byte of a file belongs to some Line (indentation, a word and the bytes before it, the
// tail, the end of line), so printing an unmodified tree gives back the file byte for byte.
// Files are bytes: nothing here assumes UTF-8.
#pragma once

#include "acmed/util/result.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace acmed::plugins::apache {

// One word of a line.
struct Word {
  std::string space;  // bytes before it: blanks and line continuations
  std::string raw;    // its bytes as written (quotes and escapes included)
  std::string value;  // what apache reads: quotes removed, escapes resolved
};

enum class LineKind { blank, comment, directive, open, close };

// One logical line: physical lines joined by trailing backslashes. Printing indent, each word's
// space and raw, tail and eol in order gives back its bytes.
struct Line {
  LineKind kind = LineKind::blank;
  std::string indent;
  // directive: name, then arguments; open: "<Name", then arguments; close: "</Name>";
  // comment: one word holding the whole comment text ("# ...").
  std::vector<Word> words;
  std::string tail;  // trailing blanks; for an open tag also ">" and anything after it
  std::string eol;   // "\n", "\r\n", or "" (end of file, or another close tag follows)
  int line_no = 0;   // 1-based number of the first physical line

  // Directive or section name as written, without '<', '</' and '>'.
  std::string name() const;
  // True if this is a directive/open/close line named `n`, compared case-insensitively.
  bool is(std::string_view n) const;
  // Argument values (words after the name).
  std::vector<std::string> args() const;
};

// A line, and for a section its body and closing line.
struct Node {
  Line head;
  std::vector<Node> children;  // sections only
  Line close;                  // sections only

  bool is_section() const { return head.kind == LineKind::open; }
  bool is_directive() const { return head.kind == LineKind::directive; }
};

struct ConfigFile {
  std::filesystem::path path;  // as loaded (the real path after following symlinks)
  std::vector<Node> nodes;
};

// Parses `bytes` read from `path` (used in messages). Errc::config with "path:line: ..." for an
// unclosed section, a close tag that does not match, or a tag without its closing '>'.
Result<ConfigFile> parse(std::string_view bytes, const std::filesystem::path& path);

// Reads and parses a file. Errc::not_found / Errc::io when it cannot be read.
Result<ConfigFile> parse_file(const std::filesystem::path& path);

// The file's bytes: identical to the input for an unmodified tree.
std::string print(const ConfigFile& file);
std::string print(const Node& node);

// ASCII case-insensitive equality (directive names, module names).
bool iequals(std::string_view a, std::string_view b);

// A word as apache would read back `value`: bare when possible, otherwise double-quoted.
std::string quote_word(std::string_view value);

// New directive line `name args...` with the given indentation and end of line.
Line make_directive(std::string_view indent, std::string_view name,
                    const std::vector<std::string>& args, std::string_view eol = "\n");
// New comment line ("# text").
Line make_comment(std::string_view indent, std::string_view text, std::string_view eol = "\n");
// New empty section <name args...></name>, the close tag at the same indentation.
Node make_section(std::string_view indent, std::string_view name,
                  const std::vector<std::string>& args, std::string_view eol = "\n");

// The end of line the file uses ("\r\n" if its first line ends so, else "\n").
std::string file_eol(const ConfigFile& file);
// One level of indentation as the file writes it (the smallest non-empty indentation step seen
// between a section and its body); four spaces when the file shows none.
std::string indent_unit(const ConfigFile& file);
// The indentation for a new line inside `section`: that of its last non-blank child, or the
// section's own plus `unit`.
std::string child_indent(const Node& section, std::string_view unit);

// Appends `node` at the end of `list` (a file's top level or a section body), making sure the
// line before it ends with a newline. Never changes the bytes of other lines otherwise.
void append_node(std::vector<Node>& list, Node node, std::string_view eol);

}  // namespace acmed::plugins::apache
