// Build-time tool (not installed): writes acmed(1) from docs/acmed.1.in and acmed's own command
// line, so the man page lists exactly the commands and flags the program accepts.
//   acmed-manpage TEMPLATE OUTPUT VERSION
#include "cli/cli_doc.hpp"
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: acmed-manpage TEMPLATE OUTPUT VERSION\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  std::stringstream page;
  page << in.rdbuf();
  if (!in) {
    std::fprintf(stderr, "acmed-manpage: cannot read %s\n", argv[1]);
    return 1;
  }
  CLI::App app{"", "acmed"};
  acmed::cli::GlobalOptions globals;
  acmed::cli::IssueFlags flags;
  acmed::cli::define_commands(app, globals, flags);
  std::string text = page.str();
  for (std::size_t at; (at = text.find("@VERSION@")) != std::string::npos;)
    text.replace(at, 9, argv[3]);
  std::string out = acmed::cli::man_page(acmed::cli::describe(app), text);
  std::ofstream file(argv[2], std::ios::binary | std::ios::trunc);
  file << out;
  file.close();
  if (!file) {
    std::fprintf(stderr, "acmed-manpage: cannot write %s\n", argv[2]);
    return 1;
  }
  return 0;
}
