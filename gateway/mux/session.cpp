// One client session of the virtual server: initialize, routing of client requests to the
// owning backend, client notifications and the client's answers to backend requests.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "gateway/mux/capabilities.hpp"
#include "gateway/mux/core.hpp"
#include "gateway/mux/text.hpp"
#include "mcp/catalogue.hpp"

namespace mcpgw::mux::detail {

namespace {

constexpr std::size_t kMaxSubscriptions = 4096;
constexpr std::size_t kMaxNameInError = 256;

std::string shown(std::string_view text) {
  return std::string(utf8_prefix(text, kMaxNameInError));
}

// The principal of a request that names none (stdio, front ends without authentication).
const std::shared_ptr<const policy::Principal>& anonymous() {
  static const auto principal = std::make_shared<const policy::Principal>();
  return principal;
}

bool routed_by_target(std::string_view method) {
  return method == "tools/call" || method == "prompts/get" || method == "resources/read" ||
         method == "resources/subscribe" || method == "resources/unsubscribe" ||
         method == "completion/complete";
}

nlohmann::json& params_object(mcp::Message& message) {
  if (!message.params || !message.params->is_object()) {
    message.params = nlohmann::json::object();
  }
  return *message.params;
}

}  // namespace

SessionImpl::SessionImpl(std::shared_ptr<GatewayCore> core,
                         std::shared_ptr<server::ClientChannel> channel,
                         server::SessionOpening opening, std::uint64_t serial)
    : core_(std::move(core)),
      channel_(std::move(channel)),
      opening_(std::move(opening)),
      serial_(serial) {
  upstreams_.resize(core_->backend_count());
}

SessionImpl::~SessionImpl() {
  close();
}

// ---- requests ----

void SessionImpl::handle_request(mcp::Message request,
                                 std::shared_ptr<server::ResponseStream> stream,
                                 const server::RequestContext& context) {
  if (closed_) {
    stream->abandon();
    return;
  }
  if (!request.id) {
    stream->abandon();
    return;
  }
  if (request.method == "initialize") {
    handle_initialize(std::move(request), std::move(stream));
    return;
  }
  if (request.method == "ping") {
    stream->finish(mcp::make_success_response(*request.id, nlohmann::json::object()));
    return;
  }
  if (!initialize_seen_) {
    stream->finish(mcp::make_error_response(*request.id, mcp::error_code::invalid_request,
                                            "The session has not been initialized"));
    return;
  }
  if (!initialized_) {
    // Sent before the initialize answer (which waits for discovery): kept in order.
    if (deferred_.size() >= core_->config().server.max_requests_per_session) {
      stream->finish(mcp::make_error_response(*request.id,
                                              upstream::gateway_error::backend_overloaded,
                                              "Too many requests in flight on this session"));
      return;
    }
    deferred_.push_back({std::move(request), std::move(stream), context, core_->policy()});
    return;
  }
  dispatch(std::move(request), std::move(stream), context, core_->policy());
}

void SessionImpl::handle_initialize(mcp::Message request,
                                    std::shared_ptr<server::ResponseStream> stream) {
  if (initialize_seen_) {
    stream->finish(mcp::make_error_response(*request.id, mcp::error_code::invalid_request,
                                            "The session is already initialized"));
    return;
  }
  initialize_seen_ = true;
  if (request.params && request.params->is_object()) {
    client_params_ = std::move(*request.params);
  }
  protocol_version_ = negotiate_version(client_params_);
  if (auto parsed = mcp::parse_protocol_version(protocol_version_)) {
    version_ = *parsed;
  }
  initialize_id_ = *request.id;
  initialize_stream_ = std::move(stream);
  std::weak_ptr<SessionImpl> weak = weak_from_this();
  core_->when_discovered([weak] {
    if (auto self = weak.lock()) {
      self->answer_initialize();
    }
  });
}

void SessionImpl::answer_initialize() {
  if (closed_ || !initialize_stream_ || !initialize_id_) {
    return;
  }
  auto stream = std::move(initialize_stream_);
  initialize_stream_.reset();
  initialized_ = true;
  spdlog::debug("mux: session {} initialized with protocol version {}", serial_, protocol_version_);
  stream->finish(
      mcp::make_success_response(*initialize_id_, core_->initialize_result(protocol_version_)));
  auto deferred = std::move(deferred_);
  deferred_.clear();
  for (auto& item : deferred) {
    if (closed_) {
      item.stream->abandon();
    } else {
      dispatch(std::move(item.request), std::move(item.stream), item.context,
               std::move(item.policy));
    }
  }
}

nlohmann::json SessionImpl::upstream_initialize_params() const {
  // The client's own params, so the backend sees the client's capabilities and clientInfo;
  // the version is the one the client and the gateway agreed on.
  nlohmann::json params = client_params_;
  params["protocolVersion"] = protocol_version_;
  if (!params.contains("capabilities") || !params["capabilities"].is_object()) {
    params["capabilities"] = nlohmann::json::object();
  }
  if (!params.contains("clientInfo") || !params["clientInfo"].is_object()) {
    params["clientInfo"] = {{"name", core_->options().server_name},
                            {"version", core_->options().server_version}};
  }
  return params;
}

void SessionImpl::dispatch(mcp::Message request, std::shared_ptr<server::ResponseStream> stream,
                           const server::RequestContext& context,
                           std::shared_ptr<const PolicySnapshot> policy) {
  const auto id = *request.id;
  if (pending_.size() >= core_->config().server.max_requests_per_session) {
    stream->finish(mcp::make_error_response(id, upstream::gateway_error::backend_overloaded,
                                            "Too many requests in flight on this session"));
    return;
  }
  if (pending_.count(id) != 0) {
    stream->finish(mcp::make_error_response(id, mcp::error_code::invalid_request,
                                            "Request id " + id.to_string() + " is already in use"));
    return;
  }
  auto pending = std::make_shared<PendingRequest>(id, request.method, std::move(stream));
  pending->policy = std::move(policy);
  pending->principal = context.principal ? context.principal : anonymous();
  pending->principal_key = context.principal_key;
  pending->headers = context.headers;
  pending_.emplace(id, pending);
  const auto& method = pending->method;
  const Unknown unknown_method{mcp::error_code::method_not_found,
                               "Method not found: " + shown(method)};
  // Routed methods are decided once their target is known (route_*); everything else here.
  if (!routed_by_target(method) &&
      !authorize(pending, policy::Target{method, {}, policy::TargetKind::other, {}},
                 unknown_method)) {
    return;
  }
  if (method == "tools/list" || method == "prompts/list" || method == "resources/list" ||
      method == "resources/templates/list" || method == "tasks/list") {
    list(std::move(request), pending);
  } else if (method == "tools/call") {
    route_by_name(NameKind::tool, std::move(request), pending);
  } else if (method == "prompts/get") {
    route_by_name(NameKind::prompt, std::move(request), pending);
  } else if (method == "resources/read" || method == "resources/subscribe" ||
             method == "resources/unsubscribe") {
    route_by_uri(std::move(request), pending);
  } else if (method == "completion/complete") {
    route_completion(std::move(request), pending);
  } else if (method == "tasks/get" || method == "tasks/result" || method == "tasks/cancel") {
    route_task(std::move(request), pending);
  } else if (method == "logging/setLevel") {
    set_level(std::move(request), pending);
  } else if (core_->backend_count() == 1) {
    forward(0, std::move(request), pending);
  } else {
    fail(pending, unknown_method);
  }
}

bool SessionImpl::authorize(const std::shared_ptr<PendingRequest>& pending,
                            const policy::Target& target, const Unknown& denial) {
  const auto& snapshot = *pending->policy;
  const auto decision = snapshot.policy->decide(*pending->principal, target);
  if (decision.effect != policy::Effect::allow) {
    record(pending, target, "deny", decision.rule_id);
    spdlog::debug("mux: session {}: {} denied ({})", serial_, printable(target.method, 64),
                  decision.by_default() ? std::string("the default") : decision.rule_id);
    fail(pending, denial);
    return false;
  }
  if (snapshot.rate_limits) {
    const std::string_view tool =
        target.kind == policy::TargetKind::tool && target.method == "tools/call"
            ? std::string_view(target.name)
            : std::string_view();
    const policy::RateTarget rate{target.method, target.backend, tool};
    const auto verdict = snapshot.rate_limits->check(*pending->principal, pending->principal_key,
                                                     rate, core_->buckets(), core_->loop().now());
    if (!verdict.allowed) {
      record(pending, target, "rate_limited", verdict.limit_id);
      const std::int64_t wait_ms = std::max<std::int64_t>(0, verdict.retry_after.count());
      // Retry-After has whole seconds: rounded up, so a client that obeys it gets a token.
      const std::int64_t wait_seconds = std::max<std::int64_t>(1, (wait_ms + 999) / 1000);
      nlohmann::json data = {{"retryAfterMs", wait_ms}, {"limit", verdict.limit_id}};
      refuse(pending,
             mcp::make_error_response(pending->client_id, kRateLimitedError, "Rate limit exceeded",
                                      std::move(data)),
             server::ResponseStream::Refusal{429, std::chrono::seconds(wait_seconds)});
      return false;
    }
  }
  record(pending, target, "allow", decision.rule_id);
  return true;
}

bool SessionImpl::visible(const std::shared_ptr<PendingRequest>& pending, std::size_t backend,
                          const char* method, policy::TargetKind kind,
                          const std::string& name) const {
  const policy::Target target{method, core_->backend_name(backend), kind, name};
  return pending->policy->policy->decide(*pending->principal, target).effect ==
         policy::Effect::allow;
}

void SessionImpl::record(const std::shared_ptr<PendingRequest>& pending,
                         const policy::Target& target, const char* decision,
                         const std::string& rule) {
  if (!core_->audits(decision)) {
    return;
  }
  policy::AuditRecord record;
  record.time = std::chrono::system_clock::now();
  record.session = opening_.session_id;
  record.principal_key = pending->principal_key;
  record.subject = pending->principal->subject;
  record.api_key = pending->principal->api_key;
  record.cert_subject = pending->principal->cert_subject;
  record.method = target.method;
  record.backend = target.backend;
  record.kind = target.kind;
  record.name = target.name;
  record.decision = decision;
  record.rule = rule;
  record.policy_generation = pending->policy->generation;
  core_->audit(record);
}

void SessionImpl::route_by_name(NameKind kind, mcp::Message request,
                                const std::shared_ptr<PendingRequest>& pending) {
  const auto key = mcp::catalogue::routing_key(request);
  if (!key) {
    fail(pending, key.error().code(), key.error().message);
    return;
  }
  const Unknown unknown{
      mcp::error_code::invalid_params,
      std::string(kind == NameKind::tool ? "Unknown tool: " : "Unknown prompt: ") +
          shown(key->value)};
  const auto target = core_->names().resolve(kind, key->value);
  if (!target) {
    fail(pending, unknown);
    return;
  }
  if (!authorize(pending,
                 policy::Target{
                     pending->method, core_->backend_name(target->backend),
                     kind == NameKind::tool ? policy::TargetKind::tool : policy::TargetKind::prompt,
                     target->original},
                 unknown)) {
    return;
  }
  params_object(request)["name"] = target->original;
  forward(target->backend, std::move(request), pending);
}

void SessionImpl::route_by_uri(mcp::Message request,
                               const std::shared_ptr<PendingRequest>& pending) {
  const auto key = mcp::catalogue::routing_key(request);
  if (!key) {
    fail(pending, key.error().code(), key.error().message);
    return;
  }
  const Unknown unknown{mcp::error_code::resource_not_found,
                        "Resource not found: " + shown(key->value)};
  const auto target = core_->resolve_uri(key->value);
  if (!target) {
    fail(pending, unknown);
    return;
  }
  if (!authorize(pending,
                 policy::Target{pending->method, core_->backend_name(target->first),
                                policy::TargetKind::resource, target->second},
                 unknown)) {
    return;
  }
  if (pending->method == "resources/subscribe" && subscriptions_.size() < kMaxSubscriptions) {
    subscriptions_.insert(key->value);
  } else if (pending->method == "resources/unsubscribe") {
    subscriptions_.erase(key->value);
  }
  params_object(request)["uri"] = target->second;
  forward(target->first, std::move(request), pending);
}

void SessionImpl::route_completion(mcp::Message request,
                                   const std::shared_ptr<PendingRequest>& pending) {
  const auto key = mcp::catalogue::routing_key(request);
  if (!key) {
    fail(pending, key.error().code(), key.error().message);
    return;
  }
  auto& ref = params_object(request)["ref"];
  if (key->ref_type == mcp::RefType::prompt) {
    const Unknown unknown{mcp::error_code::invalid_params, "Unknown prompt: " + shown(key->value)};
    const auto target = core_->names().resolve(NameKind::prompt, key->value);
    if (!target) {
      fail(pending, unknown);
      return;
    }
    if (!authorize(pending,
                   policy::Target{pending->method, core_->backend_name(target->backend),
                                  policy::TargetKind::prompt, target->original},
                   unknown)) {
      return;
    }
    ref["name"] = target->original;
    forward(target->backend, std::move(request), pending);
    return;
  }
  const Unknown unknown{mcp::error_code::invalid_params, "Unknown resource: " + shown(key->value)};
  const auto target = core_->resolve_uri(key->value);
  if (!target) {
    fail(pending, unknown);
    return;
  }
  if (!authorize(pending,
                 policy::Target{pending->method, core_->backend_name(target->first),
                                policy::TargetKind::resource, target->second},
                 unknown)) {
    return;
  }
  ref["uri"] = target->second;
  forward(target->first, std::move(request), pending);
}

void SessionImpl::route_task(mcp::Message request, const std::shared_ptr<PendingRequest>& pending) {
  const auto key = mcp::catalogue::routing_key(request);
  if (!key) {
    fail(pending, key.error().code(), key.error().message);
    return;
  }
  const auto target = core_->tasks().resolve(key->value);
  if (!target) {
    fail(pending, mcp::error_code::invalid_params, "Unknown task: " + shown(key->value));
    return;
  }
  params_object(request)["taskId"] = target->second;
  forward(target->first, std::move(request), pending);
}

// ---- calls to backends ----

std::shared_ptr<Upstream> SessionImpl::upstream_for(std::size_t backend, mcp::Message& error,
                                                    const mcp::RequestId& id,
                                                    const upstream::ForwardedHeaders& headers) {
  const auto unavailable = [&](std::string why) {
    error =
        mcp::make_error_response(id, upstream::gateway_error::backend_unavailable, std::move(why));
    return nullptr;
  };
  const auto& name = core_->backend_name(backend);
  if (core_->shutting_down()) {
    return unavailable("mcpgw is shutting down");
  }
  std::shared_ptr<Upstream> upstream;
  if (core_->shared(backend)) {
    upstream = core_->shared_upstream(backend);
  } else {
    upstream = upstreams_[backend];
    if (!upstream) {
      if (!core_->available(backend)) {
        return unavailable("Backend '" + name + "' is unavailable");
      }
      // Its handshake carries the headers of the request that made it.
      upstream = core_->make_upstream(backend, Upstream::Role::session, weak_from_this(),
                                      upstream_initialize_params(), headers);
      upstreams_[backend] = upstream;
      if (upstream->client) {
        upstream->client->start();
      }
    }
  }
  if (!upstream || !upstream->client) {
    return unavailable("Backend '" + name + "' is unavailable");
  }
  if (!core_->available(backend) && upstream->client->state() != upstream::ClientState::ready) {
    return unavailable("Backend '" + name + "' is unavailable");
  }
  return upstream;
}

bool SessionImpl::call(std::size_t backend, mcp::Message request,
                       const std::shared_ptr<PendingRequest>& pending,
                       std::function<void(mcp::Message)> done, mcp::Message& error) {
  const auto headers = core_->forwarded_headers(backend, pending->headers);
  auto upstream = upstream_for(backend, error, pending->client_id, headers);
  if (!upstream) {
    return false;
  }
  auto state = std::make_shared<CallState>();
  std::weak_ptr<GatewayCore> core = core_;
  const auto id = upstream->client->call_with_headers(
      std::move(request),
      [state, core, done = std::move(done)](mcp::Message response) {
        if (state->done) {
          return;
        }
        state->done = true;
        if (state->id) {
          if (auto owner = core.lock()) {
            owner->forget_call(*state->id);
          }
        }
        done(std::move(response));
      },
      headers);
  if (!state->done) {
    state->id = id;
    core_->remember_call(id, *upstream, serial_, weak_from_this(), pending);
    pending->calls.push_back({backend, upstream, id, state});
  }
  return true;
}

void SessionImpl::forward(std::size_t backend, mcp::Message request,
                          const std::shared_ptr<PendingRequest>& pending) {
  if (!rewrite_progress_token(request, pending)) {
    return;
  }
  std::weak_ptr<SessionImpl> weak = weak_from_this();
  std::weak_ptr<PendingRequest> weak_pending = pending;
  mcp::Message error;
  const bool sent = call(
      backend, std::move(request), pending,
      [weak, weak_pending, backend](mcp::Message response) {
        auto self = weak.lock();
        auto owner = weak_pending.lock();
        if (!self || !owner || self->closed_ || owner->finished) {
          return;
        }
        if (response.kind == mcp::MessageKind::success_response) {
          self->core_->rewriter(backend).result(owner->method, response.result);
        }
        self->finish(owner, std::move(response));
      },
      error);
  if (!sent) {
    finish(pending, std::move(error));
  }
}

bool SessionImpl::rewrite_progress_token(mcp::Message& request,
                                         const std::shared_ptr<PendingRequest>& pending) {
  auto token = mcp::progress_token(request);
  if (!token) {
    fail(pending, mcp::error_code::invalid_params, token.error());
    return false;
  }
  if (!*token) {
    return true;
  }
  // Tokens are the client's own and may repeat across sessions (or backends' views of them):
  // the backend gets one unique to the gateway, mapped back on the way out.
  auto ours = core_->remember_progress(weak_from_this(), pending, std::move(**token));
  (*request.params)["_meta"]["progressToken"] = ours;
  pending->progress_token = std::move(ours);
  return true;
}

void SessionImpl::finish(const std::shared_ptr<PendingRequest>& pending, mcp::Message response) {
  if (pending->finished) {
    return;
  }
  pending->finished = true;
  response.id = pending->client_id;
  release(pending);
  pending->stream->finish(std::move(response));
}

void SessionImpl::fail(const std::shared_ptr<PendingRequest>& pending, std::int64_t code,
                       std::string message) {
  finish(pending, mcp::make_error_response(pending->client_id, code, std::move(message)));
}

void SessionImpl::fail(const std::shared_ptr<PendingRequest>& pending, const Unknown& unknown) {
  fail(pending, unknown.code, unknown.message);
}

void SessionImpl::refuse(const std::shared_ptr<PendingRequest>& pending, mcp::Message response,
                         const server::ResponseStream::Refusal& refusal) {
  if (pending->finished) {
    return;
  }
  pending->finished = true;
  response.id = pending->client_id;
  release(pending);
  pending->stream->refuse(std::move(response), refusal);
}

void SessionImpl::release(const std::shared_ptr<PendingRequest>& pending) {
  if (const auto found = pending_.find(pending->client_id);
      found != pending_.end() && found->second == pending) {
    pending_.erase(found);
  }
  if (pending->progress_token) {
    core_->forget_progress(*pending->progress_token);
    pending->progress_token.reset();
  }
  for (auto& call : pending->calls) {
    if (!call.state->done) {
      call.state->done = true;
      core_->forget_call(call.id);
    }
  }
}

void SessionImpl::cancel_pending(const std::shared_ptr<PendingRequest>& pending,
                                 const std::string& reason, bool abandon) {
  if (pending->finished) {
    return;
  }
  pending->finished = true;
  // Only the backends that own a call of this request hear of the cancellation.
  for (auto& call : pending->calls) {
    if (call.state->done) {
      continue;
    }
    call.state->done = true;
    core_->forget_call(call.id);
    if (auto upstream = call.upstream.lock(); upstream && upstream->client) {
      upstream->client->cancel(call.id, reason);
    }
  }
  release(pending);
  if (abandon) {
    pending->stream->abandon();
  }
}

// ---- notifications and responses from the client ----

void SessionImpl::handle_notification(mcp::Message notification,
                                      const server::RequestContext& /*context*/) {
  if (closed_) {
    return;
  }
  const auto& method = notification.method;
  if (method == "notifications/initialized") {
    return;  // the gateway's own upstream sessions send their own
  }
  if (method == "notifications/cancelled") {
    const auto* id = notification.param("requestId");
    if (id == nullptr) {
      return;
    }
    auto request_id = mcp::RequestId::from_json(*id);
    if (!request_id) {
      return;
    }
    // Cancelled before the initialize answer let it start: it is never sent anywhere.
    for (auto it = deferred_.begin(); it != deferred_.end(); ++it) {
      if (it->request.id == *request_id) {
        auto stream = std::move(it->stream);
        deferred_.erase(it);
        stream->abandon();
        return;
      }
    }
    const auto found = pending_.find(*request_id);
    if (found == pending_.end()) {
      spdlog::debug("mux: session {}: cancellation of {} which is not in flight", serial_,
                    request_id->to_string());
      return;
    }
    std::string reason = "cancelled by the client";
    if (const auto* given = notification.param("reason"); given != nullptr && given->is_string()) {
      reason = given->get<std::string>();
    }
    auto pending = found->second;
    cancel_pending(pending, reason, true);
    return;
  }
  if (method == "notifications/progress") {
    // Progress of a backend request the client is answering: its owner only.
    const auto* token = notification.param("progressToken");
    if (token == nullptr || !token->is_string()) {
      return;
    }
    const auto found = server_progress_.find(token->get<std::string>());
    if (found == server_progress_.end()) {
      return;
    }
    if (auto upstream = found->second.upstream.lock(); upstream && upstream->client) {
      (*notification.params)["progressToken"] = found->second.original.to_json();
      upstream->client->notify(std::move(notification));
    }
    return;
  }
  std::vector<std::shared_ptr<Upstream>> targets;
  for (std::size_t backend = 0; backend < core_->backend_count(); ++backend) {
    auto upstream = core_->shared(backend) ? core_->shared_upstream(backend) : upstreams_[backend];
    if (upstream && upstream->client) {
      targets.push_back(std::move(upstream));
    }
  }
  if (method == "notifications/roots/list_changed" || core_->backend_count() == 1) {
    // Every backend session of this client (those not started yet will ask afresh).
    for (const auto& upstream : targets) {
      upstream->client->notify(notification);
    }
    return;
  }
  spdlog::debug("mux: session {}: {} has no owner among several backends; dropped", serial_,
                printable(method, 64));
}

void SessionImpl::handle_response(mcp::Message response) {
  if (closed_) {
    return;
  }
  if (!response.id) {
    spdlog::warn("mux: session {}: a response without an id dropped", serial_);
    return;
  }
  const auto found = server_requests_.find(*response.id);
  if (found == server_requests_.end()) {
    spdlog::warn("mux: session {}: a response with unknown id {} dropped", serial_,
                 printable(response.id->to_string(), 64));
    return;
  }
  auto route = std::move(found->second);
  server_requests_.erase(found);
  if (route.progress_token) {
    server_progress_.erase(*route.progress_token);
  }
  response.id = route.original;
  if (auto upstream = route.upstream.lock(); upstream && upstream->client) {
    upstream->client->respond(std::move(response));
  }
}

// ---- backend traffic for this client ----

bool SessionImpl::speaks(std::string_view method) const {
  return !version_ || mcp::catalogue::lookup(method) == nullptr ||
         mcp::catalogue::is_known(method, *version_);
}

void SessionImpl::deliver(mcp::Message message, const std::shared_ptr<PendingRequest>& related) {
  if (closed_) {
    return;
  }
  if (message.is_notification() && !speaks(message.method)) {
    spdlog::debug("mux: session {}: {} is not in protocol version {}; dropped", serial_,
                  message.method, protocol_version_);
    return;
  }
  if (related && !related->finished) {
    related->stream->send(std::move(message));
  } else {
    channel_->send(std::move(message));
  }
}

void SessionImpl::forward_backend_request(const std::shared_ptr<Upstream>& upstream,
                                          mcp::Message request,
                                          const std::shared_ptr<PendingRequest>& related) {
  if (closed_ || !initialized_) {
    upstream->client->respond(mcp::make_error_response(*request.id, mcp::error_code::internal_error,
                                                       "mcpgw: the client session has ended"));
    return;
  }
  if (!speaks(request.method)) {
    upstream->client->respond(
        mcp::make_error_response(*request.id, mcp::error_code::method_not_found,
                                 "mcpgw: the client speaks protocol version " + protocol_version_ +
                                     ", which has no " + request.method));
    return;
  }
  if (server_requests_.size() >= core_->options().max_server_requests_per_session) {
    spdlog::warn("mux: session {}: too many backend requests wait for the client; {} refused",
                 serial_, printable(request.method, 64));
    upstream->client->respond(
        mcp::make_error_response(*request.id, mcp::error_code::internal_error,
                                 "mcpgw: too many requests are waiting for the client"));
    return;
  }
  const mcp::RequestId ours(core_->next_server_request_id());
  ServerRequest route{upstream, *request.id, std::nullopt};
  if (auto token = mcp::progress_token(request); token && *token) {
    auto progress = core_->next_token("progress");
    server_progress_.emplace(progress, ServerProgress{upstream, std::move(**token)});
    (*request.params)["_meta"]["progressToken"] = progress;
    route.progress_token = std::move(progress);
  }
  if (request.params) {
    core_->rewriter(upstream->backend).related_task(*request.params);
  }
  request.id = ours;
  server_requests_.emplace(ours, std::move(route));
  deliver(std::move(request), related);
}

bool SessionImpl::forward_backend_cancel(const Upstream& upstream, mcp::Message notification,
                                         const std::shared_ptr<PendingRequest>& related) {
  const auto* id = notification.param("requestId");
  if (id == nullptr) {
    return false;
  }
  auto original = mcp::RequestId::from_json(*id);
  if (!original) {
    return false;
  }
  for (auto it = server_requests_.begin(); it != server_requests_.end(); ++it) {
    if (it->second.original != *original || it->second.upstream.lock().get() != &upstream) {
      continue;
    }
    (*notification.params)["requestId"] = it->first.to_json();
    if (it->second.progress_token) {
      server_progress_.erase(*it->second.progress_token);
    }
    server_requests_.erase(it);
    deliver(std::move(notification), related);
    return true;
  }
  return false;
}

std::shared_ptr<Upstream> SessionImpl::find_upstream(const Upstream& upstream) const {
  for (const auto& candidate : upstreams_) {
    if (candidate.get() == &upstream) {
      return candidate;
    }
  }
  return nullptr;
}

// ---- the end ----

void SessionImpl::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  std::vector<std::shared_ptr<PendingRequest>> pending;
  pending.reserve(pending_.size());
  for (const auto& [id, request] : pending_) {
    pending.push_back(request);
  }
  for (const auto& request : pending) {
    cancel_pending(request, "the client session ended", true);
  }
  pending_.clear();
  if (initialize_stream_) {
    initialize_stream_->abandon();
    initialize_stream_.reset();
  }
  for (auto& item : deferred_) {
    item.stream->abandon();
  }
  deferred_.clear();
  // Backend requests still waiting for this client get an answer now.
  for (auto& [id, route] : server_requests_) {
    if (auto upstream = route.upstream.lock(); upstream && upstream->client) {
      upstream->client->respond(
          mcp::make_error_response(route.original, mcp::error_code::internal_error,
                                   "mcpgw: the client session ended before answering"));
    }
  }
  server_requests_.clear();
  server_progress_.clear();
  subscriptions_.clear();
  for (auto& upstream : upstreams_) {
    if (upstream) {
      core_->retire(std::move(upstream));
    }
  }
  upstreams_.clear();
  core_->forget_session(serial_);
  spdlog::debug("mux: session {} closed", serial_);
}

}  // namespace mcpgw::mux::detail
