// The managed upstream MCP session (client.hpp), the same for every transport.
//
// Life cycle: starting (transport started, initialize sent, calls queued) -> ready (calls sent
// at once) -> down (transport died: every call failed at once, restart scheduled) -> starting
// ... and closed at the end. A session that expires (HTTP 404) goes from ready back to starting
// on the same transport: reset_session(), initialize again, then the calls that failed with
// session_expired are sent again, once each.
//
// Ids: every request goes out with a wire id of our own (a counter), so requests from many
// client sessions never collide on one backend session; responses are mapped back and get the
// caller's id. Transport callbacks carry a generation number, so a transport that was replaced
// can never touch the current session.
//
// Reentrancy: completions and events are delivered after the client's own bookkeeping is
// done, and the client re-checks its state afterwards, so callbacks may call back in (call,
// cancel, close). A call refused on the spot (down, overloaded) completes through
// EventLoop::post, never from inside call().
//
// Timeouts: every call of one client has the same timeout, so deadlines grow with CallIds and
// the earliest is always the first entry of calls_. One timer, armed for that deadline, serves
// them all: a call costs no timer of its own, and the timer is re-armed only when it fires.
#include "gateway/upstream/client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <deque>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mcp/catalogue.hpp"

namespace mcpgw::upstream {

std::chrono::milliseconds Backoff::delay(std::uint32_t attempt) const {
  if (initial <= std::chrono::milliseconds::zero() || max <= std::chrono::milliseconds::zero())
    return std::max(std::chrono::milliseconds::zero(), std::min(initial, max));
  std::chrono::milliseconds delay = initial;
  for (std::uint32_t step = 0; step < attempt && delay < max; ++step) {
    if (delay > max / 2)
      return max;
    delay *= 2;
  }
  return std::min(delay, max);
}

namespace {

// A backend that stayed ready this long counts as healthy again: its next crash restarts
// after Backoff::initial instead of the grown delay.
constexpr std::chrono::milliseconds kStableUptime{10000};

// A process-wide counter: CallIds are never reused, even across clients.
std::atomic<CallId> next_call_id{1};

// What clients may learn about a transport failure: a category, never the details (paths,
// addresses, exit codes, HTTP bodies), which go to the log.
std::string short_reason(const TransportError& error) {
  switch (error.kind) {
    case TransportError::Kind::spawn_failed:
      return "failed to start";
    case TransportError::Kind::connect_failed:
      return "connection failed";
    case TransportError::Kind::exited:
      return "process exited";
    case TransportError::Kind::disconnected:
      return "connection lost";
    case TransportError::Kind::http_status:
      return "unexpected HTTP status";
    case TransportError::Kind::session_expired:
      return "session expired";
    case TransportError::Kind::bad_message:
      return "invalid message";
    case TransportError::Kind::too_large:
      return "message too large";
    case TransportError::Kind::timeout:
      return "timed out";
  }
  return "failed";
}

// A call_text() completion where a message completion is expected: the answer is a message.
std::function<void(mcp::Message)> message_done(TextDone done) {
  if (!done)
    return {};
  return [done = std::move(done)](mcp::Message message) {
    done(TextAnswer{{}, std::move(message)});
  };
}

std::function<void(mcp::Message)> message_done(std::function<void(mcp::Message)> done) {
  return done;
}

class ClientImpl;

// The TransportHandler of one transport generation.
class TransportSlot final : public TransportHandler {
 public:
  TransportSlot(ClientImpl& client, std::uint64_t generation)
      : client_(client), generation_(generation) {}
  void on_message(mcp::Message message,
                  const std::optional<mcp::RequestId>& request_stream) override;
  bool prefers_text() const override;
  void on_message_text(std::string_view text, const mcp::MessageSummary& summary,
                       const std::optional<mcp::RequestId>& request_stream) override;
  void on_send_failed(const mcp::RequestId& request_id, const TransportError& error) override;
  void on_closed(const TransportError& error) override;

 private:
  ClientImpl& client_;
  std::uint64_t generation_;
};

class ClientImpl final : public Client {
 public:
  ClientImpl(runtime::EventLoop& loop, TransportFactory& transports, ClientOptions options,
             ClientEvents& events)
      : loop_(loop), transports_(transports), options_(std::move(options)), events_(events) {}

  ~ClientImpl() override {
    alive_.reset();
    // Transports first (their destructors kill what still runs), then their handlers.
    for (auto& [id, retiring] : retiring_)
      retiring.transport.reset();
    retiring_.clear();
    transport_.reset();
    slot_.reset();
  }

  void start() override {
    if (phase_ != Phase::idle)
      return;
    start_transport();
  }

  CallId call(mcp::Message request, std::function<void(mcp::Message)> done) override {
    return call_with_headers(std::move(request), std::move(done), {});
  }

  CallId call_with_headers(mcp::Message request, std::function<void(mcp::Message)> done,
                           const ForwardedHeaders& headers) override {
    const CallId id = next_call_id.fetch_add(1, std::memory_order_relaxed);
    if (!request.is_request() || !request.id) {
      spdlog::error("backend '{}': call() needs a request with an id", options_.backend_name);
      fail_later(std::move(request.id), std::move(done), mcp::error_code::internal_error,
                 "Internal error");
      return id;
    }
    if (!admissible(request.id, done))
      return id;
    Call& entry = calls_[id];
    entry.request = std::move(request);
    entry.done = std::move(done);
    entry.headers = headers;
    admit(id, entry);
    return id;
  }

  CallId call_text(std::string text, const mcp::RequestText& head, TextDone done) override {
    if (!transport_ || !transport_->accepts_text() || transport_->sessions_can_expire()) {
      auto decoded = mcp::decode_message(text);
      return call(decoded ? std::move(*decoded) : mcp::Message{}, message_done(std::move(done)));
    }
    const CallId id = next_call_id.fetch_add(1, std::memory_order_relaxed);
    if (head.id_length == 0 || head.id_offset > text.size() ||
        head.id_length > text.size() - head.id_offset) {
      spdlog::error("backend '{}': call_text() with a head that does not fit its text",
                    options_.backend_name);
      fail_later(std::nullopt, message_done(std::move(done)), mcp::error_code::internal_error,
                 "Internal error");
      return id;
    }
    std::optional<mcp::RequestId> caller_id = head.id;
    if (!admissible(caller_id, done))
      return id;
    Call& entry = calls_[id];
    entry.request.kind = mcp::MessageKind::request;
    entry.request.id = std::move(caller_id);
    entry.request.method = head.method;
    entry.text = std::move(text);
    entry.text_id_offset = head.id_offset;
    entry.text_id_length = head.id_length;
    entry.text_done = std::move(done);
    text_answers_ = true;
    admit(id, entry);
    return id;
  }

  void cancel(CallId id, const std::string& reason) override {
    auto it = calls_.find(id);
    if (it == calls_.end())
      return;
    Call entry = std::move(it->second);
    calls_.erase(it);
    if (entry.wire) {
      wire_calls_.erase(*entry.wire);
      send_cancelled(*entry.wire, reason);
    } else {
      remove_from_queue(id);
    }
    pump();
  }

  std::optional<mcp::RequestId> wire_id(CallId id) const override {
    auto it = calls_.find(id);
    if (it == calls_.end() || !it->second.wire)
      return std::nullopt;
    return mcp::RequestId(*it->second.wire);
  }

  void notify(mcp::Message notification) override {
    switch (phase_) {
      case Phase::ready:
        if (queue_.empty()) {
          transport_->send(std::move(notification));
          return;
        }
        [[fallthrough]];
      case Phase::idle:
      case Phase::starting:
        if (queue_.size() - queued_calls_ >= options_.max_queued) {
          spdlog::warn("backend '{}': dropping {} (too many waiting for the handshake)",
                       options_.backend_name, notification.method);
          return;
        }
        queue_.push_back(Queued{std::nullopt, std::move(notification)});
        return;
      case Phase::down:
      case Phase::closed:
        spdlog::debug("backend '{}': dropping {} while the backend is down", options_.backend_name,
                      notification.method);
        return;
    }
  }

  void respond(mcp::Message response) override {
    if (!transport_ || (phase_ != Phase::ready && phase_ != Phase::starting)) {
      spdlog::debug(
          "backend '{}': dropping a response to a backend request: the session it "
          "belongs to is gone",
          options_.backend_name);
      return;
    }
    transport_->send(std::move(response));
  }

  ClientState state() const override {
    switch (phase_) {
      case Phase::idle:
      case Phase::starting:
        return ClientState::starting;
      case Phase::ready:
        return ClientState::ready;
      case Phase::down:
        return ClientState::down;
      case Phase::closed:
        return ClientState::closed;
    }
    return ClientState::closed;
  }

  const nlohmann::json& initialize_result() const override { return initialize_result_; }

  void close(std::function<void()> done) override {
    if (phase_ == Phase::closed) {
      if (!done)
        return;
      if (close_done_) {
        auto first = std::move(close_done_);
        close_done_ = [first = std::move(first), done = std::move(done)] {
          first();
          done();
        };
      } else {
        loop_.post(guarded(std::move(done)));
      }
      return;
    }
    phase_ = Phase::closed;
    down_reason_ = "connection closed";
    close_done_ = done ? std::move(done) : [] {};
    restart_timer_.reset();
    deadline_timer_.reset();
    end_handshake();
    auto failed = take_all_calls();
    retire_transport();
    complete_all(std::move(failed), down_reason_);
    maybe_finish_close();
  }

  // ---- from the transport ----

  void on_transport_message(std::uint64_t generation, mcp::Message message,
                            const std::optional<mcp::RequestId>& request_stream) {
    if (generation != generation_ || !transport_)
      return;
    switch (message.kind) {
      case mcp::MessageKind::success_response:
      case mcp::MessageKind::error_response:
        on_response(std::move(message));
        return;
      case mcp::MessageKind::request:
        if (message.method == "ping") {
          transport_->send(mcp::make_success_response(*message.id, nlohmann::json::object()));
          return;
        }
        events_.on_backend_request(std::move(message), related_call(request_stream));
        return;
      case mcp::MessageKind::notification:
        events_.on_backend_notification(std::move(message), related_call(request_stream));
        return;
    }
  }

  bool prefers_text() const { return text_answers_; }

  // A message as text (prefers_text()): the answer to a call_text() is handed on as text with
  // the caller's id spliced in; everything else is decoded and goes the usual way.
  void on_transport_text(std::uint64_t generation, std::string_view text,
                         const mcp::MessageSummary& summary,
                         const std::optional<mcp::RequestId>& request_stream) {
    if (generation != generation_ || !transport_)
      return;
    if (summary.kind == mcp::SummaryKind::response ||
        summary.kind == mcp::SummaryKind::error_response) {
      std::int64_t wire = 0;
      const char* const id_end = summary.id.data() + summary.id.size();
      const auto [end, parse_error] = std::from_chars(summary.id.data(), id_end, wire);
      const auto found =
          parse_error == std::errc() && end == id_end ? wire_calls_.find(wire) : wire_calls_.end();
      const auto it = found != wire_calls_.end() ? calls_.find(found->second) : calls_.end();
      if (it != calls_.end() && it->second.text_done) {
        wire_calls_.erase(found);
        Call entry = std::move(it->second);
        calls_.erase(it);
        const std::string caller_id = entry.request.id->to_string();
        std::string answer;
        answer.reserve(text.size() - summary.id_length + caller_id.size());
        answer.append(text.substr(0, summary.id_offset));
        answer += caller_id;
        answer.append(text.substr(summary.id_offset + summary.id_length));
        entry.text_done(TextAnswer{std::move(answer), {}});
        pump();
        return;
      }
    }
    auto decoded = mcp::decode_message(text);
    if (!decoded) {
      spdlog::warn("backend '{}': skipped a message that is not JSON-RPC (bad_message): {}",
                   options_.backend_name, decoded.error().message);
      return;
    }
    on_transport_message(generation, std::move(*decoded), request_stream);
  }

  void on_transport_send_failed(std::uint64_t generation, const mcp::RequestId& request_id,
                                const TransportError& error) {
    if (generation != generation_ || !transport_ || !request_id.is_integer())
      return;
    const std::int64_t wire = request_id.integer();
    if (init_wire_ && *init_wire_ == wire) {
      spdlog::warn("backend '{}': sending initialize failed: {}", options_.backend_name,
                   error.message);
      go_down(short_reason(error));
      return;
    }
    auto found = wire_calls_.find(wire);
    if (found == wire_calls_.end())
      return;  // cancelled or timed out meanwhile
    const CallId id = found->second;
    wire_calls_.erase(found);
    Call& entry = calls_.at(id);
    entry.wire.reset();
    if (error.kind == TransportError::Kind::session_expired && !entry.resent) {
      spdlog::info("backend '{}': session expired; initializing a new one", options_.backend_name);
      entry.resent = true;
      queue_.push_front(Queued{id, {}});
      ++queued_calls_;
      reinitialize();
      return;
    }
    spdlog::warn("backend '{}': request {} failed: {}", options_.backend_name,
                 entry.request.id->to_string(), error.message);
    const std::string reason = short_reason(error);
    auto response = mcp::make_error_response(entry.request.id, gateway_error::backend_unavailable,
                                             unavailable_message(reason), error_data(reason));
    Call failed = std::move(entry);
    calls_.erase(id);
    complete(std::move(failed), std::move(response));
    pump();
  }

  void on_transport_closed(std::uint64_t generation, const TransportError& error) {
    if (generation != generation_ || !transport_)
      return;
    spdlog::warn("backend '{}' is down: {}", options_.backend_name, error.message);
    go_down(short_reason(error));
  }

 private:
  enum class Phase { idle, starting, ready, down, closed };

  struct Call {
    mcp::Message request;  // with the caller's id; kept for a resend after session expiry
    std::function<void(mcp::Message)> done;
    TextDone text_done;        // call_text(), instead of `done`
    ForwardedHeaders headers;  // the client's, for this request only
    // call_text(): the request as given, and where its id is; sent with the wire id spliced in.
    std::string text;
    std::size_t text_id_offset = 0;
    std::size_t text_id_length = 0;
    std::optional<std::int64_t> wire;     // while sent and unanswered
    runtime::Clock::time_point deadline;  // when it fails with backend_timeout
    bool resent = false;
  };

  // A call (by id) or a notification waiting for the handshake, in order.
  struct Queued {
    std::optional<CallId> call;
    mcp::Message notification;
  };

  struct Retiring {
    std::shared_ptr<Transport> transport;
    std::unique_ptr<TransportSlot> slot;
  };

  // A call failed in bulk (down, closed): its completion and the caller's id.
  struct Completion {
    std::function<void(mcp::Message)> done;
    TextDone text_done;
    std::optional<mcp::RequestId> id;
  };

  // ---- transport and handshake ----

  void start_transport() {
    phase_ = Phase::starting;
    const std::uint64_t generation = ++generation_;
    std::unique_ptr<Transport> created = transports_.create();
    if (!created) {
      spdlog::error("backend '{}': no transport could be created", options_.backend_name);
      loop_.post(guarded([this, generation] {
        if (generation == generation_ && phase_ == Phase::starting)
          go_down("failed to start");
      }));
      return;
    }
    created->set_capture_session(options_.capture_session);
    transport_ = std::move(created);
    slot_ = std::make_unique<TransportSlot>(*this, generation);
    transport_->start(*slot_);
    if (generation != generation_ || phase_ != Phase::starting)
      return;  // it failed synchronously
    send_initialize();
  }

  void send_initialize() {
    const std::int64_t wire = next_wire_++;
    init_wire_ = wire;
    init_timer_ = loop_.schedule(options_.request_timeout, [this] {
      spdlog::warn("backend '{}': no answer to initialize within {} ms", options_.backend_name,
                   options_.request_timeout.count());
      go_down("initialize timed out");
    });
    send(mcp::make_request(wire, "initialize", options_.initialize_params),
         options_.handshake_headers);
  }

  void end_handshake() {
    init_wire_.reset();
    init_timer_.reset();
  }

  void on_initialize_response(mcp::Message response) {
    end_handshake();
    if (response.kind == mcp::MessageKind::error_response) {
      spdlog::warn("backend '{}': initialize failed: {} ({})", options_.backend_name,
                   response.error.message, response.error.code);
      go_down("initialize failed");
      return;
    }
    const auto* version = response.result.is_object() && response.result.contains("protocolVersion")
                              ? &response.result["protocolVersion"]
                              : nullptr;
    if (version == nullptr || !version->is_string()) {
      spdlog::warn("backend '{}': initialize result without a protocolVersion string",
                   options_.backend_name);
      go_down("invalid initialize result");
      return;
    }
    const std::string version_text = version->get<std::string>();
    if (!mcp::parse_protocol_version(version_text)) {
      spdlog::warn("backend '{}': unsupported protocol version '{}' (supported: {})",
                   options_.backend_name, version_text, mcp::supported_protocol_versions_text());
      go_down("unsupported protocol version");
      return;
    }
    initialize_result_ = std::move(response.result);
    transport_->on_initialized(version_text);
    send(mcp::make_notification("notifications/initialized"), options_.handshake_headers);
    phase_ = Phase::ready;
    ready_since_ = loop_.now();
    spdlog::info("backend '{}': ready (protocol {})", options_.backend_name, version_text);
    pump();
    if (phase_ == Phase::ready)
      events_.on_ready(initialize_result_);
  }

  // Session expiry: a new session on the same transport; queued calls go out after it.
  void reinitialize() {
    if (phase_ != Phase::ready)
      return;  // a handshake is already running
    phase_ = Phase::starting;
    transport_->reset_session();
    send_initialize();
  }

  // The transport is unusable: fail everything at once, tell the owner, schedule a restart.
  void go_down(const std::string& reason) {
    if (phase_ == Phase::closed || phase_ == Phase::down)
      return;
    phase_ = Phase::down;
    down_reason_ = reason;
    end_handshake();
    if (ready_since_ && loop_.now() - *ready_since_ >= kStableUptime)
      attempt_ = 0;
    ready_since_.reset();
    auto failed = take_all_calls();
    retire_transport();
    complete_all(std::move(failed), reason);
    if (phase_ != Phase::down)
      return;  // closed from a completion
    events_.on_down(reason);
    if (phase_ != Phase::down || !options_.restart)
      return;
    const auto delay = options_.backoff.delay(attempt_);
    if (attempt_ < 64)
      ++attempt_;
    spdlog::info("backend '{}': restarting in {} ms", options_.backend_name, delay.count());
    restart_timer_ = loop_.schedule(delay, [this] {
      if (phase_ == Phase::down)
        start_transport();
    });
  }

  // Closes the current transport; it is kept until its close() completes.
  void retire_transport() {
    ++generation_;
    if (!transport_)
      return;
    const std::uint64_t id = next_retiring_++;
    Retiring& retiring = retiring_[id];
    retiring.transport = std::move(transport_);
    retiring.slot = std::move(slot_);
    retiring.transport->close(guarded([this, id] {
      // Not from inside the transport's own callback: it may still be on the stack.
      loop_.post(guarded([this, id] {
        retiring_.erase(id);
        maybe_finish_close();
      }));
    }));
  }

  void maybe_finish_close() {
    if (phase_ != Phase::closed || !retiring_.empty() || !close_done_)
      return;
    auto done = std::move(close_done_);
    close_done_ = nullptr;
    loop_.post(guarded(std::move(done)));
  }

  // ---- calls ----

  // Whether a new call may be queued or sent now; if not, `done` gets the refusal (posted).
  template <typename Done>
  bool admissible(std::optional<mcp::RequestId>& caller_id, Done& done) {
    switch (phase_) {
      case Phase::down:
      case Phase::closed:
        fail_later(std::move(caller_id), message_done(std::move(done)),
                   gateway_error::backend_unavailable, unavailable_message(down_reason_));
        return false;
      case Phase::idle:
      case Phase::starting:
        if (queued_calls_ >= options_.max_queued) {
          fail_overloaded(std::move(caller_id), message_done(std::move(done)));
          return false;
        }
        return true;
      case Phase::ready:
        if (wire_calls_.size() >= options_.max_pending) {
          fail_overloaded(std::move(caller_id), message_done(std::move(done)));
          return false;
        }
        return true;
    }
    return true;
  }

  // Starts the timeout of an accepted call and sends it, or queues it behind the handshake.
  void admit(CallId id, Call& entry) {
    entry.deadline = loop_.now() + options_.request_timeout;
    arm_deadline_timer();
    if (phase_ == Phase::ready && queue_.empty()) {
      send_call(id, entry);
    } else {
      queue_.push_back(Queued{id, {}});
      ++queued_calls_;
    }
  }

  // Through the current transport, with forwarded client headers when there are any.
  void send(mcp::Message message, const ForwardedHeaders& headers) {
    if (headers.empty())
      transport_->send(std::move(message));
    else
      transport_->send_with_headers(std::move(message), headers);
  }

  void send_call(CallId id, Call& entry) {
    const std::int64_t wire = next_wire_++;
    entry.wire = wire;
    wire_calls_.emplace(wire, id);
    if (!entry.text.empty()) {
      // Only transports that accept text get text calls, and those have no expiring sessions
      // (a transport replaced after a crash fails its calls): the text is sent once.
      const std::string wire_text = std::to_string(wire);
      std::string outgoing;
      outgoing.reserve(entry.text.size() + wire_text.size());
      outgoing.append(entry.text, 0, entry.text_id_offset);
      outgoing += wire_text;
      outgoing.append(entry.text, entry.text_id_offset + entry.text_id_length);
      std::string().swap(entry.text);
      mcp::Message head;
      head.kind = mcp::MessageKind::request;
      head.id = wire;
      head.method = entry.request.method;
      transport_->send_text(head, std::move(outgoing));
      return;
    }
    // A call is kept whole only while it may have to be sent again (once, after its session
    // expired); otherwise only what a completion needs stays.
    const bool keep_whole = !entry.resent && transport_->sessions_can_expire();
    mcp::Message outgoing = keep_whole ? entry.request : std::move(entry.request);
    if (!keep_whole) {
      entry.request = mcp::Message();
      entry.request.kind = mcp::MessageKind::request;
      entry.request.id = outgoing.id;
      entry.request.method = outgoing.method;
    }
    outgoing.id = wire;
    if (!keep_whole) {
      const ForwardedHeaders headers = std::move(entry.headers);
      entry.headers.clear();
      send(std::move(outgoing), headers);
      return;
    }
    send(std::move(outgoing), entry.headers);
  }

  // Sends what waited for the handshake (or for a free slot), in order.
  void pump() {
    while (phase_ == Phase::ready && transport_ && !queue_.empty()) {
      Queued& front = queue_.front();
      if (!front.call) {
        mcp::Message notification = std::move(front.notification);
        queue_.pop_front();
        transport_->send(std::move(notification));
        continue;
      }
      if (wire_calls_.size() >= options_.max_pending)
        return;
      const CallId id = *front.call;
      queue_.pop_front();
      --queued_calls_;
      auto it = calls_.find(id);
      if (it != calls_.end())
        send_call(id, it->second);
    }
  }

  void remove_from_queue(CallId id) {
    auto it = std::find_if(queue_.begin(), queue_.end(),
                           [id](const Queued& queued) { return queued.call == id; });
    if (it != queue_.end()) {
      queue_.erase(it);
      --queued_calls_;
    }
  }

  void on_response(mcp::Message response) {
    if (!response.id || !response.id->is_integer()) {
      spdlog::warn("backend '{}': dropping a response without a usable id{}", options_.backend_name,
                   response.kind == mcp::MessageKind::error_response
                       ? ": " + std::to_string(response.error.code) + " " + response.error.message
                       : std::string());
      return;
    }
    const std::int64_t wire = response.id->integer();
    if (init_wire_ && *init_wire_ == wire) {
      on_initialize_response(std::move(response));
      return;
    }
    auto found = wire_calls_.find(wire);
    if (found == wire_calls_.end()) {
      spdlog::debug("backend '{}': dropping a response with unknown id {}", options_.backend_name,
                    wire);
      return;
    }
    const CallId id = found->second;
    wire_calls_.erase(found);
    auto it = calls_.find(id);
    Call entry = std::move(it->second);
    calls_.erase(it);
    response.id = entry.request.id;
    complete(std::move(entry), std::move(response));
    pump();
  }

  // Armed for the earliest deadline while calls exist. It stays armed when calls finish early:
  // firing at a deadline nothing has any more costs less than re-arming for every call.
  void arm_deadline_timer() {
    if (deadline_timer_ || sweeping_deadlines_ || calls_.empty())
      return;
    const auto wait = calls_.begin()->second.deadline - loop_.now();
    // Rounded up: the sweep must not run before the deadline it was armed for.
    const auto delay = std::max(std::chrono::ceil<std::chrono::milliseconds>(wait),
                                std::chrono::milliseconds::zero());
    deadline_timer_ = loop_.schedule(delay, [this] { on_deadline(); });
  }

  void on_deadline() {
    deadline_timer_.reset();
    sweeping_deadlines_ = true;
    // Completions may call back in (call, cancel, close): look at calls_ afresh each time.
    // New calls get later deadlines, so the sweep ends.
    while (!calls_.empty() && calls_.begin()->second.deadline <= loop_.now())
      on_call_timeout(calls_.begin()->first);
    sweeping_deadlines_ = false;
    if (phase_ != Phase::closed)
      arm_deadline_timer();
  }

  void on_call_timeout(CallId id) {
    auto it = calls_.find(id);
    if (it == calls_.end())
      return;
    Call entry = std::move(it->second);
    calls_.erase(it);
    if (entry.wire) {
      wire_calls_.erase(*entry.wire);
      send_cancelled(*entry.wire, "timeout");
    } else {
      remove_from_queue(id);
    }
    spdlog::warn("backend '{}': {} {} timed out after {} ms", options_.backend_name,
                 entry.request.method, entry.request.id->to_string(),
                 options_.request_timeout.count());
    auto error = mcp::make_error_response(
        entry.request.id, gateway_error::backend_timeout,
        "Backend '" + options_.backend_name + "' did not answer in time", error_data("timeout"));
    complete(std::move(entry), std::move(error));
    pump();
  }

  void send_cancelled(std::int64_t wire, const std::string& reason) {
    if (!transport_ || (phase_ != Phase::ready && phase_ != Phase::starting))
      return;
    nlohmann::json params{{"requestId", wire}};
    if (!reason.empty())
      params["reason"] = reason;
    transport_->send(mcp::make_notification("notifications/cancelled", std::move(params)));
  }

  std::optional<CallId> related_call(const std::optional<mcp::RequestId>& request_stream) const {
    if (!request_stream || !request_stream->is_integer())
      return std::nullopt;
    auto it = wire_calls_.find(request_stream->integer());
    if (it == wire_calls_.end())
      return std::nullopt;
    return it->second;
  }

  // ---- completions ----

  std::vector<Completion> take_all_calls() {
    std::vector<Completion> failed;
    failed.reserve(calls_.size());
    for (auto& [id, entry] : calls_)
      failed.push_back(Completion{std::move(entry.done), std::move(entry.text_done),
                                  std::move(entry.request.id)});
    calls_.clear();
    wire_calls_.clear();
    queue_.clear();
    queued_calls_ = 0;
    return failed;
  }

  void complete_all(std::vector<Completion> failed, const std::string& reason) {
    for (auto& failure : failed) {
      if (!failure.done && !failure.text_done)
        continue;
      auto response =
          mcp::make_error_response(std::move(failure.id), gateway_error::backend_unavailable,
                                   unavailable_message(reason), error_data(reason));
      if (failure.text_done)
        failure.text_done(TextAnswer{{}, std::move(response)});
      else
        failure.done(std::move(response));
    }
  }

  void complete(Call entry, mcp::Message response) {
    if (entry.text_done)
      entry.text_done(TextAnswer{{}, std::move(response)});
    else if (entry.done)
      entry.done(std::move(response));
  }

  void fail_later(std::optional<mcp::RequestId> id, std::function<void(mcp::Message)> done,
                  std::int64_t code, std::string message) {
    if (!done)
      return;
    loop_.post(
        guarded([done = std::move(done), response = mcp::make_error_response(
                                             std::move(id), code, std::move(message),
                                             error_data(down_reason_))] { done(response); }));
  }

  void fail_overloaded(std::optional<mcp::RequestId> id, std::function<void(mcp::Message)> done) {
    spdlog::warn("backend '{}': refusing a call: too many requests in flight",
                 options_.backend_name);
    if (!done)
      return;
    auto response = mcp::make_error_response(
        std::move(id), gateway_error::backend_overloaded,
        "Backend '" + options_.backend_name + "' is overloaded", error_data("overloaded"));
    loop_.post(
        guarded([done = std::move(done), response = std::move(response)] { done(response); }));
  }

  std::string unavailable_message(const std::string& reason) const {
    return "Backend '" + options_.backend_name + "' is unavailable" +
           (reason.empty() ? std::string() : ": " + reason);
  }

  nlohmann::json error_data(const std::string& reason) const {
    nlohmann::json data{{"backend", options_.backend_name}};
    if (!reason.empty())
      data["reason"] = reason;
    return data;
  }

  // A task that does nothing once the client is gone.
  std::function<void()> guarded(std::function<void()> task) {
    return [alive = std::weak_ptr<char>(alive_), task = std::move(task)] {
      if (alive.lock())
        task();
    };
  }

  runtime::EventLoop& loop_;
  TransportFactory& transports_;
  ClientOptions options_;
  ClientEvents& events_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();

  Phase phase_ = Phase::idle;
  std::string down_reason_;
  nlohmann::json initialize_result_;

  std::shared_ptr<Transport> transport_;
  std::unique_ptr<TransportSlot> slot_;
  std::uint64_t generation_ = 0;
  std::map<std::uint64_t, Retiring> retiring_;
  std::uint64_t next_retiring_ = 0;

  std::optional<std::int64_t> init_wire_;
  runtime::TimerHandle init_timer_;
  std::optional<runtime::Clock::time_point> ready_since_;
  std::uint32_t attempt_ = 0;
  runtime::TimerHandle restart_timer_;
  runtime::TimerHandle deadline_timer_;  // for the first entry of calls_
  bool sweeping_deadlines_ = false;
  std::function<void()> close_done_;

  std::int64_t next_wire_ = 1;
  bool text_answers_ = false;     // a call_text() was made: answers are wanted as text
  std::map<CallId, Call> calls_;  // queued and sent
  std::unordered_map<std::int64_t, CallId> wire_calls_;
  std::deque<Queued> queue_;
  std::size_t queued_calls_ = 0;
};

void TransportSlot::on_message(mcp::Message message,
                               const std::optional<mcp::RequestId>& request_stream) {
  client_.on_transport_message(generation_, std::move(message), request_stream);
}

bool TransportSlot::prefers_text() const {
  return client_.prefers_text();
}

void TransportSlot::on_message_text(std::string_view text, const mcp::MessageSummary& summary,
                                    const std::optional<mcp::RequestId>& request_stream) {
  client_.on_transport_text(generation_, text, summary, request_stream);
}

void TransportSlot::on_send_failed(const mcp::RequestId& request_id, const TransportError& error) {
  client_.on_transport_send_failed(generation_, request_id, error);
}

void TransportSlot::on_closed(const TransportError& error) {
  client_.on_transport_closed(generation_, error);
}

}  // namespace

CallId Client::call_text(std::string text, const mcp::RequestText& head, TextDone done) {
  (void)head;
  auto decoded = mcp::decode_message(text);
  return call(decoded ? std::move(*decoded) : mcp::Message{}, message_done(std::move(done)));
}

std::unique_ptr<Client> make_client(runtime::EventLoop& loop, TransportFactory& transports,
                                    ClientOptions options, ClientEvents& events) {
  return std::make_unique<ClientImpl>(loop, transports, std::move(options), events);
}

}  // namespace mcpgw::upstream
