// Judges a replayed session against its recording: one ExchangeOutcome per recorded request
// (initialize first, a list chain as one) and per server→client request, with the differences
// that matter (model.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "replay/diff.hpp"
#include "replay/driver.hpp"
#include "replay/model.hpp"
#include "replay/recording.hpp"

namespace mcpgw::replay {

struct CompareOptions {
  DiffOptions diff;  // ignore rules, unordered arrays, bound per exchange
  // --latency-threshold RATIO: latency_regressed when replayed/recorded exceeds it and the
  // replay took at least `latency_floor` longer (sub-millisecond noise is not a regression).
  // Absent: latency is reported but never flagged.
  std::optional<double> latency_threshold;
  std::chrono::microseconds latency_floor{std::chrono::milliseconds(5)};
  std::size_t max_differences_per_exchange = 50;    // more are counted in differences_omitted
  std::size_t max_kept_response_bytes = 64 * 1024;  // recorded/replayed_response are cut beyond
};

// - initialize: the results are diffed (result_changed; serverInfo.version changes included,
//   protocolVersion and capabilities changes as result_changed with a detail saying so).
// - list chains: the items of all pages on each side go to classify_list; other members of the
//   result (nextCursor aside) through diff_json.
// - other requests: error_changed (ErrorChange) when success/error differ (a tool result with
//   isError: true counts as an error) or the error codes differ; otherwise diff_json on the
//   result (or the error's message and data): result_changed per change, not breaking.
// - no answer: target_failed (breaking); never sent: not_replayed (breaking).
// - latency_regressed as CompareOptions says.
// - server→client requests: unmatched ones are server_request_unmatched exchanges (direction
//   server_to_client, not breaking); recorded ones the replay never saw are
//   server_request_missing on a session-level exchange of their own (not breaking).
SessionOutcome compare_session(const RecordedSession& recorded, const ReplayedSession& replayed,
                               const CompareOptions& options);

}  // namespace mcpgw::replay
