// Shared by the decoder unit tests: a sink that keeps what a decoder reports, and helpers that
// feed an input whole or split at every position.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mcp/traffic.hpp"

namespace mcpgw::mcp::traffic::testing {

class CollectingSink final : public Sink {
 public:
  void on_event(Event&& event) override { events.push_back(std::move(event)); }
  void on_problem(Problem&& problem) override { problems.push_back(std::move(problem)); }

  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (const auto& event : events) {
      out.push_back(event.message);
    }
    return out;
  }
  std::vector<std::string> problem_texts() const {
    std::vector<std::string> out;
    for (const auto& problem : problems) {
      out.push_back(describe(problem));
    }
    return out;
  }

  std::vector<Event> events;
  std::vector<Problem> problems;
};

// Feeds `input` in pieces cut at `cuts` (ascending positions), then finishes.
inline void feed_split(Decoder& decoder, std::string_view input,
                       const std::vector<std::size_t>& cuts, Sink& sink) {
  std::size_t start = 0;
  for (const std::size_t cut : cuts) {
    decoder.feed(input.substr(start, cut - start), sink);
    start = cut;
  }
  decoder.feed(input.substr(start), sink);
  decoder.finish(sink);
}

// A comparable digest of everything a decoder reported.
inline std::string digest(const CollectingSink& sink) {
  std::string out;
  for (const auto& event : sink.events) {
    out += std::string(to_string(event.direction)) + " " + event.scope + " " + event.session + " " +
           event.sse_event_id + " " + std::to_string(event.where.line) + " " +
           std::to_string(event.time_us.value_or(-1)) + " " + event.message + "\n";
  }
  for (const auto& problem : sink.problems) {
    out += describe(problem) + "\n";
  }
  return out;
}

}  // namespace mcpgw::mcp::traffic::testing
