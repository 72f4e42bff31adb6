#include "gateway/runtime/manual_loop.hpp"

#include <deque>
#include <vector>

namespace mcpgw::runtime {

struct ManualEventLoop::State {
  std::deque<std::function<void()>> posted;
  // Keyed by (due time, sequence) so equal due times run in scheduling order.
  std::map<std::pair<Clock::time_point, std::uint64_t>, std::function<void()>> timers;
  std::uint64_t next_sequence = 0;
};

namespace {

class ManualTimer final : public Timer {
 public:
  ManualTimer(std::weak_ptr<ManualEventLoop::State> state,
              std::pair<Clock::time_point, std::uint64_t> key)
      : state_(std::move(state)), key_(key) {}
  ~ManualTimer() override { cancel(); }
  void cancel() override {
    if (auto state = state_.lock())
      state->timers.erase(key_);
    state_.reset();
  }

 private:
  std::weak_ptr<ManualEventLoop::State> state_;
  std::pair<Clock::time_point, std::uint64_t> key_;
};

}  // namespace

ManualEventLoop::ManualEventLoop() : state_(std::make_shared<State>()), now_(Clock::now()) {}
ManualEventLoop::~ManualEventLoop() = default;

void ManualEventLoop::post(std::function<void()> task) {
  state_->posted.push_back(std::move(task));
}

TimerHandle ManualEventLoop::schedule(std::chrono::milliseconds delay, std::function<void()> task) {
  std::pair<Clock::time_point, std::uint64_t> key{now_ + delay, state_->next_sequence++};
  state_->timers.emplace(key, std::move(task));
  return std::make_unique<ManualTimer>(state_, key);
}

std::size_t ManualEventLoop::run_ready(std::size_t limit) {
  std::size_t ran = 0;
  while (ran < limit) {
    if (!state_->posted.empty()) {
      auto task = std::move(state_->posted.front());
      state_->posted.pop_front();
      task();
      ++ran;
      continue;
    }
    auto due = state_->timers.begin();
    if (due == state_->timers.end() || due->first.first > now_)
      break;
    auto task = std::move(due->second);
    state_->timers.erase(due);
    task();
    ++ran;
  }
  return ran;
}

std::size_t ManualEventLoop::advance(std::chrono::milliseconds delta, std::size_t limit) {
  const auto target = now_ + delta;
  std::size_t ran = run_ready(limit);
  while (ran < limit) {
    auto due = state_->timers.begin();
    if (due == state_->timers.end() || due->first.first > target)
      break;
    if (due->first.first > now_)
      now_ = due->first.first;
    ran += run_ready(limit - ran);
  }
  now_ = target;
  return ran + run_ready(limit - ran);
}

std::size_t ManualEventLoop::pending_timers() const {
  return state_->timers.size();
}

}  // namespace mcpgw::runtime
