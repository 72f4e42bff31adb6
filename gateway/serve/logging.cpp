#include "gateway/serve/logging.hpp"

#include <chrono>
#include <ctime>
#include <memory>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace mcpgw::serve {
namespace {

std::string iso8601(spdlog::log_clock::time_point when) {
  const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(when);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(when - seconds).count();
  const std::time_t time = spdlog::log_clock::to_time_t(seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char buffer[40];
  const auto length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%03dZ", static_cast<int>(millis));
  return std::string(buffer, length) + fraction;
}

// Each record as one JSON object per line; messages are escaped by nlohmann, so a log line
// can never be split or forged by what a backend writes to its stderr.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    const auto line =
        format_json_log_line(iso8601(msg.time), std::string_view(level.data(), level.size()),
                             std::string_view(msg.logger_name.data(), msg.logger_name.size()),
                             std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

std::string format_json_log_line(std::string_view time_iso8601, std::string_view level,
                                 std::string_view logger, std::string_view message) {
  nlohmann::ordered_json line;
  line["time"] = time_iso8601;
  line["level"] = level;
  if (!logger.empty())
    line["logger"] = logger;
  line["msg"] = message;
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

mcp::Expected<bool, std::string> configure_logging(std::string_view level, LogFormat format) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  // from_str maps unknown names to off; only "off" itself may mean off.
  if (parsed == spdlog::level::off && level != "off") {
    return mcp::unexpected("unknown log level '" + std::string(level) +
                           "'; expected trace, debug, info, warn, error or off");
  }
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  if (format == LogFormat::json) {
    sink->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    // UTC like the JSON format, so lines from both formats compare directly.
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc));
  }
  auto logger = std::make_shared<spdlog::logger>("", std::move(sink));
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  return true;
}

}  // namespace mcpgw::serve
