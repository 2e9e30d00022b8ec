#include "cli/cli_doc.hpp"

#include "cli/context.hpp"

#include <cstdio>
#include <map>
#include <memory>
#include <set>

namespace acmed::cli {

namespace {

// "TEXT:{ecdsa,rsa}" (CLI11's type name with its validators' descriptions): the values of the
// first set in it; none when there is no set.
std::vector<std::string> choices_of(const std::string& type_name) {
  std::vector<std::string> out;
  auto open = type_name.find(":{");
  if (open == std::string::npos) return out;
  auto close = type_name.find('}', open);
  if (close == std::string::npos) return out;
  std::string set = type_name.substr(open + 2, close - open - 2);
  std::size_t start = 0;
  while (start <= set.size()) {
    auto end = set.find(',', start);
    if (end == std::string::npos) end = set.size();
    if (end > start) out.push_back(set.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

OptionDoc describe_option(const CLI::Option& opt) {
  OptionDoc doc;
  for (const std::string& s : opt.get_snames()) doc.names.push_back("-" + s);
  for (const std::string& l : opt.get_lnames()) doc.names.push_back("--" + l);
  if (opt.get_items_expected_max() > 0) {
    std::string type = opt.get_type_name();
    doc.value = type.substr(0, type.find(':'));
    if (doc.value.empty()) doc.value = "VALUE";
    doc.choices = choices_of(type);
  }
  doc.description = opt.get_description();
  doc.group = opt.get_group();
  return doc;
}

// The first line of `text` (descriptions wrap with '\n' for --help).
std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

// `text` joined into one line (the --help wrapping removed).
std::string one_line(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '\n' ? ' ' : c;
  return out;
}

// ---- roff

std::string roff_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  return out;
}

// A paragraph of text: each line escaped, a line starting with '.' or '\'' protected.
std::string roff_text(const std::string& text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = roff_escape(std::string_view(text).substr(start, end - start));
    if (!line.empty() && (line[0] == '.' || line[0] == '\'')) line = "\\&" + line;
    out += line + "\n";
    start = end + 1;
  }
  return out;
}

std::string roff_option(const OptionDoc& o) {
  std::string head;
  for (const std::string& n : o.names)
    head += (head.empty() ? "" : ", ") + ("\\fB" + roff_escape(n) + "\\fR");
  if (!o.value.empty()) head += " \\fI" + roff_escape(o.value) + "\\fR";
  std::string body = one_line(o.description);
  if (!o.choices.empty()) {
    std::string list;
    for (const std::string& c : o.choices) list += (list.empty() ? "" : ", ") + c;
    body += " (one of: " + list + ")";
  }
  return ".TP\n" + head + "\n" + roff_text(body);
}

std::string roff_options(const std::vector<OptionDoc>& options, bool with_groups) {
  std::string out;
  std::string group;
  for (const OptionDoc& o : options) {
    if (o.names.empty()) continue;
    if (with_groups && o.group != group) {
      group = o.group;
      out += ".SS \"" + roff_escape(group) + "\"\n";
    }
    out += roff_option(o);
  }
  return out;
}

void roff_commands(const CommandDoc& cmd, const std::string& path, std::string& out) {
  for (const CommandDoc& sub : cmd.subcommands) {
    std::string name = path.empty() ? sub.name : path + " " + sub.name;
    out += ".SS \"acmed " + roff_escape(name) + "\"\n";
    if (!sub.aliases.empty()) {
      std::string a;
      for (const std::string& alias : sub.aliases) a += (a.empty() ? "" : ", ") + alias;
      out += "Also called: " + roff_escape(a) + ".\n.br\n";
    }
    out += roff_text(one_line(sub.description));
    if (!sub.positionals.empty()) {
      std::string p;
      for (const std::string& pos : sub.positionals) p += " " + pos;
      out += ".br\nArguments:\\fI" + roff_escape(p) + "\\fR\n";
    }
    if (sub.takes_parent_options)
      out += ".br\nAlso takes the options of \\fBacmed " + roff_escape(path) + "\\fR" +
             (path.empty() ? "(see OPTIONS).\n" : ".\n");
    out += roff_options(sub.options, false);
    roff_commands(sub, name, out);
  }
}

// ---- shell

// `text` inside single quotes for a shell.
std::string sh_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

struct Flat {
  std::string path;  // "", "local", "local cert"
  const CommandDoc* cmd;
  std::vector<const OptionDoc*> options;  // what may follow the command's name
};

// Every command with its path and the options accepted after its name: its own, plus its
// parent's when it takes them (CLI11 fallthrough), transitively.
void flatten(const CommandDoc& cmd, const std::string& path,
             const std::vector<const OptionDoc*>& inherited, std::vector<Flat>& out) {
  Flat f{path, &cmd, {}};
  for (const OptionDoc& o : cmd.options)
    if (!o.names.empty()) f.options.push_back(&o);
  f.options.insert(f.options.end(), inherited.begin(), inherited.end());
  out.push_back(f);
  for (const CommandDoc& sub : cmd.subcommands) {
    const std::vector<const OptionDoc*> none;
    flatten(sub, path.empty() ? sub.name : path + " " + sub.name,
            sub.takes_parent_options ? f.options : none, out);
  }
}

bool is_cert_name(const OptionDoc& o) {
  for (const std::string& n : o.names)
    if (n == "--cert-name") return true;
  return false;
}

std::string joined_names(const std::vector<const OptionDoc*>& options) {
  std::string out;
  std::set<std::string> seen;
  for (const OptionDoc* o : options)
    for (const std::string& n : o->names)
      if (seen.insert(n).second) out += (out.empty() ? "" : " ") + n;
  return out;
}

// zsh's _arguments: [ ] : and \ are special inside an option's description.
std::string zsh_desc(const std::string& text) {
  std::string out;
  for (char c : first_line(text)) {
    if (c == '[' || c == ']' || c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string zsh_function_name(const std::string& path) {
  std::string out = "_acmed";
  for (char c : path) out += (c == ' ' || c == '-') ? '_' : c;
  return out;
}

}  // namespace

CommandDoc describe(const CLI::App& app) {
  CommandDoc doc;
  doc.name = app.get_name();
  doc.aliases = app.get_aliases();
  doc.description = app.get_description();
  doc.takes_parent_options = app.get_fallthrough();
  const CLI::Option* help = app.get_help_ptr();
  const CLI::Option* help_all = app.get_help_all_ptr();
  for (const CLI::Option* opt : app.get_options()) {
    if (opt == help || opt == help_all || opt->get_group().empty()) continue;
    if (!opt->nonpositional()) {
      doc.positionals.push_back(opt->get_name());
      continue;
    }
    doc.options.push_back(describe_option(*opt));
  }
  for (const CLI::App* sub :
       app.get_subcommands([](const CLI::App* a) { return !a->get_group().empty(); }))
    doc.subcommands.push_back(describe(*sub));
  return doc;
}

std::string man_page(const CommandDoc& root, std::string_view page) {
  std::string commands;
  roff_commands(root, "", commands);
  std::string options = roff_options(root.options, true);
  std::string out;
  std::size_t start = 0;
  while (start < page.size()) {
    auto end = page.find('\n', start);
    if (end == std::string_view::npos) end = page.size();
    std::string_view line = page.substr(start, end - start);
    if (line == "@COMMANDS@") {
      out += commands;
    } else if (line == "@OPTIONS@") {
      out += options;
    } else {
      out.append(line);
      out += '\n';
    }
    start = end + 1;
  }
  return out;
}

std::string bash_completion(const CommandDoc& root) {
  std::vector<Flat> all;
  flatten(root, "", {}, all);
  std::string subs, flags;
  std::map<std::string, std::string> choices;  // option name -> its values
  std::set<std::string> valued, lineage_options;
  for (const Flat& f : all) {
    std::string names;
    for (const CommandDoc& s : f.cmd->subcommands) {
      names += (names.empty() ? "" : " ") + s.name;
      for (const std::string& a : s.aliases) names += " " + a;
    }
    subs += "    " + sh_quote(f.path) + ") echo " + sh_quote(names) + " ;;\n";
    flags += "    " + sh_quote(f.path) + ") echo " + sh_quote(joined_names(f.options) + " --help") +
             " ;;\n";
    for (const OptionDoc* o : f.options) {
      if (o->value.empty()) continue;
      for (const std::string& n : o->names) {
        valued.insert(n);
        if (is_cert_name(*o)) lineage_options.insert(n);
        if (!o->choices.empty()) {
          std::string list;
          for (const std::string& c : o->choices) list += (list.empty() ? "" : " ") + c;
          choices[n] = list;
        }
      }
    }
  }
  auto case_list = [](const std::set<std::string>& names) {
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : "|") + n;
    return out;
  };
  std::string choice_cases;
  for (const auto& [name, list] : choices)
    choice_cases += "    " + name + ") echo " + sh_quote(list) + " ;;\n";

  std::string s;
  s += "# bash completion for acmed; generated from its command line by `acmed completion bash`.\n";
  s += "# Install: /usr/share/bash-completion/completions/acmed (the .deb does), or source it.\n\n";
  s += "_acmed_subcommands() {\n  case $1 in\n" + subs + "  esac\n}\n\n";
  s += "_acmed_flags() {\n  case $1 in\n" + flags + "  esac\n}\n\n";
  s += "_acmed_choices() {\n  case $1 in\n" + choice_cases + "  esac\n}\n\n";
  s += "_acmed_takes_value() {\n  case $1 in\n    " + case_list(valued) +
       ") return 0 ;;\n  esac\n  return 1\n}\n\n";
  s += R"SH(# The lineage names in CONFIG_DIR/renewal/*.conf.
_acmed_lineages() {
  local f
  for f in "$1"/renewal/*.conf; do
    [ -e "$f" ] || continue
    f=${f##*/}
    printf '%s\n' "${f%.conf}"
  done
}

_acmed() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev= path= confdir=/etc/letsencrypt i w skip=0
  [ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD-1]}
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case $w in
      --config-dir) confdir=${COMP_WORDS[i+1]} ;;
      --config-dir=*) confdir=${w#*=} ;;
    esac
    if [[ $w == -* ]]; then
      [[ $w != *=* ]] && _acmed_takes_value "$w" && skip=1
      continue
    fi
    local sub
    for sub in $(_acmed_subcommands "$path"); do
      if [ "$sub" = "$w" ]; then path=${path:+$path }$w; break; fi
    done
  done
  if [[ $prev == -* ]] && _acmed_takes_value "$prev"; then
    case $prev in
      )SH" +
       case_list(lineage_options) + R"SH()
        COMPREPLY=($(compgen -W "$(_acmed_lineages "$confdir")" -- "$cur"))
        return ;;
    esac
    local values
    values=$(_acmed_choices "$prev")
    if [ -n "$values" ]; then
      COMPREPLY=($(compgen -W "$values" -- "$cur"))
    else
      COMPREPLY=($(compgen -f -- "$cur"))
    fi
    return
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_acmed_flags "$path")" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(_acmed_subcommands "$path")" -- "$cur"))
  fi
}
complete -F _acmed acmed
)SH";
  return s;
}

std::string zsh_completion(const CommandDoc& root) {
  std::vector<Flat> all;
  flatten(root, "", {}, all);
  std::string s;
  s += "#compdef acmed\n";
  s += "# zsh completion for acmed; generated from its command line by `acmed completion zsh`.\n";
  s += "# Install: /usr/share/zsh/vendor-completions/_acmed (the .deb does), or a dir in "
       "$fpath.\n\n";
  s += R"SH(# The lineage names in the --config-dir given on the line (default /etc/letsencrypt).
_acmed_lineages() {
  local dir=${opt_args[--config-dir]:-/etc/letsencrypt}
  local -a names
  names=($dir/renewal/*.conf(N:t:r))
  compadd -a names
}

)SH";
  for (const Flat& f : all) {
    std::string fn = zsh_function_name(f.path);
    s += fn + "() {\n  local curcontext=$curcontext state line ret=1\n  typeset -A opt_args\n";
    s += "  _arguments -C -s \\\n";
    for (const OptionDoc* o : f.options) {
      std::string action;
      if (!o->value.empty()) {
        std::string msg = zsh_desc(o->value);
        if (is_cert_name(*o)) {
          action = ":" + msg + ":_acmed_lineages";
        } else if (!o->choices.empty()) {
          std::string list;
          for (const std::string& c : o->choices) list += (list.empty() ? "" : " ") + c;
          action = ":" + msg + ":(" + list + ")";
        } else {
          action = ":" + msg + ":_files";
        }
      }
      for (const std::string& n : o->names)
        s += "    " + sh_quote("*" + n + "[" + zsh_desc(o->description) + "]" + action) + " \\\n";
    }
    if (!f.cmd->subcommands.empty()) {
      s += "    '1: :->command' '*:: :->argument' && ret=0\n";
      s += "  case $state in\n    command)\n      local -a commands\n      commands=(\n";
      for (const CommandDoc& sub : f.cmd->subcommands) {
        s += "        " + sh_quote(sub.name + ":" + first_line(sub.description)) + "\n";
        for (const std::string& a : sub.aliases)
          s += "        " + sh_quote(a + ":" + first_line(sub.description)) + "\n";
      }
      s += "      )\n      _describe -t commands command commands && ret=0 ;;\n";
      s += "    argument)\n      case $line[1] in\n";
      for (const CommandDoc& sub : f.cmd->subcommands) {
        std::string names = sub.name;
        for (const std::string& a : sub.aliases) names += "|" + a;
        std::string sub_path = f.path.empty() ? sub.name : f.path + " " + sub.name;
        s += "        " + names + ") " + zsh_function_name(sub_path) + " && ret=0 ;;\n";
      }
      s += "      esac ;;\n  esac\n";
    } else {
      s += "    '*: :_files' && ret=0\n";
    }
    s += "  return ret\n}\n\n";
  }
  s += "_acmed \"$@\"\n";
  return s;
}

void add_completion_command(CLI::App& app) {
  auto shell = std::make_shared<std::string>();
  CLI::App* sub =
      app.add_subcommand("completion",
                         "Print a shell completion script (bash or zsh) for acmed's commands and\n"
                         "flags: source <(acmed completion bash)");
  sub->add_option("shell", *shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  set_body(sub, [&app, shell] {
    CommandDoc root = describe(app);
    std::string script = *shell == "bash" ? bash_completion(root) : zsh_completion(root);
    if (std::fputs(script.c_str(), stdout) < 0 || std::fflush(stdout) != 0)
      return Status(Error(Errc::io, "cannot write the completion script to stdout"));
    return ok_status();
  });
}

}  // namespace acmed::cli
