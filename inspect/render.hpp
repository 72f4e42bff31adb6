// The renderers of `mcpgw inspect`: each gets the filtered exchanges in output order, then
// finish() once at the end of the input.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "inspect/exchange.hpp"

namespace mcpgw::inspect {

// What happened to the input as a whole, for the renderers that report it.
struct RunTotals {
  std::uint64_t messages = 0;  // decoded messages
  std::uint64_t problems = 0;  // malformed records and unreadable messages, skipped
};

class Renderer {
 public:
  virtual ~Renderer() = default;
  virtual void on_exchange(Exchange&& exchange) = 0;
  // Returns false when the output could not be written (e.g. the --html file).
  virtual bool finish(const RunTotals& totals) = 0;
};

struct TimelineOptions {
  bool color = false;
  bool full = false;            // payloads pretty-printed and whole
  std::size_t max_chars = 120;  // shortened payload lines
  bool flush_each = false;      // --follow: flush after every exchange
};
std::unique_ptr<Renderer> make_timeline_renderer(std::ostream& out, TimelineOptions options);

// The stable JSON Lines schema (docs/inspect.md), version kJsonlSchemaVersion: one object per
// exchange. As a JSON array instead of lines when `array`. With `full`, the request and
// response messages are included.
inline constexpr int kJsonlSchemaVersion = 1;
std::unique_ptr<Renderer> make_jsonl_renderer(std::ostream& out, bool full, bool array,
                                              bool flush_each);

// One self-contained HTML page with a waterfall per session, written to `path` at finish().
// Keeps at most `max_exchanges` (more are counted and mentioned in the page).
std::unique_ptr<Renderer> make_html_renderer(std::string path, std::ostream& err,
                                             std::vector<std::string> inputs,
                                             std::size_t max_exchanges = 100'000);

// --stats: counts, error rates and exact latency percentiles.
struct Percentiles {
  std::uint64_t count = 0;  // timed exchanges
  std::int64_t p50_us = 0;
  std::int64_t p95_us = 0;
  std::int64_t p99_us = 0;
  std::int64_t max_us = 0;
};
// Nearest-rank percentiles of the durations (sorted in place).
Percentiles percentiles_of(std::vector<std::int64_t>& durations_us);

class StatsCollector {
 public:
  struct Bucket {
    std::uint64_t count = 0;
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;       // JSON-RPC error responses
    std::uint64_t tool_errors = 0;  // result.isError
    std::uint64_t pending = 0;
    std::uint64_t cancelled = 0;
    std::vector<std::int64_t> durations_us;
  };

  void add(const Exchange& exchange);
  void render_text(std::ostream& out, const RunTotals& totals);
  void render_json(std::ostream& out, const RunTotals& totals);

  // Distinct methods, tools and sessions tracked; the rest are counted under "(other)".
  static constexpr std::size_t kMaxNames = 10'000;
  static constexpr std::size_t kMaxSessions = 100'000;

 private:
  Bucket& bucket_for(std::unordered_map<std::string, Bucket>& table, const std::string& name);

  Bucket overall_;
  std::uint64_t notifications_ = 0;
  std::uint64_t orphans_ = 0;
  std::unordered_map<std::string, Bucket> methods_;
  std::unordered_map<std::string, Bucket> tools_;
  std::unordered_map<std::string, std::uint64_t> sessions_;
};

std::unique_ptr<Renderer> make_stats_renderer(std::ostream& out, bool json);

}  // namespace mcpgw::inspect
