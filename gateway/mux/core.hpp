// The multiplexer's implementation classes, shared by gateway.cpp (backends, discovery,
// backend-to-client routing, shutdown), session.cpp (client requests) and lists.cpp (fan-out).
// Private to mux/.
//
// Ownership: make_gateway returns the GatewayCore; every SessionImpl holds it. A per-session
// Upstream (one Client and its events) is owned by its session; discovery and shared Upstreams
// by the core. A closing Upstream moves into GatewayCore::closing_ until its Client says it
// released everything. Callbacks handed to Clients and timers capture weak pointers only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/mux/cursor.hpp"
#include "gateway/mux/gateway.hpp"
#include "gateway/mux/naming.hpp"
#include "gateway/mux/rewrite.hpp"
#include "mcp/catalogue.hpp"

namespace mcpgw::mux::detail {

class GatewayCore;
class SessionImpl;

// One upstream::Client and the events it reports.
class Upstream final : public upstream::ClientEvents {
 public:
  enum class Role : std::uint8_t {
    discovery,  // the gateway's own session with a per_session backend
    shared,     // session_mode = shared: discovery and every client's traffic
    session,    // one client session's own session with a per_session backend
  };
  Upstream(GatewayCore& core, std::size_t backend, Role role, std::weak_ptr<SessionImpl> session);

  void on_ready(const nlohmann::json& initialize_result) override;
  void on_backend_request(mcp::Message request, std::optional<upstream::CallId> related) override;
  void on_backend_notification(mcp::Message notification,
                               std::optional<upstream::CallId> related) override;
  void on_down(const std::string& reason) override;

  GatewayCore& core;
  const std::size_t backend;
  const Role role;
  const std::weak_ptr<SessionImpl> session;  // Role::session only
  std::unique_ptr<upstream::Client> client;  // null if the factory gave none
};

// One call made to a backend for a client request.
struct CallState {
  bool done = false;  // answered, cancelled or abandoned: the completion must not act
  std::optional<upstream::CallId> id;
};

// One client request being answered.
struct PendingRequest {
  struct Call {
    std::size_t backend = 0;
    std::weak_ptr<Upstream> upstream;
    upstream::CallId id = 0;
    std::shared_ptr<CallState> state;
  };

  mcp::RequestId client_id;
  std::string method;
  std::shared_ptr<server::ResponseStream> stream;
  std::vector<Call> calls;
  std::optional<std::string> progress_token;  // the gateway's token, key of GatewayCore::progress_
  bool finished = false;
  // What it is decided and forwarded with, fixed when it arrived: a policy reload or a later
  // request with other credentials changes nothing for it.
  std::shared_ptr<const PolicySnapshot> policy;        // never null
  std::shared_ptr<const policy::Principal> principal;  // never null (anonymous when unknown)
  std::string principal_key;
  upstream::ForwardedHeaders headers;  // the client's forwardable headers (for any backend)

  PendingRequest(mcp::RequestId id, std::string name, std::shared_ptr<server::ResponseStream> out)
      : client_id(std::move(id)), method(std::move(name)), stream(std::move(out)) {}
};

class GatewayCore final : public Gateway, public std::enable_shared_from_this<GatewayCore> {
 public:
  GatewayCore(runtime::EventLoop& loop, std::shared_ptr<const config::Config> config,
              ClientFactory clients, GatewayOptions options);
  ~GatewayCore() override;

  // server::Service
  std::shared_ptr<server::Session> open_session(std::shared_ptr<server::ClientChannel> channel,
                                                const server::SessionOpening& opening) override;
  // Gateway
  void start() override;
  void shutdown(std::function<void()> done) override;
  std::vector<BackendStatus> backends() const override;
  void set_policy(std::shared_ptr<const PolicySnapshot> snapshot) override;

  // ---- for sessions ----
  runtime::EventLoop& loop() { return loop_; }
  const config::Config& config() const { return *config_; }
  const GatewayOptions& options() const { return options_; }
  std::size_t backend_count() const { return backends_.size(); }
  const std::string& backend_name(std::size_t backend) const { return backend_names_[backend]; }
  bool shared(std::size_t backend) const;
  bool shutting_down() const { return shutting_down_; }
  NameTable& names() { return names_; }
  const UriCodec& uris() const { return uris_; }
  const TaskIdCodec& tasks() const { return tasks_; }
  ResourceRoutes& resource_routes() { return resource_routes_; }
  const CursorCodec& cursors() const { return cursors_; }
  BackendRewriter rewriter(std::size_t backend) const { return {uris_, tasks_, backend}; }
  // The policy for requests arriving now.
  const std::shared_ptr<const PolicySnapshot>& policy() const { return policy_; }
  policy::BucketStore& buckets() { return *buckets_; }
  // Whether a decision of this kind ("allow", "deny", "rate_limited") is recorded: there is an
  // audit sink, and allows only with [audit] include_allowed.
  bool audits(std::string_view decision) const;
  void audit(const policy::AuditRecord& record);
  // The headers of `all` that `backend` may receive (its forward_headers, any case).
  upstream::ForwardedHeaders forwarded_headers(std::size_t backend,
                                               const upstream::ForwardedHeaders& all) const;

  // Runs `ready` once discovery has settled (every backend answered or failed, or the wait
  // expired); at once when it has.
  void when_discovered(std::function<void()> ready);
  nlohmann::json initialize_result(const std::string& protocol_version) const;
  // False while the backend's discovery session is down (failed to start or died): lists skip
  // it and calls get backend_unavailable at once instead of waiting for a transport.
  bool available(std::size_t backend) const;
  // Whether the backend offers a capability ("tools", "logging", ...); true when not yet known.
  bool may_offer(std::size_t backend, const char* capability) const;
  // The shared Upstream of a shared backend.
  std::shared_ptr<Upstream> shared_upstream(std::size_t backend) const;
  // `handshake_headers`: the forwarded headers of the client request that made it.
  std::shared_ptr<Upstream> make_upstream(std::size_t backend, Upstream::Role role,
                                          std::weak_ptr<SessionImpl> session,
                                          nlohmann::json initialize_params,
                                          upstream::ForwardedHeaders handshake_headers = {});
  // Closes an Upstream's Client and keeps the Upstream alive until the Client is done.
  void retire(std::shared_ptr<Upstream> upstream);
  std::optional<std::pair<std::size_t, std::string>> resolve_uri(std::string_view uri) const;

  // Calls in flight, by CallId, for backend-to-client routing ("related" calls).
  void remember_call(upstream::CallId id, const Upstream& upstream, std::uint64_t session_serial,
                     const std::weak_ptr<SessionImpl>& session,
                     const std::shared_ptr<PendingRequest>& request);
  void forget_call(upstream::CallId id);
  // A fresh progress token for a client request; forget_progress when it ends.
  std::string remember_progress(const std::weak_ptr<SessionImpl>& session,
                                const std::shared_ptr<PendingRequest>& request,
                                mcp::RequestId original);
  void forget_progress(const std::string& token);
  std::string next_token(std::string_view kind);
  std::int64_t next_server_request_id() { return next_server_request_id_++; }
  void forget_session(std::uint64_t serial);

  // ---- from Upstream ----
  void upstream_ready(Upstream& upstream, const nlohmann::json& result);
  void upstream_down(Upstream& upstream, const std::string& reason);
  void upstream_request(Upstream& upstream, mcp::Message request,
                        std::optional<upstream::CallId> related);
  void upstream_notification(Upstream& upstream, mcp::Message notification,
                             std::optional<upstream::CallId> related);

 private:
  struct Backend {
    const config::BackendConfig* config = nullptr;
    std::shared_ptr<Upstream> discovery;  // Role::discovery or Role::shared
    bool settled = false;                 // answered or failed at least once
    bool ready = false;
    bool down = false;
    std::string last_error;
    nlohmann::json initialize_result;  // the last one (null before the first)
  };
  struct CallRoute {
    const Upstream* upstream = nullptr;
    std::uint64_t session_serial = 0;
    std::weak_ptr<SessionImpl> session;
    std::weak_ptr<PendingRequest> request;
  };
  // How far to go when a backend message names no call of ours (stdio cannot say which
  // request a message belongs to; HTTP can, by the stream it came on).
  enum class Inference : std::uint8_t {
    none,           // only the call the Client reported
    single_call,    // ... or the one call in flight through that upstream, if only one is
    owner_session,  // ... or else the one session with calls in flight through it
  };
  struct ProgressRoute {
    std::weak_ptr<SessionImpl> session;
    std::weak_ptr<PendingRequest> request;
    mcp::RequestId original;
  };

  void settle(std::size_t backend);
  void finish_discovery();
  void announce_list_changed(std::size_t backend);
  void maybe_finish_shutdown();
  std::vector<std::shared_ptr<SessionImpl>> live_sessions() const;
  std::shared_ptr<SessionImpl> owner_of(const Upstream& upstream,
                                        std::optional<upstream::CallId> related,
                                        std::shared_ptr<PendingRequest>* request,
                                        Inference inference) const;
  void invalidate(std::size_t backend, std::string_view method);
  nlohmann::json upstream_initialize_params(Upstream::Role role) const;

  runtime::EventLoop& loop_;
  std::shared_ptr<const config::Config> config_;
  ClientFactory factory_;
  GatewayOptions options_;
  std::vector<std::string> backend_names_;
  NameTable names_;
  UriCodec uris_;
  TaskIdCodec tasks_;
  ResourceRoutes resource_routes_;
  CursorCodec cursors_;
  std::vector<Backend> backends_;
  std::vector<std::set<std::string>> forward_names_;  // per backend, lower case
  std::shared_ptr<const PolicySnapshot> policy_;
  std::shared_ptr<policy::BucketStore> buckets_;

  bool started_ = false;
  bool discovered_ = false;
  bool shutting_down_ = false;
  runtime::TimerHandle discovery_timer_;
  std::vector<std::function<void()>> discovery_waiters_;

  std::map<std::uint64_t, std::weak_ptr<SessionImpl>> sessions_;
  std::uint64_t next_session_serial_ = 1;
  std::unordered_map<upstream::CallId, CallRoute> calls_;
  std::unordered_map<const Upstream*, std::set<upstream::CallId>> in_flight_;  // by upstream
  std::unordered_map<std::string, ProgressRoute> progress_;
  std::uint64_t next_token_ = 1;
  std::int64_t next_server_request_id_ = 1;

  std::map<std::uint64_t, std::shared_ptr<Upstream>> closing_;
  std::uint64_t next_closing_ = 1;
  std::function<void()> shutdown_done_;
};

class SessionImpl final : public server::Session, public std::enable_shared_from_this<SessionImpl> {
 public:
  SessionImpl(std::shared_ptr<GatewayCore> core, std::shared_ptr<server::ClientChannel> channel,
              server::SessionOpening opening, std::uint64_t serial);
  ~SessionImpl() override;

  void handle_request(mcp::Message request, std::shared_ptr<server::ResponseStream> stream,
                      const server::RequestContext& context) override;
  void handle_notification(mcp::Message notification,
                           const server::RequestContext& context) override;
  void handle_response(mcp::Message response) override;
  void close() override;

  // ---- from the core ----
  std::uint64_t serial() const { return serial_; }
  // The front end's id of this session ("" for stdio), for backend-leg capture records.
  const std::string& front_session_id() const { return opening_.session_id; }
  bool initialized() const { return initialized_ && !closed_; }
  bool closed() const { return closed_; }
  bool subscribed(const std::string& exposed_uri) const {
    return subscriptions_.count(exposed_uri) != 0;
  }
  // A message for the client: on the related request's stream when that is still open,
  // otherwise on the session's channel.
  void deliver(mcp::Message message, const std::shared_ptr<PendingRequest>& related);
  // A request from a backend for this client (ids and progress tokens rewritten here).
  void forward_backend_request(const std::shared_ptr<Upstream>& upstream, mcp::Message request,
                               const std::shared_ptr<PendingRequest>& related);
  // The backend gave up on one of its requests to the client.
  bool forward_backend_cancel(const Upstream& upstream, mcp::Message notification,
                              const std::shared_ptr<PendingRequest>& related);
  std::shared_ptr<Upstream> find_upstream(const Upstream& upstream) const;

 private:
  struct ServerRequest {
    std::weak_ptr<Upstream> upstream;
    mcp::RequestId original;
    std::optional<std::string> progress_token;  // ours, towards the client
  };
  struct ServerProgress {
    std::weak_ptr<Upstream> upstream;
    mcp::RequestId original;
  };
  struct Deferred {
    mcp::Message request;
    std::shared_ptr<server::ResponseStream> stream;
    server::RequestContext context;
    std::shared_ptr<const PolicySnapshot> policy;  // the one in force when it arrived
  };
  // The gateway's own answer to a name or method it does not know; a denial gets the same.
  struct Unknown {
    std::int64_t code = 0;
    std::string message;
  };

  void handle_initialize(mcp::Message request, std::shared_ptr<server::ResponseStream> stream);
  void answer_initialize();
  void dispatch(mcp::Message request, std::shared_ptr<server::ResponseStream> stream,
                const server::RequestContext& context,
                std::shared_ptr<const PolicySnapshot> policy);
  // Authorization and then rate limits for `target`, with the request's principal and policy
  // snapshot; the decision is audited. A denial is answered with `denial`, a rate limit with
  // kRateLimitedError. True when the request may go on.
  bool authorize(const std::shared_ptr<PendingRequest>& pending, const policy::Target& target,
                 const Unknown& denial);
  // Whether a list item that `method` would use is visible to the request's principal.
  bool visible(const std::shared_ptr<PendingRequest>& pending, std::size_t backend,
               const char* method, policy::TargetKind kind, const std::string& name) const;
  void record(const std::shared_ptr<PendingRequest>& pending, const policy::Target& target,
              const char* decision, const std::string& rule);
  void route_by_name(NameKind kind, mcp::Message request,
                     const std::shared_ptr<PendingRequest>& pending);
  void route_by_uri(mcp::Message request, const std::shared_ptr<PendingRequest>& pending);
  void route_completion(mcp::Message request, const std::shared_ptr<PendingRequest>& pending);
  void route_task(mcp::Message request, const std::shared_ptr<PendingRequest>& pending);
  void set_level(mcp::Message request, const std::shared_ptr<PendingRequest>& pending);
  void list(mcp::Message request, const std::shared_ptr<PendingRequest>& pending);
  struct FanOut;
  void complete_list(const std::shared_ptr<PendingRequest>& pending, FanOut& fan_out);
  void complete_set_level(const std::shared_ptr<PendingRequest>& pending, FanOut& fan_out);
  // Starts one call per backend with `plan[b]` set, in parallel; `complete` runs once, after
  // the last answer (at once when none was asked).
  void fan_out(const mcp::Message& request, const std::shared_ptr<PendingRequest>& pending,
               std::vector<std::optional<std::optional<std::string>>> plan,
               void (SessionImpl::*complete)(const std::shared_ptr<PendingRequest>&, FanOut&));

  // The Upstream that carries this session's traffic to `backend` (created on first use), or
  // null with the reason in `error` when there is none.
  std::shared_ptr<Upstream> upstream_for(std::size_t backend, mcp::Message& error,
                                         const mcp::RequestId& id,
                                         const upstream::ForwardedHeaders& headers);
  // Sends `request` to `backend` for `pending`; `done` gets the response (ids restored).
  // Returns false (and `done` is not called) when the backend cannot be reached; `error` then
  // holds the error response.
  bool call(std::size_t backend, mcp::Message request,
            const std::shared_ptr<PendingRequest>& pending, std::function<void(mcp::Message)> done,
            mcp::Message& error);
  // Forwards a single-owner request and answers the client with the backend's response.
  void forward(std::size_t backend, mcp::Message request,
               const std::shared_ptr<PendingRequest>& pending);
  void finish(const std::shared_ptr<PendingRequest>& pending, mcp::Message response);
  void fail(const std::shared_ptr<PendingRequest>& pending, std::int64_t code, std::string message);
  void fail(const std::shared_ptr<PendingRequest>& pending, const Unknown& unknown);
  // finish() through ResponseStream::refuse (HTTP status and Retry-After where possible).
  void refuse(const std::shared_ptr<PendingRequest>& pending, mcp::Message response,
              const server::ResponseStream::Refusal& refusal);
  void cancel_pending(const std::shared_ptr<PendingRequest>& pending, const std::string& reason,
                      bool abandon);
  void release(const std::shared_ptr<PendingRequest>& pending);
  bool rewrite_progress_token(mcp::Message& request,
                              const std::shared_ptr<PendingRequest>& pending);
  nlohmann::json upstream_initialize_params() const;
  // False for a method the catalogue knows but not in the version this client speaks (a shared
  // backend negotiated its own, newer one).
  bool speaks(std::string_view method) const;

  std::shared_ptr<GatewayCore> core_;
  std::shared_ptr<server::ClientChannel> channel_;
  server::SessionOpening opening_;
  const std::uint64_t serial_;

  bool initialize_seen_ = false;
  bool initialized_ = false;
  bool closed_ = false;
  nlohmann::json client_params_ = nlohmann::json::object();
  std::string protocol_version_;
  std::optional<mcp::ProtocolVersion> version_;  // parsed protocol_version_
  std::optional<mcp::RequestId> initialize_id_;
  std::shared_ptr<server::ResponseStream> initialize_stream_;  // until discovery settles
  std::vector<Deferred> deferred_;

  std::vector<std::shared_ptr<Upstream>> upstreams_;  // per backend; null until first use
  std::map<mcp::RequestId, std::shared_ptr<PendingRequest>> pending_;
  std::map<mcp::RequestId, ServerRequest> server_requests_;          // by the id we gave the client
  std::unordered_map<std::string, ServerProgress> server_progress_;  // by our token
  std::set<std::string> subscriptions_;                              // exposed URIs
};

}  // namespace mcpgw::mux::detail
