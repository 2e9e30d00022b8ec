#include "cli/logging.hpp"

#include "acmed/sys/fs.hpp"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>

namespace acmed::cli {

void setup_logging(const GlobalOptions& globals) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_pattern("%^%v%$");
  if (globals.quiet) {
    console->set_level(spdlog::level::warn);
  } else if (globals.verbosity > 0) {
    console->set_level(spdlog::level::debug);
  } else {
    console->set_level(spdlog::level::info);
  }
  std::vector<spdlog::sink_ptr> sinks{console};
  // The log file is best effort: `acmed certificates` as an ordinary user must still work.
  if (sys::make_dirs(globals.logs_dir, 0700)) {
    try {
      auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          (std::filesystem::path(globals.logs_dir) / "acmed.log").string(), 1 << 20, 5);
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
      case acme::LogLevel::debug: spdlog::debug("{}", message); break;
      case acme::LogLevel::info: spdlog::info("{}", message); break;
      case acme::LogLevel::warning: spdlog::warn("warning: {}", message); break;
    }
  };
}

}  // namespace acmed::cli
