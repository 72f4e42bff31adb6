// Token buckets for [[rate_limit]]: the compiled limits (which requests count where) and the
// bounded in-memory bucket store.
//
// Bucket arithmetic is exact integer arithmetic. A bucket refilling `refill` tokens per window
// of W ns is kept as its DEBT: how far it is from full, measured in units of (ns x refill). Time
// then refills `refill` units per ns and one token is worth exactly W units, so continuous refill
// needs no division and never drifts. With capacity C a request may take a token when
// debt + W <= C * W. The products need more than 64 bits for large values (C = 10^9 over a
// year), hence 128-bit integers.
#include "gateway/policy/rate_limit.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "gateway/policy/rule.hpp"
#include "gateway/policy/spec_compiler.hpp"

namespace mcpgw::policy {
namespace {

__extension__ using Wide = __int128;

constexpr char kKeySeparator = '\x1f';
// How many least recently used buckets are looked at for one that has refilled completely
// before a partly drained one is evicted (keeps an insertion O(1)).
constexpr std::size_t kFullBucketScan = 8;

// Percent-escapes '%' and the separator so that no part can contain a separator: keys of
// different callers can never collide, whatever their subjects, tool names or limit ids hold.
void append_key_part(std::string& key, std::string_view part) {
  // Two memchr scans: plain parts (nearly all) are appended in one piece.
  if (part.find('%') == std::string_view::npos &&
      part.find(kKeySeparator) == std::string_view::npos) {
    key.append(part);
    return;
  }
  for (const char c : part) {
    if (c == '%') {
      key.append("%25");
    } else if (c == kKeySeparator) {
      key.append("%1F");
    } else {
      key.push_back(c);
    }
  }
}

Wide nanoseconds_between(RateClock::time_point from, RateClock::time_point to) {
  if (to <= from)
    return 0;  // a clock that does not advance refills nothing
  return static_cast<Wide>(std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count());
}

// Bounds that keep every product below 2^127 (capacity * window in ns is at most 2^100) and
// are far beyond any meaningful limit (10^12 tokens, 35 years).
constexpr std::int64_t kMaxCapacity = std::int64_t{1} << 40;
constexpr std::int64_t kMaxWindowMs = std::int64_t{1} << 40;

// Valid requests come from compile_rate_limits(); anything else is clamped into range instead
// of dividing by zero or overflowing.
struct Shape {
  Wide capacity = 1;
  Wide refill = 1;
  Wide window_ns = 1'000'000;  // one token in debt units

  explicit Shape(const BucketRequest& request)
      : capacity(std::clamp<std::int64_t>(request.capacity, 1, kMaxCapacity)),
        refill(std::max<std::int64_t>(request.refill_per_window, 1)),
        window_ns(
            static_cast<Wide>(std::clamp<std::int64_t>(request.window.count(), 1, kMaxWindowMs)) *
            1'000'000) {}

  bool operator==(const Shape&) const = default;
  Wide full_debt() const { return capacity * window_ns; }
  // A token can be taken when debt <= this.
  Wide max_debt_to_take() const { return (capacity - 1) * window_ns; }
};

struct Bucket {
  explicit Bucket(const Shape& initial) : shape(initial) {}

  Shape shape;
  Wide debt = 0;
  RateClock::time_point updated{};
  const std::string* key = nullptr;  // the map's own key, for erasing from the LRU end
  Bucket* newer = nullptr;
  Bucket* older = nullptr;

  // Refills up to `now`; true when the bucket is full again (the same as no bucket).
  bool refill_to(RateClock::time_point now) {
    const Wide elapsed = nanoseconds_between(updated, now);
    if (elapsed > 0) {
      // elapsed * refill cannot overflow: both fit in 64 bits.
      const Wide refilled = elapsed * shape.refill;
      debt = refilled >= debt ? 0 : debt - refilled;
      updated = now;
    }
    return debt == 0;
  }

  // A reloaded limit with other numbers keeps the whole tokens it was missing (rounded up).
  void reshape(const Shape& next) {
    if (shape == next)
      return;
    const Wide missing_tokens = (debt + shape.window_ns - 1) / shape.window_ns;
    debt = std::min(missing_tokens, next.capacity) * next.window_ns;
    shape = next;
  }
};

// Time until a bucket with `debt` has a token again, in whole milliseconds, at least 1.
std::chrono::milliseconds wait_for_token(const Shape& shape, Wide debt) {
  const Wide excess = debt - shape.max_debt_to_take();  // > 0 when refused
  const Wide nanoseconds = (excess + shape.refill - 1) / shape.refill;
  constexpr Wide kLongest = std::numeric_limits<std::chrono::milliseconds::rep>::max();
  const Wide milliseconds = std::clamp<Wide>((nanoseconds + 999'999) / 1'000'000, 1, kLongest);
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(milliseconds));
}

class MemoryBucketStore final : public BucketStore {
 public:
  explicit MemoryBucketStore(std::size_t max_buckets)
      : max_buckets_(std::max<std::size_t>(max_buckets, 1)) {
    buckets_.reserve(std::min<std::size_t>(max_buckets_, 1024));
  }

  TakeResult take_all(const std::vector<BucketRequest>& requests,
                      RateClock::time_point now) override {
    drop_oldest_if_full(now);
    found_.assign(requests.size(), nullptr);
    TakeResult result;
    std::chrono::milliseconds longest_wait{0};
    // First pass: look at every bucket without taking anything; a missing bucket is full.
    for (std::size_t i = 0; i < requests.size(); ++i) {
      const Shape shape(requests[i]);
      const auto it = buckets_.find(requests[i].key);
      if (it == buckets_.end())
        continue;  // full: has capacity >= 1 tokens
      Bucket& bucket = it->second;
      bucket.reshape(shape);
      bucket.refill_to(now);
      touch(bucket);  // a refused caller stays recent: it must not get a fresh bucket early
      found_[i] = &bucket;
      if (bucket.debt > shape.max_debt_to_take()) {
        const auto wait = wait_for_token(shape, bucket.debt);
        if (result.allowed || wait > longest_wait) {
          result.allowed = false;
          result.limiting = i;
          longest_wait = wait;
        }
      }
    }
    if (!result.allowed) {
      result.retry_after = longest_wait;
      return result;
    }
    // Second pass: take. Existing buckets first: creating the missing ones may evict, and all
    // found ones were just moved to the recent end, but a tiny store could still reach them.
    for (Bucket* bucket : found_) {
      if (bucket != nullptr)
        bucket->debt = std::min(bucket->debt + bucket->shape.window_ns, bucket->shape.full_debt());
    }
    for (std::size_t i = 0; i < requests.size(); ++i) {
      if (found_[i] == nullptr)
        insert_drained_by_one(requests[i], now);
    }
    return result;
  }

  std::size_t size() const noexcept override { return buckets_.size(); }
  std::uint64_t evictions() const noexcept override { return evictions_; }

 private:
  void insert_drained_by_one(const BucketRequest& request, RateClock::time_point now) {
    const Shape shape(request);
    if (buckets_.size() >= max_buckets_)
      make_room(now);
    const auto [it, inserted] = buckets_.try_emplace(request.key, shape);
    Bucket& bucket = it->second;
    if (inserted) {
      bucket.key = &it->first;
      bucket.updated = now;
      link_newest(bucket);
    } else {
      // The same key twice in one call (RateLimits never does that): one more token.
      bucket.reshape(shape);
      bucket.refill_to(now);
      touch(bucket);
    }
    bucket.debt = std::min(bucket.debt + shape.window_ns, shape.full_debt());
  }

  // A full bucket is dropped for free; otherwise the least recently used one is evicted.
  void make_room(RateClock::time_point now) {
    Bucket* candidate = oldest_;
    for (std::size_t looked = 0; candidate != nullptr && looked < kFullBucketScan; ++looked) {
      if (candidate->refill_to(now)) {
        erase(*candidate);
        return;
      }
      candidate = candidate->newer;
    }
    if (oldest_ != nullptr) {
      ++evictions_;
      erase(*oldest_);
    }
  }

  // Incremental clean-up: idle callers' buckets go away as they refill, one per call.
  void drop_oldest_if_full(RateClock::time_point now) {
    if (oldest_ != nullptr && oldest_->refill_to(now))
      erase(*oldest_);
  }

  void unlink(Bucket& bucket) {
    (bucket.newer != nullptr ? bucket.newer->older : newest_) = bucket.older;
    (bucket.older != nullptr ? bucket.older->newer : oldest_) = bucket.newer;
    bucket.newer = bucket.older = nullptr;
  }

  void link_newest(Bucket& bucket) {
    bucket.older = newest_;
    bucket.newer = nullptr;
    if (newest_ != nullptr)
      newest_->newer = &bucket;
    newest_ = &bucket;
    if (oldest_ == nullptr)
      oldest_ = &bucket;
  }

  void touch(Bucket& bucket) {
    if (newest_ == &bucket)
      return;
    unlink(bucket);
    link_newest(bucket);
  }

  void erase(Bucket& bucket) {
    unlink(bucket);
    buckets_.erase(*bucket.key);
  }

  const std::size_t max_buckets_;
  std::unordered_map<std::string, Bucket> buckets_;  // node-based: Bucket addresses are stable
  Bucket* newest_ = nullptr;
  Bucket* oldest_ = nullptr;
  std::uint64_t evictions_ = 0;
  std::vector<Bucket*> found_;  // scratch of take_all, kept to avoid an allocation per call
};

struct CompiledLimit {
  std::string id;
  RateLimitScope scope = RateLimitScope::principal;
  std::int64_t capacity = 0;
  std::int64_t refill = 0;
  std::chrono::milliseconds window{0};
  detail::RateLimitMatchers matchers;
  std::string key_prefix;  // the escaped id and a separator
};

// Per-thread buffers of check(): keys are built in strings whose memory is reused, so a check
// allocates nothing once warm (check() is const and may run on several threads).
struct CheckScratch {
  static constexpr std::size_t kLargestKeptKey = 4096;

  std::vector<BucketRequest> requests;
  std::vector<const CompiledLimit*> owners;
  std::vector<std::string> spare_keys;

  void reset() {
    for (BucketRequest& request : requests) {
      if (request.key.capacity() <= kLargestKeptKey)
        spare_keys.push_back(std::move(request.key));
    }
    requests.clear();
    owners.clear();
  }
  void reuse_key(std::string& key) {
    if (spare_keys.empty())
      return;
    key = std::move(spare_keys.back());
    spare_keys.pop_back();
    key.clear();
  }
};

CheckScratch& check_scratch() {
  thread_local CheckScratch scratch;
  return scratch;
}

bool is_undecided_method(std::string_view method) {
  return method == "initialize" || method == "ping" || method.starts_with("notifications/");
}

class CompiledRateLimits final : public RateLimits {
 public:
  explicit CompiledRateLimits(std::vector<CompiledLimit> limits) : limits_(std::move(limits)) {}

  RateVerdict check(const Principal& principal, std::string_view principal_key,
                    const RateTarget& target, BucketStore& store,
                    RateClock::time_point now) const override {
    RateVerdict verdict;
    if (limits_.empty() || is_undecided_method(target.method))
      return verdict;
    CheckScratch& scratch = check_scratch();
    scratch.reset();
    std::vector<BucketRequest>& requests = scratch.requests;
    std::vector<const CompiledLimit*>& owners = scratch.owners;
    for (const CompiledLimit& limit : limits_) {
      if (!applies(limit, principal, target))
        continue;
      BucketRequest& request = requests.emplace_back();
      scratch.reuse_key(request.key);
      request.key.append(limit.key_prefix);
      switch (limit.scope) {
        case RateLimitScope::principal:
          append_key_part(request.key, principal_key);
          break;
        case RateLimitScope::principal_tool:
          append_key_part(request.key, principal_key);
          request.key.push_back(kKeySeparator);
          append_key_part(request.key, target.backend);
          request.key.push_back(kKeySeparator);
          append_key_part(request.key, target.tool);
          break;
        case RateLimitScope::backend:
          append_key_part(request.key, target.backend);
          break;
      }
      request.capacity = limit.capacity;
      request.refill_per_window = limit.refill;
      request.window = limit.window;
      owners.push_back(&limit);
    }
    if (requests.empty())
      return verdict;
    const TakeResult taken = store.take_all(requests, now);
    if (!taken.allowed) {
      verdict.allowed = false;
      // A store names one of the requests; an out-of-range index (a faulty remote store) still
      // refuses, attributed to the first limit.
      verdict.limit_id = owners[taken.limiting < owners.size() ? taken.limiting : 0]->id;
      verdict.retry_after = taken.retry_after;
    }
    return verdict;
  }

  std::size_t size() const noexcept override { return limits_.size(); }

 private:
  static bool applies(const CompiledLimit& limit, const Principal& principal,
                      const RateTarget& target) {
    const bool is_call = target.method == "tools/call";
    switch (limit.scope) {
      case RateLimitScope::principal:
        break;
      case RateLimitScope::principal_tool:
        if (!is_call || target.tool.empty())
          return false;
        break;
      case RateLimitScope::backend:
        if (target.backend.empty())
          return false;
        break;
    }
    const detail::RateLimitMatchers& matchers = limit.matchers;
    if (!matchers.backends.matches(target.backend))
      return false;
    if (matchers.tools.present() && !(is_call && matchers.tools.matches(target.tool)))
      return false;
    return matchers.principal.matches(principal);
  }

  std::vector<CompiledLimit> limits_;
};

}  // namespace

std::unique_ptr<BucketStore> make_memory_bucket_store(std::size_t max_buckets) {
  return std::make_unique<MemoryBucketStore>(max_buckets);
}

std::shared_ptr<const RateLimits> compile_rate_limits(const std::vector<RateLimitSpec>& limits,
                                                      config::Diagnostics& diagnostics) {
  const CompileContext no_backends;  // backends were checked by compile()
  detail::SpecCompiler compiler(no_backends, diagnostics);
  std::vector<detail::RateLimitMatchers> matchers =
      detail::compile_rate_limit_matchers(limits, compiler);
  if (compiler.errors() > 0)
    return nullptr;
  std::vector<CompiledLimit> compiled;
  compiled.reserve(limits.size());
  for (std::size_t i = 0; i < limits.size(); ++i) {
    const RateLimitSpec& spec = limits[i];
    CompiledLimit limit;
    limit.id = spec.id;
    limit.scope = spec.scope;
    limit.capacity = spec.burst == 0 ? spec.requests : spec.burst;
    limit.refill = spec.requests;
    limit.window = std::chrono::milliseconds(spec.window_ms);
    limit.matchers = std::move(matchers[i]);
    append_key_part(limit.key_prefix, spec.id);
    limit.key_prefix.push_back(kKeySeparator);
    compiled.push_back(std::move(limit));
  }
  return std::make_shared<const CompiledRateLimits>(std::move(compiled));
}

}  // namespace mcpgw::policy
