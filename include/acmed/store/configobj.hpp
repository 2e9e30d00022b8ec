// Reading and writing the INI dialect of Python's configobj, which certbot uses for renewal
// confs: "key = value" lines, values that are strings or comma lists ("a, b", "a," for a list of
// one, "," for an empty list), single, double or triple quotes, '#' comments (whole line or after
// a value), sections "[x]" and nested sections "[[x]]" whose depth is their number of brackets.
//
// The document keeps every key, section and comment it read, so rewriting a file after changing
// a few values keeps the keys and comments acmed does not know about. Spacing around '=' and
// indentation are normalised on output, the way configobj itself rewrites files.
#pragma once

#include "acmed/util/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace acmed::store {

struct ConfValue {
  std::vector<std::string> items;  // one item for a scalar
  bool is_list = false;

  static ConfValue scalar(std::string text) { return {{std::move(text)}, false}; }
  static ConfValue list(std::vector<std::string> values) { return {std::move(values), true}; }

  // The scalar text; for a list, its first item (empty for an empty list).
  const std::string& str() const;
  bool operator==(const ConfValue&) const = default;
};

struct ConfEntry {
  std::string key;
  ConfValue value;
  std::vector<std::string> comments;  // comment and blank lines just above, verbatim
  std::string inline_comment;         // "# ..." after the value, or empty
  int line = 0;                       // where it was read (0 when set by code)
};

struct ConfSection {
  std::string name;                   // empty for the top level
  std::vector<std::string> comments;  // comment and blank lines above the header
  std::string inline_comment;
  int line = 0;
  std::vector<ConfEntry> entries;     // in file order
  std::vector<ConfSection> sections;  // subsections, after the entries (as configobj requires)
  std::vector<std::string> final_comments;  // comments after the last entry of the file (top only)

  const ConfEntry* find(std::string_view key) const;
  const ConfValue* get(std::string_view key) const;
  // Replaces the value of `key` in place (keeping its comments) or appends a new entry.
  void set(std::string_view key, ConfValue value);
  // Removes `key`; returns whether it was there.
  bool erase(std::string_view key);

  const ConfSection* section(std::string_view name) const;
  ConfSection* section(std::string_view name);
  // The subsection `name`, appended empty if missing.
  ConfSection& ensure_section(std::string_view name);
};

// Parses configobj text. `file_name` only names the file in errors: Errc::config with message
// "<file_name>:<line>: <what is wrong>" for malformed lines, unclosed quotes, a section nested
// more than one level below its parent, and duplicate keys or sections.
Result<ConfSection> parse_configobj(std::string_view text, std::string_view file_name);

// Renders a document so that parse_configobj gives it back unchanged. Values are quoted only
// when they must be (empty, leading/trailing space, ',', '#', quotes, newlines).
std::string render_configobj(const ConfSection& root);

}  // namespace acmed::store
