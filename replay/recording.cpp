#include "replay/recording.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <queue>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <nlohmann/json.hpp>

#include "mcp/glob.hpp"
#include "mcp/pairing.hpp"

namespace mcpgw::replay {
namespace {

using mcp::traffic::Direction;
using mcp::traffic::Event;
using mcp::traffic::Exchange;
using mcp::traffic::ExchangeKind;
using mcp::traffic::Format;
using mcp::traffic::Leg;
using mcp::traffic::Problem;
using mcp::traffic::Status;
using mcp::traffic::Where;

constexpr std::size_t kMaxListedNames = 10;
// Distinct backend names remembered for error messages; hostile input cannot grow it further.
constexpr std::size_t kMaxRememberedBackends = 1000;

bool is_list_method(std::string_view method) {
  return method == "tools/list" || method == "prompts/list" || method == "resources/list" ||
         method == "resources/templates/list";
}

// A large array that is about to be written in full: its fresh pages are made present in one
// call instead of one page fault each (a fault costs microseconds in a VM). Best effort; below
// 1 MiB the array comes from pages the allocator already has and this would not pay.
void prefault(void* data, std::size_t bytes) {
#ifdef MADV_POPULATE_WRITE
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (page_size <= 0 || bytes < (std::size_t{1} << 20))
    return;
  const auto page = static_cast<std::uintptr_t>(page_size);
  const auto start = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (start + page - 1) & ~(page - 1);
  const std::uintptr_t last = (start + bytes) & ~(page - 1);
  if (last > first)
    ::madvise(reinterpret_cast<void*>(first), last - first, MADV_POPULATE_WRITE);
#else
  static_cast<void>(data);
  static_cast<void>(bytes);
#endif
}

std::string describe_id(const std::string& id) {
  return id.empty() ? std::string("null") : id;
}

// One member of a JSON-RPC message, as compact JSON text; nullopt when the message does not
// parse or has no such member. Only list pages and cancellations are read this way.
std::optional<std::string> member_text(const std::string& message, std::string_view object,
                                       std::string_view member) {
  if (message.empty())
    return std::nullopt;
  const auto json = nlohmann::json::parse(message, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    return std::nullopt;
  const auto outer = json.find(object);
  if (outer == json.end() || !outer->is_object())
    return std::nullopt;
  const auto inner = outer->find(member);
  if (inner == outer->end())
    return std::nullopt;
  return inner->dump();
}

std::string cancel_reason_of(const std::string& message) {
  if (message.empty())
    return {};
  const auto json = nlohmann::json::parse(message, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    return {};
  const auto params = json.find("params");
  if (params == json.end() || !params->is_object())
    return {};
  const auto reason = params->find("reason");
  if (reason == params->end() || !reason->is_string())
    return {};
  return reason->get<std::string>();
}

std::string list_names(const std::vector<std::string>& names, std::size_t total) {
  std::string text;
  for (const auto& name : names)
    text += (text.empty() ? "" : ", ") + name;
  if (total > names.size())
    text += " and " + std::to_string(total - names.size()) + " more";
  return text;
}

bool session_selected(const std::vector<std::string>& patterns, const std::string& id) {
  if (patterns.empty())
    return true;
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
    if (pattern.find('*') != std::string::npos)
      return mcp::glob_match(pattern, id);
    return id.compare(0, pattern.size(), pattern) == 0;
  });
}

// Counts what each input holds, for the message when nothing can be replayed.
class CountingSink final : public mcp::traffic::Sink {
 public:
  explicit CountingSink(mcp::traffic::Sink& next) : next_(next) {}
  void on_event(Event&& event) override {
    count(event);
    next_.on_event(std::move(event));
  }
  void on_summarized_event(Event&& event, mcp::MessageSummary&& summary) override {
    count(event);
    next_.on_summarized_event(std::move(event), std::move(summary));
  }
  void on_problem(Problem&& problem) override { next_.on_problem(std::move(problem)); }

  std::uint64_t client_messages = 0;
  std::uint64_t server_messages = 0;

 private:
  void count(const Event& event) {
    if (event.direction == Direction::client_to_server) {
      ++client_messages;
    } else {
      ++server_messages;
    }
  }

  mcp::traffic::Sink& next_;
};

// A session being collected: the exchanges it needs, in the order the Pairer gave them. A
// deque, not a vector: exchanges are large, and a growing vector would move every one of them
// again at each reallocation and touch twice their memory.
struct Collected {
  RecordedSession session;
  std::deque<Exchange> exchanges;
  std::uint64_t first_position = 0;
  std::optional<std::int64_t> first_time_us;
};

// Exchanges in, sessions out. Keeps only what a session needs: server notifications, pings,
// notifications/initialized, unselected sessions and legs are dropped as they arrive.
class SessionCollector {
 public:
  explicit SessionCollector(const LoadOptions& options) : options_(options) {}

  void add(Exchange&& exchange);
  std::vector<RecordedSession> finish();

  bool saw_anything() const { return exchanges_seen_ > 0; }
  bool saw_client_leg() const { return saw_client_leg_; }
  bool saw_backend_leg() const { return saw_backend_leg_; }
  const std::vector<std::string>& backends() const { return backends_; }
  bool leg_matched() const { return leg_matched_; }
  // Sessions on the chosen leg, before --session: the first few ids and how many in all.
  const std::vector<std::string>& candidate_ids() const { return candidate_ids_; }
  std::size_t candidate_count() const { return candidate_set_.size(); }
  bool selection_matched() const { return selection_matched_; }

 private:
  bool leg_wanted(const Exchange& exchange);
  static bool needed(const Exchange& exchange);
  RecordedSession build(Collected&& collected) const;

  const LoadOptions& options_;
  std::uint64_t exchanges_seen_ = 0;
  bool saw_client_leg_ = false;
  bool saw_backend_leg_ = false;
  bool leg_matched_ = false;
  bool selection_matched_ = false;
  std::vector<std::string> backends_;
  std::vector<std::string> candidate_ids_;
  std::unordered_set<std::string> candidate_set_;
  std::unordered_map<std::string, std::size_t> index_;  // session key -> collected_
  std::vector<Collected> collected_;
};

bool SessionCollector::leg_wanted(const Exchange& exchange) {
  switch (options_.leg) {
    case LegChoice::client:
      return exchange.leg == Leg::client;
    case LegChoice::backend:
      return exchange.leg == Leg::backend &&
             (options_.backend.empty() || exchange.backend == options_.backend);
    case LegChoice::automatic:
      break;
  }
  if (exchange.leg == Leg::client) {
    if (!saw_client_leg_) {
      // From now on only the client leg counts; nothing kept so far was on it.
      collected_.clear();
      index_.clear();
      candidate_ids_.clear();
      candidate_set_.clear();
      selection_matched_ = false;
    }
    return true;
  }
  return !saw_client_leg_;
}

// What a session needs beyond the bookkeeping: the client's requests and notifications, the
// server's requests (not pings), and responses whose request is missing (for notes and for
// client replies recorded in another file than the server's requests).
bool SessionCollector::needed(const Exchange& exchange) {
  if (exchange.orphan)
    return true;
  if (exchange.kind == ExchangeKind::notification)
    return exchange.direction == Direction::client_to_server &&
           exchange.method != "notifications/initialized";
  return exchange.method != "ping";
}

void SessionCollector::add(Exchange&& exchange) {
  ++exchanges_seen_;
  if (exchange.leg == Leg::backend) {
    saw_backend_leg_ = true;
    if (backends_.size() < kMaxRememberedBackends &&
        std::find(backends_.begin(), backends_.end(), exchange.backend) == backends_.end())
      backends_.push_back(exchange.backend);
  }
  const bool wanted = leg_wanted(exchange);
  if (exchange.leg == Leg::client)
    saw_client_leg_ = true;
  if (!wanted)
    return;
  leg_matched_ = true;
  const std::string& id = exchange.session_or_scope();
  if (candidate_set_.insert(id).second && candidate_ids_.size() < kMaxListedNames)
    candidate_ids_.push_back(id);
  if (!session_selected(options_.sessions, id))
    return;
  selection_matched_ = true;

  std::string key(mcp::traffic::to_string(exchange.leg));
  key += '\n';
  key += exchange.backend;
  key += '\n';
  key += id;
  auto [found, inserted] = index_.try_emplace(std::move(key), collected_.size());
  if (inserted) {
    Collected collected;
    collected.session.id = id;
    collected.session.leg = exchange.leg;
    collected.session.backend = exchange.backend;
    collected.first_position = exchange.position;
    collected_.push_back(std::move(collected));
  }
  Collected& collected = collected_[found->second];
  collected.first_position = std::min(collected.first_position, exchange.position);
  if (exchange.started_us &&
      (!collected.first_time_us || *exchange.started_us < *collected.first_time_us))
    collected.first_time_us = exchange.started_us;
  if (!needed(exchange))
    return;
  for (const auto* where :
       {&exchange.request_where, exchange.response_where ? &*exchange.response_where : nullptr}) {
    if (where == nullptr)
      continue;
    auto& sources = collected.session.sources;
    if (std::find(sources.begin(), sources.end(), where->source) == sources.end())
      sources.push_back(where->source);
  }
  // Only the id of a response without its request is reported, and only the id a lone
  // cancellation names.
  if (exchange.orphan && exchange.direction == Direction::client_to_server)
    std::string().swap(exchange.response_message);
  if (exchange.kind == ExchangeKind::notification && exchange.method == "notifications/cancelled")
    std::string().swap(exchange.request_message);
  // Progress notifications are shown, never re-sent: their text is not needed.
  for (auto& linked : exchange.linked) {
    if (linked.method != "notifications/cancelled")
      std::string().swap(linked.message);
  }
  collected.exchanges.push_back(std::move(exchange));
}

std::vector<RecordedSession> SessionCollector::finish() {
  std::sort(collected_.begin(), collected_.end(), [](const Collected& a, const Collected& b) {
    return a.first_position < b.first_position;
  });
  std::vector<RecordedSession> sessions;
  for (auto& collected : collected_) {
    RecordedSession session = build(std::move(collected));
    if (session.initialize || !session.steps.empty())
      sessions.push_back(std::move(session));
  }
  collected_.clear();
  index_.clear();
  return sessions;
}

// The position after which the recorded client had the step's answer; nullopt when it never
// had one (pending, cancelled). A list chain is answered with its last page.
std::optional<std::uint64_t> answered_at(const RecordedStep& step) {
  const Exchange& last = step.later_pages.empty() ? step.exchange : step.later_pages.back();
  if (!step.is_request() || (last.status != Status::ok && last.status != Status::error))
    return std::nullopt;
  return last.end_position;
}

// Requests and answers recorded in different files (stdio, one file per direction) have
// positions that say nothing about which came first across the files.
bool answered_in_other_input(const RecordedStep& step) {
  const Exchange& last = step.later_pages.empty() ? step.exchange : step.later_pages.back();
  return last.response_where && last.response_where->source != last.request_where.source;
}

RecordedSession SessionCollector::build(Collected&& collected) const {
  RecordedSession session = std::move(collected.session);
  auto& exchanges = collected.exchanges;
  // The ordered Pairer mostly emits in position order already; exchanges are large, so they
  // are only moved when they are not.
  const auto by_position = [](const Exchange& a, const Exchange& b) {
    return a.position < b.position;
  };
  if (!std::is_sorted(exchanges.begin(), exchanges.end(), by_position))
    std::stable_sort(exchanges.begin(), exchanges.end(), by_position);
  session.steps.reserve(exchanges.size());
  prefault(session.steps.data(), exchanges.size() * sizeof(RecordedStep));

  // Open list chains: (method, the last page's nextCursor) -> step.
  std::map<std::pair<std::string, std::string>, std::size_t> chains;
  // The latest client request step of each id: lone cancellations and late responses are
  // explained with it. Few recordings have any, so the index is built only when one comes, and
  // from then on kept up to date with the steps added since.
  std::unordered_map<std::string, std::size_t> requests_by_id;  // -> steps
  std::size_t indexed_steps = 0;
  const auto latest_request = [&](const std::string& id) -> const RecordedStep* {
    for (; indexed_steps < session.steps.size(); ++indexed_steps) {
      if (session.steps[indexed_steps].is_request())
        requests_by_id.insert_or_assign(session.steps[indexed_steps].exchange.id, indexed_steps);
    }
    const auto found = requests_by_id.find(id);
    return found == requests_by_id.end() ? nullptr : &session.steps[found->second];
  };
  std::vector<Exchange> client_replies;  // responses from the client without a server request
  const auto offset_of = [&](const Exchange& exchange) -> std::optional<std::int64_t> {
    if (!exchange.started_us || !collected.first_time_us)
      return std::nullopt;
    return *exchange.started_us - *collected.first_time_us;
  };

  for (auto& exchange : exchanges) {
    if (exchange.orphan) {
      if (exchange.direction == Direction::server_to_client) {
        client_replies.push_back(std::move(exchange));
        continue;
      }
      if (exchange.id.empty()) {
        std::string error;
        if (exchange.error_code)
          error = " (" + std::to_string(*exchange.error_code) + " " + exchange.error_message + ")";
        session.notes.push_back("error response without a request id at " +
                                mcp::traffic::describe(exchange.request_where) +
                                " left out: it answers no request" + error);
        continue;
      }
      const RecordedStep* request = latest_request(exchange.id);
      if (request != nullptr && request->exchange.status == Status::cancelled) {
        session.notes.push_back("response to request " + describe_id(exchange.id) + " at " +
                                mcp::traffic::describe(exchange.request_where) +
                                " left out: it came after the recorded client cancelled that "
                                "request");
      } else {
        session.notes.push_back("response to request " + describe_id(exchange.id) + " at " +
                                mcp::traffic::describe(exchange.request_where) +
                                " left out: its request is not in the recording");
      }
      continue;
    }
    if (exchange.direction == Direction::server_to_client) {
      if (exchange.kind == ExchangeKind::request)
        session.server_requests.emplace_back().exchange = std::move(exchange);
      continue;
    }
    if (exchange.kind == ExchangeKind::notification) {
      if (exchange.method == "notifications/cancelled") {
        const RecordedStep* request = latest_request(exchange.related_id);
        const std::string named = describe_id(exchange.related_id);
        if (request != nullptr) {
          const bool cancelled = request->exchange.status == Status::cancelled;
          session.notes.push_back(
              "notifications/cancelled at " + mcp::traffic::describe(exchange.request_where) +
              " left out: request " + named +
              (cancelled ? " had already been cancelled" : " had already been answered"));
        } else {
          session.notes.push_back("notifications/cancelled at " +
                                  mcp::traffic::describe(exchange.request_where) +
                                  " left out: request " + named + " is not in the recording");
        }
        continue;
      }
      // Built in place: a step is moved no more than its exchange must be.
      RecordedStep& step = session.steps.emplace_back();
      step.offset_us = offset_of(exchange);
      step.exchange = std::move(exchange);
      continue;
    }
    if (exchange.method == "initialize") {
      if (session.initialize) {
        session.notes.push_back("initialize at " + mcp::traffic::describe(exchange.request_where) +
                                " left out: the session was initialized at " +
                                mcp::traffic::describe(session.initialize->request_where));
      } else {
        session.initialize = std::move(exchange);
      }
      continue;
    }
    std::optional<std::string> next_cursor;
    if (is_list_method(exchange.method) && exchange.status == Status::ok)
      next_cursor = member_text(exchange.response_message, "result", "nextCursor");
    if (is_list_method(exchange.method)) {
      if (const auto cursor = member_text(exchange.request_message, "params", "cursor")) {
        const auto chain = chains.find({exchange.method, *cursor});
        if (chain != chains.end()) {
          const std::size_t index = chain->second;
          chains.erase(chain);
          if (next_cursor)
            chains.insert_or_assign({exchange.method, *next_cursor}, index);
          session.steps[index].later_pages.push_back(std::move(exchange));
          continue;
        }
      }
    }
    const std::size_t step_index = session.steps.size();
    RecordedStep& step = session.steps.emplace_back();
    step.offset_us = offset_of(exchange);
    if (exchange.status == Status::cancelled) {
      step.cancelled = true;
      for (const auto& linked : exchange.linked) {
        if (linked.method != "notifications/cancelled" ||
            linked.direction != Direction::client_to_server)
          continue;
        if (linked.time_us && exchange.started_us)
          step.cancel_after_us = *linked.time_us - *exchange.started_us;
        step.cancel_reason = cancel_reason_of(linked.message);
        break;
      }
    }
    if (next_cursor)
      chains.insert_or_assign({exchange.method, *next_cursor}, step_index);
    step.exchange = std::move(exchange);
  }

  // Client replies recorded in another file than the server requests they answer (stdio, one
  // file per direction): the Pairer saw the reply first. Pair them by id, earliest first.
  std::vector<bool> reply_used(client_replies.size(), false);
  for (auto& request : session.server_requests) {
    Exchange& exchange = request.exchange;
    if (exchange.status != Status::pending)
      continue;
    for (std::size_t i = 0; i < client_replies.size(); ++i) {
      const Exchange& reply = client_replies[i];
      if (reply_used[i] || reply.id != exchange.id ||
          reply.request_where.source == exchange.request_where.source)
        continue;
      reply_used[i] = true;
      exchange.status = reply.status;
      exchange.error_code = reply.error_code;
      exchange.error_message = reply.error_message;
      exchange.ended_us = reply.ended_us;
      exchange.response_message = reply.response_message;
      exchange.response_where = reply.request_where;
      break;
    }
  }
  for (std::size_t i = 0; i < client_replies.size(); ++i) {
    if (!reply_used[i]) {
      session.notes.push_back("client reply to request " + describe_id(client_replies[i].id) +
                              " at " + mcp::traffic::describe(client_replies[i].request_where) +
                              " left out: the server's request is not in the recording");
    }
  }

  // after: each answer belongs to the first step sent after it arrived.
  std::vector<std::uint64_t> positions;
  positions.reserve(session.steps.size());
  for (const auto& step : session.steps)
    positions.push_back(step.exchange.position);
  bool split_inputs = false;
  for (std::size_t index = 0; index < session.steps.size(); ++index) {
    const auto end = answered_at(session.steps[index]);
    if (!end)
      continue;
    std::size_t next = index + 1;
    if (answered_in_other_input(session.steps[index])) {
      split_inputs = true;
    } else {
      next = static_cast<std::size_t>(std::upper_bound(positions.begin(), positions.end(), *end) -
                                      positions.begin());
    }
    if (next < session.steps.size())
      session.steps[next].after.push_back(index);
  }
  for (auto& step : session.steps)
    std::sort(step.after.begin(), step.after.end());
  if (split_inputs) {
    session.notes.push_back(
        "requests and their answers come from different inputs: each request is replayed "
        "after the answers to the requests before it");
  }

  if (split_inputs) {
    // Sent in one file and asked in another: which requests were sent before a server request
    // is unknown, but the client is taken to wait for each answer (as `after` says above), so
    // the step in flight is the first one not answered before the server request.
    std::size_t step = 0;
    for (auto& request : session.server_requests) {
      const std::uint64_t position = request.exchange.position;
      while (step < session.steps.size()) {
        const auto end = answered_at(session.steps[step]);
        if (session.steps[step].is_request() && (!end || *end > position))
          break;
        ++step;
      }
      if (step < session.steps.size())
        request.during_step = step;
    }
    return session;
  }

  // during_step: the latest request step sent before the server request and not yet answered.
  std::set<std::size_t> in_flight;
  using Ending = std::pair<std::uint64_t, std::size_t>;  // (answer position, step)
  std::priority_queue<Ending, std::vector<Ending>, std::greater<>> endings;
  std::size_t next_step = 0;
  for (auto& request : session.server_requests) {
    const std::uint64_t position = request.exchange.position;
    while (next_step < session.steps.size() && positions[next_step] < position) {
      if (session.steps[next_step].is_request()) {
        in_flight.insert(next_step);
        if (const auto end = answered_at(session.steps[next_step]))
          endings.emplace(*end, next_step);
      }
      ++next_step;
    }
    while (!endings.empty() && endings.top().first < position) {
      in_flight.erase(endings.top().second);
      endings.pop();
    }
    if (!in_flight.empty())
      request.during_step = *in_flight.rbegin();
  }
  return session;
}

// What an input held, for the message when nothing could be replayed.
struct InputSummary {
  std::string path;
  std::optional<Format> format;
  std::uint64_t client_messages = 0;
  std::uint64_t server_messages = 0;
};

std::optional<Format> format_of(const std::string& path, const LoadOptions& options) {
  if (options.input_format)
    return options.input_format;
  if (path == "-")
    return std::nullopt;
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return std::nullopt;
  std::string head(mcp::traffic::kDetectBytes, '\0');
  file.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(file.gcount()));
  return mcp::traffic::detect_format(head);
}

std::string nothing_to_replay(const SessionCollector& collector, const LoadOptions& options,
                              const std::vector<InputSummary>& inputs, std::size_t problems) {
  const std::string skipped =
      problems == 0
          ? std::string()
          : " (" + std::to_string(problems) +
                (problems == 1 ? " malformed record" : " malformed records") + " skipped)";
  if (!collector.saw_anything())
    return "no MCP messages in the inputs" + skipped;
  if (!collector.leg_matched()) {
    if (options.leg == LegChoice::client)
      return "the inputs have no client leg: only gateway captures (mcpgw serve --capture) "
             "record legs";
    if (!collector.saw_backend_leg())
      return "the inputs have no backend leg: only gateway captures (mcpgw serve --capture) "
             "record legs";
    return "no backend-leg traffic of backend '" + options.backend +
           "' (backends: " + list_names(collector.backends(), collector.backends().size()) + ")";
  }
  if (!collector.selection_matched()) {
    std::string patterns;
    for (const auto& pattern : options.sessions)
      patterns += (patterns.empty() ? "--session " : " or --session ") + pattern;
    return "no session matches " + patterns +
           " (sessions: " + list_names(collector.candidate_ids(), collector.candidate_count()) +
           ")";
  }
  std::uint64_t client_messages = 0;
  for (const auto& input : inputs)
    client_messages += input.client_messages;
  for (const auto& input : inputs) {
    if (input.client_messages != 0 || client_messages != 0)
      continue;
    if (input.format == Format::http_transcript)
      return "no client requests in the inputs: curl transcripts do not show request bodies; "
             "record with mcpgw serve --capture, a HAR or pcap";
    if (input.format == Format::stdio)
      return "no client requests in the inputs: " + input.path +
             " holds only the server's side of a stdio conversation; give the client's file "
             "too";
  }
  if (client_messages == 0)
    return "no client requests in the inputs: they hold only messages from the server" + skipped;
  return "no client requests in the inputs: the selected sessions hold only initialization, "
         "pings and server messages" +
         skipped;
}

}  // namespace

std::size_t RecordedSession::request_steps() const {
  return static_cast<std::size_t>(std::count_if(
      steps.begin(), steps.end(), [](const RecordedStep& step) { return step.is_request(); }));
}

mcp::Expected<LoadedRecording, std::string> load_recording(const LoadOptions& options) {
  if (options.inputs.empty())
    return mcp::unexpected(std::string("no input given"));
  LoadedRecording loaded;
  SessionCollector collector(options);
  mcp::traffic::PairerOptions pairer_options;
  pairer_options.ordered = true;
  pairer_options.keep_payloads = true;
  mcp::traffic::Pairer pairer(
      pairer_options, [&](Exchange&& exchange) { collector.add(std::move(exchange)); },
      [&](Problem&& problem) { loaded.problems.push_back(std::move(problem)); });
  const auto failed_strict = [&]() { return options.strict && !loaded.problems.empty(); };
  const auto strict_error = [&]() {
    return describe(loaded.problems.front()) + " (--strict: a malformed record fails the load)";
  };

  mcp::traffic::ReadOptions read;
  read.format = options.input_format;
  read.stdio_direction = options.stdio_direction;
  read.stop = failed_strict;
  read.join_stdio = true;  // stdio files given together are one conversation, as in inspect
  std::vector<InputSummary> inputs;
  for (const auto& input : options.inputs) {
    CountingSink sink(pairer);
    if (const auto error = mcp::traffic::read_traffic(input, read, sink))
      return mcp::unexpected(*error);
    if (failed_strict())
      return mcp::unexpected(strict_error());
    inputs.push_back(
        {input, format_of(input, options), sink.client_messages, sink.server_messages});
  }
  pairer.finish();
  if (failed_strict())
    return mcp::unexpected(strict_error());
  loaded.sessions = collector.finish();
  if (loaded.sessions.empty())
    return mcp::unexpected(nothing_to_replay(collector, options, inputs, loaded.problems.size()));
  return loaded;
}

LoadedRecording build_sessions(std::vector<Event> events, const LoadOptions& options) {
  LoadedRecording loaded;
  SessionCollector collector(options);
  mcp::traffic::PairerOptions pairer_options;
  pairer_options.ordered = true;
  pairer_options.keep_payloads = true;
  mcp::traffic::Pairer pairer(
      pairer_options, [&](Exchange&& exchange) { collector.add(std::move(exchange)); },
      [&](Problem&& problem) { loaded.problems.push_back(std::move(problem)); });
  for (auto& event : events)
    pairer.on_event(std::move(event));
  pairer.finish();
  loaded.sessions = collector.finish();
  return loaded;
}

}  // namespace mcpgw::replay
