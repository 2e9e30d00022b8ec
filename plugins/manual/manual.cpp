#include "plugins/manual/manual.hpp"

#include "acmed/sys/interrupt.hpp"

#include <iostream>
#include <map>
#include <set>

namespace acmed::plugins::manual {

namespace {

std::string trim_end(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string last_line(const std::string& text) {
  std::string t = trim_end(text);
  auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

// Runs the hooks (or asks the user) for every challenge of one perform() call, in order, with
// certbot's environment. What the CA sent (token, validation) is passed in the environment only:
// the command line is the user's own text.
class HookRunner {
 public:
  HookRunner(const Options& options, sys::ProcessRunner& runner)
      : m_options(options), m_runner(runner) {}

  void start(std::span<const challenge::Task> tasks) {
    m_remaining = tasks.size();
    m_all_domains.clear();
    for (const auto& t : tasks) m_all_domains += (m_all_domains.empty() ? "" : ",") + t.identifier;
    m_auth_output.clear();
  }

  // One challenge: `key` identifies it for the cleanup hook (token for http-01, value for dns-01).
  Status auth(const std::string& domain, const std::string& validation, const std::string& token,
              const std::string& txt_name) {
    --m_remaining;
    auto env = environment(domain, validation, token);
    if (m_options.auth_hook.empty()) return ask(domain, validation, token, txt_name);
    ACMED_TRY(sys::ProcessResult r, run("auth", m_options.auth_hook, env, domain));
    m_auth_output[key(domain, validation)] = trim_end(r.out);
    return ok_status();
  }

  void cleanup(const std::string& domain, const std::string& validation,
               const std::string& token) noexcept {
    if (m_options.cleanup_hook.empty()) return;
    auto env = environment(domain, validation, token);
    env["CERTBOT_AUTH_OUTPUT"] = m_auth_output[key(domain, validation)];
    auto r = run("cleanup", m_options.cleanup_hook, env, domain);
    if (!r && m_options.dns.log) m_options.dns.log(r.error().describe());
  }

 private:
  static std::string key(const std::string& domain, const std::string& validation) {
    return domain + " " + validation;
  }

  std::map<std::string, std::string> environment(const std::string& domain,
                                                 const std::string& validation,
                                                 const std::string& token) const {
    std::map<std::string, std::string> env{
        {"CERTBOT_DOMAIN", domain},
        {"CERTBOT_VALIDATION", validation},
        {"CERTBOT_REMAINING_CHALLENGES", std::to_string(m_remaining)},
        {"CERTBOT_ALL_DOMAINS", m_all_domains},
    };
    if (!token.empty()) env["CERTBOT_TOKEN"] = token;
    return env;
  }

  Result<sys::ProcessResult> run(const std::string& which, const std::string& command,
                                 const std::map<std::string, std::string>& env,
                                 const std::string& domain) {
    sys::ProcessOptions po;
    po.extra_env = env;
    po.timeout = m_options.hook_timeout;
    po.stop_on_interrupt = which != "cleanup";  // cleanup must still run after an interrupt
    const std::string what = "the manual " + which + " hook '" + command + "' for " + domain;
    auto r = m_runner.run({"/bin/sh", "-c", command}, po);
    if (!r) return std::move(r).error().with_context("while running " + what);
    if (r->timed_out)
      return Error(Errc::server,
                   what + " did not finish within " +
                       std::to_string(m_options.hook_timeout.count()) + " s and was killed",
                   "make the hook finish sooner, or raise --manual-hook-timeout");
    if (r->exit_code == 126 || r->exit_code == 127)
      return Error(
          Errc::config,
          what + " could not be run (" +
              (r->exit_code == 126 ? std::string("not executable") : std::string("not found")) +
              "): " + last_line(r->err),
          "check the path, and chmod +x the script");
    if (r->exit_code != 0)
      return Error(Errc::server,
                   what + " failed (exit " + std::to_string(r->exit_code) + ")" +
                       (r->err.empty() ? std::string() : ": " + last_line(r->err)),
                   "fix the hook; run it by hand with CERTBOT_DOMAIN and CERTBOT_VALIDATION set");
    return r;
  }

  Status ask(const std::string& domain, const std::string& validation, const std::string& token,
             const std::string& txt_name) {
    std::string text;
    if (token.empty()) {
      text = "Please deploy a DNS TXT record under the name:\n\n  " + txt_name +
             ".\n\nwith the following value:\n\n  " + validation + "\n\n";
    } else {
      text = "Create a file containing just this data:\n\n  " + validation +
             "\n\nAnd make it available on your web server at this URL:\n\n  http://" + domain +
             "/.well-known/acme-challenge/" + token + "\n\n";
    }
    text += "Press Enter to continue";
    if (m_options.show)
      m_options.show(text);
    else
      std::cerr << text << std::flush;
    const bool entered = m_options.wait_for_enter ? m_options.wait_for_enter() : [] {
      std::string line;
      return static_cast<bool>(std::getline(std::cin, line));
    }();
    ACMED_CHECK(sys::check_interrupt());
    if (!entered)
      return Error(Errc::usage, "no answer on the terminal while waiting for the challenge of " +
                                    domain + " to be deployed");
    return ok_status();
  }

  const Options& m_options;
  sys::ProcessRunner& m_runner;
  std::size_t m_remaining = 0;
  std::string m_all_domains;
  std::map<std::string, std::string> m_auth_output;
};

class HookProvider final : public dns::Provider {
 public:
  explicit HookProvider(HookRunner& hooks) : m_hooks(hooks) {}
  std::string name() const override { return "manual"; }
  Status present(std::span<const dns::TxtRecord> records) override {
    for (const auto& r : records) {
      m_presented.push_back(r);
      ACMED_CHECK(m_hooks.auth(r.domain, r.value, "", "_acme-challenge." + r.domain));
    }
    return ok_status();
  }
  void cleanup(std::span<const dns::TxtRecord>) noexcept override {
    for (const auto& r : m_presented) m_hooks.cleanup(r.domain, r.value, "");
    m_presented.clear();
  }

 private:
  HookRunner& m_hooks;
  std::vector<dns::TxtRecord> m_presented;
};

class ManualAuthenticator final : public challenge::Authenticator {
 public:
  ManualAuthenticator(Options options, sys::ProcessRunner& runner)
      : m_options(std::move(options)), m_hooks(m_options, runner) {
    m_dns = std::make_unique<dns::Dns01Authenticator>(
        "manual", std::make_unique<HookProvider>(m_hooks), m_options.dns);
  }
  std::string name() const override { return "manual"; }
  std::vector<std::string> supported_types() const override { return {"http-01", "dns-01"}; }

  Status perform(std::span<const challenge::Task> tasks) override {
    m_hooks.start(tasks);
    std::vector<challenge::Task> dns_tasks;
    for (const auto& t : tasks) {
      if (t.type == "dns-01") {
        dns_tasks.push_back(t);
        continue;
      }
      if (t.type != "http-01")
        return Error(Errc::internal,
                     "the manual authenticator was given a " + t.type + " challenge");
      m_http.push_back(t);
      ACMED_CHECK(m_hooks.auth(t.identifier, t.key_authorization, t.token, ""));
    }
    if (!dns_tasks.empty()) {
      m_dns_used = true;
      ACMED_CHECK(m_dns->perform(dns_tasks));
    }
    return ok_status();
  }

  void cleanup(std::span<const challenge::Task> tasks) noexcept override {
    for (const auto& t : m_http) m_hooks.cleanup(t.identifier, t.key_authorization, t.token);
    m_http.clear();
    if (m_dns_used) m_dns->cleanup(tasks);
    m_dns_used = false;
  }

 private:
  Options m_options;
  HookRunner m_hooks;
  std::unique_ptr<dns::Dns01Authenticator> m_dns;
  std::vector<challenge::Task> m_http;
  bool m_dns_used = false;
};

}  // namespace

Result<std::unique_ptr<challenge::Authenticator>> make_authenticator(Options options,
                                                                     sys::ProcessRunner& runner) {
  if (options.auth_hook.empty() && !options.cleanup_hook.empty())
    return Error(Errc::usage, "--manual-cleanup-hook needs --manual-auth-hook");
  if (options.auth_hook.empty() && options.interactive == Interactive::no)
    return Error(Errc::usage,
                 "--manual without --manual-auth-hook needs a terminal to show the challenges",
                 "pass --manual-auth-hook (and --manual-cleanup-hook), or run without -n on a "
                 "terminal");
  return std::unique_ptr<challenge::Authenticator>(
      std::make_unique<ManualAuthenticator>(std::move(options), runner));
}

}  // namespace acmed::plugins::manual
