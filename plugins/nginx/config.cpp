#include "plugins/nginx/config.hpp"

#include "acmed/sys/fs.hpp"

#include <algorithm>

namespace acmed::plugins::nginx {

namespace {

constexpr int k_max_include_depth = 64;

std::string where(const ConfigFile& file, const Node& node) {
  return file.path.string() + ":" + std::to_string(node.line);
}

// nginx (ngx_conf_include) globs only when the name has a glob character; then no match is fine.
Result<std::vector<fs::path>> expand_include(const fs::path& pattern, const std::string& at) {
  if (!webconf::has_glob(pattern.string())) return std::vector<fs::path>{pattern};
  auto paths = webconf::expand_glob(pattern, webconf::GlobOrder::whole_path);  // ngx_open_glob
  if (!paths) return std::move(paths).error().with_context("at " + at);
  return paths;
}

}  // namespace

Result<Config> Config::load(const fs::path& main_conf) {
  Config config;
  std::error_code ec;
  config.m_main = fs::absolute(main_conf, ec);
  if (ec) config.m_main = main_conf;
  config.m_prefix = config.m_main.parent_path();
  webconf::IncludeStack stack(k_max_include_depth, webconf::Reentry::refuse);
  std::size_t index = 0;
  ACMED_CHECK(config.load_file(config.m_main, {}, {}, stack, index));
  return config;
}

Status Config::load_file(const fs::path& path, const std::vector<std::string>& context,
                         const std::string& included_from, webconf::IncludeStack& stack,
                         std::size_t& index_out) {
  auto resolved = webconf::real_path_of(path);
  if (!resolved) {
    Error e = std::move(resolved).error();
    e.message = "nginx config file: " + e.message;
    e.hint = "nginx would refuse this config too; fix the include or create the file";
    if (!included_from.empty()) e.with_context("included from " + included_from);
    return e;
  }
  fs::path real = *resolved;
  // A file being read again inside itself is a cycle, whether or not it was loaded before.
  ACMED_CHECK(stack.enter(real, path, included_from));
  stack.leave();
  if (auto it = m_by_real_path.find(real); it != m_by_real_path.end()) {
    index_out = it->second;
    return {};
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
  file->bytes = std::move(text).value();
  file->tree = std::move(tree).value();
  file->context = context;
  file->included_from = included_from;
  index_out = m_files.size();
  m_by_real_path[real] = index_out;
  m_files.push_back(std::move(file));
  std::size_t me = index_out;
  ACMED_CHECK(stack.enter(real, path, included_from));
  std::vector<std::string> ctx = context;
  Status st = load_includes(me, m_files[me]->tree.nodes, ctx, stack);
  stack.leave();
  return st;
}

Status Config::load_includes(std::size_t file, std::vector<Node>& nodes,
                             std::vector<std::string>& context, webconf::IncludeStack& stack) {
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
  std::vector<fs::path> reported;
  for (const auto& name : files_in_dump(res.out)) {
    auto real = webconf::real_path_of(name);
    reported.push_back(real ? *real : fs::path(name));
  }
  return webconf::compare_file_sets(config.loaded_files(), reported, "nginx",
                                    "`nginx -T` for " + config.main_conf().string(),
                                    "acmed edits nothing when it cannot see the config nginx "
                                    "uses; check --nginx-server-root and --nginx-ctl");
}

}  // namespace acmed::plugins::nginx
