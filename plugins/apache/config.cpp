#include "plugins/apache/config.hpp"

#include "acmed/sys/fs.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <system_error>

namespace acmed::plugins::apache {

namespace {

constexpr int k_max_include_depth = 128;  // apache's own limit (AP_MAX_INCLUDE_DEPTH)

// Modules compiled into Debian's apache2 (`apache2 -l`): <IfModule> on them is always true.
constexpr const char* k_static_modules[] = {
    "core.c",         "mod_so.c",      "mod_watchdog.c", "http_core.c",       "mod_log_config.c",
    "mod_logio.c",    "mod_version.c", "mod_unixd.c",    "log_config_module", "logio_module",
    "version_module", "unixd_module",  "so_module",      "watchdog_module",   "core_module",
    "http_module"};

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Host part of a ServerName value: "https://Example.com:443" -> "example.com".
std::string server_name_host(std::string_view v) {
  if (auto p = v.find("://"); p != std::string_view::npos) v.remove_prefix(p + 3);
  if (!v.empty() && v.front() == '[') {
    auto close = v.find(']');
    return lowercase(v.substr(0, close == std::string_view::npos ? v.size() : close + 1));
  }
  if (auto colon = v.rfind(':'); colon != std::string_view::npos) v = v.substr(0, colon);
  return lowercase(v);
}

class Loader {
 public:
  Loader(const LoadOptions& options, Config& config) : m_options(options), m_config(config) {}

  Status run() {
    m_config.server_root = m_options.server_root;
    m_config.vars = m_options.env;
    if (m_config.vars.empty()) {
      if (auto script = sys::read_file(m_options.server_root / "envvars"))
        m_config.vars = parse_envvars(*script, m_options.server_root);
    }
    m_config.defines = m_options.defines;
    fs::path main =
        m_options.main_file.empty() ? m_options.server_root / "apache2.conf" : m_options.main_file;
    return load_file(main, {});
  }

 private:
  // Reads `path` (once; a file included again is walked again, as apache does) and walks it.
  Status load_file(const fs::path& path, const std::string& at) {
    std::error_code ec;
    fs::path real = fs::canonical(path, ec);
    if (ec) real = path;
    ACMED_CHECK(m_stack.enter(real, path, at.empty() ? path.string() : at));
    std::size_t index = m_config.find_file(real);
    if (index == m_config.files.size()) {
      LoadedFile f;
      f.path = path;
      f.real_path = real;
      ACMED_TRY(f.bytes, sys::read_file(path));
      ACMED_TRY(f.tree, parse(f.bytes, path));
      m_config.warnings.insert(m_config.warnings.end(), f.tree.warnings.begin(),
                               f.tree.warnings.end());
      m_config.files.push_back(std::move(f));
    }
    std::vector<std::size_t> node_path;
    Status st = walk(index, node_path, Ctx{});
    m_stack.leave();
    return st;
  }

  struct Ctx {
    bool in_macro = false;
    VirtualHost* vhost = nullptr;
  };

  std::vector<Node>& children_at(std::size_t file, const std::vector<std::size_t>& path) {
    std::vector<Node>* list = &m_config.files[file].tree.nodes;
    for (std::size_t i : path) list = &(*list)[i].children;
    return *list;
  }

  std::vector<std::string> resolved_args(const Line& l) const {
    std::vector<std::string> out;
    for (const std::string& a : l.args()) out.push_back(resolve_vars(a, m_config.vars));
    return out;
  }

  std::string where(std::size_t file, int line) const {
    return m_config.files[file].path.string() + ":" + std::to_string(line);
  }

  bool condition(const Line& head) const {
    std::vector<std::string> args = resolved_args(head);
    std::string arg = args.empty() ? std::string() : args.front();
    bool negate = !arg.empty() && arg.front() == '!';
    if (negate) arg.erase(0, 1);
    bool value = true;
    if (head.is("IfModule")) {
      value = m_config.has_module(arg);
    } else if (head.is("IfDefine")) {
      value = m_config.defines.count(arg) > 0;
    } else {
      return true;  // <IfVersion>, <IfFile>, ...: assume apache reads the body
    }
    return negate ? !value : value;
  }

  Status walk(std::size_t file, std::vector<std::size_t>& path, Ctx ctx) {
    std::size_t count = children_at(file, path).size();
    for (std::size_t i = 0; i < count; ++i) {
      path.push_back(i);
      // Re-fetch each time: loading an include may grow m_config.files (not this tree).
      const Node& n = children_at(file, std::vector<std::size_t>(path.begin(), path.end() - 1))[i];
      Status st = visit(file, n, path, ctx);
      path.pop_back();
      ACMED_CHECK(st);
    }
    return ok_status();
  }

  Status visit(std::size_t file, const Node& n, std::vector<std::size_t>& path, Ctx ctx) {
    const Line& h = n.head;
    int line = h.line_no;
    if (n.is_section()) {
      if (is_conditional_section(h.name())) {
        std::string name = h.name();
        if (!condition(h)) {
          // httpd skips the body looking for the close tag; at the end of the file it fails.
          if (n.closed_at_eof) {
            return Error(
                Errc::config,
                where(file, line) + ": Expected </" + name + "> before end of configuration",
                "close the section with </" + name + ">");
          }
          return ok_status();
        }
        // httpd reads the body of a true condition as part of the enclosing context and ends it
        // only at a line that is exactly "</Name>": "</IfModule> # note" is not one.
        if (n.close_has_text) {
          return Error(Errc::config,
                       where(file, n.close.line_no) + ": </" + name + "> without matching <" +
                           name + "> section",
                       "httpd ends a section it reads only at a line holding just </" + name +
                           ">: move the rest of that line to a line of its own");
        }
        return walk(file, path, ctx);
      }
      if (h.is("Macro")) {
        ctx.in_macro = true;
        ctx.vhost = nullptr;
        return walk(file, path, ctx);
      }
      if (h.is("VirtualHost")) {
        VirtualHost vh;
        vh.ref = NodeRef{file, path};
        vh.line = line;
        vh.addresses = resolved_args(h);
        vh.in_macro = ctx.in_macro;
        m_config.vhosts.push_back(std::move(vh));
        std::size_t at = m_config.vhosts.size() - 1;
        ctx.vhost = nullptr;
        // Collect into a local and copy back: walking may reallocate m_config.vhosts.
        VirtualHost collected = m_config.vhosts[at];
        ctx.vhost = &collected;
        ACMED_CHECK(walk(file, path, ctx));
        m_config.vhosts[at] = std::move(collected);
        return ok_status();
      }
      return walk(file, path, ctx);
    }
    if (!n.is_directive()) return ok_status();
    if (ctx.in_macro) return ok_status();  // the body only runs where the macro is Used
    std::vector<std::string> args = resolved_args(h);
    if (h.is("Define") && !args.empty()) {
      m_config.vars[args[0]] = args.size() > 1 ? args[1] : "";
      m_config.defines.insert(args[0]);
    } else if (h.is("UnDefine") && !args.empty()) {
      m_config.vars.erase(args[0]);
      m_config.defines.erase(args[0]);
    } else if (h.is("ServerRoot") && !args.empty() && !ctx.vhost) {
      m_config.server_root = args[0];
    } else if (h.is("LoadModule") && !args.empty()) {
      m_config.modules.insert(args[0]);
      std::string id = args[0];
      if (id.size() > 7 && id.compare(id.size() - 7, 7, "_module") == 0)
        m_config.modules.insert("mod_" + id.substr(0, id.size() - 7) + ".c");
    } else if (h.is("Listen") && !args.empty()) {
      m_config.listen.push_back(args[0]);
    } else if ((h.is("Include") || h.is("IncludeOptional")) && !args.empty()) {
      bool optional = h.is("IncludeOptional");
      fs::path pattern = args[0];
      m_config.include_patterns.push_back(
          (pattern.is_relative() ? m_config.server_root / pattern : pattern).lexically_normal());
      std::vector<fs::path> matches;
      Status st = expand(args[0], optional, matches);
      if (!st) return std::move(st).error().with_context("at " + where(file, line));
      for (const fs::path& m : matches) {
        Status loaded = load_file(m, where(file, line));
        if (!loaded)
          return std::move(loaded).error().with_context("included from " + where(file, line));
      }
    } else if (ctx.vhost) {
      if (h.is("ServerName") && !args.empty()) {
        ctx.vhost->server_name = server_name_host(args[0]);
      } else if (h.is("ServerAlias")) {
        for (const std::string& a : args) ctx.vhost->aliases.push_back(lowercase(a));
      } else if (h.is("SSLEngine") && !args.empty()) {
        ctx.vhost->ssl = iequals(args[0], "on");
      }
    }
    return ok_status();
  }

  // Files an Include pattern names, in apache's order (server/config.c: a directory means all
  // of its entries, recursively, sorted; wildcards may appear in any path component and do not
  // match a leading '.').
  Status expand(const std::string& pattern, bool optional, std::vector<fs::path>& out) {
    fs::path p = pattern;
    if (p.is_relative()) p = m_config.server_root / p;
    if (!webconf::has_glob(p.string())) {
      std::error_code ec;
      if (fs::is_directory(p, ec)) return add_dir(p, out);
      if (fs::exists(p, ec)) {
        out.push_back(p);
        return ok_status();
      }
      if (optional) return ok_status();
      return Error(Errc::config, "Include names " + p.string() + ", which does not exist",
                   "create it or use IncludeOptional");
    }
    ACMED_TRY(std::vector<fs::path> bases,
              webconf::expand_glob(p, webconf::GlobOrder::per_component));
    std::vector<fs::path> found;
    for (const fs::path& m : bases) {
      std::error_code ec;
      if (fs::is_directory(m, ec)) {
        ACMED_CHECK(add_dir(m, found));
      } else if (fs::exists(m, ec)) {
        found.push_back(m);
      }
    }
    if (found.empty() && !optional) {
      return Error(Errc::config, "Include " + pattern + " matches no file",
                   "use IncludeOptional for patterns that may match nothing");
    }
    out.insert(out.end(), found.begin(), found.end());
    return ok_status();
  }

  Status add_dir(const fs::path& dir, std::vector<fs::path>& out) {
    std::vector<fs::path> entries;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      entries.push_back(it->path());
    if (ec) return Error(Errc::io, "cannot list " + dir.string() + ": " + ec.message());
    std::sort(entries.begin(), entries.end());
    for (const fs::path& e : entries) {
      if (fs::is_directory(e, ec)) {
        ACMED_CHECK(add_dir(e, out));
      } else {
        out.push_back(e);
      }
    }
    return ok_status();
  }

  const LoadOptions& m_options;
  Config& m_config;
  webconf::IncludeStack m_stack{k_max_include_depth, webconf::Reentry::allow};
};

}  // namespace

Node& Config::node(const NodeRef& ref) {
  std::vector<Node>* list = &files[ref.file].tree.nodes;
  Node* n = nullptr;
  for (std::size_t i : ref.path) {
    n = &(*list)[i];
    list = &n->children;
  }
  return *n;
}

const Node& Config::node(const NodeRef& ref) const {
  return const_cast<Config*>(this)->node(ref);  // NOLINT: same lookup, read-only result
}

bool Config::has_module(std::string_view module) const {
  if (modules.count(std::string(module))) return true;
  return std::any_of(std::begin(k_static_modules), std::end(k_static_modules),
                     [&](const char* s) { return module == s; });
}

std::size_t Config::find_file(const fs::path& real) const {
  for (std::size_t i = 0; i < files.size(); ++i)
    if (files[i].real_path == real) return i;
  return files.size();
}

bool would_include(const Config& config, const fs::path& path) {
  std::string p = path.lexically_normal().string();
  for (const fs::path& pattern : config.include_patterns) {
    std::string pat = pattern.string();
    if (::fnmatch(pat.c_str(), p.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0) return true;
    if (!webconf::has_glob(pat) && p.size() > pat.size() && p.compare(0, pat.size(), pat) == 0 &&
        p[pat.size()] == '/')
      return true;
  }
  return false;
}

Result<Config> load(const LoadOptions& options) {
  Config config;
  Status st = Loader(options, config).run();
  if (!st) return std::move(st).error();
  return config;
}

std::map<std::string, std::string> parse_envvars(std::string_view script,
                                                 const fs::path& server_root) {
  std::map<std::string, std::string> vars;
  // envvars: SUFFIX is "-NAME" for /etc/apache2-NAME (a second instance), else empty.
  std::string root = server_root.string();
  const std::string prefix = "/etc/apache2-";
  vars["SUFFIX"] = root.compare(0, prefix.size(), prefix) == 0 && root.size() > prefix.size()
                       ? "-" + root.substr(prefix.size())
                       : "";
  std::map<std::string, std::string> exported;
  std::size_t pos = 0;
  while (pos < script.size()) {
    std::size_t nl = script.find('\n', pos);
    std::string_view line = script.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? script.size() : nl + 1;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.substr(0, 7) != "export ") continue;
    line.remove_prefix(7);
    auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string name(line.substr(0, eq));
    if (name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
        std::string::npos)
      continue;
    std::string_view raw = line.substr(eq + 1);
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\r'))
      raw.remove_suffix(1);
    if (raw.size() >= 2 && (raw.front() == '"' || raw.front() == '\'') && raw.back() == raw.front())
      raw = raw.substr(1, raw.size() - 2);
    std::string value;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '$') {
        value.push_back(raw[i]);
        continue;
      }
      std::size_t start = i + 1;
      std::size_t end = start;
      bool braced = start < raw.size() && raw[start] == '{';
      if (braced) {
        end = raw.find('}', start);
        if (end == std::string_view::npos) {
          value.append(raw.substr(i));
          break;
        }
        std::string ref(raw.substr(start + 1, end - start - 1));
        value += vars.count(ref) ? vars[ref] : "";
        i = end;
        continue;
      }
      while (end < raw.size() &&
             (std::isalnum(static_cast<unsigned char>(raw[end])) || raw[end] == '_'))
        ++end;
      std::string ref(raw.substr(start, end - start));
      value += vars.count(ref) ? vars[ref] : "";
      i = end - 1;
    }
    vars[name] = value;
    exported[name] = value;
  }
  return exported;
}

std::string resolve_vars(std::string_view text, const std::map<std::string, std::string>& vars) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      std::size_t end = text.find('}', i + 2);
      if (end != std::string_view::npos) {
        auto it = vars.find(std::string(text.substr(i + 2, end - i - 2)));
        if (it != vars.end()) {
          out += it->second;
          i = end + 1;
          continue;
        }
      }
    }
    out.push_back(text[i++]);
  }
  return out;
}

std::string address_port(std::string_view address) {
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return {};
  if (auto bracket = address.rfind(']'); bracket != std::string_view::npos && bracket > colon)
    return {};
  return std::string(address.substr(colon + 1));
}

std::vector<fs::path> parse_dump_includes(std::string_view output) {
  // "  (*) /etc/apache2/apache2.conf" then "    (146) /etc/apache2/mods-enabled/x.load"
  std::vector<fs::path> out;
  std::size_t pos = 0;
  while (pos < output.size()) {
    std::size_t nl = output.find('\n', pos);
    std::string_view line = output.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? output.size() : nl + 1;
    std::size_t open = line.find('(');
    std::size_t close = line.find(") ");
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) continue;
    if (line.substr(0, open).find_first_not_of(' ') != std::string_view::npos) continue;
    std::string_view file = line.substr(close + 2);
    // apache2ctl prints warnings (AH00558 ...) right after the last path without a newline
    if (auto ah = file.find("AH0"); ah != std::string_view::npos) file = file.substr(0, ah);
    while (!file.empty() && (file.back() == ' ' || file.back() == '\r')) file.remove_suffix(1);
    if (!file.empty() && file.front() == '/') out.emplace_back(file);
  }
  return out;
}

std::set<std::string> parse_dump_vhosts(std::string_view output) {
  // "*:80   name (/etc/apache2/sites-enabled/a.conf:1)" and "port 80 namevhost a (...:1)"
  std::set<std::string> out;
  std::size_t pos = 0;
  while ((pos = output.find("(/", pos)) != std::string_view::npos) {
    std::size_t close = output.find(')', pos);
    std::size_t nl = output.find('\n', pos);
    if (close == std::string_view::npos || (nl != std::string_view::npos && nl < close)) {
      ++pos;
      continue;
    }
    std::string_view inside = output.substr(pos + 1, close - pos - 1);
    auto colon = inside.rfind(':');
    if (colon != std::string_view::npos &&
        inside.find_first_not_of("0123456789", colon + 1) == std::string_view::npos)
      out.emplace(inside);
    pos = close;
  }
  return out;
}

Status compare_includes(const Config& config, const std::vector<fs::path>& apache_files) {
  std::vector<fs::path> ours;
  for (const LoadedFile& f : config.files) ours.push_back(f.path.lexically_normal());
  std::vector<fs::path> theirs;
  for (const fs::path& p : apache_files) theirs.push_back(p.lexically_normal());
  return webconf::compare_file_sets(
      ours, theirs, "apache", "`apache2ctl -D DUMP_INCLUDES`",
      "acmed edits nothing on a partial view; please report this layout as a bug");
}

Status compare_vhosts(const Config& config, const std::set<std::string>& apache_vhosts) {
  std::string missing;
  for (const VirtualHost& vh : config.vhosts) {
    if (vh.in_macro) continue;
    std::string key = config.files[vh.ref.file].path.string() + ":" + std::to_string(vh.line);
    if (!apache_vhosts.count(key)) missing += " " + key;
  }
  std::string unknown;
  for (const std::string& key : apache_vhosts) {
    fs::path file = key.substr(0, key.rfind(':'));
    bool loaded = std::any_of(config.files.begin(), config.files.end(),
                              [&](const LoadedFile& f) { return f.path == file; });
    if (!loaded) unknown += " " + key;
  }
  if (missing.empty() && unknown.empty()) return ok_status();
  std::string msg = "the virtual hosts acmed found differ from `apache2ctl -S`";
  if (!missing.empty()) msg += "; apache does not list:" + missing;
  if (!unknown.empty()) msg += "; apache lists vhosts in files acmed did not load:" + unknown;
  return Error(Errc::config, msg,
               "acmed edits nothing on a partial view; please report this layout as a bug");
}

}  // namespace acmed::plugins::apache
