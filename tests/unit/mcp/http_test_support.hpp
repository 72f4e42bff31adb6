// Shared by the HTTP, transcript, TCP and pcap decoder tests: a Sink that keeps everything.
#pragma once

#include <string>
#include <vector>

#include "mcp/traffic.hpp"

namespace mcpgw::mcp::testing {

class CollectingSink final : public traffic::Sink {
 public:
  void on_event(traffic::Event&& event) override { events.push_back(std::move(event)); }
  void on_problem(traffic::Problem&& problem) override { problems.push_back(std::move(problem)); }

  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (const auto& event : events) {
      out.push_back(event.message);
    }
    return out;
  }
  std::string problem_text() const {
    std::string out;
    for (const auto& problem : problems) {
      out += "@" + std::to_string(problem.where.offset) + ": " + problem.message + "\n";
    }
    return out;
  }

  std::vector<traffic::Event> events;
  std::vector<traffic::Problem> problems;
};

}  // namespace mcpgw::mcp::testing
