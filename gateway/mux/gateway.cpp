// The multiplexer's backend side: discovery, the virtual server's initialize result, routing
// of backend-to-client traffic to the right session and stream, shutdown.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "gateway/mux/capabilities.hpp"
#include "gateway/mux/core.hpp"
#include "gateway/mux/text.hpp"
#include "mcp/catalogue.hpp"

namespace mcpgw::mux {

namespace detail {

namespace {

std::vector<std::string> backend_names_of(const config::Config& config) {
  std::vector<std::string> names;
  names.reserve(config.backends.size());
  for (const auto& backend : config.backends) {
    names.push_back(backend.name);
  }
  return names;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::vector<std::set<std::string>> forward_names_of(const config::Config& config) {
  std::vector<std::set<std::string>> out;
  out.reserve(config.backends.size());
  for (const auto& backend : config.backends) {
    std::set<std::string> names;
    for (const auto& name : backend.forward_headers) {
      names.insert(lower(name));
    }
    out.push_back(std::move(names));
  }
  return out;
}

// The configuration's own policy (generation 0). The loader always compiles one; a
// configuration built in code gets its policy_spec compiled here, and one that does not compile
// denies everything rather than nothing.
std::shared_ptr<const PolicySnapshot> initial_policy(const config::Config& config,
                                                     const std::vector<std::string>& backends) {
  auto snapshot = std::make_shared<PolicySnapshot>();
  snapshot->policy = config.policy;
  snapshot->rate_limits = config.rate_limits;
  if (!snapshot->policy) {
    policy::CompileContext context;
    context.backends_known = true;
    context.backends = backends;
    context.separator = config.server.separator;
    config::Diagnostics diagnostics;
    snapshot->policy = policy::compile(config.policy_spec, context, diagnostics);
    if (!snapshot->policy) {
      spdlog::error("mux: the configured policy does not compile; every request is denied");
      config::Diagnostics ignored;
      snapshot->policy = policy::compile(policy::PolicySpec{}, policy::CompileContext{}, ignored);
    }
  }
  return snapshot;
}

bool is_list_changed(std::string_view method) {
  return method == "notifications/tools/list_changed" ||
         method == "notifications/prompts/list_changed" ||
         method == "notifications/resources/list_changed";
}

}  // namespace

// ---- Upstream ----

Upstream::Upstream(GatewayCore& owner, std::size_t index, Role kind,
                   std::weak_ptr<SessionImpl> client_session)
    : core(owner), backend(index), role(kind), session(std::move(client_session)) {}

void Upstream::on_ready(const nlohmann::json& initialize_result) {
  core.upstream_ready(*this, initialize_result);
}

void Upstream::on_backend_request(mcp::Message request, std::optional<upstream::CallId> related) {
  core.upstream_request(*this, std::move(request), related);
}

void Upstream::on_backend_notification(mcp::Message notification,
                                       std::optional<upstream::CallId> related) {
  core.upstream_notification(*this, std::move(notification), related);
}

void Upstream::on_down(const std::string& reason) {
  core.upstream_down(*this, reason);
}

// ---- GatewayCore ----

GatewayCore::GatewayCore(runtime::EventLoop& loop, std::shared_ptr<const config::Config> config,
                         ClientFactory clients, GatewayOptions options)
    : loop_(loop),
      config_(std::move(config)),
      factory_(std::move(clients)),
      options_(std::move(options)),
      backend_names_(backend_names_of(*config_)),
      names_(backend_names_, config_->server.separator,
             prefixing_applies(config_->server.prefix, backend_names_.size()),
             options_.max_name_entries),
      uris_(backend_names_, prefixing_applies(config_->server.prefix, backend_names_.size())),
      tasks_(backend_names_, config_->server.separator),
      resource_routes_(options_.max_resource_routes),
      cursors_(backend_names_),
      forward_names_(forward_names_of(*config_)),
      policy_(initial_policy(*config_, backend_names_)),
      buckets_(options_.buckets) {
  if (!buckets_) {
    buckets_ = policy::make_memory_bucket_store(config_->server.max_rate_limit_buckets);
  }
  backends_.resize(config_->backends.size());
  for (std::size_t index = 0; index < backends_.size(); ++index) {
    backends_[index].config = &config_->backends[index];
  }
}

GatewayCore::~GatewayCore() = default;

std::shared_ptr<server::Session> GatewayCore::open_session(
    std::shared_ptr<server::ClientChannel> channel, const server::SessionOpening& opening) {
  const auto serial = next_session_serial_++;
  auto session =
      std::make_shared<SessionImpl>(shared_from_this(), std::move(channel), opening, serial);
  sessions_.emplace(serial, session);
  spdlog::debug("mux: session {} opened ({} {})", serial, opening.transport,
                printable(opening.session_id, 64));
  return session;
}

bool GatewayCore::shared(std::size_t backend) const {
  return backends_[backend].config->session_mode == config::SessionMode::shared;
}

nlohmann::json GatewayCore::upstream_initialize_params(Upstream::Role role) const {
  nlohmann::json capabilities = nlohmann::json::object();
  if (role == Upstream::Role::shared) {
    // One upstream session serves every client, so it declares what the gateway can forward;
    // a client that lacks one answers the forwarded request with its own error.
    capabilities = {
        {"roots", {{"listChanged", true}}},
        {"sampling", nlohmann::json::object()},
        {"elicitation", {{"form", nlohmann::json::object()}, {"url", nlohmann::json::object()}}}};
  }
  return {{"protocolVersion", std::string(mcp::to_string(mcp::kLatestLegacyVersion))},
          {"capabilities", std::move(capabilities)},
          {"clientInfo", {{"name", options_.server_name}, {"version", options_.server_version}}}};
}

std::shared_ptr<Upstream> GatewayCore::make_upstream(std::size_t backend, Upstream::Role role,
                                                     std::weak_ptr<SessionImpl> session,
                                                     nlohmann::json initialize_params,
                                                     upstream::ForwardedHeaders handshake_headers) {
  // Only a session's own upstream serves one client session; discovery and shared upstreams
  // record with no client session.
  std::string capture_session;
  if (role == Upstream::Role::session) {
    if (auto owner = session.lock()) {
      capture_session = owner->front_session_id();
    }
  }
  auto upstream = std::make_shared<Upstream>(*this, backend, role, std::move(session));
  const auto& config = *backends_[backend].config;
  upstream::ClientOptions options;
  options.backend_name = config.name;
  options.capture_session = std::move(capture_session);
  options.initialize_params = std::move(initialize_params);
  options.handshake_headers = std::move(handshake_headers);
  options.request_timeout = config.timeout;
  options.restart = true;
  options.backoff.initial = config.restart_backoff;
  options.backoff.max = config.restart_backoff_max;
  if (factory_) {
    upstream->client = factory_(backend, std::move(options), *upstream);
  }
  if (!upstream->client) {
    spdlog::error("mux: no upstream client could be made for backend '{}'", config.name);
  }
  return upstream;
}

void GatewayCore::start() {
  if (started_ || shutting_down_) {
    return;
  }
  started_ = true;
  if (backends_.empty()) {
    finish_discovery();
    return;
  }
  std::weak_ptr<GatewayCore> weak = weak_from_this();
  discovery_timer_ = loop_.schedule(options_.discovery_wait, [weak] {
    if (auto self = weak.lock()) {
      self->finish_discovery();
    }
  });
  for (std::size_t index = 0; index < backends_.size(); ++index) {
    const auto role = shared(index) ? Upstream::Role::shared : Upstream::Role::discovery;
    backends_[index].discovery = make_upstream(index, role, {}, upstream_initialize_params(role));
  }
  for (std::size_t index = 0; index < backends_.size(); ++index) {
    auto upstream = backends_[index].discovery;
    if (upstream && upstream->client) {
      upstream->client->start();
    } else {
      backends_[index].down = true;
      backends_[index].last_error = "no upstream client";
      settle(index);
    }
  }
}

void GatewayCore::settle(std::size_t backend) {
  backends_[backend].settled = true;
  for (const auto& entry : backends_) {
    if (!entry.settled) {
      return;
    }
  }
  finish_discovery();
}

void GatewayCore::finish_discovery() {
  if (discovered_) {
    return;
  }
  discovered_ = true;
  discovery_timer_.reset();
  for (std::size_t index = 0; index < backends_.size(); ++index) {
    if (!backends_[index].settled) {
      spdlog::warn("mux: backend '{}' has not answered yet; clients see it once it does",
                   backend_names_[index]);
    }
  }
  auto waiters = std::move(discovery_waiters_);
  discovery_waiters_.clear();
  for (auto& waiter : waiters) {
    waiter();
  }
}

void GatewayCore::when_discovered(std::function<void()> ready) {
  if (discovered_ || !started_ || shutting_down_) {
    ready();
    return;
  }
  discovery_waiters_.push_back(std::move(ready));
}

nlohmann::json GatewayCore::initialize_result(const std::string& protocol_version) const {
  std::vector<const nlohmann::json*> capabilities;
  std::vector<BackendInstructions> instructions;
  for (std::size_t index = 0; index < backends_.size(); ++index) {
    const auto& result = backends_[index].initialize_result;
    if (!result.is_object()) {
      continue;
    }
    if (const auto found = result.find("capabilities");
        found != result.end() && found->is_object()) {
      capabilities.push_back(&*found);
    }
    if (const auto found = result.find("instructions");
        found != result.end() && found->is_string()) {
      instructions.push_back({backend_names_[index], found->get<std::string>()});
    }
  }
  nlohmann::json out = {
      {"protocolVersion", protocol_version},
      {"capabilities", merge_capabilities(capabilities)},
      {"serverInfo", {{"name", options_.server_name}, {"version", options_.server_version}}}};
  if (auto text = merge_instructions(instructions, backends_.size() > 1)) {
    out["instructions"] = std::move(*text);
  }
  return out;
}

void GatewayCore::set_policy(std::shared_ptr<const PolicySnapshot> snapshot) {
  if (!snapshot || !snapshot->policy) {
    spdlog::error("mux: a policy snapshot without a policy was refused; generation {} stays",
                  policy_->generation);
    return;
  }
  policy_ = std::move(snapshot);
  spdlog::info("mux: policy generation {} is in force for new requests", policy_->generation);
}

bool GatewayCore::audits(std::string_view decision) const {
  return options_.audit != nullptr && (decision != "allow" || config_->audit.include_allowed);
}

void GatewayCore::audit(const policy::AuditRecord& record) {
  if (audits(record.decision)) {
    options_.audit->record(record);
  }
}

upstream::ForwardedHeaders GatewayCore::forwarded_headers(
    std::size_t backend, const upstream::ForwardedHeaders& all) const {
  upstream::ForwardedHeaders out;
  const auto& allowed = forward_names_[backend];
  if (allowed.empty()) {
    return out;
  }
  for (const auto& [name, value] : all) {
    if (allowed.count(lower(name)) != 0) {
      out.emplace_back(name, value);
    }
  }
  return out;
}

bool GatewayCore::available(std::size_t backend) const {
  return !backends_[backend].down;
}

bool GatewayCore::may_offer(std::size_t backend, const char* capability) const {
  const auto& result = backends_[backend].initialize_result;
  if (!result.is_object()) {
    return true;
  }
  const auto found = result.find("capabilities");
  if (found == result.end() || !found->is_object()) {
    return true;
  }
  return found->contains(capability);
}

std::shared_ptr<Upstream> GatewayCore::shared_upstream(std::size_t backend) const {
  return backends_[backend].discovery;
}

void GatewayCore::retire(std::shared_ptr<Upstream> upstream) {
  if (!upstream || !upstream->client) {
    return;
  }
  const auto key = next_closing_++;
  closing_.emplace(key, upstream);
  std::weak_ptr<GatewayCore> weak = weak_from_this();
  auto& loop = loop_;
  upstream->client->close([weak, key, &loop] {
    // Released later, never inside the Client's own call.
    loop.post([weak, key] {
      if (auto self = weak.lock()) {
        self->closing_.erase(key);
        self->maybe_finish_shutdown();
      }
    });
  });
}

std::optional<std::pair<std::size_t, std::string>> GatewayCore::resolve_uri(
    std::string_view uri) const {
  if (backends_.empty()) {
    return std::nullopt;
  }
  if (uris_.rewriting()) {
    return uris_.resolve(uri);
  }
  if (backends_.size() == 1) {
    return std::pair<std::size_t, std::string>{0, std::string(uri)};
  }
  if (const auto backend = resource_routes_.find(uri)) {
    return std::pair<std::size_t, std::string>{*backend, std::string(uri)};
  }
  return std::nullopt;
}

void GatewayCore::remember_call(upstream::CallId id, const Upstream& upstream,
                                std::uint64_t session_serial,
                                const std::weak_ptr<SessionImpl>& session,
                                const std::shared_ptr<PendingRequest>& request) {
  calls_[id] = CallRoute{&upstream, session_serial, session, request};
  in_flight_[&upstream].insert(id);
}

void GatewayCore::forget_call(upstream::CallId id) {
  const auto found = calls_.find(id);
  if (found == calls_.end()) {
    return;
  }
  if (const auto flight = in_flight_.find(found->second.upstream); flight != in_flight_.end()) {
    flight->second.erase(id);
    if (flight->second.empty()) {
      in_flight_.erase(flight);
    }
  }
  calls_.erase(found);
}

std::string GatewayCore::next_token(std::string_view kind) {
  return "mcpgw-" + std::string(kind) + "-" + std::to_string(next_token_++);
}

std::string GatewayCore::remember_progress(const std::weak_ptr<SessionImpl>& session,
                                           const std::shared_ptr<PendingRequest>& request,
                                           mcp::RequestId original) {
  auto token = next_token("progress");
  progress_.emplace(token, ProgressRoute{session, request, std::move(original)});
  return token;
}

void GatewayCore::forget_progress(const std::string& token) {
  progress_.erase(token);
}

void GatewayCore::forget_session(std::uint64_t serial) {
  sessions_.erase(serial);
}

std::vector<std::shared_ptr<SessionImpl>> GatewayCore::live_sessions() const {
  std::vector<std::shared_ptr<SessionImpl>> out;
  out.reserve(sessions_.size());
  for (const auto& [serial, weak] : sessions_) {
    if (auto session = weak.lock(); session && !session->closed()) {
      out.push_back(std::move(session));
    }
  }
  return out;
}

// ---- backend events ----

void GatewayCore::upstream_ready(Upstream& upstream, const nlohmann::json& result) {
  const auto& name = backend_names_[upstream.backend];
  if (upstream.role == Upstream::Role::session) {
    spdlog::debug("mux: backend '{}' session ready", name);
    return;
  }
  auto& backend = backends_[upstream.backend];
  const bool was_down = backend.down;
  backend.initialize_result = result.is_object() ? result : nlohmann::json::object();
  backend.ready = true;
  backend.down = false;
  backend.last_error.clear();
  std::string server = "?";
  if (const auto info = backend.initialize_result.find("serverInfo");
      info != backend.initialize_result.end() && info->is_object()) {
    if (const auto server_name = info->find("name");
        server_name != info->end() && server_name->is_string()) {
      server = printable(server_name->get_ref<const std::string&>(), 64);
    }
  }
  spdlog::info("mux: backend '{}' is ready (server {})", name, server);
  if (!backend.settled) {
    settle(upstream.backend);
  } else if (was_down) {
    announce_list_changed(upstream.backend);
  }
}

void GatewayCore::upstream_down(Upstream& upstream, const std::string& reason) {
  const auto& name = backend_names_[upstream.backend];
  if (upstream.role == Upstream::Role::session) {
    spdlog::warn("mux: backend '{}' (a client session's upstream) is down: {}", name, reason);
    return;
  }
  auto& backend = backends_[upstream.backend];
  const bool was_ready = backend.ready;
  backend.ready = false;
  backend.down = true;
  backend.last_error = reason;
  spdlog::warn("mux: backend '{}' is down: {}", name, reason);
  if (!backend.settled) {
    settle(upstream.backend);
  } else if (was_ready) {
    announce_list_changed(upstream.backend);
  }
}

void GatewayCore::invalidate(std::size_t backend, std::string_view method) {
  if (method == "notifications/tools/list_changed") {
    names_.invalidate(NameKind::tool, backend);
  } else if (method == "notifications/prompts/list_changed") {
    names_.invalidate(NameKind::prompt, backend);
  } else if (method == "notifications/resources/list_changed") {
    resource_routes_.invalidate(backend);
  }
}

void GatewayCore::announce_list_changed(std::size_t backend) {
  static constexpr std::pair<const char*, const char*> kKinds[] = {
      {"tools", "notifications/tools/list_changed"},
      {"prompts", "notifications/prompts/list_changed"},
      {"resources", "notifications/resources/list_changed"}};
  const auto sessions = live_sessions();
  for (const auto& [capability, method] : kKinds) {
    invalidate(backend, method);
    if (!may_offer(backend, capability)) {
      continue;
    }
    for (const auto& session : sessions) {
      if (session->initialized()) {
        session->deliver(mcp::make_notification(method), nullptr);
      }
    }
  }
}

std::shared_ptr<SessionImpl> GatewayCore::owner_of(const Upstream& upstream,
                                                   std::optional<upstream::CallId> related,
                                                   std::shared_ptr<PendingRequest>* request,
                                                   Inference inference) const {
  const auto live = [](const std::weak_ptr<SessionImpl>& weak) {
    auto session = weak.lock();
    return session && !session->closed() ? session : nullptr;
  };
  const auto from_route = [&](const CallRoute& route) {
    auto session = live(route.session);
    if (session && request != nullptr) {
      *request = route.request.lock();
    }
    return session;
  };
  if (related) {
    if (const auto found = calls_.find(*related); found != calls_.end()) {
      if (auto session = from_route(found->second)) {
        return session;
      }
    }
  }
  const auto flight = in_flight_.find(&upstream);
  const bool busy = inference != Inference::none && flight != in_flight_.end();
  if (busy && flight->second.size() == 1) {
    // One call in flight through this upstream: whatever the backend sends now belongs to it.
    if (const auto found = calls_.find(*flight->second.begin()); found != calls_.end()) {
      if (auto session = from_route(found->second)) {
        return session;
      }
    }
  }
  if (upstream.role == Upstream::Role::session) {
    return live(upstream.session);
  }
  if (upstream.role == Upstream::Role::shared && busy && inference == Inference::owner_session) {
    // Several calls: the owner is the one session they all belong to; otherwise ambiguous.
    std::optional<std::uint64_t> owner;
    std::weak_ptr<SessionImpl> owner_session;
    for (const auto id : flight->second) {
      const auto found = calls_.find(id);
      if (found == calls_.end()) {
        continue;
      }
      if (owner && *owner != found->second.session_serial) {
        return nullptr;
      }
      owner = found->second.session_serial;
      owner_session = found->second.session;
    }
    return live(owner_session);
  }
  return nullptr;
}

void GatewayCore::upstream_request(Upstream& upstream, mcp::Message request,
                                   std::optional<upstream::CallId> related) {
  if (!request.id || !upstream.client) {
    return;
  }
  std::shared_ptr<Upstream> self;
  std::shared_ptr<PendingRequest> pending;
  std::shared_ptr<SessionImpl> session;
  if (upstream.role != Upstream::Role::discovery) {
    session = owner_of(upstream, related, &pending, Inference::owner_session);
  }
  if (session && session->initialized()) {
    self = upstream.role == Upstream::Role::session ? session->find_upstream(upstream)
                                                    : backends_[upstream.backend].discovery;
  }
  if (self) {
    session->forward_backend_request(self, std::move(request), pending);
    return;
  }
  if (request.method == "ping") {
    upstream.client->respond(mcp::make_success_response(*request.id, nlohmann::json::object()));
    return;
  }
  std::string why;
  switch (upstream.role) {
    case Upstream::Role::discovery:
      why = "mcpgw: its discovery session does not take " + request.method + " requests";
      break;
    case Upstream::Role::shared:
      why = "mcpgw: no single client session owns this " + request.method +
            " request (the backend is shared by all sessions)";
      break;
    case Upstream::Role::session:
      why = "mcpgw: the client session has ended";
      break;
  }
  spdlog::warn("mux: backend '{}': {}", backend_names_[upstream.backend], why);
  upstream.client->respond(
      mcp::make_error_response(*request.id, mcp::error_code::internal_error, std::move(why)));
}

void GatewayCore::upstream_notification(Upstream& upstream, mcp::Message notification,
                                        std::optional<upstream::CallId> related) {
  const auto& method = notification.method;
  if (method == "notifications/progress") {
    const auto* token = notification.param("progressToken");
    if (token == nullptr || !token->is_string()) {
      return;
    }
    const auto found = progress_.find(token->get<std::string>());
    if (found == progress_.end()) {
      spdlog::debug("mux: progress for an unknown token from backend '{}' dropped",
                    backend_names_[upstream.backend]);
      return;
    }
    auto session = found->second.session.lock();
    auto request = found->second.request.lock();
    if (!session || session->closed() || !request || request->finished) {
      return;
    }
    (*notification.params)["progressToken"] = found->second.original.to_json();
    request->stream->send(std::move(notification));
    return;
  }
  if (is_list_changed(method)) {
    invalidate(upstream.backend, method);
    if (upstream.role == Upstream::Role::session) {
      if (auto session = upstream.session.lock(); session && session->initialized()) {
        session->deliver(std::move(notification), nullptr);
      }
    } else if (upstream.role == Upstream::Role::shared) {
      for (const auto& session : live_sessions()) {
        if (session->initialized()) {
          session->deliver(notification, nullptr);
        }
      }
    }
    return;
  }
  if (upstream.role == Upstream::Role::discovery) {
    spdlog::debug("mux: {} from the discovery session of backend '{}' dropped", method,
                  backend_names_[upstream.backend]);
    return;
  }
  std::shared_ptr<PendingRequest> request;
  // A log line belongs to the one call in flight when the transport cannot say; other
  // notifications are about the session (list changes, resource updates, task status).
  auto session =
      owner_of(upstream, related, &request,
               method == "notifications/message" ? Inference::single_call : Inference::none);
  if (method == "notifications/cancelled") {
    // The backend gave up on one of its own requests to a client.
    if (session) {
      session->forward_backend_cancel(upstream, std::move(notification), request);
      return;
    }
    for (const auto& candidate : live_sessions()) {
      if (candidate->forward_backend_cancel(upstream, notification, nullptr)) {
        return;
      }
    }
    return;
  }
  if (notification.params) {
    rewriter(upstream.backend).notification(method, *notification.params);
  }
  if (session) {
    if (session->initialized()) {
      session->deliver(std::move(notification), request);
    }
    return;
  }
  // A shared backend's notification that belongs to no request: resource updates go to the
  // sessions that subscribed to the resource, everything else to every session.
  std::string uri;
  if (method == "notifications/resources/updated") {
    const auto* value = notification.param("uri");
    if (value == nullptr || !value->is_string()) {
      return;
    }
    uri = value->get<std::string>();
  }
  for (const auto& candidate : live_sessions()) {
    if (candidate->initialized() && (uri.empty() || candidate->subscribed(uri))) {
      candidate->deliver(notification, nullptr);
    }
  }
}

// ---- shutdown ----

void GatewayCore::shutdown(std::function<void()> done) {
  if (shutting_down_) {
    if (done) {
      if (shutdown_done_) {
        auto previous = std::move(shutdown_done_);
        shutdown_done_ = [previous, done] {
          previous();
          done();
        };
      } else {
        loop_.post(std::move(done));
      }
    }
    return;
  }
  shutting_down_ = true;
  shutdown_done_ = done ? std::move(done) : [] {};
  discovery_timer_.reset();
  discovery_waiters_.clear();
  for (const auto& session : live_sessions()) {
    session->close();
  }
  for (auto& backend : backends_) {
    if (backend.discovery) {
      retire(std::move(backend.discovery));
      backend.discovery.reset();
    }
    backend.ready = false;
  }
  maybe_finish_shutdown();
}

void GatewayCore::maybe_finish_shutdown() {
  if (!shutting_down_ || !closing_.empty() || !shutdown_done_) {
    return;
  }
  auto done = std::move(shutdown_done_);
  shutdown_done_ = nullptr;
  spdlog::debug("mux: every upstream session is closed");
  loop_.post(std::move(done));
}

std::vector<BackendStatus> GatewayCore::backends() const {
  std::vector<BackendStatus> out;
  out.reserve(backends_.size());
  for (std::size_t index = 0; index < backends_.size(); ++index) {
    out.push_back({backend_names_[index], backends_[index].ready, backends_[index].last_error});
  }
  return out;
}

}  // namespace detail

std::shared_ptr<Gateway> make_gateway(runtime::EventLoop& loop,
                                      std::shared_ptr<const config::Config> config,
                                      ClientFactory clients, GatewayOptions options) {
  if (!config) {
    config = std::make_shared<const config::Config>();
  }
  return std::make_shared<detail::GatewayCore>(loop, std::move(config), std::move(clients),
                                               std::move(options));
}

std::shared_ptr<Gateway> make_gateway(runtime::EventLoop& loop,
                                      std::shared_ptr<const config::Config> config,
                                      ClientFactory clients) {
  return make_gateway(loop, std::move(config), std::move(clients), GatewayOptions{});
}

}  // namespace mcpgw::mux
