// The event loop seen by protocol logic (the multiplexer, upstream sessions): posting work and
// timers, nothing else. Transports use Asio directly (asio_loop.hpp); logic written against this
// interface runs on a ManualEventLoop in unit tests, with time advanced by hand.
//
// Threading: one loop runs on one thread. Every callback, timer and transport event of the
// gateway runs on that thread, so the logic needs no locks (docs/ARCHITECTURE.md, "Threads").
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace mcpgw::runtime {

using Clock = std::chrono::steady_clock;

// A scheduled task. Destroying the handle (or cancel()) guarantees the task will not run.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void cancel() = 0;
};
using TimerHandle = std::unique_ptr<Timer>;

class EventLoop {
 public:
  virtual ~EventLoop() = default;
  virtual Clock::time_point now() const = 0;
  // Runs `task` later on the loop thread, after the current callback returns.
  virtual void post(std::function<void()> task) = 0;
  // Runs `task` once after `delay` unless the handle is cancelled or destroyed first.
  [[nodiscard]] virtual TimerHandle schedule(std::chrono::milliseconds delay,
                                             std::function<void()> task) = 0;
};

}  // namespace mcpgw::runtime
