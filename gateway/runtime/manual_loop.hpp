// An EventLoop for tests: nothing runs until the test says so, and time moves only by advance().
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>

#include "gateway/runtime/event_loop.hpp"

namespace mcpgw::runtime {

class ManualEventLoop final : public EventLoop {
 public:
  ManualEventLoop();
  ~ManualEventLoop() override;

  Clock::time_point now() const override { return now_; }
  void post(std::function<void()> task) override;
  TimerHandle schedule(std::chrono::milliseconds delay, std::function<void()> task) override;

  // Runs posted tasks and due timers until none is left (at most `limit` tasks, so a task that
  // keeps re-posting itself cannot hang a test). Returns how many ran.
  std::size_t run_ready(std::size_t limit = 100000);
  // Moves time forward by `delta`, running everything that falls due on the way, in time order.
  std::size_t advance(std::chrono::milliseconds delta, std::size_t limit = 100000);
  std::size_t pending_timers() const;

  struct State;  // public so that timer handles can refer to it

 private:
  std::shared_ptr<State> state_;
  Clock::time_point now_;
};

}  // namespace mcpgw::runtime
