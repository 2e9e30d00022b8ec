#include "cli/logging.hpp"

#include "acmed/sys/fs.hpp"
#include "acmed/sys/progress.hpp"
#include "acmed/util/text.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>

namespace acmed::cli {

namespace {

// A sink in front of another one, which keeps the formatting settings.
class ForwardingSink : public spdlog::sinks::sink {
 public:
  explicit ForwardingSink(spdlog::sink_ptr inner) : m_inner(std::move(inner)) {}
  void flush() override { m_inner->flush(); }
  void set_pattern(const std::string& pattern) override { m_inner->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> f) override {
    m_inner->set_formatter(std::move(f));
  }

 protected:
  spdlog::sink_ptr m_inner;
};

// Every line acmed prints or logs passes here: messages quote CA text, and util::printable keeps
// each one a single escaped line of bounded length, on the terminal and in the log alike.
class PrintableSink final : public ForwardingSink {
 public:
  using ForwardingSink::ForwardingSink;
  void log(const spdlog::details::log_msg& msg) override {
    constexpr std::size_t k_line_cap = 8192;
    const std::string text =
        util::printable(std::string_view(msg.payload.data(), msg.payload.size()), k_line_cap);
    spdlog::details::log_msg safe = msg;
    safe.payload = spdlog::string_view_t(text.data(), text.size());
    m_inner->log(safe);
  }
};

// The logs dir is 0700 and each log file 0600 whatever the umask, also when they already
// existed with wider modes: the log holds account URLs and CA answers. A shared sticky dir
// (--logs-dir /tmp) or one owned by someone else is left as it is.
void tighten_logs_dir(const std::string& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
  if (st.st_uid != ::geteuid() || (st.st_mode & S_ISVTX) != 0) return;
  if ((st.st_mode & 077) != 0) ::chmod(dir.c_str(), 0700);
}

spdlog::file_event_handlers private_file_handlers() {
  spdlog::file_event_handlers handlers;
  // Created 0600 before spdlog's fopen() (which would use 0666 & ~umask), and re-checked on the
  // open stream in case it existed already; rotated files keep the mode across rename().
  handlers.before_open = [](const spdlog::filename_t& name) {
    int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
  };
  handlers.after_open = [](const spdlog::filename_t&, std::FILE* file) {
    ::fchmod(::fileno(file), 0600);
  };
  return handlers;
}

// Under systemd, stderr is a stream to journald, named by JOURNAL_STREAM ("DEVICE:INODE").
bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long device = 0;
  unsigned long long inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return st.st_dev == device && st.st_ino == inode;
}

// "%*": the line's syslog priority as sd-daemon(3) prefixes it ("<3>" for an error). journald
// strips it and files the line under that priority, so `journalctl -u acmed -p warning` shows
// exactly the warnings and errors; journald adds its own timestamp, the line carries none.
class SyslogPriority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    char digit = '6';
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        digit = '7';
        break;
      case spdlog::level::warn:
        digit = '4';
        break;
      case spdlog::level::err:
        digit = '3';
        break;
      case spdlog::level::critical:
        digit = '2';
        break;
      default:
        break;
    }
    const char prefix[] = {'<', digit, '>'};
    dest.append(prefix, prefix + sizeof prefix);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SyslogPriority>();
  }
};

// The progress line of long waits (sys/progress.hpp), on a terminal only: "waiting for the DNS
// records to propagate (12 s)", redrawn in place once a second and erased before any log line
// and when the wait ends, so the terminal never keeps a half line.
class ProgressLine {
 public:
  void show(std::string_view what, std::chrono::seconds elapsed, std::size_t others) {
    std::lock_guard lock(m_mutex);
    if (what.empty()) {
      clear_locked();
      return;
    }
    if (elapsed < std::chrono::seconds(1) || elapsed == m_drawn_at) return;  // once a second
    std::string text = "waiting for " + util::printable(what, 160) + " (" +
                       std::to_string(elapsed.count()) + " s" +
                       (others > 0 ? ", " + std::to_string(others) + " more waits" : "") + ")";
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    std::fflush(stderr);
    m_shown = true;
    m_drawn_at = elapsed;
  }
  // Runs `write` (a log line) with the progress line out of the way.
  template <typename Fn>
  void around(Fn&& write) {
    std::lock_guard lock(m_mutex);
    clear_locked();
    write();
  }

 private:
  void clear_locked() {
    if (!m_shown) return;
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    m_shown = false;
    m_drawn_at = std::chrono::seconds(-1);
  }
  std::mutex m_mutex;
  bool m_shown = false;
  std::chrono::seconds m_drawn_at{-1};
};

class ProgressAwareSink final : public ForwardingSink {
 public:
  ProgressAwareSink(spdlog::sink_ptr inner, std::shared_ptr<ProgressLine> line)
      : ForwardingSink(std::move(inner)), m_line(std::move(line)) {
    set_level(m_inner->level());
  }
  void log(const spdlog::details::log_msg& msg) override {
    m_line->around([&] { m_inner->log(msg); });
  }

 private:
  std::shared_ptr<ProgressLine> m_line;
};

}  // namespace

void rotate_run_logs(const std::filesystem::path& log, int backups) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (backups <= 0 || !fs::exists(log, ec)) return;
  auto name = [&](int i) { return fs::path(log.string() + "." + std::to_string(i)); };
  fs::remove(name(backups), ec);
  for (int i = backups - 1; i >= 1; --i) {
    if (fs::exists(name(i), ec)) fs::rename(name(i), name(i + 1), ec);
  }
  fs::rename(log, name(1), ec);
  ::chmod(name(1).c_str(), 0600);  // an old log that was wider is tightened too
}

void setup_logging(const GlobalOptions& globals) {
  auto console =
      std::make_shared<PrintableSink>(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (stderr_is_journal()) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<SyslogPriority>('*').set_pattern("%*%v");
    console->set_formatter(std::move(formatter));
  } else {
    console->set_pattern("%^%v%$");
  }
  if (globals.quiet) {
    console->set_level(spdlog::level::warn);
  } else if (globals.verbosity > 0 || globals.debug) {
    console->set_level(spdlog::level::debug);
  } else {
    console->set_level(spdlog::level::info);
  }
  std::vector<spdlog::sink_ptr> sinks{console};
  // Long waits show a progress line, on a terminal only and not under -q (nor in the journal).
  if (!globals.quiet && !stderr_is_journal() && ::isatty(STDERR_FILENO) == 1) {
    auto line = std::make_shared<ProgressLine>();
    sinks.front() = std::make_shared<ProgressAwareSink>(console, line);
    sys::set_wait_observer([line](std::string_view what, std::chrono::seconds elapsed,
                                  std::size_t others) { line->show(what, elapsed, others); });
  } else {
    sys::set_wait_observer(nullptr);
  }
  // The log file is best effort: `acmed certificates` as an ordinary user must still work.
  if (sys::make_dirs(globals.logs_dir, 0700)) {
    tighten_logs_dir(globals.logs_dir);
    // certbot's letsencrypt.log: a new file each run, --max-log-backups old ones kept
    // (letsencrypt.log.1 the newest); 0 appends to one file for ever.
    auto path = std::filesystem::path(globals.logs_dir) / "letsencrypt.log";
    rotate_run_logs(path, globals.max_log_backups);
    try {
      spdlog::sink_ptr inner;
      if (globals.max_log_backups > 0) {
        inner = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path.string(), true,
                                                                    private_file_handlers());
      } else {
        inner = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path.string(), false,
                                                                    private_file_handlers());
      }
      auto file = std::make_shared<PrintableSink>(inner);
      file->set_pattern("%Y-%m-%d %H:%M:%S.%e %l [%P] %v");
      file->set_level(spdlog::level::debug);
      sinks.push_back(file);
    } catch (const spdlog::spdlog_ex&) {
    }
  }
  auto logger = std::make_shared<spdlog::logger>("acmed", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::debug);
  logger->flush_on(spdlog::level::debug);
  spdlog::set_default_logger(logger);
}

acme::LogFn acme_log() {
  return [](acme::LogLevel level, std::string_view message) {
    switch (level) {
      case acme::LogLevel::debug:
        spdlog::debug("{}", message);
        break;
      case acme::LogLevel::info:
        spdlog::info("{}", message);
        break;
      case acme::LogLevel::warning:
        spdlog::warn("warning: {}", message);
        break;
    }
  };
}

}  // namespace acmed::cli
