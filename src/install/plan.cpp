#include "acmed/install/plan.hpp"
#include "acmed/install/installer.hpp"

#include <algorithm>
#include <cstdint>

namespace acmed::install {

namespace {

// Lines with their '\n' (the last one may lack it).
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    end = end == std::string_view::npos ? text.size() : end + 1;
    out.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

struct Op {
  char kind;      // ' ', '-', '+'
  std::size_t a;  // index in old (for ' ' and '-')
  std::size_t b;  // index in new (for ' ' and '+')
};

// Edit script by longest common subsequence. Common head and tail are trimmed first, so the
// table only covers the changed middle (config edits are small). A huge middle falls back to
// "delete all, insert all", which is still a correct diff.
std::vector<Op> edit_script(const std::vector<std::string_view>& a,
                            const std::vector<std::string_view>& b) {
  std::size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  std::size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head &&
         a[a.size() - 1 - tail] == b[b.size() - 1 - tail])
    ++tail;
  std::size_t n = a.size() - head - tail, m = b.size() - head - tail;
  std::vector<Op> ops;
  for (std::size_t i = 0; i < head; ++i) ops.push_back({' ', i, i});
  constexpr std::size_t k_max_cells = 16u << 20;
  if (n * m <= k_max_cells && n > 0 && m > 0) {
    std::vector<std::uint32_t> len((n + 1) * (m + 1), 0);
    auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return len[i * (m + 1) + j]; };
    for (std::size_t i = n; i-- > 0;)
      for (std::size_t j = m; j-- > 0;)
        at(i, j) = a[head + i] == b[head + j] ? at(i + 1, j + 1) + 1
                                              : std::max(at(i + 1, j), at(i, j + 1));
    std::size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[head + i] == b[head + j]) {
        ops.push_back({' ', head + i, head + j});
        ++i, ++j;
      } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
        ops.push_back({'-', head + i, head + j});  // deletions first, as diff prints them
        ++i;
      } else {
        ops.push_back({'+', head + i, head + j});
        ++j;
      }
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) ops.push_back({'-', head + i, head});
    for (std::size_t j = 0; j < m; ++j) ops.push_back({'+', head + n, head + j});
  }
  for (std::size_t t = 0; t < tail; ++t) ops.push_back({' ', head + n + t, head + m + t});
  return ops;
}

void append_line(std::string& out, char kind, std::string_view line) {
  out += kind;
  out += line;
  if (line.empty() || line.back() != '\n') out += "\n\\ No newline at end of file\n";
}

}  // namespace

const char* to_string(Enhancement e) {
  switch (e) {
    case Enhancement::redirect:
      return "redirect";
    case Enhancement::hsts:
      return "hsts";
    case Enhancement::uir:
      return "uir";
  }
  return "?";
}

bool Plan::empty() const {
  return links.empty() && std::all_of(changes.begin(), changes.end(), [](const FileChange& c) {
           return c.before && *c.before == c.after;
         });
}

void Plan::set(FileChange change) {
  for (auto& c : changes) {
    if (c.path == change.path) {
      c.after = std::move(change.after);
      return;
    }
  }
  changes.push_back(std::move(change));
}

std::string unified_diff(std::string_view old_text, std::string_view new_text,
                         std::string_view old_label, std::string_view new_label) {
  if (old_text == new_text) return {};
  constexpr std::size_t k_context = 3;
  auto a = split_lines(old_text);
  auto b = split_lines(new_text);
  auto ops = edit_script(a, b);
  std::string out = "--- " + std::string(old_label) + "\n+++ " + std::string(new_label) + "\n";
  std::size_t i = 0;
  while (i < ops.size()) {
    // Find the next change and the extent of its hunk (changes closer than 2*context merge).
    while (i < ops.size() && ops[i].kind == ' ') ++i;
    if (i == ops.size()) break;
    std::size_t start = i >= k_context ? i - k_context : 0;
    std::size_t end = i;  // one past the last change of the hunk
    std::size_t j = i;
    while (j < ops.size()) {
      if (ops[j].kind != ' ') {
        end = j + 1;
        ++j;
        continue;
      }
      std::size_t run = j;
      while (run < ops.size() && ops[run].kind == ' ') ++run;
      if (run == ops.size() || run - j > 2 * k_context) break;
      j = run;
    }
    std::size_t stop = std::min(ops.size(), end + k_context);
    std::size_t old_count = 0, new_count = 0;
    for (std::size_t k = start; k < stop; ++k) {
      if (ops[k].kind != '+') ++old_count;
      if (ops[k].kind != '-') ++new_count;
    }
    std::size_t old_start = ops[start].a + (old_count ? 1 : 0);
    std::size_t new_start = ops[start].b + (new_count ? 1 : 0);
    out += "@@ -" + std::to_string(old_start) + "," + std::to_string(old_count) + " +" +
           std::to_string(new_start) + "," + std::to_string(new_count) + " @@\n";
    for (std::size_t k = start; k < stop; ++k) {
      const Op& op = ops[k];
      append_line(out, op.kind, op.kind == '+' ? b[op.b] : a[op.a]);
    }
    i = stop;
  }
  return out;
}

std::string diff(const Plan& plan) {
  std::string out;
  for (const auto& c : plan.changes) {
    std::string label = c.path.string();

    out += unified_diff(c.before.value_or(""), c.after, c.before ? label : "/dev/null", label);
  }
  for (const auto& l : plan.links)
    out += "new symlink " + l.path.string() + " -> " + l.target.string() + "\n";
  return out;
}

}  // namespace acmed::install
