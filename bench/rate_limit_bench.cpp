// rate_limit_bench: what RateLimits::check() costs per request against a full memory store.
//
// Three limits apply to every call (per principal, per principal x tool, per backend), so each
// check builds three keys and takes from three buckets. The store is bounded (default 100,000
// buckets) and the callers need more than that, so the steady state includes LRU evictions.
// The clock advances 1 µs per request (1M requests/s), most requests are allowed.
// Usage: rate_limit_bench [--buckets N] [--principals N] [--calls N] [--runs K]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/diagnostic.hpp"
#include "gateway/policy/rate_limit.hpp"

namespace {

using namespace mcpgw;
using Clock = std::chrono::steady_clock;

struct Options {
  std::size_t buckets = 100000;
  std::size_t principals = 60000;
  std::size_t calls = 1000000;
  std::size_t runs = 5;
};

bool parse(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "missing value for %s\n", argv[i]);
      return false;
    }
    const auto value = static_cast<std::size_t>(std::strtoull(argv[++i], nullptr, 10));
    if (arg == "--buckets") {
      options.buckets = value;
    } else if (arg == "--principals") {
      options.principals = std::max<std::size_t>(value, 1);
    } else if (arg == "--calls") {
      options.calls = std::max<std::size_t>(value, 1);
    } else if (arg == "--runs") {
      options.runs = std::max<std::size_t>(value, 1);
    } else {
      std::fprintf(stderr,
                   "usage: rate_limit_bench [--buckets N] [--principals N] [--calls N] "
                   "[--runs K]\n");
      return false;
    }
  }
  return true;
}

policy::RateLimitSpec limit(std::string id, policy::RateLimitScope scope, std::int64_t requests) {
  policy::RateLimitSpec spec;
  spec.id = std::move(id);
  spec.scope = scope;
  spec.requests = requests;
  spec.window_ms = 60000;
  return spec;
}

struct Call {
  std::size_t principal;
  std::size_t backend;
  std::size_t tool;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options))
    return 2;

  config::Diagnostics diagnostics;
  const auto limits =
      policy::compile_rate_limits({limit("per-user", policy::RateLimitScope::principal, 6000),
                                   limit("per-tool", policy::RateLimitScope::principal_tool, 600),
                                   limit("per-backend", policy::RateLimitScope::backend, 60000000)},
                                  diagnostics);
  if (limits == nullptr) {
    std::fprintf(stderr, "rate limits did not compile\n");
    return 1;
  }

  std::vector<std::string> keys;
  std::vector<policy::Principal> principals(options.principals);
  for (std::size_t i = 0; i < options.principals; ++i) {
    principals[i].authenticated = true;
    principals[i].subject = "user-" + std::to_string(i);
    keys.push_back("jwt:https://idp.example.com " + principals[i].subject);
  }
  const std::vector<std::string> backends = {"github", "jira",   "files", "search", "slack",
                                             "linear", "notion", "drive", "mail",   "calendar"};
  std::vector<std::string> tools;
  for (int i = 0; i < 20; ++i)
    tools.push_back("tool_number_" + std::to_string(i));

  std::mt19937_64 random(42);
  std::vector<Call> calls(options.calls);
  for (Call& call : calls) {
    call = Call{random() % options.principals, random() % backends.size(), random() % tools.size()};
  }

  auto store = policy::make_memory_bucket_store(options.buckets);
  auto now = Clock::time_point(std::chrono::hours(1));
  const auto run = [&] {
    std::size_t refused = 0;
    for (const Call& call : calls) {
      const policy::RateTarget target{"tools/call", backends[call.backend], tools[call.tool]};
      now += std::chrono::microseconds(1);
      if (!limits->check(principals[call.principal], keys[call.principal], target, *store, now)
               .allowed)
        ++refused;
    }
    return refused;
  };

  run();  // warm-up: fills the store
  std::vector<double> per_call;
  std::size_t refused = 0;
  for (std::size_t r = 0; r < options.runs; ++r) {
    const auto start = Clock::now();
    refused = run();
    const auto elapsed = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    per_call.push_back(elapsed / static_cast<double>(calls.size()));
  }
  std::sort(per_call.begin(), per_call.end());
  std::printf("rate_limit_bench: %zu calls x %zu runs, %zu principals, 3 limits per call\n",
              calls.size(), options.runs, options.principals);
  std::printf("  check(): median %.0f ns, best %.0f ns per call\n", per_call[per_call.size() / 2],
              per_call.front());
  std::printf("  store: %zu buckets (max %zu), %llu evictions, %zu refused in the last run\n",
              store->size(), options.buckets, static_cast<unsigned long long>(store->evictions()),
              refused);
  return 0;
}
