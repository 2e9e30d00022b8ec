#include "plugins/apache/apache.hpp"

#include "acmed/sys/fs.hpp"

#include <signal.h>

#include <cerrno>
#include <thread>

namespace acmed::plugins::apache {

namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

Result<sys::ProcessResult> ApacheControl::run(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {m_options.ctl};
  argv.insert(argv.end(), args.begin(), args.end());
  sys::ProcessOptions po;
  // Debian's apache2ctl reads <APACHE_CONFDIR>/envvars and passes `-d APACHE_CONFDIR` to apache2
  // when it is not /etc/apache2: one variable selects a whole config tree.
  po.extra_env["APACHE_CONFDIR"] = m_options.server_root.string();
  po.timeout = std::chrono::seconds(60);
  auto r = m_runner.run(argv, po);
  if (!r) {
    return std::move(r).error().with_context("while running " + m_options.ctl);
  }
  return r;
}

Status ApacheControl::config_test() {
  ACMED_TRY(auto r, run({"configtest"}));
  if (r.exit_code != 0) {
    return Error(Errc::server,
                 "apache rejects the configuration in " + m_options.server_root.string() + ": " +
                     trimmed(r.err.empty() ? r.out : r.err),
                 "run `" + m_options.ctl + " configtest` to see the whole message");
  }
  return ok_status();
}

Result<bool> ApacheControl::running() {
  ACMED_TRY(auto r, run({"-S"}));
  std::string all = r.out + "\n" + r.err;
  auto at = all.find("PidFile: \"");
  if (at == std::string::npos) {
    return Error(Errc::server,
                 "cannot find apache's PidFile in `" + m_options.ctl + " -S`: " + trimmed(all));
  }
  at += 10;
  auto end = all.find('"', at);
  fs::path pidfile = all.substr(at, end == std::string::npos ? std::string::npos : end - at);
  auto text = sys::read_file(pidfile);
  if (!text) return false;
  long pid = std::strtol(text->c_str(), nullptr, 10);
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

Status ApacheControl::reload() {
  ACMED_TRY(bool up, running());
  if (!up) {
    return Error(Errc::server, "apache (" + m_options.server_root.string() + ") is not running",
                 "start it (systemctl start apache2) and run acmed again");
  }
  ACMED_TRY(auto r, run({"graceful"}));
  if (r.exit_code != 0) {
    return Error(Errc::server,
                 "apache refused a graceful reload: " + trimmed(r.err.empty() ? r.out : r.err),
                 "check apache's error log");
  }
  // `apache2 -k graceful` only signals the parent; give it time to read the new config.
  std::this_thread::sleep_for(m_options.reload_settle);
  return ok_status();
}

}  // namespace acmed::plugins::apache
