#include "plugins/nginx/config.hpp"

#include "acmed/sys/fs.hpp"

#include <glob.h>

#include <algorithm>
#include <set>

namespace acmed::plugins::nginx {

namespace {

constexpr int k_max_include_depth = 64;

std::string where(const ConfigFile& file, const Node& node) {
  return file.path.string() + ":" + std::to_string(node.line);
}

// nginx (ngx_conf_include) globs only when the name has a glob character; then no match is fine.
bool has_glob(const std::string& s) {
  return s.find_first_of("*?[") != std::string::npos;
}

Result<std::vector<fs::path>> expand_include(const fs::path& pattern, const std::string& at) {
  if (!has_glob(pattern.string())) return std::vector<fs::path>{pattern};
  glob_t g{};
  int rc = ::glob(pattern.c_str(), 0, nullptr, &g);  // sorted, no dot files: as nginx
  std::vector<fs::path> out;
  if (rc == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  if (rc != 0 && rc != GLOB_NOMATCH) {
    return Error(Errc::io, at + ": cannot expand include pattern " + pattern.string());
  }
  return out;
}

}  // namespace

Result<Config> Config::load(const fs::path& main_conf) {
  Config config;
  std::error_code ec;
  config.m_main = fs::absolute(main_conf, ec);
  if (ec) config.m_main = main_conf;
  config.m_prefix = config.m_main.parent_path();
  std::vector<fs::path> stack;
  std::size_t index = 0;
  ACMED_CHECK(config.load_file(config.m_main, {}, {}, stack, index));
  return config;
}

Status Config::load_file(const fs::path& path, const std::vector<std::string>& context,
                         const std::string& included_from, std::vector<fs::path>& stack,
                         std::size_t& index_out) {
  std::error_code ec;
  fs::path real = fs::canonical(path, ec);
  if (ec) {
    Error e(Errc::config, "cannot read nginx config file " + path.string() + ": " + ec.message(),
            "nginx would refuse this config too; fix the include or create the file");
    if (!included_from.empty()) e.with_context("included from " + included_from);
    return e;
  }
  if (std::find(stack.begin(), stack.end(), real) != stack.end()) {
    return Error(Errc::config, included_from + ": include cycle through " + path.string(),
                 "remove the include that loops back");
  }
  if (auto it = m_by_real_path.find(real); it != m_by_real_path.end()) {
    index_out = it->second;
    return {};
  }
  if (stack.size() >= k_max_include_depth) {
    return Error(Errc::config, included_from + ": includes nested too deeply");
  }
  auto text = sys::read_file(real);
  if (!text) {
    Error e = std::move(text).error();
    e.code = Errc::config;
    if (!included_from.empty()) e.with_context("included from " + included_from);
    return e;
  }
  auto tree = parse(*text, path.string());
  if (!tree) {
    Error e = std::move(tree).error();
    e.hint = "acmed edits nothing while a file nginx loads does not parse; fix " + path.string() +
             " (check with `nginx -t`)";
    if (!included_from.empty()) e.with_context("included from " + included_from);
    return e;
  }
  auto file = std::make_unique<ConfigFile>();
  file->path = path;
  file->real_path = real;
  file->text = std::move(text).value();
  file->tree = std::move(tree).value();
  file->context = context;
  file->included_from = included_from;
  index_out = m_files.size();
  m_by_real_path[real] = index_out;
  m_files.push_back(std::move(file));
  std::size_t me = index_out;
  stack.push_back(real);
  std::vector<std::string> ctx = context;
  Status st = load_includes(me, m_files[me]->tree.nodes, ctx, stack);
  stack.pop_back();
  return st;
}

Status Config::load_includes(std::size_t file, std::vector<Node>& nodes,
                             std::vector<std::string>& context, std::vector<fs::path>& stack) {
  for (auto& node : nodes) {
    if (node.name() == "include" && node.kind == NodeKind::simple) {
      std::string at = where(*m_files[file], node);
      if (node.arg_count() != 1) {
        return Error(Errc::config, at + ": invalid number of arguments in \"include\"");
      }
      fs::path pattern = node.arg(0);
      if (pattern.is_relative()) pattern = m_prefix / pattern;
      ACMED_TRY(auto paths, expand_include(pattern, at));
      std::vector<std::size_t> indices;
      for (const auto& p : paths) {
        std::size_t idx = 0;
        ACMED_CHECK(load_file(p, context, at, stack, idx));
        indices.push_back(idx);
      }
      m_includes[&node] = std::move(indices);
    } else if (node.kind == NodeKind::block) {
      context.push_back(node.name());
      Status st = load_includes(file, node.children, context, stack);
      context.pop_back();
      ACMED_CHECK(std::move(st));
    }
  }
  return {};
}

void Config::walk(const std::function<void(DirectiveRef, const std::vector<std::string>&)>& fn) {
  std::vector<std::string> context;
  walk_nodes(0, m_files[0]->tree.nodes, context, fn, 0);
}

void Config::walk_nodes(
    std::size_t file, std::vector<Node>& nodes, std::vector<std::string>& context,
    const std::function<void(DirectiveRef, const std::vector<std::string>&)>& fn, int depth) {
  if (depth > k_max_include_depth) return;  // load() already rejected cycles
  for (auto& node : nodes) {
    if (auto it = m_includes.find(&node); it != m_includes.end()) {
      for (std::size_t idx : it->second) {
        walk_nodes(idx, m_files[idx]->tree.nodes, context, fn, depth + 1);
      }
      continue;
    }
    fn(DirectiveRef{file, &node}, context);
    if (node.kind == NodeKind::block) {
      context.push_back(node.name());
      walk_nodes(file, node.children, context, fn, depth);
      context.pop_back();
    }
  }
}

std::vector<DirectiveRef> Config::body(std::size_t file, Node& block) {
  std::vector<DirectiveRef> out;
  std::function<void(std::size_t, std::vector<Node>&, int)> collect =
      [&](std::size_t f, std::vector<Node>& nodes, int depth) {
        if (depth > k_max_include_depth) return;
        for (auto& node : nodes) {
          if (auto it = m_includes.find(&node); it != m_includes.end()) {
            for (std::size_t idx : it->second) collect(idx, m_files[idx]->tree.nodes, depth + 1);
            continue;
          }
          out.push_back(DirectiveRef{f, &node});
        }
      };
  collect(file, block.children, 0);
  return out;
}

std::vector<fs::path> Config::loaded_files() const {
  std::vector<fs::path> out;
  for (const auto& f : m_files) out.push_back(f->real_path);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> files_in_dump(std::string_view dump) {
  static constexpr std::string_view k_prefix = "# configuration file ";
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < dump.size()) {
    std::size_t end = dump.find('\n', pos);
    if (end == std::string_view::npos) end = dump.size();
    std::string_view line = dump.substr(pos, end - pos);
    if (line.substr(0, k_prefix.size()) == k_prefix && line.size() > k_prefix.size() + 1 &&
        line.back() == ':') {
      out.emplace_back(line.substr(k_prefix.size(), line.size() - k_prefix.size() - 1));
    }
    pos = end + 1;
  }
  return out;
}

Status cross_check_with_nginx(const Config& config, sys::ProcessRunner& runner,
                              std::vector<std::string> nginx_argv) {
  sys::ProcessOptions opts;
  opts.timeout = std::chrono::seconds(60);
  opts.max_output = std::size_t(64) << 20;
  nginx_argv.insert(nginx_argv.end(), {"-c", config.main_conf().string(), "-T"});
  ACMED_TRY(auto res, runner.run(nginx_argv, opts));
  if (res.exit_code != 0) {
    return Error(Errc::server,
                 "nginx rejects its configuration " + config.main_conf().string() +
                     " before acmed changed anything: " + res.err,
                 "fix the config until `nginx -t` passes, then run acmed again");
  }
  std::set<fs::path> reported;
  for (const auto& name : files_in_dump(res.out)) {
    std::error_code ec;
    fs::path real = fs::canonical(name, ec);
    reported.insert(ec ? fs::path(name) : real);
  }
  auto ours_list = config.loaded_files();
  std::set<fs::path> ours(ours_list.begin(), ours_list.end());
  std::string only_nginx, only_ours;
  for (const auto& p : reported)
    if (!ours.count(p)) only_nginx += " " + p.string();
  for (const auto& p : ours)
    if (!reported.count(p)) only_ours += " " + p.string();
  if (only_nginx.empty() && only_ours.empty()) return {};
  std::string msg = "the files acmed read differ from the files `nginx -T` loads for " +
                    config.main_conf().string() + ":";
  if (!only_nginx.empty()) msg += " only nginx loads" + only_nginx + ";";
  if (!only_ours.empty()) msg += " only acmed read" + only_ours + ";";
  return Error(Errc::config, msg,
               "acmed edits nothing when it cannot see the config nginx uses; check "
               "--nginx-server-root and --nginx-ctl");
}

}  // namespace acmed::plugins::nginx
