#include "gateway/front/http_sessions.hpp"

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

#include "gateway/capture/hooks.hpp"
#include "gateway/front/http_checks.hpp"

namespace mcpgw::front::http {

namespace {

constexpr std::size_t kMaxSessionIdLength = 256;
// Streams a session keeps besides the ones in use: finished POST streams whose client has not
// resumed them yet.
constexpr std::size_t kRetainedStreamsSlack = 16;

std::string session_label(const HttpSession& session) {
  return session.id().substr(0, 8);
}

class ClientChannelImpl final : public server::ClientChannel {
 public:
  explicit ClientChannelImpl(std::weak_ptr<HttpSession> session) : session_(std::move(session)) {}
  void send(mcp::Message message) override {
    if (auto session = session_.lock()) {
      session->send_to_client(message);
    }
  }

 private:
  std::weak_ptr<HttpSession> session_;
};

// Legacy transport: every message of a request goes on the session's one stream.
class LegacyTarget final : public ResponseTarget {
 public:
  explicit LegacyTarget(std::weak_ptr<HttpSession> session) : session_(std::move(session)) {}
  void on_send(const mcp::Message& message) override { push(message); }
  void on_finish(mcp::Message response) override { push(response); }
  void on_abandon() override {}
  void on_disconnect() override {}

 private:
  void push(const mcp::Message& message) {
    auto session = session_.lock();
    if (session && session->state() != HttpSession::State::closed && session->legacy_stream()) {
      session->legacy_stream()->push_message(message);
    }
  }
  std::weak_ptr<HttpSession> session_;
};

}  // namespace

// The ResponseStream of one client request. Counts as in flight until it is finished,
// abandoned, terminated by the session's end, or destroyed.
class ResponseStreamImpl final : public server::ResponseStream {
 public:
  ResponseStreamImpl(std::shared_ptr<ResponseTarget> target,
                     const std::shared_ptr<HttpSession>& session, mcp::RequestId id)
      : target_(std::move(target)), session_(session), id_(std::move(id)) {
    session->pending_.insert(this);
    ++session->table_.requests_in_flight_;
  }
  ~ResponseStreamImpl() override {
    if (!done_) {
      spdlog::warn("http front: request {} was dropped without an answer", id_.to_string());
      complete();
      target_->on_finish(mcp::make_error_response(id_, mcp::error_code::internal_error,
                                                  "the server dropped the request"));
    }
  }

  void send(mcp::Message message) override {
    if (!done_) {
      target_->on_send(message);
    }
  }
  void finish(mcp::Message response) override {
    if (done_) {
      return;
    }
    complete();
    target_->on_finish(std::move(response));
  }
  void abandon() override {
    if (done_) {
      return;
    }
    complete();
    target_->on_abandon();
  }
  void disconnect() override {
    if (!done_) {
      target_->on_disconnect();
    }
  }
  void refuse(mcp::Message response, const Refusal& refusal) override {
    if (done_) {
      return;
    }
    complete();
    target_->on_refuse(std::move(response), refusal);
  }
  // The session ended first: the client gets an error instead of the response.
  void terminate() {
    if (done_) {
      return;
    }
    complete();
    target_->on_finish(mcp::make_error_response(id_, kServerLimitError,
                                                "the session ended before the request was "
                                                "answered"));
  }

 private:
  void complete() {
    done_ = true;
    if (auto session = session_.lock()) {
      if (session->pending_.erase(this) != 0) {
        --session->table_.requests_in_flight_;
        session->touch();
      }
    }
  }

  std::shared_ptr<ResponseTarget> target_;
  std::weak_ptr<HttpSession> session_;
  mcp::RequestId id_;
  bool done_ = false;
};

HttpAnswer error_answer(unsigned status, std::int64_t code, std::string message,
                        std::optional<nlohmann::json> data) {
  HttpAnswer answer;
  answer.status = status;
  answer.content_type = "application/json";
  answer.body = mcp::encode(
      mcp::make_error_response(std::nullopt, code, std::move(message), std::move(data)));
  return answer;
}

// ---------------------------------------------------------------------------------------------
// Exchange

Exchange::Exchange(std::shared_ptr<HttpSession> session, bool batch, bool initialize,
                   std::shared_ptr<StreamSink> sink)
    : session_(session),
      session_id_(session->id()),
      batch_(batch),
      initialize_(initialize),
      sink_(std::move(sink)) {}

std::string Exchange::json_body() const {
  if (batch_) {
    return mcp::encode_batch(responses_);
  }
  return responses_.empty() ? std::string() : mcp::encode(responses_.front());
}

std::string Exchange::session_header() const {
  if (!initialize_) {
    return {};
  }
  // An SSE answer sends its headers before the initialize response is known.
  return state_ == State::sse || initialize_succeeded_ ? session_id_ : std::string();
}

void Exchange::add_response(mcp::Message response) {
  if (state_ == State::sse) {
    stream_->push_message(response);
  } else {
    responses_.push_back(std::move(response));
  }
}

void Exchange::dispatch_done() {
  request_done();
}

void Exchange::start_stream() {
  auto session = session_.lock();
  stream_ = session ? session->new_stream() : nullptr;
  if (!stream_) {
    return;  // the session is gone: the answer stays JSON
  }
  state_ = State::sse;
  if (auto sink = sink_.lock()) {
    stream_->attach(std::move(sink), std::nullopt);  // adds the priming event
  } else {
    stream_->push_priming();
  }
  for (const auto& response : responses_) {
    stream_->push_message(response);
  }
  responses_.clear();
}

void Exchange::on_send(const mcp::Message& message) {
  if (state_ == State::waiting) {
    start_stream();
  }
  if (state_ == State::sse) {
    stream_->push_message(message);
  } else {
    spdlog::debug("http front: message for a finished or closed exchange dropped");
  }
}

void Exchange::on_finish(mcp::Message response) {
  if (!initialize_) {
    // Moved, not copied: a merged list can be a large JSON tree.
    add_response(std::move(response));
    request_done();
    return;
  }
  const bool succeeded = response.kind == mcp::MessageKind::success_response;
  add_response(response);
  initialize_succeeded_ = succeeded;
  if (auto session = session_.lock()) {
    session->table_.initialize_finished(*session, response);
  }
  request_done();
}

void Exchange::on_abandon() {
  if (initialize_) {
    if (auto session = session_.lock()) {
      session->table_.close(*session, "initialize abandoned");
    }
  }
  request_done();
}

void Exchange::on_disconnect() {
  if (state_ == State::waiting) {
    start_stream();
  }
  if (state_ == State::sse) {
    stream_->request_disconnect();
  }
}

void Exchange::on_refuse(mcp::Message response, const server::ResponseStream::Refusal& refusal) {
  // Only a lone request still answered as JSON can carry its own status; in a batch or on a
  // stream the error response is all the client gets.
  if (!batch_ && state_ == State::waiting && refusal.http_status >= 400 &&
      refusal.http_status <= 599) {
    refusal_ = refusal;
  }
  on_finish(std::move(response));
}

void Exchange::request_done() {
  if (outstanding_ == 0 || --outstanding_ != 0) {
    return;
  }
  if (state_ == State::sse) {
    stream_->end();
  } else {
    state_ = responses_.empty() ? State::accepted : State::json;
  }
  wake();
}

void Exchange::wake() {
  if (auto sink = sink_.lock()) {
    sink->wake();
  }
}

// ---------------------------------------------------------------------------------------------
// HttpSession

HttpSession::HttpSession(SessionTable& table, std::string id, Kind kind, std::string remote,
                         std::string principal_key, bool bounded)
    : table_(table),
      id_(std::move(id)),
      kind_(kind),
      remote_(std::move(remote)),
      principal_key_(std::move(principal_key)),
      bounded_(bounded),
      last_activity_(table.loop_.now()) {}

HttpSession::~HttpSession() = default;

void HttpSession::send_to_client(const mcp::Message& message) {
  if (state_ == State::closed) {
    return;
  }
  if (kind_ == Kind::sse) {
    if (legacy_stream_) {
      legacy_stream_->push_message(message);
    }
    return;
  }
  standalone_stream()->push_message(message);
}

std::shared_ptr<SseStream> HttpSession::standalone_stream() {
  auto& stream = streams_[0];
  if (!stream) {
    stream = std::make_shared<SseStream>(0, table_.stream_options(true), table_.events_dropped_);
    stream->set_capture(table_.stream_capture(*this, "GET"));
  }
  return stream;
}

std::shared_ptr<SseStream> HttpSession::new_stream() {
  if (state_ == State::closed) {
    return nullptr;
  }
  bound_streams();
  const auto number = next_stream_++;
  auto stream =
      std::make_shared<SseStream>(number, table_.stream_options(true), table_.events_dropped_);
  stream->set_capture(table_.stream_capture(*this, "POST"));
  streams_.emplace(number, stream);
  return stream;
}

// Drops the oldest streams no connection writes, ended ones first, beyond the bound.
void HttpSession::bound_streams() {
  const std::size_t limit = table_.options_.max_requests_per_session + kRetainedStreamsSlack;
  for (const bool ended_only : {true, false}) {
    for (auto it = streams_.begin(); streams_.size() >= limit && it != streams_.end();) {
      const auto& stream = it->second;
      if (it->first != 0 && !stream->attached() && (!ended_only || stream->ended())) {
        it = streams_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

bool HttpSession::busy() const {
  if (!pending_.empty()) {
    return true;
  }
  if (legacy_stream_ && legacy_stream_->attached()) {
    return true;
  }
  return std::any_of(streams_.begin(), streams_.end(),
                     [](const auto& entry) { return entry.second->attached(); });
}

void HttpSession::touch() {
  last_activity_ = table_.loop_.now();
}

void HttpSession::arm_idle_timer(std::chrono::milliseconds delay) {
  idle_timer_ = table_.loop_.schedule(delay, [weak = weak_from_this()] {
    auto session = weak.lock();
    if (!session || session->state_ == State::closed) {
      return;
    }
    const auto timeout = session->table_.options_.session_idle_timeout;
    if (session->busy()) {
      session->arm_idle_timer(timeout);
      return;
    }
    const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(
        session->table_.loop_.now() - session->last_activity_);
    if (idle >= timeout) {
      session->table_.expire(*session);
    } else {
      session->arm_idle_timer(timeout - idle);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// SessionTable

SessionTable::SessionTable(runtime::EventLoop& loop, server::Service& service,
                           const HttpFrontOptions& options)
    : loop_(loop), service_(service), options_(options) {}

SessionTable::~SessionTable() {
  close_all();
}

StreamOptions SessionTable::stream_options(bool resumable) const {
  StreamOptions out;
  out.resumable = resumable;
  out.replay_events = resumable ? options_.stream_replay_events : 0;
  out.max_bytes = options_.max_stream_queue_bytes;
  if (resumable && options_.sse_retry.count() > 0) {
    out.retry_milliseconds = static_cast<std::uint64_t>(options_.sse_retry.count());
  }
  return out;
}

SessionTable::Created SessionTable::create(HttpSession::Kind kind, const std::string& remote,
                                           const server::RequestContext& context) {
  Created out;
  if (sessions_.size() >= options_.max_sessions) {
    spdlog::warn("http front: session limit reached ({} sessions); refusing a new session from {}",
                 options_.max_sessions, remote);
    out.error = error_answer(
        503, kServerLimitError,
        "too many sessions (limit " + std::to_string(options_.max_sessions) + "); try again later");
    return out;
  }
  // Anonymous callers share one key; they are bounded by max_sessions alone, so that an open
  // gateway keeps serving many anonymous clients.
  const bool bounded = context.principal != nullptr && context.principal->authenticated &&
                       options_.max_sessions_per_principal > 0;
  if (bounded) {
    const auto it = sessions_per_principal_.find(context.principal_key);
    if (it != sessions_per_principal_.end() && it->second >= options_.max_sessions_per_principal) {
      spdlog::info(
          "http front: per-principal session limit reached ({} sessions); refusing a new session "
          "from {}",
          options_.max_sessions_per_principal, remote);
      out.error = error_answer(429, kServerLimitError,
                               "too many sessions for this principal (limit " +
                                   std::to_string(options_.max_sessions_per_principal) +
                                   "); end one with DELETE or let one expire, then try again");
      return out;
    }
  }
  auto id = new_session_id();
  if (!id || sessions_.count(*id) != 0) {
    spdlog::error("http front: could not generate a session id (CSPRNG failure)");
    out.error = error_answer(500, mcp::error_code::internal_error, "could not create a session");
    return out;
  }
  auto session =
      std::make_shared<HttpSession>(*this, *id, kind, remote, context.principal_key, bounded);
  sessions_.emplace(*id, session);
  auto channel = std::make_shared<ClientChannelImpl>(session);
  server::SessionOpening opening;
  opening.transport = kind == HttpSession::Kind::sse ? "sse" : "streamable_http";
  opening.session_id = *id;
  opening.remote = remote;
  opening.principal_key = context.principal_key;
  auto logic = service_.open_session(std::move(channel), opening);
  if (!logic) {
    sessions_.erase(*id);
    session->state_ = HttpSession::State::closed;
    out.error = error_answer(503, kServerLimitError, "the server refused a new session");
    return out;
  }
  if (bounded) {
    ++sessions_per_principal_[context.principal_key];
  }
  session->logic_ = std::move(logic);
  session->arm_idle_timer(options_.session_idle_timeout);
  out.session = std::move(session);
  return out;
}

std::shared_ptr<HttpSession> SessionTable::find(const std::optional<std::string>& id,
                                                HttpSession::Kind kind,
                                                const std::string& principal_key) {
  if (!id || id->size() > kMaxSessionIdLength) {
    return nullptr;
  }
  const auto it = sessions_.find(*id);
  if (it == sessions_.end() || it->second->kind() != kind ||
      it->second->state() != HttpSession::State::established) {
    return nullptr;
  }
  if (it->second->principal_key() != principal_key) {
    // Answered exactly like an unknown id: the id alone must not grant access.
    spdlog::warn("http front: session {} presented by a principal that does not own it",
                 session_label(*it->second));
    return nullptr;
  }
  return it->second;
}

std::optional<HttpAnswer> SessionTable::check_version(
    const HttpSession& session, const std::optional<std::string>& header) const {
  if (!header) {
    return std::nullopt;  // 2025-03-26 clients do not send it
  }
  const auto version = mcp::parse_protocol_version(*header);
  if (!version || mcp::era(*version) != mcp::ProtocolEra::legacy) {
    nlohmann::json supported = nlohmann::json::array();
    for (const auto known : mcp::supported_protocol_versions()) {
      if (mcp::era(known) == mcp::ProtocolEra::legacy) {
        supported.push_back(std::string(mcp::to_string(known)));
      }
    }
    std::string shown = header->substr(0, 64);
    return error_answer(400, mcp::error_code::invalid_request,
                        "Bad Request: unsupported MCP-Protocol-Version '" + shown +
                            "'; supported versions: " + accepted_versions_text(),
                        nlohmann::json{{"supported", std::move(supported)}});
  }
  if (*version != session.version()) {
    spdlog::debug("http front: session {} negotiated {} but the request says {}",
                  session_label(session), mcp::to_string(session.version()), *header);
  }
  return std::nullopt;
}

PostOutcome SessionTable::post(IncomingRequest request) {
  PostOutcome out;
  auto decoded = mcp::decode(request.body);
  if (!decoded) {
    HttpAnswer answer;
    answer.status = 400;
    answer.content_type = "application/json";
    answer.body = mcp::encode(decoded.error().to_response());
    out.answer = std::move(answer);
    return out;
  }
  auto& body = *decoded;
  capture_body(request.body, request.capture, mcp::traffic::Transport::streamable_http,
               request.session_id.value_or(std::string()));
  const bool has_initialize = std::any_of(
      body.items.begin(), body.items.end(),
      [](const auto& item) { return item && item->is_request() && item->method == "initialize"; });

  if (request.session_id) {
    auto session =
        find(request.session_id, HttpSession::Kind::streamable_http, request.context.principal_key);
    if (!session) {
      out.answer = error_answer(404, kSessionNotFound, "Session not found");
      return out;
    }
    if (has_initialize) {
      out.answer = error_answer(400, mcp::error_code::invalid_request,
                                "Bad Request: the session is already initialized; send "
                                "initialize without Mcp-Session-Id to start a new session");
      return out;
    }
    if (auto error = check_version(*session, request.protocol_version)) {
      out.answer = std::move(error);
      return out;
    }
    if (body.is_batch && !mcp::traits(session->version()).batches) {
      out.answer = error_answer(400, mcp::error_code::invalid_request,
                                "Bad Request: JSON-RPC batches are not accepted with protocol "
                                "version " +
                                    std::string(mcp::to_string(session->version())));
      return out;
    }
    session->touch();
    return dispatch(session, std::move(body), request, false);
  }

  if (!has_initialize) {
    out.answer = error_answer(400, mcp::error_code::invalid_request,
                              "Bad Request: Mcp-Session-Id header is required");
    return out;
  }
  if (body.is_batch) {
    out.answer = error_answer(400, mcp::error_code::invalid_request,
                              "Bad Request: initialize must not be part of a JSON-RPC batch");
    return out;
  }
  auto created = create(HttpSession::Kind::streamable_http, request.remote, request.context);
  if (!created.session) {
    out.answer = std::move(created.error);
    return out;
  }
  spdlog::debug("http front: session {} initializing for {}", session_label(*created.session),
                request.remote);
  return dispatch(created.session, std::move(body), request, true);
}

PostOutcome SessionTable::dispatch(const std::shared_ptr<HttpSession>& session,
                                   mcp::DecodedBody body, IncomingRequest& request,
                                   bool initialize) {
  PostOutcome out;
  const bool needs_answer = std::any_of(body.items.begin(), body.items.end(), [](const auto& item) {
    return !item || item->is_request();
  });
  auto logic = session->logic_;
  if (!needs_answer) {
    for (auto& item : body.items) {
      if (session->state_ == HttpSession::State::closed) {
        break;
      }
      if (item->is_notification()) {
        logic->handle_notification(std::move(*item), request.context);
      } else {
        logic->handle_response(std::move(*item));
      }
    }
    HttpAnswer accepted;
    accepted.status = 202;
    out.answer = std::move(accepted);
    return out;
  }

  const auto limit = options_.max_requests_per_session;
  if (!body.is_batch && session->requests_in_flight() >= limit) {
    HttpAnswer answer;
    answer.status = 429;
    answer.content_type = "application/json";
    answer.body = mcp::encode(mcp::make_error_response(
        body.items.front()->id, kServerLimitError,
        "too many requests in flight for this session (limit " + std::to_string(limit) + ")"));
    out.answer = std::move(answer);
    return out;
  }

  auto exchange = std::make_shared<Exchange>(session, body.is_batch, initialize, request.sink);
  for (auto& item : body.items) {
    if (!item) {
      exchange->add_response(item.error().to_response());
      continue;
    }
    if (session->state_ == HttpSession::State::closed) {
      if (item->is_request()) {
        exchange->add_response(mcp::make_error_response(
            item->id, kServerLimitError, "the session ended before the request was answered"));
      }
      continue;
    }
    if (item->is_request()) {
      if (session->requests_in_flight() >= limit) {
        exchange->add_response(mcp::make_error_response(
            item->id, kServerLimitError,
            "too many requests in flight for this session (limit " + std::to_string(limit) + ")"));
        continue;
      }
      exchange->add_request();
      auto stream = std::make_shared<ResponseStreamImpl>(exchange, session, *item->id);
      logic->handle_request(std::move(*item), std::move(stream), request.context);
    } else if (item->is_notification()) {
      logic->handle_notification(std::move(*item), request.context);
    } else {
      logic->handle_response(std::move(*item));
    }
  }
  exchange->dispatch_done();
  out.exchange = std::move(exchange);
  return out;
}

void SessionTable::initialize_finished(HttpSession& session, const mcp::Message& response) {
  if (session.state_ != HttpSession::State::opening) {
    return;
  }
  if (response.kind != mcp::MessageKind::success_response) {
    close(session, "initialize failed");
    return;
  }
  const auto* version = response.result.is_object() && response.result.contains("protocolVersion")
                            ? &response.result["protocolVersion"]
                            : nullptr;
  if (version != nullptr && version->is_string()) {
    const auto parsed = mcp::parse_protocol_version(version->get<std::string>());
    if (parsed && mcp::era(*parsed) == mcp::ProtocolEra::legacy) {
      session.version_ = *parsed;
    }
  }
  session.state_ = HttpSession::State::established;
  session.touch();
  spdlog::info("http front: session {} established ({}, {}, {})", session_label(session),
               session.kind_ == HttpSession::Kind::sse ? "sse" : "streamable_http",
               mcp::to_string(session.version_), session.remote_);
}

StreamOutcome SessionTable::get(IncomingRequest request) {
  StreamOutcome out;
  if (!request.session_id) {
    out.answer = error_answer(400, mcp::error_code::invalid_request,
                              "Bad Request: Mcp-Session-Id header is required");
    return out;
  }
  auto session =
      find(request.session_id, HttpSession::Kind::streamable_http, request.context.principal_key);
  if (!session) {
    out.answer = error_answer(404, kSessionNotFound, "Session not found");
    return out;
  }
  if (auto error = check_version(*session, request.protocol_version)) {
    out.answer = std::move(error);
    return out;
  }
  session->touch();

  if (request.last_event_id) {
    const auto parsed = parse_event_id(*request.last_event_id);
    if (!parsed) {
      out.answer = error_answer(400, mcp::error_code::invalid_request,
                                "Bad Request: Last-Event-ID is not an event id of this server");
      return out;
    }
    const auto [number, sequence] = *parsed;
    const auto it = session->streams_.find(number);
    if (it == session->streams_.end()) {
      if (number != 0 && number < session->next_stream_) {
        // A stream that was delivered completely (or dropped): nothing more will come.
        HttpAnswer done;
        done.status = 204;
        out.answer = std::move(done);
      } else {
        out.answer = error_answer(400, mcp::error_code::invalid_request,
                                  "Bad Request: Last-Event-ID names no stream of this session");
      }
      return out;
    }
    auto stream = it->second;
    if (!stream->issued(sequence)) {
      out.answer = error_answer(400, mcp::error_code::invalid_request,
                                "Bad Request: Last-Event-ID names no event of this session");
      return out;
    }
    if (stream->ended() && sequence >= stream->last_sequence() && !stream->attached()) {
      session->streams_.erase(it);
      HttpAnswer done;
      done.status = 204;
      out.answer = std::move(done);
      return out;
    }
    // A resume takes the stream over: the client lost its previous connection, even when the
    // server has not noticed yet.
    stream->attach(request.sink, sequence);
    out.session = std::move(session);
    out.stream = std::move(stream);
    return out;
  }

  auto stream = session->standalone_stream();
  if (stream->attached()) {
    out.answer = error_answer(409, mcp::error_code::invalid_request,
                              "Conflict: this session already has an open GET stream");
    return out;
  }
  stream->attach(request.sink, std::nullopt);
  out.session = std::move(session);
  out.stream = std::move(stream);
  return out;
}

HttpAnswer SessionTable::remove(const IncomingRequest& request) {
  if (!request.session_id) {
    return error_answer(400, mcp::error_code::invalid_request,
                        "Bad Request: Mcp-Session-Id header is required");
  }
  auto session =
      find(request.session_id, HttpSession::Kind::streamable_http, request.context.principal_key);
  if (!session) {
    return error_answer(404, kSessionNotFound, "Session not found");
  }
  if (auto error = check_version(*session, request.protocol_version)) {
    return std::move(*error);
  }
  close(*session, "deleted by the client");
  HttpAnswer answer;
  answer.status = 204;
  return answer;
}

StreamOutcome SessionTable::open_legacy(const std::string& remote,
                                        const server::RequestContext& context,
                                        std::shared_ptr<StreamSink> sink) {
  StreamOutcome out;
  auto created = create(HttpSession::Kind::sse, remote, context);
  if (!created.session) {
    out.answer = std::move(created.error);
    return out;
  }
  auto& session = created.session;
  session->state_ = HttpSession::State::established;
  session->legacy_stream_ = std::make_shared<SseStream>(0, stream_options(false), events_dropped_);
  session->legacy_stream_->set_capture(stream_capture(*session, "GET"));
  session->legacy_stream_->attach(std::move(sink), std::nullopt);
  session->legacy_stream_->push_event("endpoint",
                                      options_.message_path + "?sessionId=" + session->id());
  spdlog::info("http front: legacy SSE session {} opened for {}", session_label(*session), remote);
  out.stream = session->legacy_stream_;
  out.session = std::move(session);
  return out;
}

HttpAnswer SessionTable::legacy_post(const std::string& session_id, std::string_view body,
                                     server::RequestContext context,
                                     const RequestCapture& capture) {
  auto session = find(session_id, HttpSession::Kind::sse, context.principal_key);
  if (!session) {
    return error_answer(404, kSessionNotFound, "Session not found");
  }
  auto decoded = mcp::decode_message(body);
  if (!decoded) {
    HttpAnswer answer;
    answer.status = 400;
    answer.content_type = "application/json";
    answer.body = mcp::encode(decoded.error().to_response());
    return answer;
  }
  capture_body(body, capture, mcp::traffic::Transport::sse, session->id());
  session->touch();
  auto logic = session->logic_;
  auto& message = *decoded;
  if (message.is_request()) {
    const auto limit = options_.max_requests_per_session;
    if (session->requests_in_flight() >= limit) {
      HttpAnswer answer;
      answer.status = 429;
      answer.content_type = "application/json";
      answer.body = mcp::encode(mcp::make_error_response(
          message.id, kServerLimitError,
          "too many requests in flight for this session (limit " + std::to_string(limit) + ")"));
      return answer;
    }
    auto stream = std::make_shared<ResponseStreamImpl>(std::make_shared<LegacyTarget>(session),
                                                       session, *message.id);
    logic->handle_request(std::move(message), std::move(stream), context);
  } else if (message.is_notification()) {
    logic->handle_notification(std::move(message), context);
  } else {
    logic->handle_response(std::move(message));
  }
  HttpAnswer accepted;
  accepted.status = 202;
  return accepted;
}

void SessionTable::capture_body(std::string_view body, const RequestCapture& capture,
                                mcp::traffic::Transport transport,
                                const std::string& session) const {
  if (options_.recorder == nullptr)
    return;
  mcp::capture::Record context;
  context.leg = mcp::traffic::Leg::client;
  context.direction = mcp::traffic::Direction::client_to_server;
  context.transport = transport;
  context.session = session;
  context.connection = capture.connection;
  context.http_method = "POST";
  context.http_headers = capture.headers;
  capture::record_text(*options_.recorder, context, body);
}

std::shared_ptr<const StreamCapture> SessionTable::stream_capture(
    const HttpSession& session, std::string_view http_method) const {
  if (options_.recorder == nullptr)
    return nullptr;
  auto capture = std::make_shared<StreamCapture>();
  capture->recorder = options_.recorder;
  auto& context = capture->context;
  context.leg = mcp::traffic::Leg::client;
  context.direction = mcp::traffic::Direction::server_to_client;
  context.transport = session.kind() == HttpSession::Kind::sse
                          ? mcp::traffic::Transport::sse
                          : mcp::traffic::Transport::streamable_http;
  context.session = session.id();
  context.http_method = std::string(http_method);
  context.http_status = 200;
  context.http_headers.push_back({"content-type", "text/event-stream"});
  return capture;
}

void SessionTable::stream_released(const std::shared_ptr<HttpSession>& session,
                                   const std::shared_ptr<SseStream>& stream,
                                   const StreamSink* sink) {
  stream->detach(sink);
  if (!session || session->state_ == HttpSession::State::closed) {
    return;
  }
  session->touch();
  if (session->kind_ == HttpSession::Kind::sse) {
    if (!stream->attached()) {
      close(*session, "SSE stream closed");
    }
    return;
  }
  if (stream->number() != 0 && stream->complete() && !stream->attached()) {
    session->streams_.erase(stream->number());
  }
}

void SessionTable::expire(HttpSession& session) {
  ++sessions_expired_;
  close(session, "idle timeout");
}

void SessionTable::close(HttpSession& session, std::string_view reason) {
  if (session.state_ == HttpSession::State::closed) {
    return;
  }
  auto keep = session.shared_from_this();
  const bool was_established = session.state_ == HttpSession::State::established;
  session.state_ = HttpSession::State::closed;
  sessions_.erase(session.id_);
  if (session.bounded_) {
    const auto it = sessions_per_principal_.find(session.principal_key_);
    if (it != sessions_per_principal_.end() && --it->second == 0) {
      sessions_per_principal_.erase(it);
    }
  }
  session.idle_timer_.reset();
  if (was_established) {
    spdlog::info("http front: session {} closed: {}", session_label(session), reason);
  } else {
    spdlog::debug("http front: session {} closed: {}", session_label(session), reason);
  }
  if (auto logic = std::move(session.logic_)) {
    logic->close();
  }
  // Requests the server will not answer any more get an error, so no client waits forever.
  while (!session.pending_.empty()) {
    (*session.pending_.begin())->terminate();
  }
  for (auto& [number, stream] : session.streams_) {
    stream->end();
  }
  session.streams_.clear();
  if (session.legacy_stream_) {
    session.legacy_stream_->end();
  }
}

void SessionTable::close_all() {
  while (!sessions_.empty()) {
    auto session = sessions_.begin()->second;
    close(*session, "shutting down");
  }
}

}  // namespace mcpgw::front::http
