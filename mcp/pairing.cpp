#include "mcp/pairing.hpp"

#include <tuple>
#include <utility>

namespace mcpgw::mcp::traffic {
namespace {

// Scopes kept with nothing pending (see forget_pending); more are erased as they fall idle.
constexpr std::size_t kMaxIdleScopes = 64;

std::size_t index_of(Direction direction) {
  return direction == Direction::client_to_server ? 0 : 1;
}

Direction opposite(Direction direction) {
  return direction == Direction::client_to_server ? Direction::server_to_client
                                                  : Direction::client_to_server;
}

int http_status_of(const Event& event) {
  return event.http ? event.http->status : 0;
}

}  // namespace

std::string_view to_string(ExchangeKind kind) {
  return kind == ExchangeKind::request ? "request" : "notification";
}

std::string_view to_string(Status status) {
  switch (status) {
    case Status::ok:
      return "ok";
    case Status::error:
      return "error";
    case Status::pending:
      return "pending";
    case Status::cancelled:
      return "cancelled";
  }
  return "pending";
}

bool is_server_to_client_method(std::string_view method) {
  return method == "sampling/createMessage" || method == "elicitation/create" ||
         method == "roots/list" || method == "ping";
}

Pairer::Pairer(PairerOptions options, ExchangeHandler on_exchange, ProblemHandler on_problem)
    : options_(options), on_exchange_(std::move(on_exchange)), on_problem_(std::move(on_problem)) {}

void Pairer::on_problem(Problem&& problem) {
  on_problem_(std::move(problem));
}

void Pairer::on_event(Event&& event) {
  SummaryError error;
  auto summary = summarize_message(event.message, &error);
  if (!summary) {
    ++next_position_;
    on_problem_({std::move(event.where), "not a JSON-RPC message: " + error.message + " (at byte " +
                                             std::to_string(error.offset) + " of the message)"});
    return;
  }
  on_summarized_event(std::move(event), std::move(*summary));
}

void Pairer::on_summarized_event(Event&& event, MessageSummary&& summary) {
  const std::uint64_t position = next_position_++;
  switch (summary.kind) {
    case SummaryKind::request:
      on_request(std::move(event), std::move(summary), position);
      break;
    case SummaryKind::notification:
      on_notification(std::move(event), std::move(summary), position);
      break;
    case SummaryKind::response:
    case SummaryKind::error_response:
      on_response(std::move(event), std::move(summary), position);
      break;
  }
}

void Pairer::on_request(Event&& event, MessageSummary&& summary, std::uint64_t position) {
  Exchange exchange;
  exchange.position = position;
  exchange.end_position = position;
  exchange.kind = ExchangeKind::request;
  exchange.direction = event.direction;
  exchange.leg = event.leg;
  exchange.transport = event.transport;
  exchange.method = std::move(summary.method);
  exchange.id = std::move(summary.id);
  exchange.target = std::move(summary.target);
  exchange.protocol_version = std::move(summary.protocol_version);
  exchange.progress_token = std::move(summary.progress_token);
  exchange.scope = std::move(event.scope);
  exchange.session = std::move(event.session);
  exchange.backend = std::move(event.backend);
  exchange.http_status = http_status_of(event);
  exchange.started_us = event.time_us;
  exchange.request_where = std::move(event.where);
  if (options_.keep_payloads)
    exchange.request_message = std::move(event.message);

  auto& scope = scopes_[exchange.scope];
  auto& index = scope.index[index_of(exchange.direction)];
  // An id reused while its first request is still waiting: the first one will never be
  // answered as far as anyone can tell, so it comes out as pending now.
  if (const auto reused = index.by_id.find(exchange.id); reused != index.by_id.end())
    complete(reused->second);

  auto& current = scopes_[exchange.scope];  // complete() may have erased the scope
  if (current.pending >= options_.max_pending_per_scope ||
      pending_total_ >= options_.max_pending_total) {
    on_problem_({exchange.request_where, "too many requests waiting for a response (" +
                                             std::to_string(current.pending) + " in this scope, " +
                                             std::to_string(pending_total_) +
                                             " in all); this one is not paired"});
    if (current.pending == 0)
      scopes_.erase(exchange.scope);
    add_complete(std::move(exchange));
    return;
  }
  auto& current_index = current.index[index_of(exchange.direction)];
  current_index.by_id.emplace(exchange.id, position);
  if (!exchange.progress_token.empty())
    current_index.by_token.insert_or_assign(exchange.progress_token, position);
  ++current.pending;
  ++pending_total_;
  add_pending(std::move(exchange));
}

void Pairer::on_notification(Event&& event, MessageSummary&& summary, std::uint64_t position) {
  const bool progress = summary.method == "notifications/progress";
  const bool cancelled = summary.method == "notifications/cancelled";
  if (progress || cancelled) {
    const auto scope = scopes_.find(event.scope);
    if (scope != scopes_.end()) {
      // Progress comes from the receiver of the request; a cancellation from its sender.
      const Direction request_direction = progress ? opposite(event.direction) : event.direction;
      const auto& index = scope->second.index[index_of(request_direction)];
      const auto& table = progress ? index.by_token : index.by_id;
      const auto found = table.find(progress ? summary.progress_token : summary.cancelled_id);
      if (found != table.end()) {
        const std::uint64_t parent_position = found->second;
        if (Exchange* parent = find_open(parent_position)) {
          const auto time_us = event.time_us;
          link(*parent, std::move(event), std::move(summary.method));
          if (cancelled) {
            parent->status = Status::cancelled;
            parent->ended_us = time_us;
            complete(parent_position);
          }
          return;
        }
      }
    }
  }
  Exchange exchange;
  exchange.position = position;
  exchange.end_position = position;
  exchange.kind = ExchangeKind::notification;
  exchange.direction = event.direction;
  exchange.leg = event.leg;
  exchange.transport = event.transport;
  exchange.method = std::move(summary.method);
  exchange.progress_token = std::move(summary.progress_token);
  exchange.related_id = std::move(summary.cancelled_id);
  exchange.scope = std::move(event.scope);
  exchange.session = std::move(event.session);
  exchange.backend = std::move(event.backend);
  exchange.http_status = http_status_of(event);
  exchange.started_us = event.time_us;
  exchange.status = Status::ok;
  exchange.request_where = std::move(event.where);
  if (options_.keep_payloads)
    exchange.request_message = std::move(event.message);
  add_complete(std::move(exchange));
}

void Pairer::on_response(Event&& event, MessageSummary&& summary, std::uint64_t position) {
  const bool is_error = summary.kind == SummaryKind::error_response;
  Exchange* request = nullptr;
  std::uint64_t request_position = 0;
  if (!summary.id.empty()) {
    const auto scope = scopes_.find(event.scope);
    if (scope != scopes_.end()) {
      const auto& index = scope->second.index[index_of(opposite(event.direction))];
      const auto found = index.by_id.find(summary.id);
      if (found != index.by_id.end()) {
        request_position = found->second;
        request = find_open(request_position);
      }
    }
  }
  Exchange orphan;
  Exchange& exchange = request != nullptr ? *request : orphan;
  if (request == nullptr) {
    orphan.position = position;
    orphan.kind = ExchangeKind::request;
    orphan.orphan = true;
    orphan.direction = opposite(event.direction);
    orphan.leg = event.leg;
    orphan.transport = event.transport;
    orphan.id = std::move(summary.id);
    orphan.scope = std::move(event.scope);
    orphan.request_where = event.where;  // the response is all there is
  }
  if (exchange.session.empty())
    exchange.session = std::move(event.session);
  if (exchange.backend.empty())
    exchange.backend = std::move(event.backend);
  if (event.http && event.http->status != 0)
    exchange.http_status = event.http->status;
  exchange.ended_us = event.time_us;
  exchange.end_position = position;
  exchange.status = is_error ? Status::error : Status::ok;
  exchange.error_code = summary.error_code;
  exchange.error_message = std::move(summary.error_message);
  exchange.tool_error = summary.tool_error;
  if (!summary.protocol_version.empty())
    exchange.protocol_version = std::move(summary.protocol_version);
  exchange.response_where = std::move(event.where);
  if (options_.keep_payloads)
    exchange.response_message = std::move(event.message);
  if (request != nullptr) {
    complete(request_position);
  } else {
    add_complete(std::move(orphan));
  }
}

Exchange* Pairer::find_open(std::uint64_t position) {
  if (const auto found = open_.find(position); found != open_.end())
    return &found->second.exchange;
  if (const auto found = detached_.find(position); found != detached_.end())
    return &found->second;
  return nullptr;
}

void Pairer::forget_pending(const Exchange& exchange) {
  const auto scope = scopes_.find(exchange.scope);
  if (scope == scopes_.end())
    return;
  auto& index = scope->second.index[index_of(exchange.direction)];
  if (const auto found = index.by_id.find(exchange.id);
      found != index.by_id.end() && found->second == exchange.position) {
    index.by_id.erase(found);
    --scope->second.pending;
    --pending_total_;
  }
  if (!exchange.progress_token.empty()) {
    if (const auto found = index.by_token.find(exchange.progress_token);
        found != index.by_token.end() && found->second == exchange.position) {
      index.by_token.erase(found);
    }
  }
  // A scope that waits for nothing is kept while there are few scopes: in a conversation of
  // one request at a time each request would otherwise build and tear down its scope's
  // indexes. Many scopes (a pcap of many connections) are still dropped as they fall idle.
  if (scope->second.pending == 0 && scopes_.size() > kMaxIdleScopes)
    scopes_.erase(scope);
}

void Pairer::complete(std::uint64_t position) {
  if (const auto found = detached_.find(position); found != detached_.end()) {
    forget_pending(found->second);
    auto node = detached_.extract(found);
    emit(std::move(node.mapped()));
    return;
  }
  const auto found = open_.find(position);
  if (found == open_.end())
    return;
  forget_pending(found->second.exchange);
  found->second.complete = true;
  if (!options_.ordered || found == open_.begin()) {
    // Extracted, not copied out: an exchange is large and is moved only where it must be.
    auto node = open_.extract(found);
    emit(std::move(node.mapped().exchange));
    drain();
  }
}

void Pairer::add_complete(Exchange&& exchange) {
  if (!options_.ordered || open_.empty()) {
    emit(std::move(exchange));
    return;
  }
  const std::uint64_t position = exchange.position;
  open_.emplace(std::piecewise_construct, std::forward_as_tuple(position),
                std::forward_as_tuple(std::move(exchange), true));
  bound_held_back();
}

void Pairer::add_pending(Exchange&& exchange) {
  const std::uint64_t position = exchange.position;
  if (!options_.ordered) {
    detached_.emplace(position, std::move(exchange));
    return;
  }
  const bool first = open_.empty();
  open_.emplace(std::piecewise_construct, std::forward_as_tuple(position),
                std::forward_as_tuple(std::move(exchange), false));
  if (first) {
    blocked_position_ = position;
    blocked_since_ = std::chrono::steady_clock::now();
  }
  bound_held_back();
}

void Pairer::drain() {
  while (!open_.empty() && open_.begin()->second.complete) {
    auto node = open_.extract(open_.begin());
    emit(std::move(node.mapped().exchange));
  }
  if (!open_.empty() && blocked_position_ != open_.begin()->first) {
    blocked_position_ = open_.begin()->first;
    blocked_since_ = std::chrono::steady_clock::now();
  }
}

void Pairer::bound_held_back() {
  while (open_.size() > options_.max_held_back && !open_.begin()->second.complete) {
    auto node = open_.extract(open_.begin());
    detached_.emplace(node.key(), std::move(node.mapped().exchange));
    drain();
  }
}

void Pairer::release_stalled(std::chrono::steady_clock::time_point now,
                             std::chrono::steady_clock::duration limit) {
  if (open_.empty() || open_.begin()->second.complete)
    return;
  if (blocked_position_ != open_.begin()->first || now - blocked_since_ < limit)
    return;
  auto node = open_.extract(open_.begin());
  detached_.emplace(node.key(), std::move(node.mapped().exchange));
  drain();
}

void Pairer::link(Exchange& parent, Event&& event, std::string&& method) {
  if (parent.linked.size() >= options_.max_linked) {
    ++parent.linked_omitted;
    return;
  }
  LinkedNotification linked;
  linked.method = std::move(method);
  linked.direction = event.direction;
  linked.time_us = event.time_us;
  if (options_.keep_payloads)
    linked.message = std::move(event.message);
  linked.where = std::move(event.where);
  parent.linked.push_back(std::move(linked));
}

void Pairer::finish() {
  // Waiting requests in input order, whether they still hold the output back or not.
  std::map<std::uint64_t, Exchange> waiting;
  for (auto& [position, exchange] : detached_)
    waiting.emplace(position, std::move(exchange));
  detached_.clear();
  for (auto& [position, open] : open_) {
    if (!open.complete)
      open.complete = true;
  }
  // Everything left in open_ comes out in order; detached ones go where they belong.
  while (!open_.empty() || !waiting.empty()) {
    const bool from_open =
        waiting.empty() || (!open_.empty() && open_.begin()->first < waiting.begin()->first);
    if (from_open) {
      Exchange exchange = std::move(open_.begin()->second.exchange);
      open_.erase(open_.begin());
      emit(std::move(exchange));
    } else {
      Exchange exchange = std::move(waiting.begin()->second);
      waiting.erase(waiting.begin());
      emit(std::move(exchange));
    }
  }
  scopes_.clear();
  pending_total_ = 0;
  blocked_position_.reset();
}

void Pairer::emit(Exchange&& exchange) {
  on_exchange_(std::move(exchange));
}

}  // namespace mcpgw::mcp::traffic
