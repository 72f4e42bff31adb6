// The production EventLoop on a boost::asio::io_context. Only transport code and the serve
// composition include this (Asio stays out of the logic's headers).
#pragma once

#include <boost/asio/io_context.hpp>

#include "gateway/runtime/event_loop.hpp"

namespace mcpgw::runtime {

class AsioEventLoop final : public EventLoop {
 public:
  explicit AsioEventLoop(boost::asio::io_context& context) : context_(context) {}

  Clock::time_point now() const override { return Clock::now(); }
  void post(std::function<void()> task) override;
  TimerHandle schedule(std::chrono::milliseconds delay, std::function<void()> task) override;

  boost::asio::io_context& context() { return context_; }

 private:
  boost::asio::io_context& context_;
};

}  // namespace mcpgw::runtime
