// A lossless concrete syntax tree for Apache httpd configuration files.
//
// The tokenising rules follow httpd 2.4 (server/util.c ap_cfg_getline, ap_getword_conf;
// server/config.c): a line ending in a backslash continues on the next one (comments included);
// a logical line whose first non-blank byte is '#' is a comment (a '#' later in a line is data);
// words are bare or quoted with " or ', where \" (inside that quote) and \\ are escapes; a line
// starting with '<' opens a section that ends at the last '>' of the line; a line whose first
// word is "</Name>" closes it, and httpd ignores the rest of that line (a second close tag there
// closes nothing). A NUL byte ends a line's text (httpd reads lines as C strings), and such a
// line is never continued. A conditional section (<IfModule>, <IfDefine>, <IfVersion>, <IfFile>,
// <IfDirective>, <IfSection>) still open at the end of a file is closed there, as httpd does,
// with a warning; any other open section is an error.
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
  Line close;                  // sections only; empty (prints nothing) when closed_at_eof
  // Sections only: text follows the close tag on its line. httpd ignores it, but then does not
  // take the line as the end of a conditional section it is reading (config.c compares the
  // whole line): the loader refuses that case as httpd does.
  bool close_has_text = false;
  bool closed_at_eof = false;  // a conditional section left open at the end of its file

  bool is_section() const { return head.kind == LineKind::open; }
  bool is_directive() const { return head.kind == LineKind::directive; }
};

struct ConfigFile {
  std::filesystem::path path;  // as loaded (the real path after following symlinks)
  std::vector<Node> nodes;
  std::vector<std::string> warnings;  // "path:line: ..." for shapes httpd accepts with a warning
};

// True for the sections httpd evaluates at read time (<IfModule>, <IfDefine>, <IfVersion>,
// <IfFile>, <IfDirective>, <IfSection>), compared case-insensitively.
bool is_conditional_section(std::string_view name);

// True if `value` can be written into a directive: apache has no escape for CR or LF.
bool writable_value(std::string_view value);

// Parses `bytes` read from `path` (used in messages). Errc::config with "path:line: ..." for an
// unclosed section (other than a conditional one), a close tag that does not match, a tag
// without its closing '>', or a section tag without arguments and without '>'.
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
// line before it ends with a newline; a conditional section closed at the end of the file gets
// its close tag written, so that `node` stays outside it. Never changes other lines otherwise.
void append_node(std::vector<Node>& list, Node node, std::string_view eol);

}  // namespace acmed::plugins::apache
