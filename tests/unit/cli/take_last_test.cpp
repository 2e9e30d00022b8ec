// certbot's command line is argparse: a single-valued option given twice takes the last value.
// These tests build acmed's real command line (cli::define_commands) and check that rule over
// every option of every command, so an option added later cannot forget it.
#include "cli/context.hpp"
#include "cli/issue_flags.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

using acmed::cli::GlobalOptions;
using acmed::cli::IssueFlags;

struct Found {
  std::vector<std::string> path;  // subcommand names leading to the option
  const CLI::Option* option;
};

void walk(CLI::App& app, std::vector<std::string> path, std::vector<Found>& out) {
  for (const CLI::Option* opt : app.get_options()) out.push_back({path, opt});
  for (CLI::App* sub : app.get_subcommands({})) {
    auto next = path;
    next.push_back(sub->get_name());
    walk(*sub, next, out);
  }
}

// The options that keep every value on purpose: lists (-d, -m, --preferred-challenges...) and
// the plugin settings that collect_flag_order() reads in command-line order.
bool collects_all(const CLI::Option& opt) {
  return opt.get_items_expected_max() > 1 ||
         opt.get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll;
}

// A value the option accepts: its default when it has one, else a number (fits text and numbers).
std::string sample_value(const CLI::Option& opt) {
  std::string d = opt.get_default_str();
  return d.empty() ? "1" : d;
}

}  // namespace

TEST_CASE("every single-valued option of every command takes the last value given") {
  CLI::App app;
  GlobalOptions globals;
  IssueFlags flags;
  acmed::cli::define_commands(app, globals, flags);
  std::vector<Found> all;
  walk(app, {}, all);
  CHECK(all.size() > 60);  // the walk really reached the commands' options
  int checked = 0;
  for (const auto& [path, opt] : all) {
    if (opt->get_name() == "--help" || opt->get_name() == "--version" ||
        opt->get_name() == "--help-all")
      continue;
    CAPTURE(opt->get_name());
    if (!opt->nonpositional()) continue;  // a positional argument (`completion SHELL`)
    if (collects_all(*opt)) continue;
    // -c/--config reads the file it names (tests/integration/test_cli_ini.sh).
    if (opt->get_name() == "--config") continue;
    CHECK(opt->get_multi_option_policy() == CLI::MultiOptionPolicy::TakeLast);
    // And the parser agrees: giving it twice is accepted.
    CLI::App fresh;
    GlobalOptions g2;
    IssueFlags f2;
    acmed::cli::define_commands(fresh, g2, f2);
    std::vector<std::string> args = path;
    std::string name = opt->get_lnames().empty() ? "-" + opt->get_snames().front()
                                                 : "--" + opt->get_lnames().front();
    for (int i = 0; i < 2; ++i) {
      args.push_back(name);
      if (opt->get_items_expected_max() > 0) args.push_back(sample_value(*opt));  // not a flag
    }
    // A command's required positional arguments (`local cert NAME`).
    CLI::App* sub = &fresh;
    for (const auto& step : path) sub = sub->get_subcommand(step);
    for (const CLI::Option* pos : sub->get_options()) {
      if (pos->get_positional() && pos->get_required()) args.push_back("x.test");
    }
    // A command group's own options (`fleet --etcd-prefix`) still need one of its commands.
    if (sub->get_require_subcommand_min() > 0)
      args.push_back(sub->get_subcommands({}).front()->get_name());
    std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
    CHECK_NOTHROW(fresh.parse(args));
    ++checked;
  }
  CHECK(checked > 40);
}

TEST_CASE("the last of two values wins for text, number and choice options") {
  CLI::App app;
  GlobalOptions globals;
  IssueFlags flags;
  acmed::cli::define_commands(app, globals, flags);
  std::vector<std::string> args{
      "certonly", "--key-type",     "rsa",       "--key-type",  "ecdsa",     "--rsa-key-size",
      "4096",     "--rsa-key-size", "3072",      "--cert-name", "first",     "--cert-name",
      "second",   "--server",       "https://a", "--server",    "https://b", "--config-dir",
      "/x",       "--config-dir",   "/y"};
  std::reverse(args.begin(), args.end());
  app.parse(args);
  CHECK(flags.key_type == "ecdsa");
  CHECK(flags.rsa_key_size == 3072);
  CHECK(flags.cert_name == "second");
  CHECK(flags.server == "https://b");
  CHECK(globals.config_dir == "/y");
}

TEST_CASE("list options still collect every value") {
  CLI::App app;
  GlobalOptions globals;
  IssueFlags flags;
  acmed::cli::define_commands(app, globals, flags);
  std::vector<std::string> args{"certonly", "-d", "a.test", "-d", "b.test,c.test"};
  std::reverse(args.begin(), args.end());
  app.parse(args);
  acmed::cli::collect_flag_order(app, flags);
  CHECK(flags.domains == std::vector<std::string>{"a.test", "b.test", "c.test"});
}
