// The session driver (driver.hpp). One Run per replay_sessions() call; one SessionRunner per
// recorded session, each with its own upstream::Client and so its own target session.
//
// A runner sends its steps in recorded order through a cursor: the next step goes out once the
// request steps it waits for (RecordedStep::after) are answered and, with --preserve-timing,
// once its recorded offset has passed. Waiting steps are counted, not scanned: each answered
// request decrements the steps that listed it, so a session costs O(steps + after entries).
//
// The Client knows why its transport failed only as a short category ("process exited"); the
// driver wraps each transport it creates (WatchedTransport) to keep the transport's own message
// ("process exited with status 3") for the report, and the target's Mcp-Session-Id.
//
// Lifetime: the Run keeps itself alive until `done` has been called. A runner is destroyed in
// a task posted after its Client's close() completed, never from inside the Client's stack.
#include "replay/driver.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "gateway/upstream/client.hpp"
#include "mcp/catalogue.hpp"
#include "mcp/jsonrpc.hpp"

namespace mcpgw::replay {
namespace {

using nlohmann::json;
using upstream::CallId;

// clientInfo.version of a synthesized initialize: the project's version (CMake project()).
constexpr std::string_view kClientVersion = "0.1.0";
// A recorded gap longer than this is waited for only this long (a corrupt time stamp must not
// stall a replay for years or overflow the clock).
constexpr std::int64_t kMaxWaitUs = std::int64_t{24} * 3600 * 1000 * 1000;

std::string compact(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::int64_t micros_between(runtime::Clock::time_point from, runtime::Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::microseconds>(to - from).count();
}

// A recorded time (µs) scaled by the --preserve-timing factor, clamped to [0, kMaxWaitUs].
std::int64_t scaled_us(std::int64_t recorded_us, double factor) {
  const double scaled = static_cast<double>(recorded_us) * factor;
  if (!(scaled > 0.0))  // negative, zero or NaN
    return 0;
  if (scaled >= static_cast<double>(kMaxWaitUs))
    return kMaxWaitUs;
  return static_cast<std::int64_t>(scaled);
}

// Timers take milliseconds: round up, so nothing is sent before its time.
std::chrono::milliseconds ceil_ms(std::int64_t micros) {
  return std::chrono::milliseconds((std::max<std::int64_t>(micros, 0) + 999) / 1000);
}

// What a server->client request is matched on besides its method: {"params": …}, so ignore
// rules read "/params/…"; absent params count as empty ones.
json comparable_params(const mcp::Message& request) {
  return json{{"params", request.params.value_or(json::object())}};
}

bool is_paginated(std::string_view method) {
  const mcp::MethodInfo* info = mcp::catalogue::lookup(method);
  return info != nullptr && info->paginated;
}

// ---- transports observed for the report ----

struct TransportWatch {
  std::string session_id;  // the target's Mcp-Session-Id after the handshake
  std::optional<upstream::TransportError> failure;  // why the transport ended, when it did
  // The transport writes request text as given (stdio): Client::call_text then builds no tree.
  // Elsewhere the Client would decode the text anyway, so the driver decodes it itself and
  // reports a request the codec rejects as not sent.
  bool sends_text = false;
};

class WatchedHandler final : public upstream::TransportHandler {
 public:
  explicit WatchedHandler(std::shared_ptr<TransportWatch> watch) : watch_(std::move(watch)) {}
  void attach(upstream::TransportHandler& target) { target_ = &target; }

  void on_message(mcp::Message message,
                  const std::optional<mcp::RequestId>& request_stream) override {
    target_->on_message(std::move(message), request_stream);
  }
  bool prefers_text() const override { return target_->prefers_text(); }
  void on_message_text(std::string_view text, const mcp::MessageSummary& summary,
                       const std::optional<mcp::RequestId>& request_stream) override {
    target_->on_message_text(text, summary, request_stream);
  }
  void on_send_failed(const mcp::RequestId& request_id,
                      const upstream::TransportError& error) override {
    target_->on_send_failed(request_id, error);
  }
  void on_closed(const upstream::TransportError& error) override {
    watch_->failure = error;  // before the Client hears of it, so its on_down can name it
    target_->on_closed(error);
  }

 private:
  std::shared_ptr<TransportWatch> watch_;
  upstream::TransportHandler* target_ = nullptr;
};

class WatchedTransport final : public upstream::Transport {
 public:
  WatchedTransport(std::unique_ptr<upstream::Transport> inner,
                   std::shared_ptr<TransportWatch> watch)
      : watch_(watch), handler_(std::move(watch)), inner_(std::move(inner)) {}

  void start(upstream::TransportHandler& handler) override {
    handler_.attach(handler);
    inner_->start(handler_);
  }
  void send(mcp::Message message) override { inner_->send(std::move(message)); }
  bool accepts_text() const override { return inner_->accepts_text(); }
  void send_text(const mcp::Message& request, std::string text) override {
    inner_->send_text(request, std::move(text));
  }
  void send_with_headers(mcp::Message message, const upstream::ForwardedHeaders& headers) override {
    inner_->send_with_headers(std::move(message), headers);
  }
  void on_initialized(const std::string& protocol_version) override {
    inner_->on_initialized(protocol_version);
    watch_->session_id = inner_->session_id();
  }
  void reset_session() override { inner_->reset_session(); }
  std::string session_id() const override { return inner_->session_id(); }
  bool sessions_can_expire() const override { return inner_->sessions_can_expire(); }
  void set_capture_session(std::string client_session) override {
    inner_->set_capture_session(std::move(client_session));
  }
  void close(std::function<void()> done) override { inner_->close(std::move(done)); }

 private:
  std::shared_ptr<TransportWatch> watch_;
  WatchedHandler handler_;  // declared before inner_: the transport goes first
  std::unique_ptr<upstream::Transport> inner_;
};

class WatchedFactory final : public upstream::TransportFactory {
 public:
  WatchedFactory(upstream::TransportFactory& inner, std::shared_ptr<TransportWatch> watch)
      : inner_(inner), watch_(std::move(watch)) {}
  std::unique_ptr<upstream::Transport> create() override {
    auto transport = inner_.create();
    if (!transport)
      return nullptr;
    watch_->sends_text = transport->accepts_text() && !transport->sessions_can_expire();
    return std::make_unique<WatchedTransport>(std::move(transport), watch_);
  }
  void shutdown() override {}  // the shared factory belongs to the caller

 private:
  upstream::TransportFactory& inner_;
  std::shared_ptr<TransportWatch> watch_;
};

// "target exited with status 3", "target killed by signal 9 (Killed)", "target connection
// lost: ...": the cause of a failed session, as precise as the transport told it.
std::string describe_failure(const std::optional<upstream::TransportError>& error,
                             const std::string& client_reason) {
  if (!error)
    return "target unavailable: " + client_reason;
  std::string_view detail = error->message;
  if (error->kind == upstream::TransportError::Kind::exited) {
    constexpr std::string_view prefix = "process ";
    if (detail.starts_with(prefix))
      detail.remove_prefix(prefix.size());
    return "target " + std::string(detail.empty() ? "exited" : detail);
  }
  if (detail.empty())
    return "target unavailable: " + client_reason;
  return "target unavailable: " + client_reason + " (" + std::string(detail) + ")";
}

class Run;

// ---- one recorded session ----

class SessionRunner final : public upstream::ClientEvents {
 public:
  SessionRunner(Run& run, std::size_t index);
  SessionRunner(const SessionRunner&) = delete;
  SessionRunner& operator=(const SessionRunner&) = delete;
  ~SessionRunner() override = default;

  void start();
  void interrupt(const std::string& reason);
  ReplayedSession take_result() { return std::move(result_); }

  void on_ready(const json& initialize_result) override;
  void on_backend_request(mcp::Message request, std::optional<CallId> related) override;
  void on_backend_notification(mcp::Message, std::optional<CallId>) override {}
  void on_down(const std::string& reason) override;

 private:
  enum class Phase { idle, handshake, running, closing };

  struct StepState {
    std::size_t slot = 0;                      // index into result_.steps (request steps only)
    std::size_t waiting_for = 0;               // unanswered requests among `after`
    std::vector<std::size_t> dependents;       // steps that listed this one in `after`
    std::optional<CallId> call;                // the page in flight
    std::optional<mcp::Message> page_request;  // a chain's last page request, for the next one
    runtime::Clock::time_point sent_at;
    runtime::TimerHandle cancel_timer;
    std::size_t pages = 0;
    bool finished = false;
  };

  // A recorded server->client request, decoded on first use.
  // How a request step goes out: to a transport that sends text (TransportWatch::sends_text), a
  // request that is not a list chain goes as its recorded text (Client::call_text: no tree is
  // built); otherwise, and for list chains, whose cursor the chain rewrites, as a decoded
  // message. A request the codec rejects is not sent, with the codec's reason.
  struct PreparedRequest {
    std::size_t index = 0;
    std::optional<mcp::RequestText> text_head;  // sent as text: where its id is
    std::optional<mcp::Message> message;
    std::string problem;
  };
  PreparedRequest prepare_request(std::size_t index) const;

  struct ServerRequestState {
    bool decoded = false;
    bool usable = false;  // decoded, and it has a recorded reply
    bool used = false;
    json comparable;  // comparable_params() of the recorded request
    mcp::Message reply;
  };

  const RecordedSession& session() const;
  const DriverOptions& options() const;
  runtime::EventLoop& loop();
  json initialize_params();

  void advance();
  void send_ready_steps();
  void send_step(std::size_t index);
  void send_page(std::size_t index, mcp::Message request);
  void send_text_page(std::size_t index, const mcp::RequestText& head);
  void on_response(std::size_t index, mcp::Message response);
  void on_text_answer(std::size_t index, upstream::TextAnswer answer);
  bool start_answer(std::size_t index);
  void on_cancel_due(std::size_t index);
  bool follow_chain(std::size_t index, const mcp::Message& response);
  void finish_step(std::size_t index);
  void end_session(const std::string& cause, bool handshake, bool interrupted = false);
  void maybe_close();
  void close();

  void prepare_next();
  std::optional<std::size_t> match_server_request(const mcp::Message& request);
  bool decode_server_request(std::size_t index);

  Run& run_;
  std::size_t index_;
  std::shared_ptr<TransportWatch> watch_ = std::make_shared<TransportWatch>();
  std::unique_ptr<WatchedFactory> factory_;
  std::unique_ptr<upstream::Client> client_;
  ReplayedSession result_;
  Phase phase_ = Phase::idle;
  runtime::Clock::time_point started_at_;
  std::vector<StepState> steps_;
  std::size_t next_ = 0;  // the next step to send
  // The next request step checked (and for list chains decoded) ahead, while the target works
  // on what was sent: that costs no time on the round trip's critical path.
  std::optional<PreparedRequest> prepared_;
  std::size_t open_requests_ = 0;  // request steps not finished
  bool advancing_ = false;
  runtime::TimerHandle timing_timer_;
  std::unordered_map<CallId, std::size_t> call_steps_;
  std::set<std::size_t> in_flight_;  // request steps sent and not finished
  std::vector<ServerRequestState> server_requests_;
  std::unordered_map<std::string, std::vector<std::size_t>> server_requests_by_method_;
};

// ---- the whole run ----

class Run {
 public:
  Run(runtime::EventLoop& loop, upstream::TransportFactory& factory,
      const std::vector<RecordedSession>& sessions, const DriverOptions& options,
      std::function<void(std::vector<ReplayedSession>)> done)
      : loop_(loop),
        factory_(factory),
        sessions_(sessions),
        options_(options),
        done_(std::move(done)),
        results_(sessions.size()) {
    for (const auto& session : sessions)
      for (const auto& step : session.steps)
        if (step.is_request())
          ++total_exchanges_;
  }

  void start(std::shared_ptr<Run> self) {
    self_ = std::move(self);
    if (sessions_.empty()) {
      loop_.post([this] { finish(); });
      return;
    }
    launch();
  }

  runtime::EventLoop& loop() { return loop_; }
  upstream::TransportFactory& factory() { return factory_; }
  const RecordedSession& session(std::size_t index) const { return sessions_[index]; }
  const DriverOptions& options() const { return options_; }

  void exchange_done() {
    ++done_exchanges_;
    if (options_.progress)
      options_.progress(done_exchanges_, total_exchanges_);
  }

  void interrupt(const std::string& reason) {
    // Without sessions, finish() is already posted; nothing is left to stop.
    if (interrupted_ || !self_ || sessions_.empty())
      return;
    interrupted_ = true;
    for (; next_session_ < sessions_.size(); ++next_session_) {
      results_[next_session_].session = next_session_;
      results_[next_session_].interrupted = true;
      ++finished_sessions_;
    }
    // Runners leave runners_ only in posted tasks (session_closed), so this loop is safe.
    for (auto& [index, runner] : runners_)
      runner->interrupt(reason);
    launch();  // finishes at once when no session was running
  }

  // From the runner's Client close() completion: the runner goes in a task of its own.
  void session_closed(std::size_t index) {
    loop_.post([this, index] {
      auto found = runners_.find(index);
      if (found == runners_.end())
        return;
      results_[index] = found->second->take_result();
      results_[index].session = index;
      runners_.erase(found);
      ++finished_sessions_;
      launch();
    });
  }

 private:
  void launch() {
    const std::size_t jobs = std::max<std::size_t>(options_.jobs, 1);
    while (runners_.size() < jobs && next_session_ < sessions_.size()) {
      const std::size_t index = next_session_++;
      auto runner = std::make_unique<SessionRunner>(*this, index);
      SessionRunner& started = *runner;
      runners_.emplace(index, std::move(runner));
      started.start();
    }
    if (finished_sessions_ == sessions_.size())
      finish();
  }

  void finish() {
    auto keep = std::move(self_);  // `this` lives until the end of this call
    auto done = std::move(done_);
    auto results = std::move(results_);
    if (done)
      done(std::move(results));
  }

  runtime::EventLoop& loop_;
  upstream::TransportFactory& factory_;
  const std::vector<RecordedSession>& sessions_;
  const DriverOptions options_;
  std::function<void(std::vector<ReplayedSession>)> done_;
  std::shared_ptr<Run> self_;
  std::vector<ReplayedSession> results_;
  std::map<std::size_t, std::unique_ptr<SessionRunner>> runners_;
  std::size_t next_session_ = 0;
  std::size_t finished_sessions_ = 0;
  std::size_t total_exchanges_ = 0;
  std::size_t done_exchanges_ = 0;
  bool interrupted_ = false;
};

// ---- SessionRunner ----

SessionRunner::SessionRunner(Run& run, std::size_t index) : run_(run), index_(index) {
  const RecordedSession& recorded = session();
  result_.session = index;
  steps_.resize(recorded.steps.size());
  for (std::size_t i = 0; i < recorded.steps.size(); ++i) {
    const RecordedStep& step = recorded.steps[i];
    if (step.is_request()) {
      steps_[i].slot = result_.steps.size();
      ReplayedStep replayed;
      replayed.step = i;
      result_.steps.push_back(std::move(replayed));
      ++open_requests_;
    }
    // Only earlier request steps can be waited for; anything else in `after` is ignored.
    for (std::size_t before : step.after) {
      if (before < i && recorded.steps[before].is_request()) {
        ++steps_[i].waiting_for;
        steps_[before].dependents.push_back(i);
      }
    }
  }
  server_requests_.resize(recorded.server_requests.size());
  for (std::size_t i = 0; i < recorded.server_requests.size(); ++i)
    server_requests_by_method_[recorded.server_requests[i].exchange.method].push_back(i);
}

const RecordedSession& SessionRunner::session() const {
  return run_.session(index_);
}
const DriverOptions& SessionRunner::options() const {
  return run_.options();
}
runtime::EventLoop& SessionRunner::loop() {
  return run_.loop();
}

json SessionRunner::initialize_params() {
  const RecordedSession& recorded = session();
  if (recorded.initialize) {
    auto decoded = mcp::decode_message(recorded.initialize->request_message);
    if (decoded && decoded->is_request() && decoded->params && decoded->params->is_object()) {
      json params = std::move(*decoded->params);
      if (!options().protocol_version.empty())
        params["protocolVersion"] = options().protocol_version;
      return params;
    }
    result_.notes.push_back(
        "the recorded initialize has no usable params (" +
        (decoded ? std::string("params are not an object") : decoded.error().message) +
        "): sent a minimal one instead");
  }
  // initialize exists only up to the newest legacy version; later versions are stateless.
  const std::string version = options().protocol_version.empty()
                                  ? std::string(mcp::to_string(mcp::kLatestLegacyVersion))
                                  : options().protocol_version;
  if (!recorded.initialize)
    result_.notes.push_back("initialize not recorded: sent " + version +
                            " with empty capabilities");
  return json{{"protocolVersion", version},
              {"capabilities", json::object()},
              {"clientInfo", {{"name", "mcpgw-replay"}, {"version", kClientVersion}}}};
}

void SessionRunner::start() {
  upstream::ClientOptions client_options;
  client_options.backend_name = "replay target";
  client_options.initialize_params = initialize_params();
  client_options.request_timeout = options().request_timeout;
  client_options.restart = false;
  if (options().tag_capture_sessions)
    client_options.capture_session = session().id;
  factory_ = std::make_unique<WatchedFactory>(run_.factory(), watch_);
  client_ = upstream::make_client(loop(), *factory_, std::move(client_options), *this);
  phase_ = Phase::handshake;
  started_at_ = loop().now();
  result_.started = true;
  client_->start();
}

void SessionRunner::interrupt(const std::string& reason) {
  if (phase_ == Phase::closing)
    return;  // finished on its own; only its target's close is outstanding
  result_.interrupted = true;
  end_session(reason, phase_ == Phase::handshake, true);
}

void SessionRunner::on_ready(const json& initialize_result) {
  if (phase_ != Phase::handshake)
    return;  // a re-initialization after an expired HTTP session: the replay goes on
  phase_ = Phase::running;
  result_.initialize_response = compact(json{{"result", initialize_result}});
  result_.initialize_latency_us = micros_between(started_at_, loop().now());
  result_.target_session = watch_->session_id;
  advance();
}

void SessionRunner::advance() {
  // A step finished synchronously while sending (cancelled at once, not valid JSON-RPC) calls
  // back in here; the loop below picks up where it is, so nesting stays one level deep.
  if (phase_ != Phase::running || advancing_)
    return;
  advancing_ = true;
  send_ready_steps();
  advancing_ = false;
  prepare_next();
  maybe_close();
}

void SessionRunner::prepare_next() {
  if (phase_ != Phase::running || prepared_ || next_ >= session().steps.size() ||
      !session().steps[next_].is_request())
    return;
  prepared_ = prepare_request(next_);
}

SessionRunner::PreparedRequest SessionRunner::prepare_request(std::size_t index) const {
  const RecordedStep& step = session().steps[index];
  PreparedRequest prepared;
  prepared.index = index;
  if (watch_->sends_text && !is_paginated(step.exchange.method)) {
    if (auto head = mcp::read_request_text(step.exchange.request_message)) {
      prepared.text_head = std::move(*head);
      return prepared;
    }
  }
  auto decoded = mcp::decode_message(step.exchange.request_message);
  if (decoded && decoded->is_request())
    prepared.message = std::move(*decoded);
  else
    prepared.problem = decoded ? std::string() : ": " + decoded.error().message;
  return prepared;
}

void SessionRunner::send_ready_steps() {
  const RecordedSession& recorded = session();
  while (next_ < recorded.steps.size()) {
    const RecordedStep& step = recorded.steps[next_];
    if (steps_[next_].waiting_for > 0)
      return;  // finish_step() calls back when the last one is answered
    if (options().preserve_timing && step.offset_us) {
      const auto due = started_at_ + std::chrono::microseconds(
                                         scaled_us(*step.offset_us, *options().preserve_timing));
      const auto now = loop().now();
      if (now < due) {
        if (!timing_timer_)
          timing_timer_ = loop().schedule(ceil_ms(micros_between(now, due)), [this] {
            timing_timer_.reset();
            advance();
          });
        return;
      }
    }
    send_step(next_++);
    if (phase_ != Phase::running)
      return;
  }
}

void SessionRunner::send_step(std::size_t index) {
  const RecordedStep& step = session().steps[index];
  if (!step.is_request()) {
    // A recorded cancellation names a recorded id, which means nothing to the target; the
    // request step it cancelled replays it with Client::cancel (RecordedStep::cancelled).
    if (step.exchange.method == "notifications/cancelled")
      return;
    auto decoded = mcp::decode_message(step.exchange.request_message);
    if (!decoded || !decoded->is_notification()) {
      result_.notes.push_back("step " + std::to_string(index) + " (" + step.exchange.method +
                              ") not sent: the recorded notification is not valid JSON-RPC" +
                              (decoded ? std::string() : ": " + decoded.error().message));
      return;
    }
    client_->notify(std::move(*decoded));
    return;
  }
  ReplayedStep& replayed = result_.steps[steps_[index].slot];
  PreparedRequest prepared;
  if (prepared_ && prepared_->index == index) {
    prepared = std::move(*prepared_);
    prepared_.reset();
  } else {
    prepared = prepare_request(index);
  }
  if (!prepared.text_head && !prepared.message) {
    replayed.failure = "not sent: the recorded request is not valid JSON-RPC" + prepared.problem;
    finish_step(index);
    return;
  }
  replayed.sent = true;
  in_flight_.insert(index);
  if (prepared.text_head) {
    send_text_page(index, *prepared.text_head);
  } else {
    if (is_paginated(prepared.message->method))
      steps_[index].page_request = *prepared.message;
    send_page(index, std::move(*prepared.message));
  }
  if (!step.cancelled || steps_[index].finished)
    return;
  const std::int64_t delay_us =
      step.cancel_after_us
          ? scaled_us(*step.cancel_after_us, options().preserve_timing.value_or(1.0))
          : 0;
  if (delay_us == 0) {
    on_cancel_due(index);
    return;
  }
  steps_[index].cancel_timer =
      loop().schedule(ceil_ms(delay_us), [this, index] { on_cancel_due(index); });
}

void SessionRunner::send_page(std::size_t index, mcp::Message request) {
  StepState& state = steps_[index];
  ++state.pages;
  state.sent_at = loop().now();
  const CallId call = client_->call(std::move(request), [this, index](mcp::Message response) {
    on_response(index, std::move(response));
  });
  state.call = call;
  call_steps_[call] = index;
}

void SessionRunner::send_text_page(std::size_t index, const mcp::RequestText& head) {
  StepState& state = steps_[index];
  ++state.pages;
  state.sent_at = loop().now();
  const CallId call = client_->call_text(
      session().steps[index].exchange.request_message, head,
      [this, index](upstream::TextAnswer answer) { on_text_answer(index, std::move(answer)); });
  state.call = call;
  call_steps_[call] = index;
}

// The bookkeeping every answer starts with; false when the step no longer wants one.
bool SessionRunner::start_answer(std::size_t index) {
  StepState& state = steps_[index];
  if (state.finished || phase_ == Phase::closing)
    return false;
  if (state.call) {
    call_steps_.erase(*state.call);
    state.call.reset();
  }
  ReplayedStep& replayed = result_.steps[state.slot];
  replayed.latency_us =
      replayed.latency_us.value_or(0) + micros_between(state.sent_at, loop().now());
  return true;
}

// A text answer is the target's own response (stdio), never a failure of the Client's, and
// never a list page (chains go as messages, for their cursors).
void SessionRunner::on_text_answer(std::size_t index, upstream::TextAnswer answer) {
  if (!answer.is_text()) {
    on_response(index, std::move(answer.message));
    return;
  }
  if (!start_answer(index))
    return;
  // Stored after what it unblocks went out, as on_response() does.
  const std::size_t slot = steps_[index].slot;
  finish_step(index);
  result_.steps[slot].responses.push_back(std::move(answer.text));
}

void SessionRunner::on_response(std::size_t index, mcp::Message response) {
  if (!start_answer(index))
    return;
  StepState& state = steps_[index];
  ReplayedStep& replayed = result_.steps[state.slot];
  if (response.kind == mcp::MessageKind::error_response) {
    if (response.error.code == upstream::gateway_error::backend_timeout) {
      replayed.failure =
          "no answer within " + std::to_string(options().request_timeout.count()) + " ms";
      replayed.latency_us.reset();
      finish_step(index);
      return;
    }
    if (response.error.code == upstream::gateway_error::backend_unavailable) {
      replayed.latency_us.reset();
      std::string reason = response.error.message;
      if (response.error.data && response.error.data->is_object()) {
        const auto given = response.error.data->find("reason");
        if (given != response.error.data->end() && given->is_string())
          reason = given->get<std::string>();
      }
      if (client_->state() == upstream::ClientState::ready) {
        // Only this request failed at the transport level (e.g. an HTTP status); the
        // session goes on.
        replayed.failure = "target failed the request: " + reason +
                           (watch_->failure ? " (" + watch_->failure->message + ")" : "");
        finish_step(index);
        return;
      }
      end_session(describe_failure(watch_->failure, reason), false);
      return;
    }
  }
  // The answer's text is written after whatever it unblocks (the next page or step) went out,
  // while the target works on that. The runner and its result outlive this call: a finished
  // session is collected in a posted task.
  const std::size_t slot = state.slot;
  const std::size_t position = replayed.responses.size();
  replayed.responses.emplace_back();
  if (!follow_chain(index, response))
    finish_step(index);
  result_.steps[slot].responses[position] = mcp::encode(response);
}

// Sends the next page when the replay's answer has a nextCursor; false when the chain ends.
bool SessionRunner::follow_chain(std::size_t index, const mcp::Message& response) {
  StepState& state = steps_[index];
  if (!state.page_request || response.kind != mcp::MessageKind::success_response ||
      !response.result.is_object() || state.pages >= options().max_pages)
    return false;
  const auto cursor = response.result.find("nextCursor");
  if (cursor == response.result.end() || !cursor->is_string())
    return false;
  // The recorded request for this page when the recording went this far, else the previous
  // page's request again; either way with the replay's cursor.
  const RecordedStep& step = session().steps[index];
  const std::size_t later = state.pages - 1;
  if (later < step.later_pages.size()) {
    auto decoded = mcp::decode_message(step.later_pages[later].request_message);
    if (decoded && decoded->is_request() && decoded->method == state.page_request->method)
      state.page_request = std::move(*decoded);
  }
  mcp::Message next = *state.page_request;
  if (!next.params || !next.params->is_object())
    next.params = json::object();
  (*next.params)["cursor"] = *cursor;
  state.page_request = next;
  send_page(index, std::move(next));
  return true;
}

void SessionRunner::on_cancel_due(std::size_t index) {
  StepState& state = steps_[index];
  state.cancel_timer.reset();
  if (state.finished || !state.call || phase_ != Phase::running)
    return;
  client_->cancel(*state.call, session().steps[index].cancel_reason);
  call_steps_.erase(*state.call);
  state.call.reset();
  ReplayedStep& replayed = result_.steps[state.slot];
  replayed.cancelled = true;
  replayed.failure = "cancelled as recorded";
  finish_step(index);
}

void SessionRunner::finish_step(std::size_t index) {
  StepState& state = steps_[index];
  if (state.finished)
    return;
  state.finished = true;
  state.cancel_timer.reset();
  state.page_request.reset();
  in_flight_.erase(index);
  --open_requests_;
  run_.exchange_done();
  if (phase_ != Phase::running)
    return;
  for (std::size_t waiting : state.dependents)
    --steps_[waiting].waiting_for;
  advance();
}

void SessionRunner::on_down(const std::string& reason) {
  if (phase_ == Phase::closing || phase_ == Phase::idle)
    return;
  if (phase_ == Phase::handshake && !watch_->failure && reason == "initialize timed out") {
    end_session("no answer to initialize within " +
                    std::to_string(options().request_timeout.count()) + " ms",
                true);
    return;
  }
  end_session(describe_failure(watch_->failure, reason), phase_ == Phase::handshake);
}

// The target is gone (or the run was interrupted): what was in flight failed, what was not
// sent is reported as not sent.
void SessionRunner::end_session(const std::string& cause, bool handshake, bool interrupted) {
  if (phase_ == Phase::closing)
    return;
  phase_ = Phase::closing;
  timing_timer_.reset();
  const std::string not_sent = interrupted ? "not sent: the replay was interrupted (" + cause + ")"
                               : handshake ? "not sent: the handshake failed (" + cause + ")"
                                           : "not sent: " + cause + " earlier in this session";
  const std::string abandoned = interrupted ? "the replay was interrupted (" + cause + ")" : cause;
  std::optional<std::size_t> first_failed;
  std::size_t unfinished = 0;
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    StepState& state = steps_[i];
    if (!session().steps[i].is_request() || state.finished)
      continue;
    ReplayedStep& replayed = result_.steps[state.slot];
    if (replayed.sent) {
      replayed.failure = abandoned;
      if (!first_failed)
        first_failed = i;
    } else {
      replayed.failure = not_sent;
    }
    replayed.interrupted = interrupted;
    ++unfinished;
    state.finished = true;
    state.cancel_timer.reset();
    state.call.reset();
    --open_requests_;
    run_.exchange_done();
  }
  call_steps_.clear();
  if (interrupted)
    result_.failure = "the replay was interrupted (" + cause + ")" +
                      (handshake ? " during the handshake" : "") + ": " +
                      std::to_string(unfinished) + " of " + std::to_string(result_.steps.size()) +
                      " requests not replayed";
  else if (handshake)
    result_.failure = "handshake failed: " + cause;
  else
    result_.failure = cause + (first_failed ? " at step " + std::to_string(*first_failed) : "");
  close();
}

void SessionRunner::maybe_close() {
  if (phase_ == Phase::running && next_ == steps_.size() && open_requests_ == 0) {
    phase_ = Phase::closing;
    close();
  }
}

void SessionRunner::close() {
  timing_timer_.reset();
  Run& run = run_;
  const std::size_t index = index_;
  client_->close([&run, index] { run.session_closed(index); });
}

// ---- server->client requests ----

bool SessionRunner::decode_server_request(std::size_t index) {
  ServerRequestState& state = server_requests_[index];
  if (state.decoded)
    return state.usable;
  state.decoded = true;
  const auto& exchange = session().server_requests[index].exchange;
  auto request = mcp::decode_message(exchange.request_message);
  auto reply = mcp::decode_message(exchange.response_message);
  if (!request || !request->is_request() || !reply || !reply->is_response())
    return false;
  state.comparable = comparable_params(*request);
  state.reply = std::move(*reply);
  state.usable = true;
  return true;
}

std::optional<std::size_t> SessionRunner::match_server_request(const mcp::Message& request) {
  auto bucket = server_requests_by_method_.find(request.method);
  if (bucket == server_requests_by_method_.end())
    return std::nullopt;
  const json comparable = comparable_params(request);
  DiffOptions diff_options;
  diff_options.ignore = options().ignore;
  diff_options.max_changes = 1;
  for (std::size_t candidate : bucket->second) {
    if (server_requests_[candidate].used || !decode_server_request(candidate))
      continue;
    const json& recorded = server_requests_[candidate].comparable;
    const bool equal = options().ignore == nullptr ? recorded == comparable : [&] {
      const DiffResult diff = diff_json(recorded, comparable, diff_options);
      return diff.changes.empty() && diff.omitted == 0;
    }();
    if (equal)
      return candidate;
  }
  return std::nullopt;
}

void SessionRunner::on_backend_request(mcp::Message request, std::optional<CallId> related) {
  ReplayedServerRequest seen;
  seen.request = mcp::encode(request);
  if (related) {
    auto step = call_steps_.find(*related);
    if (step != call_steps_.end())
      seen.during_step = step->second;
  }
  // No response stream tells (stdio): the latest request in flight, as the recording decides.
  if (!seen.during_step && !in_flight_.empty())
    seen.during_step = *in_flight_.rbegin();
  mcp::Message answer;
  if (auto matched = match_server_request(request)) {
    ServerRequestState& state = server_requests_[*matched];
    state.used = true;
    seen.matched = *matched;
    answer = state.reply;
    answer.id = request.id;
    answer.error_id_absent = false;
  } else if (auto configured = options().default_replies.find(request.method);
             configured != options().default_replies.end()) {
    seen.answered_with_default = true;
    answer = mcp::make_success_response(*request.id, configured->second);
  } else {
    answer = mcp::make_error_response(request.id, mcp::error_code::method_not_found,
                                      "replay has no recorded answer for " + request.method);
  }
  seen.answer = mcp::encode(answer);
  result_.server_requests.push_back(std::move(seen));
  if (phase_ == Phase::handshake || phase_ == Phase::running)
    client_->respond(std::move(answer));
}

}  // namespace

Interrupt replay_sessions(runtime::EventLoop& loop, upstream::TransportFactory& factory,
                          const std::vector<RecordedSession>& sessions,
                          const DriverOptions& options,
                          std::function<void(std::vector<ReplayedSession>)> done) {
  auto run = std::make_shared<Run>(loop, factory, sessions, options, std::move(done));
  run->start(run);
  return [weak = std::weak_ptr<Run>(run)](const std::string& reason) {
    if (auto alive = weak.lock())
      alive->interrupt(reason);
  };
}

}  // namespace mcpgw::replay
