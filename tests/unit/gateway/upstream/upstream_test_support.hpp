// Helpers shared by the upstream and stdio front tests: running an io_context until a condition
// holds (bounded), and capturing what the library logs.
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mcpgw::test {

// Runs the context until `done()` holds or `limit` passes; returns whether it holds. Never a
// timed assertion: the limit only stops a broken test from hanging.
inline bool run_until(boost::asio::io_context& context, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    context.restart();
    context.run_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Collects formatted log lines while it exists (replaces the default logger).
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    sink_ = std::make_shared<Sink>();
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  bool contains(const std::string& text) const {
    for (const auto& line : sink_->lines)
      if (line.find(text) != std::string::npos)
        return true;
    return false;
  }
  std::size_t count(const std::string& text) const {
    std::size_t lines = 0;
    for (const auto& line : sink_->lines)
      if (line.find(text) != std::string::npos)
        ++lines;
    return lines;
  }
  std::string all() const {
    std::string text;
    for (const auto& line : sink_->lines)
      text += line + "\n";
    return text;
  }

 private:
  class Sink final : public spdlog::sinks::base_sink<std::mutex> {
   public:
    std::vector<std::string> lines;

   protected:
    void sink_it_(const spdlog::details::log_msg& message) override {
      lines.emplace_back(message.payload.data(), message.payload.size());
    }
    void flush_() override {}
  };

  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<Sink> sink_;
};

}  // namespace mcpgw::test
