#include "gateway/runtime/asio_loop.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace mcpgw::runtime {

namespace {

// The task lives in a shared state so that cancel() from the handle and the timer's completion
// agree on whether it may still run, even after the handle is gone.
class AsioTimer final : public Timer {
 public:
  AsioTimer(boost::asio::io_context& context, std::chrono::milliseconds delay,
            std::function<void()> task)
      : timer_(std::make_shared<boost::asio::steady_timer>(context, delay)),
        task_(std::make_shared<std::function<void()>>(std::move(task))) {
    timer_->async_wait([timer = timer_, task = task_](const boost::system::error_code& error) {
      if (error || !*task)
        return;
      auto run = std::move(*task);
      *task = nullptr;
      run();
    });
  }
  ~AsioTimer() override { cancel(); }
  void cancel() override {
    *task_ = nullptr;
    timer_->cancel();
  }

 private:
  std::shared_ptr<boost::asio::steady_timer> timer_;
  std::shared_ptr<std::function<void()>> task_;
};

}  // namespace

void AsioEventLoop::post(std::function<void()> task) {
  boost::asio::post(context_, std::move(task));
}

TimerHandle AsioEventLoop::schedule(std::chrono::milliseconds delay, std::function<void()> task) {
  return std::make_unique<AsioTimer>(context_, delay, std::move(task));
}

}  // namespace mcpgw::runtime
