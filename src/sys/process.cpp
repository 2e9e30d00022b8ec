#include "acmed/sys/process.hpp"

#include "acmed/sys/interrupt.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace acmed::sys {

namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

std::vector<std::string> build_env(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos && extra.count(entry.substr(0, eq))) continue;
    env.push_back(std::move(entry));
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

}  // namespace

std::string find_in_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    auto end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    // An empty PATH entry means the current directory.
    std::string dir = end > start ? dirs.substr(start, end - start) : std::string(".");
    std::string candidate = dir + "/" + program;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return {};
}

Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  if (argv.empty()) return Error(Errc::internal, "run_process: empty argv");
  std::string exe = find_in_path(argv[0]);
  if (exe.empty()) {
    return Error(Errc::not_found, "program not found: " + argv[0],
                 "install it or give its full path");
  }
  Pipe in, out, err;
  if (::pipe2(in.fd, O_CLOEXEC) != 0 || ::pipe2(out.fd, O_CLOEXEC) != 0 ||
      ::pipe2(err.fd, O_CLOEXEC) != 0) {
    return Error(Errc::io, std::string("cannot create pipe: ") + std::strerror(errno));
  }
  std::vector<std::string> env = build_env(options.extra_env);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) return Error(Errc::io, std::string("cannot fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::dup2(in.fd[0], 0);
    ::dup2(out.fd[1], 1);
    ::dup2(err.fd[1], 2);
    ::setpgid(0, 0);  // own process group, so a timeout kills the whole tree
    // acmed ignores SIGPIPE (main); the programs it runs must not inherit that.
    ::signal(SIGPIPE, SIG_DFL);
    ::execve(exe.c_str(), cargv.data(), cenv.data());
    _exit(127);
  }
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);

  ProcessResult result;
  std::string_view pending_in = options.stdin_data;
  if (pending_in.empty()) in.close_end(1);
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || (options.stop_on_interrupt && interrupted())) {
      result.timed_out = left.count() <= 0;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd fds[3];
    int n = 0;
    int out_i = -1, err_i = -1, in_i = -1;
    if (out_open) { fds[n] = {out.fd[0], POLLIN, 0}; out_i = n++; }
    if (err_open) { fds[n] = {err.fd[0], POLLIN, 0}; err_i = n++; }
    if (in.fd[1] >= 0) { fds[n] = {in.fd[1], POLLOUT, 0}; in_i = n++; }
    int rc = ::poll(fds, static_cast<nfds_t>(n), static_cast<int>(std::min<long>(left.count(), 1000)));
    if (rc < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto drain = [&](int idx, int fd, std::string& sink, bool& open) {
      if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR))) return;
      char buf[8192];
      ssize_t got = ::read(fd, buf, sizeof buf);
      if (got <= 0) {
        if (got < 0 && errno == EINTR) return;
        open = false;
        return;
      }
      if (sink.size() < options.max_output) {
        sink.append(buf, std::min<std::size_t>(static_cast<std::size_t>(got), options.max_output - sink.size()));
      }
    };
    drain(out_i, out.fd[0], result.out, out_open);
    drain(err_i, err.fd[0], result.err, err_open);
    if (in_i >= 0 && (fds[in_i].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = (fds[in_i].revents & POLLOUT) ? ::write(in.fd[1], pending_in.data(), pending_in.size()) : -1;
      if (w > 0) pending_in.remove_prefix(static_cast<std::size_t>(w));
      if (w < 0 || pending_in.empty()) in.close_end(1);
    }
  }
  in.close_end(1);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  if (options.stop_on_interrupt && interrupted())
    return check_interrupt().error().with_context("while running " + exe);
  if (result.exit_code == 127 && result.err.empty() && result.out.empty()) {
    return Error(Errc::not_found, "cannot execute " + exe);
  }
  return result;
}

}  // namespace acmed::sys
