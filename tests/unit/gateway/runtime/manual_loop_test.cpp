// ManualEventLoop is the clock of every deterministic protocol test, so its ordering rules are
// tested here: posted work first, timers in due order, cancellation, and bounded runs.
#include "gateway/runtime/manual_loop.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mcpgw::runtime {
namespace {

using std::chrono::milliseconds;

TEST(ManualEventLoop, PostedTasksRunInOrderOnlyWhenAsked) {
  ManualEventLoop loop;
  std::vector<int> ran;
  loop.post([&] { ran.push_back(1); });
  loop.post([&] { ran.push_back(2); });
  EXPECT_TRUE(ran.empty());
  EXPECT_EQ(loop.run_ready(), 2u);
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
}

TEST(ManualEventLoop, TimersRunInDueOrderAsTimeAdvances) {
  ManualEventLoop loop;
  std::string order;
  auto late = loop.schedule(milliseconds(30), [&] { order += 'c'; });
  auto early = loop.schedule(milliseconds(10), [&] { order += 'a'; });
  auto same = loop.schedule(milliseconds(10), [&] { order += 'b'; });
  const auto start = loop.now();
  loop.advance(milliseconds(9));
  EXPECT_EQ(order, "");
  loop.advance(milliseconds(1));
  EXPECT_EQ(order, "ab");
  loop.advance(milliseconds(100));
  EXPECT_EQ(order, "abc");
  EXPECT_EQ(loop.now() - start, milliseconds(110));
  EXPECT_EQ(loop.pending_timers(), 0u);
}

TEST(ManualEventLoop, TimerScheduledByATimerSeesTheTimeItWasDue) {
  ManualEventLoop loop;
  std::vector<milliseconds> seen;
  const auto start = loop.now();
  TimerHandle second;
  auto first = loop.schedule(milliseconds(10), [&] {
    seen.push_back(std::chrono::duration_cast<milliseconds>(loop.now() - start));
    second = loop.schedule(milliseconds(10), [&] {
      seen.push_back(std::chrono::duration_cast<milliseconds>(loop.now() - start));
    });
  });
  loop.advance(milliseconds(50));
  EXPECT_EQ(seen, (std::vector<milliseconds>{milliseconds(10), milliseconds(20)}));
}

TEST(ManualEventLoop, CancelledOrDestroyedTimersNeverRun) {
  ManualEventLoop loop;
  int ran = 0;
  auto cancelled = loop.schedule(milliseconds(1), [&] { ++ran; });
  cancelled->cancel();
  {
    auto dropped = loop.schedule(milliseconds(1), [&] { ++ran; });
  }
  loop.advance(milliseconds(5));
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(loop.pending_timers(), 0u);
}

TEST(ManualEventLoop, ATaskThatRepostsItselfIsBoundedByTheLimit) {
  ManualEventLoop loop;
  std::size_t runs = 0;
  std::function<void()> again = [&] {
    ++runs;
    loop.post(again);
  };
  loop.post(again);
  EXPECT_EQ(loop.run_ready(1000), 1000u);
  EXPECT_EQ(runs, 1000u);
}

TEST(ManualEventLoop, TimerHandleOutlivingTheLoopIsHarmless) {
  TimerHandle survivor;
  {
    ManualEventLoop loop;
    survivor = loop.schedule(milliseconds(1), [] {});
  }
  survivor->cancel();
  survivor.reset();
  SUCCEED();
}

}  // namespace
}  // namespace mcpgw::runtime
