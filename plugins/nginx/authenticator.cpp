#include "plugins/nginx/edit.hpp"
#include "plugins/nginx/nginx.hpp"
#include "plugins/nginx/servers.hpp"
#include "plugins/webconf/http01.hpp"
#include "plugins/webconf/tls_check.hpp"

#include <algorithm>
#include <map>
#include <thread>

namespace acmed::plugins::nginx {

namespace {

constexpr const char* k_challenge_marker = "# acmed http-01 challenge (temporary)";

// Removes challenge snippets a crashed run may have left behind. Returns how many.
int remove_stale_snippets(std::vector<Node>& nodes) {
  int removed = 0;
  for (auto it = nodes.begin(); it != nodes.end();) {
    if (it->after.find(k_challenge_marker) != std::string::npos) {
      it = nodes.erase(it);
      ++removed;
      continue;
    }
    if (it->kind == NodeKind::block) removed += remove_stale_snippets(it->children);
    ++it;
  }
  return removed;
}

// True if the server body has a return or rewrite of its own at server level (acmed's redirect
// lives inside `if` blocks and lets challenges through).
bool rewrites_first(const Server& s) {
  return std::any_of(s.body.begin(), s.body.end(), [](const DirectiveRef& d) {
    return d.node->name() == "return" || d.node->name() == "rewrite";
  });
}

class NginxAuthenticator final : public challenge::Authenticator {
 public:
  NginxAuthenticator(const Options& options, sys::ProcessRunner& runner)
      : m_options(options), m_control(options, runner) {}

  std::string name() const override { return "nginx"; }
  std::vector<std::string> supported_types() const override { return {"http-01"}; }

  Status perform(std::span<const challenge::Task> tasks) override {
    ACMED_CHECK(webconf::check_http01_tasks(name(), tasks));
    cleanup({});
    ACMED_TRY(Config config, m_control.load());
    for (std::size_t i = 0; i < config.file_count(); ++i)
      remove_stale_snippets(config.file(i).tree.nodes);
    auto servers = http_servers(config);
    std::map<std::size_t, std::vector<std::string>> edits;
    std::map<std::size_t, std::vector<std::string>> early_edits;
    for (const auto& task : tasks) {
      auto targets = select_servers(servers, task.identifier, m_options.http01_port, Tls::plain);
      auto tls = select_servers(servers, task.identifier, m_options.https_port, Tls::ssl);
      for (auto t : tls)
        if (std::find(targets.begin(), targets.end(), t) == targets.end()) targets.push_back(t);
      if (targets.empty()) {
        return Error(Errc::not_found,
                     "no nginx server block answers " + task.identifier + " on port " +
                         std::to_string(m_options.http01_port),
                     "add " + task.identifier + " to a server_name of a server listening on port " +
                         std::to_string(m_options.http01_port));
      }
      std::string line = "location = /.well-known/acme-challenge/" + task.token +
                         " { default_type text/plain; return 200 \"" + task.key_authorization +
                         "\"; }";
      // A server-level return or rewrite runs before any location is chosen: such a server
      // also gets the answer as the first rewrite directive of its body.
      std::string early = "if ($request_uri = /.well-known/acme-challenge/" + task.token +
                          ") { return 200 \"" + task.key_authorization + "\"; }";
      for (auto t : targets) {
        auto add = [](std::vector<std::string>& lines, const std::string& l) {
          if (std::find(lines.begin(), lines.end(), l) == lines.end()) lines.push_back(l);
        };
        add(edits[t], line);
        if (rewrites_first(servers[t])) add(early_edits[t], early);
      }
    }
    for (auto& [index, lines] : edits) {
      Node& block = *servers[index].block.node;
      ACMED_CHECK(insert_lines(block, position_after_last(block, "listen"), lines,
                               body_indent(block), k_challenge_marker));
      if (auto early_it = early_edits.find(index); early_it != early_edits.end()) {
        ACMED_CHECK(
            insert_lines(block, 0, early_it->second, body_indent(block), k_challenge_marker));
      }
    }
    install::Plan plan = plan_from(config);
    ACMED_CHECK(m_edit.apply(m_control, plan));
    wait_until_answering(tasks);
    return {};
  }

  // Restores the files byte for byte and reloads nginx.
  void cleanup(std::span<const challenge::Task>) noexcept override { m_edit.undo(); }

 private:
  // `nginx -s reload` returns before the new workers answer, and old workers may still accept a
  // connection or two. Ask nginx on loopback for each token until the new answer comes back
  // (bounded by reload_wait). When the server does not listen on loopback, fall back to a pause.
  void wait_until_answering(std::span<const challenge::Task> tasks) {
    auto deadline = std::chrono::steady_clock::now() + m_options.reload_wait;
    for (const auto& task : tasks) {
      for (int attempt = 0; attempt < 1000; ++attempt) {
        auto response = webconf::probe_http(
            m_options.tls_check_address, m_options.http01_port, task.identifier,
            "/.well-known/acme-challenge/" + task.token, std::chrono::milliseconds(2000));
        if (!response) {
          std::this_thread::sleep_for(m_options.challenge_settle);
          return;
        }
        bool answered = response->rfind("HTTP/1.1 200", 0) == 0 &&
                        response->size() >= task.key_authorization.size() &&
                        response->compare(response->size() - task.key_authorization.size(),
                                          std::string::npos, task.key_authorization) == 0;
        if (answered || std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }

  Options m_options;
  Control m_control;
  webconf::TemporaryEdit m_edit;  // declared last: undone (nginx reloaded) before m_control goes
};

}  // namespace

std::unique_ptr<challenge::Authenticator> make_authenticator(const Options& options,
                                                             sys::ProcessRunner& runner) {
  return std::make_unique<NginxAuthenticator>(options, runner);
}

}  // namespace acmed::plugins::nginx
