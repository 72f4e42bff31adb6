// Rate limits ([[rate_limit]]): token buckets per principal, per principal x tool and per
// backend, compiled from the PolicySpec next to the rules and swapped with them on reload.
//
// Which requests a limit counts (its `backends`, `tools` and principal matchers must match):
//   principal       every client request the gateway decides (everything but initialize,
//                   ping and notifications), one bucket per principal_key
//   principal_tool  tools/call only, one bucket per (principal_key, backend, tool)
//   backend         requests routed to one backend (calls, reads, gets, completions,
//                   subscriptions; not fan-out lists), one bucket per backend, all callers
// A limit with `tools` applies to tools/call of a matching tool only. A request passes when
// every applicable limit has a token; then one token is taken from each, atomically: a refused
// request consumes nothing anywhere.
//
// Buckets live in a BucketStore. The in-memory store bounds its entries: a bucket that has
// refilled completely is the same as no bucket and is dropped first; when the store is full of
// partly drained buckets, the least recently used one is dropped (that caller gets a full
// bucket back early: bounded memory wins over exactness, and the drop is counted). A shared
// store (Redis) can implement the same interface for several replicas later.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/diagnostic.hpp"
#include "gateway/policy/policy.hpp"
#include "gateway/policy/spec.hpp"

namespace mcpgw::policy {

using RateClock = std::chrono::steady_clock;

// One bucket to take a token from: `capacity` tokens at most (burst), refilled continuously at
// `refill_per_window` tokens per `window`.
struct BucketRequest {
  std::string
      key;  // "<limit id>\x1f<principal key>[\x1f<backend>\x1f<tool>]" or "<id>\x1f<backend>"
  std::int64_t capacity = 0;
  std::int64_t refill_per_window = 0;
  std::chrono::milliseconds window{0};
};

struct TakeResult {
  bool allowed = true;
  std::size_t limiting = 0;                  // index into the requests of the empty bucket
  std::chrono::milliseconds retry_after{0};  // until that bucket has a token again
};

class BucketStore {
 public:
  virtual ~BucketStore() = default;
  // Takes one token from every bucket, or from none when any is empty (then the result names
  // the one that needs the longest wait).
  virtual TakeResult take_all(const std::vector<BucketRequest>& buckets,
                              RateClock::time_point now) = 0;
  virtual std::size_t size() const noexcept = 0;
  virtual std::uint64_t evictions() const noexcept = 0;  // partly drained buckets dropped
};

std::unique_ptr<BucketStore> make_memory_bucket_store(std::size_t max_buckets);

// What is being counted.
struct RateTarget {
  std::string_view method;
  std::string_view backend;  // empty for fan-out and gateway-answered methods
  std::string_view tool;     // tools/call only: the backend's own tool name
};

struct RateVerdict {
  bool allowed = true;
  std::string limit_id;  // the refusing limit
  std::chrono::milliseconds retry_after{0};
};

// The compiled [[rate_limit]] entries; immutable, shared like CompiledPolicy.
class RateLimits {
 public:
  virtual ~RateLimits() = default;
  // Checks and takes against `store`. `principal_key` is auth::principal_key(principal).
  virtual RateVerdict check(const Principal& principal, std::string_view principal_key,
                            const RateTarget& target, BucketStore& store,
                            RateClock::time_point now) const = 0;
  virtual std::size_t size() const noexcept = 0;
};

// Compiles the limits (patterns as in rules). policy::compile() has already validated the same
// spec (patterns, values, ids), so the loader calls this only after it succeeded; anything
// still wrong is reported into `diagnostics` the same way and null is returned.
std::shared_ptr<const RateLimits> compile_rate_limits(const std::vector<RateLimitSpec>& limits,
                                                      config::Diagnostics& diagnostics);

}  // namespace mcpgw::policy
