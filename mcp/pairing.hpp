// Pairs decoded traffic into exchanges, streaming: events go in in input order, exchanges come
// out as soon as they are complete.
//
// A response pairs with the request of the same id sent in the other direction within the
// same scope (ids repeat across sessions and connections, so never across scopes). Progress
// notifications link to the open request whose params._meta.progressToken they carry, and
// cancellations to the open request whose id they name (which they end as cancelled). Every
// message is read with summarize_message only; a message that does not summarize is a
// Problem and is skipped.
//
// Output order: with `ordered`, exchanges come out in the order their first message was read,
// so a request still waiting for its response holds back what follows, up to max_held_back
// exchanges (then the oldest waiting requests stop holding the rest back and come out when
// they complete). Without it, each exchange comes out the moment it completes. Memory is
// bounded by the pending requests (max_pending_per_scope, max_pending_total) and max_held_back.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "mcp/exchange.hpp"
#include "mcp/message_summary.hpp"
#include "mcp/traffic.hpp"

namespace mcpgw::mcp::traffic {

struct PairerOptions {
  bool ordered = true;
  bool keep_payloads = false;  // keep the raw messages in the exchanges (timeline, html)
  std::size_t max_held_back = 10'000;
  std::size_t max_pending_per_scope = 100'000;
  std::size_t max_pending_total = 1'000'000;
  std::size_t max_linked = 1'000;  // linked notifications kept per exchange; more are counted
};

class Pairer final : public Sink {
 public:
  using ExchangeHandler = std::function<void(Exchange&&)>;
  using ProblemHandler = std::function<void(Problem&&)>;

  Pairer(PairerOptions options, ExchangeHandler on_exchange, ProblemHandler on_problem);

  void on_event(Event&& event) override;
  void on_problem(Problem&& problem) override;
  void on_summarized_event(Event&& event, MessageSummary&& summary) override;

  // End of input: every request still waiting comes out as pending, in order.
  void finish();

  // For --follow: when the oldest waiting request has held the output back for longer than
  // `limit` (measured from `now`, a steady clock), stop waiting for it so what follows comes
  // out. Call it regularly while waiting for input.
  void release_stalled(std::chrono::steady_clock::time_point now,
                       std::chrono::steady_clock::duration limit);

  std::size_t pending() const { return pending_total_; }
  std::uint64_t messages() const { return next_position_; }

 private:
  struct Open {
    // A constructor, not an aggregate: map::emplace builds it in place with parentheses, which
    // clang 14 (the fuzz build) does not accept for aggregates.
    Open(Exchange&& held, bool done) : exchange(std::move(held)), complete(done) {}
    Exchange exchange;
    bool complete = false;
  };
  struct DirectionIndex {
    std::unordered_map<std::string, std::uint64_t> by_id;     // request id -> position
    std::unordered_map<std::string, std::uint64_t> by_token;  // progress token -> position
  };
  struct ScopeState {
    DirectionIndex index[2];  // by the direction of the request
    std::size_t pending = 0;
  };

  void on_request(Event&& event, MessageSummary&& summary, std::uint64_t position);
  void on_notification(Event&& event, MessageSummary&& summary, std::uint64_t position);
  void on_response(Event&& event, MessageSummary&& summary, std::uint64_t position);

  Exchange* find_open(std::uint64_t position);
  // Removes a pending request from the indexes and hands it to the output.
  void complete(std::uint64_t position);
  void forget_pending(const Exchange& exchange);
  void add_complete(Exchange&& exchange);
  void add_pending(Exchange&& exchange);
  void drain();
  void bound_held_back();
  void link(Exchange& parent, Event&& event, std::string&& method);
  void emit(Exchange&& exchange);

  PairerOptions options_;
  ExchangeHandler on_exchange_;
  ProblemHandler on_problem_;
  std::uint64_t next_position_ = 0;
  std::size_t pending_total_ = 0;
  std::unordered_map<std::string, ScopeState> scopes_;
  std::map<std::uint64_t, Open> open_;                    // in output order
  std::unordered_map<std::uint64_t, Exchange> detached_;  // pending, no longer holding back
  std::optional<std::uint64_t> blocked_position_;
  std::chrono::steady_clock::time_point blocked_since_;
};

}  // namespace mcpgw::mcp::traffic
