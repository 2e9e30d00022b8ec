// The man page and the shell completions, generated from the command line itself (the CLI11
// definition of define_commands), so neither can drift from what acmed accepts.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace acmed::cli {

// One option as the documentation shows it.
struct OptionDoc {
  std::vector<std::string> names;    // "-d", "--domains", ... short names first
  std::string value;                 // "NAME", "SECONDS"...; empty for a flag
  std::vector<std::string> choices;  // the values a CLI::IsMember check allows
  std::string description;
  std::string group;
};

// One command (the root is the command without a name) with its options and subcommands.
struct CommandDoc {
  std::string name;
  std::vector<std::string> aliases;
  std::string description;
  bool takes_parent_options = false;  // CLI11 fallthrough: the parent's options work after it
  std::vector<OptionDoc> options;     // visible ones, in definition order, --help excluded
  std::vector<std::string> positionals;
  std::vector<CommandDoc> subcommands;
};

// The visible commands and options of `app` (hidden ones, with an empty group, are left out).
CommandDoc describe(const CLI::App& app);

// acmed(1) in roff: `page` with the line "@COMMANDS@" replaced by the commands and their
// options and "@OPTIONS@" by the root's options. The rest of `page` (NAME, FILES, ENVIRONMENT,
// EXIT STATUS...) is docs/acmed.1.in.
std::string man_page(const CommandDoc& root, std::string_view page);

// A bash completion script for `root`: commands, flags, and values (lineage names for
// --cert-name, read from the --config-dir on the line or /etc/letsencrypt; the choices of an
// option; file names for other values).
std::string bash_completion(const CommandDoc& root);

// The same for zsh (a #compdef file using _arguments).
std::string zsh_completion(const CommandDoc& root);

// `acmed completion bash|zsh`: prints the script for the command line `app` belongs to.
void add_completion_command(CLI::App& app);

}  // namespace acmed::cli
