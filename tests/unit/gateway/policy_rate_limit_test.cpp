// Rate limits: the token bucket store (exact refill, atomic takes, bounded memory) and the
// compiled [[rate_limit]] entries (which requests each scope counts). Time is always explicit.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gateway/policy/rate_limit.hpp"
#include "policy_test_support.hpp"

namespace mcpgw::policy {
namespace {

using namespace std::chrono_literals;
using test::list;
using test::user;

const RateClock::time_point kStart = RateClock::time_point(1h);

BucketRequest bucket(std::string key, std::int64_t capacity, std::int64_t refill,
                     std::chrono::milliseconds window) {
  return BucketRequest{std::move(key), capacity, refill, window};
}

bool take(BucketStore& store, const BucketRequest& request, RateClock::time_point now) {
  return store.take_all({request}, now).allowed;
}

// ---- the bucket store ----------------------------------------------------------------------

TEST(BucketStore, BurstThenRefusalThenRecoveryAfterExactlyOneTokenTime) {
  auto store = make_memory_bucket_store(100);
  const auto b = bucket("k", 3, 3, 1000ms);  // one token every 333.33 ms
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(take(*store, b, kStart)) << i;
  const TakeResult refused = store->take_all({b}, kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limiting, 0u);
  EXPECT_EQ(refused.retry_after, 334ms);  // 333,333,334 ns rounded up

  const TakeResult almost = store->take_all({b}, kStart + 333ms);
  EXPECT_FALSE(almost.allowed);
  EXPECT_EQ(almost.retry_after, 1ms);  // 333,334 ns left
  EXPECT_FALSE(take(*store, b, kStart + 333'333'333ns));
  EXPECT_TRUE(take(*store, b, kStart + 333'333'334ns));
  EXPECT_FALSE(take(*store, b, kStart + 333'333'334ns));
}

TEST(BucketStore, RefillNeverDriftsOverManyWindows) {
  // 7 per second is not a whole number of nanoseconds per token; after 1000 windows the bucket
  // still holds exactly 7 tokens at every window boundary.
  auto store = make_memory_bucket_store(100);
  const auto b = bucket("k", 7, 7, 1000ms);
  for (int window = 0; window < 1000; ++window) {
    const auto now = kStart + std::chrono::seconds(window);
    for (int i = 0; i < 7; ++i)
      ASSERT_TRUE(take(*store, b, now)) << "window " << window << " request " << i;
    ASSERT_FALSE(take(*store, b, now)) << "window " << window;
  }
}

TEST(BucketStore, CapacityBoundsTheBurstAfterALongIdleTime) {
  auto store = make_memory_bucket_store(100);
  const auto b = bucket("k", 2, 10, 1000ms);  // burst 2, 10 per second
  EXPECT_TRUE(take(*store, b, kStart));
  EXPECT_TRUE(take(*store, b, kStart));
  EXPECT_FALSE(take(*store, b, kStart));
  const auto later = kStart + 24h;
  EXPECT_TRUE(take(*store, b, later));
  EXPECT_TRUE(take(*store, b, later));
  EXPECT_FALSE(take(*store, b, later));
}

TEST(BucketStore, RetryAfterIsRoundedUpToWholeMillisecondsAndAtLeastOne) {
  auto store = make_memory_bucket_store(100);
  const auto slow = bucket("slow", 1, 1, 1500ms);
  EXPECT_TRUE(take(*store, slow, kStart));
  EXPECT_EQ(store->take_all({slow}, kStart).retry_after, 1500ms);
  EXPECT_EQ(store->take_all({slow}, kStart + 1ns).retry_after, 1500ms);  // 1499.999999 ms
  EXPECT_EQ(store->take_all({slow}, kStart + 1499ms).retry_after, 1ms);
  EXPECT_EQ(store->take_all({slow}, kStart + 1499ms + 999'999ns).retry_after, 1ms);  // 1 ns

  const auto fast = bucket("fast", 1, 1000, 1000ms);  // a token every millisecond
  EXPECT_TRUE(take(*store, fast, kStart));
  EXPECT_EQ(store->take_all({fast}, kStart).retry_after, 1ms);
  const auto faster = bucket("faster", 1, 100000, 1000ms);  // every 10 µs: still 1 ms
  EXPECT_TRUE(take(*store, faster, kStart));
  EXPECT_EQ(store->take_all({faster}, kStart).retry_after, 1ms);
}

TEST(BucketStore, ARefusedRequestConsumesNothingAnywhere) {
  auto store = make_memory_bucket_store(100);
  const auto wide = bucket("wide", 5, 5, 1000ms);
  const auto narrow = bucket("narrow", 1, 1, 1000ms);
  EXPECT_TRUE(store->take_all({wide, narrow}, kStart).allowed);
  for (int i = 0; i < 3; ++i) {
    const TakeResult refused = store->take_all({wide, narrow}, kStart);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.limiting, 1u);
  }
  // `wide` lost only the one token of the allowed request.
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(take(*store, wide, kStart)) << i;
  EXPECT_FALSE(take(*store, wide, kStart));
}

TEST(BucketStore, ARefusalThatCreatesNoBucketLeavesMissingBucketsAbsent) {
  auto store = make_memory_bucket_store(100);
  const auto drained = bucket("drained", 1, 1, 1000ms);
  EXPECT_TRUE(take(*store, drained, kStart));
  EXPECT_EQ(store->size(), 1u);
  EXPECT_FALSE(store->take_all({bucket("fresh", 1, 1, 1000ms), drained}, kStart).allowed);
  EXPECT_EQ(store->size(), 1u);  // "fresh" was not taken from, so it still does not exist
  EXPECT_TRUE(take(*store, bucket("fresh", 1, 1, 1000ms), kStart));
}

TEST(BucketStore, TheLimitingBucketIsTheOneWithTheLongestWait) {
  auto store = make_memory_bucket_store(100);
  const auto short_wait = bucket("short", 1, 1, 1000ms);
  const auto long_wait = bucket("long", 1, 1, 5000ms);
  const auto open = bucket("open", 10, 10, 1000ms);
  EXPECT_TRUE(store->take_all({short_wait, long_wait}, kStart).allowed);
  const TakeResult refused = store->take_all({short_wait, open, long_wait}, kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limiting, 2u);
  EXPECT_EQ(refused.retry_after, 5000ms);
}

TEST(BucketStore, EvictsTheLeastRecentlyUsedDrainedBucketAndCountsIt) {
  auto store = make_memory_bucket_store(2);
  EXPECT_TRUE(take(*store, bucket("a", 1, 1, 60000ms), kStart));
  EXPECT_TRUE(take(*store, bucket("b", 1, 1, 60000ms), kStart + 1ms));
  EXPECT_TRUE(take(*store, bucket("c", 1, 1, 60000ms), kStart + 2ms));
  EXPECT_EQ(store->size(), 2u);
  EXPECT_EQ(store->evictions(), 1u);
  // "a" was evicted: its caller gets a full bucket back early (bounded memory wins).
  EXPECT_TRUE(take(*store, bucket("a", 1, 1, 60000ms), kStart + 3ms));
  EXPECT_EQ(store->evictions(), 2u);  // and that pushed out "b", now the oldest
  EXPECT_FALSE(take(*store, bucket("c", 1, 1, 60000ms), kStart + 4ms));
  EXPECT_EQ(store->size(), 2u);
}

TEST(BucketStore, ARefusedCallerStaysRecentSoItIsNotEvictedIntoAFreshBucket) {
  auto store = make_memory_bucket_store(2);
  const auto a = bucket("a", 1, 1, 60000ms);
  EXPECT_TRUE(take(*store, a, kStart));
  EXPECT_TRUE(take(*store, bucket("b", 1, 1, 60000ms), kStart + 1ms));
  EXPECT_FALSE(take(*store, a, kStart + 2ms));                          // refused, but used
  EXPECT_TRUE(take(*store, bucket("c", 1, 1, 60000ms), kStart + 3ms));  // evicts "b"
  EXPECT_FALSE(take(*store, a, kStart + 4ms));
}

TEST(BucketStore, AFullBucketIsDroppedBeforeAnyDrainedOneAndIsNoEviction) {
  auto store = make_memory_bucket_store(2);
  // "quick" is the least recently used and has refilled by the time "c" arrives.
  EXPECT_TRUE(take(*store, bucket("quick", 1, 1, 100ms), kStart));
  EXPECT_TRUE(take(*store, bucket("slow", 1, 1, 60000ms), kStart + 1ms));
  EXPECT_TRUE(take(*store, bucket("c", 1, 1, 60000ms), kStart + 200ms));
  EXPECT_EQ(store->evictions(), 0u);
  EXPECT_EQ(store->size(), 2u);
  EXPECT_FALSE(take(*store, bucket("slow", 1, 1, 60000ms), kStart + 201ms));
}

TEST(BucketStore, AFullBucketIsFoundEvenWhenItIsNotTheOldest) {
  auto store = make_memory_bucket_store(2);
  EXPECT_TRUE(take(*store, bucket("slow", 1, 1, 60000ms), kStart));
  EXPECT_TRUE(take(*store, bucket("quick", 1, 1, 100ms), kStart + 1ms));
  EXPECT_TRUE(take(*store, bucket("c", 1, 1, 60000ms), kStart + 200ms));
  EXPECT_EQ(store->evictions(), 0u);
  EXPECT_FALSE(take(*store, bucket("slow", 1, 1, 60000ms), kStart + 201ms));
  EXPECT_FALSE(take(*store, bucket("c", 1, 1, 60000ms), kStart + 201ms));
}

TEST(BucketStore, MemoryStaysBoundedUnderManyCallers) {
  auto store = make_memory_bucket_store(100);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(take(*store, bucket("caller-" + std::to_string(i), 5, 1, 60000ms),
                     kStart + std::chrono::microseconds(i)));
    ASSERT_LE(store->size(), 100u);
  }
  EXPECT_EQ(store->size(), 100u);
  EXPECT_EQ(store->evictions(), 9900u);
}

TEST(BucketStore, RefilledBucketsDisappearWhileTheStoreIsUsed) {
  auto store = make_memory_bucket_store(100);
  EXPECT_TRUE(take(*store, bucket("a", 1, 1, 100ms), kStart));
  EXPECT_TRUE(take(*store, bucket("b", 1, 1, 100ms), kStart));
  EXPECT_EQ(store->size(), 2u);
  // Each call drops the oldest bucket once it is full again: idle callers cost nothing.
  EXPECT_TRUE(take(*store, bucket("c", 1, 1, 100ms), kStart + 1s));
  EXPECT_TRUE(take(*store, bucket("c2", 1, 1, 100ms), kStart + 1s));
  EXPECT_EQ(store->size(), 2u);
  EXPECT_EQ(store->evictions(), 0u);
}

TEST(BucketStore, ATinyStoreStillTakesEveryBucketOfOneCall) {
  auto store = make_memory_bucket_store(1);
  const auto a = bucket("a", 2, 2, 60000ms);
  const auto b = bucket("b", 2, 2, 60000ms);
  EXPECT_TRUE(store->take_all({a}, kStart).allowed);
  EXPECT_TRUE(store->take_all({b, a}, kStart).allowed);  // "b" is created after "a" is taken
  EXPECT_EQ(store->size(), 1u);
  EXPECT_EQ(store->evictions(), 1u);  // "a", to make room for "b"
  EXPECT_TRUE(take(*store, b, kStart));
  EXPECT_FALSE(take(*store, b, kStart));
}

TEST(BucketStore, ChangedLimitNumbersKeepTheTokensAlreadyMissing) {
  auto store = make_memory_bucket_store(100);
  const auto before = bucket("k", 5, 5, 1000ms);
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(take(*store, before, kStart));
  // Reloaded with a bigger burst: still 3 tokens missing, so 7 of 10 remain.
  const auto after = bucket("k", 10, 10, 60000ms);
  for (int i = 0; i < 7; ++i)
    EXPECT_TRUE(take(*store, after, kStart)) << i;
  EXPECT_FALSE(take(*store, after, kStart));
}

TEST(BucketStore, NonsenseNumbersAreClampedNotFatal) {
  auto store = make_memory_bucket_store(0);  // still holds one bucket
  const auto zero = bucket("z", 0, 0, 0ms);
  EXPECT_TRUE(take(*store, zero, kStart));
  const TakeResult refused = store->take_all({zero}, kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 1ms);
  const auto huge = bucket("h", INT64_MAX, INT64_MAX, std::chrono::milliseconds(INT64_MAX));
  EXPECT_TRUE(take(*store, huge, kStart));
  const auto glacial = bucket("g", 1, 1, std::chrono::milliseconds(INT64_MAX));
  EXPECT_TRUE(take(*store, glacial, kStart));
  const TakeResult wait = store->take_all({glacial}, kStart);
  EXPECT_FALSE(wait.allowed);
  EXPECT_GT(wait.retry_after, 24h * 365 * 30);
}

TEST(BucketStore, AClockGoingBackwardsRefillsNothing) {
  auto store = make_memory_bucket_store(100);
  const auto b = bucket("k", 1, 1, 1000ms);
  EXPECT_TRUE(take(*store, b, kStart));
  EXPECT_FALSE(take(*store, b, kStart - 10s));
  EXPECT_TRUE(take(*store, b, kStart + 1s));
}

// ---- compiled limits -----------------------------------------------------------------------

RateLimitSpec limit(std::string id, RateLimitScope scope, std::int64_t requests,
                    std::int64_t window_ms, std::int64_t burst = 0) {
  RateLimitSpec spec;
  spec.id = std::move(id);
  spec.scope = scope;
  spec.requests = requests;
  spec.window_ms = window_ms;
  spec.burst = burst;
  spec.where = test::at(5);
  return spec;
}

std::shared_ptr<const RateLimits> must_compile(const std::vector<RateLimitSpec>& limits) {
  config::Diagnostics diagnostics;
  auto compiled = compile_rate_limits(limits, diagnostics);
  EXPECT_NE(compiled, nullptr) << test::dump(diagnostics);
  EXPECT_FALSE(diagnostics.has_errors()) << test::dump(diagnostics);
  return compiled;
}

RateTarget call(std::string_view backend, std::string_view tool) {
  return RateTarget{"tools/call", backend, tool};
}

class RateLimitsTest : public ::testing::Test {
 protected:
  // Checks at kStart for `who`, whose principal key is "key:<subject>".
  RateVerdict check(const RateLimits& limits, const Principal& who, const RateTarget& target,
                    RateClock::time_point now = kStart) {
    return limits.check(who, "jwt:idp " + who.subject, target, *store_, now);
  }
  bool allowed(const RateLimits& limits, const Principal& who, const RateTarget& target,
               RateClock::time_point now = kStart) {
    return check(limits, who, target, now).allowed;
  }

  std::unique_ptr<BucketStore> store_ = make_memory_bucket_store(1000);
};

TEST_F(RateLimitsTest, PrincipalScopeCountsEveryDecidedRequestPerPrincipal) {
  auto limits = must_compile({limit("per-user", RateLimitScope::principal, 3, 60000)});
  const Principal alice = user("alice");
  EXPECT_TRUE(allowed(*limits, alice, call("gh", "x")));
  EXPECT_TRUE(allowed(*limits, alice, RateTarget{"tools/list", "", ""}));
  EXPECT_TRUE(allowed(*limits, alice, RateTarget{"resources/read", "files", ""}));
  const RateVerdict refused = check(*limits, alice, RateTarget{"prompts/list", "", ""});
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limit_id, "per-user");
  EXPECT_EQ(refused.retry_after, 20000ms);
  // Not decided, so never counted or refused.
  EXPECT_TRUE(allowed(*limits, alice, RateTarget{"ping", "", ""}));
  EXPECT_TRUE(allowed(*limits, alice, RateTarget{"initialize", "", ""}));
  EXPECT_TRUE(allowed(*limits, alice, RateTarget{"notifications/cancelled", "", ""}));
  // Another principal has a bucket of its own.
  EXPECT_TRUE(allowed(*limits, user("bob"), call("gh", "x")));
}

TEST_F(RateLimitsTest, PrincipalToolScopeCountsToolCallsPerPrincipalBackendAndTool) {
  auto limits = must_compile({limit("per-tool", RateLimitScope::principal_tool, 1, 60000)});
  const Principal alice = user("alice");
  EXPECT_TRUE(allowed(*limits, alice, call("gh", "x")));
  const RateVerdict refused = check(*limits, alice, call("gh", "x"));
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limit_id, "per-tool");
  EXPECT_EQ(refused.retry_after, 60000ms);
  EXPECT_TRUE(allowed(*limits, alice, call("gh", "y")));    // another tool
  EXPECT_TRUE(allowed(*limits, alice, call("jira", "x")));  // same name, other backend
  EXPECT_TRUE(allowed(*limits, user("bob"), call("gh", "x")));
  // Only tools/call is counted.
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(allowed(*limits, alice, RateTarget{"prompts/get", "gh", ""}));
    EXPECT_TRUE(allowed(*limits, alice, RateTarget{"tools/list", "", ""}));
  }
}

TEST_F(RateLimitsTest, BackendScopeCountsRoutedRequestsOfAllCallers) {
  auto limits = must_compile({limit("gh-total", RateLimitScope::backend, 2, 1000)});
  EXPECT_TRUE(allowed(*limits, user("alice"), call("gh", "x")));
  EXPECT_TRUE(allowed(*limits, user("bob"), RateTarget{"resources/read", "gh", ""}));
  const RateVerdict refused = check(*limits, user("carol"), RateTarget{"prompts/get", "gh", ""});
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limit_id, "gh-total");
  EXPECT_EQ(refused.retry_after, 500ms);
  EXPECT_TRUE(allowed(*limits, user("carol"), call("jira", "x")));  // another backend
  // Fan-out lists and gateway-answered methods have no backend: not counted.
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(allowed(*limits, user("alice"), RateTarget{"tools/list", "", ""}));
  EXPECT_TRUE(allowed(*limits, user("carol"), call("gh", "x"), kStart + 500ms));
}

TEST_F(RateLimitsTest, ToolsFilterLimitsMatchingToolCallsOnly) {
  RateLimitSpec expensive = limit("expensive", RateLimitScope::principal, 1, 60000);
  expensive.tools = list({"search_*", "export"});
  auto limits = must_compile({expensive});
  const Principal alice = user("alice");
  EXPECT_TRUE(allowed(*limits, alice, call("gh", "search_code")));
  EXPECT_FALSE(allowed(*limits, alice, call("gh", "search_issues")));  // one bucket for both
  EXPECT_FALSE(allowed(*limits, alice, call("jira", "export")));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(allowed(*limits, alice, call("gh", "create_issue")));
    // Not a tool call, even with a matching name.
    EXPECT_TRUE(allowed(*limits, alice, RateTarget{"prompts/get", "gh", "export"}));
    EXPECT_TRUE(allowed(*limits, alice, RateTarget{"tools/list", "", ""}));
  }
}

TEST_F(RateLimitsTest, BackendsFilterLimitsRequestsToMatchingBackends) {
  RateLimitSpec github_only = limit("gh-user", RateLimitScope::principal, 1, 60000);
  github_only.backends = list({"git*"});
  auto limits = must_compile({github_only});
  const Principal alice = user("alice");
  EXPECT_TRUE(allowed(*limits, alice, call("github", "x")));
  EXPECT_FALSE(allowed(*limits, alice, RateTarget{"resources/read", "gitlab", ""}));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(allowed(*limits, alice, call("jira", "x")));
    EXPECT_TRUE(allowed(*limits, alice, RateTarget{"tools/list", "", ""}));  // no backend
  }
}

TEST_F(RateLimitsTest, PrincipalMatchersSelectWhomALimitApplies) {
  RateLimitSpec free_tier = limit("free", RateLimitScope::principal, 1, 60000);
  free_tier.principal.claims.push_back(ClaimMatcherSpec{"plan", list({"free"}), test::at(6)});
  RateLimitSpec bots = limit("bots", RateLimitScope::principal, 1, 60000);
  bots.principal.api_keys = list({"bot-*"});
  RateLimitSpec anonymous = limit("anonymous", RateLimitScope::principal, 1, 60000);
  anonymous.principal.authenticated = false;
  auto limits = must_compile({free_tier, bots, anonymous});

  Principal free_user = user("f");
  free_user.claims = {{"plan", "free"}};
  Principal paying = user("p");
  paying.claims = {{"plan", "pro"}};
  Principal bot;
  bot.authenticated = true;
  bot.api_key = "bot-ci";
  const Principal nobody;

  EXPECT_TRUE(allowed(*limits, free_user, call("gh", "x")));
  EXPECT_EQ(check(*limits, free_user, call("gh", "x")).limit_id, "free");
  EXPECT_TRUE(allowed(*limits, bot, call("gh", "x")));
  EXPECT_EQ(check(*limits, bot, call("gh", "x")).limit_id, "bots");
  EXPECT_TRUE(allowed(*limits, nobody, call("gh", "x")));
  EXPECT_EQ(check(*limits, nobody, call("gh", "x")).limit_id, "anonymous");
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(allowed(*limits, paying, call("gh", "x"))) << i;
}

TEST_F(RateLimitsTest, SeveralLimitsTakeAtomically) {
  auto limits = must_compile({limit("user", RateLimitScope::principal, 5, 60000),
                              limit("tool", RateLimitScope::principal_tool, 1, 60000)});
  const Principal alice = user("alice");
  EXPECT_TRUE(allowed(*limits, alice, call("gh", "x")));
  for (int i = 0; i < 3; ++i) {
    const RateVerdict refused = check(*limits, alice, call("gh", "x"));
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.limit_id, "tool");
  }
  // The refusals took nothing from "user": four requests are left.
  EXPECT_TRUE(allowed(*limits, alice, call("gh", "a")));
  EXPECT_TRUE(allowed(*limits, alice, call("gh", "b")));
  EXPECT_TRUE(allowed(*limits, alice, call("gh", "c")));
  EXPECT_TRUE(allowed(*limits, alice, RateTarget{"tools/list", "", ""}));
  const RateVerdict exhausted = check(*limits, alice, call("gh", "d"));
  EXPECT_FALSE(exhausted.allowed);
  EXPECT_EQ(exhausted.limit_id, "user");
  EXPECT_EQ(exhausted.retry_after, 12000ms);
  // "d" was not taken either: once "user" has a token, "d" passes.
  EXPECT_TRUE(allowed(*limits, alice, call("gh", "d"), kStart + 12000ms));
}

TEST_F(RateLimitsTest, BurstIsTheBucketSizeAndRequestsTheRefill) {
  auto limits = must_compile({limit("bursty", RateLimitScope::principal, 1, 1000, 4)});
  const Principal alice = user("alice");
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(allowed(*limits, alice, call("gh", "x"))) << i;
  const RateVerdict refused = check(*limits, alice, call("gh", "x"));
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 1000ms);
  EXPECT_TRUE(allowed(*limits, alice, call("gh", "x"), kStart + 1000ms));
  EXPECT_FALSE(allowed(*limits, alice, call("gh", "x"), kStart + 1000ms));
}

TEST_F(RateLimitsTest, KeyPartsCannotBeForgedWithSeparatorsOrEscapes) {
  auto limits = must_compile({limit("t", RateLimitScope::principal_tool, 1, 60000)});
  // Without escaping both would be "t\x1f<p>\x1fgh\x1fx\x1fgh\x1fy".
  Principal first = user("alice");
  Principal forger = user("alice\x1fgh\x1fx");
  EXPECT_TRUE(allowed(*limits, first, call("gh", "x\x1fgh\x1fy")));
  EXPECT_TRUE(allowed(*limits, forger, call("gh", "y")));
  EXPECT_FALSE(allowed(*limits, first, call("gh", "x\x1fgh\x1fy")));
  // The escape character itself is escaped: "%1F" written literally is another name.
  EXPECT_TRUE(allowed(*limits, first, call("gh", "a%1Fb")));
  EXPECT_TRUE(allowed(*limits, first,
                      call("gh",
                           "a\x1f"
                           "b")));
  EXPECT_TRUE(allowed(*limits, first, call("gh", "a%251Fb")));
}

TEST_F(RateLimitsTest, LongNamesAreKeysLikeAnyOther) {
  auto limits = must_compile({limit("tool", RateLimitScope::principal_tool, 1, 60000)});
  const std::string long_name(100000, 'n');
  const std::string other_long_name = long_name + "2";
  EXPECT_TRUE(allowed(*limits, user("alice"), call("gh", long_name)));
  EXPECT_TRUE(allowed(*limits, user("alice"), call("gh", other_long_name)));
  EXPECT_FALSE(allowed(*limits, user("alice"), call("gh", long_name)));
  EXPECT_TRUE(allowed(*limits, user("alice"), call("gh", "short")));
  EXPECT_FALSE(allowed(*limits, user("alice"), call("gh", other_long_name)));
}

TEST_F(RateLimitsTest, NoApplicableLimitTouchesNoBucket) {
  auto limits = must_compile({limit("tool", RateLimitScope::principal_tool, 1, 60000)});
  EXPECT_TRUE(allowed(*limits, user("alice"), RateTarget{"tools/list", "", ""}));
  EXPECT_EQ(store_->size(), 0u);
  auto none = must_compile({});
  EXPECT_EQ(none->size(), 0u);
  EXPECT_TRUE(allowed(*none, user("alice"), call("gh", "x")));
}

TEST(CompileRateLimits, ReportsWhatCompileReportsAndReturnsNull) {
  RateLimitSpec bad_numbers = limit("bad", RateLimitScope::principal, 0, -5, -1);
  RateLimitSpec bad_pattern = limit("pattern", RateLimitScope::principal, 1, 1000);
  bad_pattern.tools = list({"[unterminated"});
  RateLimitSpec duplicate = limit("pattern", RateLimitScope::backend, 1, 1000);
  config::Diagnostics diagnostics;
  EXPECT_EQ(compile_rate_limits({bad_numbers, bad_pattern, duplicate}, diagnostics), nullptr);
  EXPECT_EQ(test::with_rule(diagnostics, "non-positive-rate-limit").size(), 3u)
      << test::dump(diagnostics);
  EXPECT_EQ(test::with_rule(diagnostics, "invalid-pattern").size(), 1u);
  EXPECT_EQ(test::with_rule(diagnostics, "duplicate-rule-id").size(), 1u);

  // The same diagnostics as policy::compile() gives for the same limits.
  PolicySpec spec;
  spec.rate_limits = {bad_numbers, bad_pattern, duplicate};
  config::Diagnostics from_policy;
  EXPECT_EQ(compile(spec, CompileContext{}, from_policy), nullptr);
  EXPECT_EQ(test::dump(from_policy), test::dump(diagnostics));
}

TEST(CompileRateLimits, CompilesWhatPolicyCompileAccepts) {
  RateLimitSpec with_everything = limit("all", RateLimitScope::principal_tool, 10, 1000, 20);
  with_everything.backends = list({"gh"});
  with_everything.tools = list({"re:create_.*"});
  with_everything.principal.subjects = list({"*"});
  with_everything.principal.scopes.push_back(PatternSpec{"repo:*", test::at(7)});
  PolicySpec spec;
  spec.rate_limits = {with_everything};
  config::Diagnostics diagnostics;
  ASSERT_NE(compile(spec, test::backends_context({"gh"}), diagnostics), nullptr)
      << test::dump(diagnostics);
  auto limits = must_compile(spec.rate_limits);
  EXPECT_EQ(limits->size(), 1u);
}

}  // namespace
}  // namespace mcpgw::policy
