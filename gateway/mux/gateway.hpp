// The multiplexer: one virtual MCP server in front of every configured backend. It implements
// server::Service for the front ends and drives one upstream::Client per (client session,
// backend), or one shared Client per backend in shared mode. All protocol semantics of the
// gateway live here: initialize, prefixed names, merged pagination, routing in both
// directions, id/token/URI rewriting, cancellation, list_changed, failure isolation.
//
// How it behaves (details next to the code: naming.hpp, cursor.hpp, core.hpp):
// - start() opens one discovery Client per backend (the latest legacy version, empty
//   capabilities, clientInfo "mcpgw") to learn its InitializeResult. A client's initialize is
//   answered by the gateway once every backend answered or failed, or after
//   GatewayOptions::discovery_wait: the client's version when it is a supported legacy one,
//   else 2025-11-25; the union of the backends' capabilities; their instructions merged.
// - per_session backends: each client session gets its own Client per backend, made on first
//   use, whose initialize params are the client's own (its capabilities reach the backend).
// - shared backends: the discovery Client serves every session (one process for stdio); it
//   declares the capabilities the gateway can forward (roots, sampling, elicitation). A backend
//   request that names no call of its own goes to the one session with a call in flight to
//   that backend; with none or several the owner is ambiguous and the backend gets an error
//   (ping is answered by the gateway). Unrelated notifications go to every session, resource
//   updates to the sessions that subscribed. Choose per_session when backends ask clients
//   things (sampling, elicitation, roots).
// - Tool and prompt names, resource URIs and task ids are rewritten reversibly (naming.hpp);
//   lists are merged over all backends in parallel with a composite cursor (cursor.hpp).
// - Client request ids stay the client's own towards the Client (which uses its own on the
//   wire); progress tokens and the ids of backend-to-client requests are replaced with ones
//   unique to the gateway and mapped back.
// - A backend whose discovery session is down is left out of lists (a warning; the whole list
//   fails when the backend is fail_closed) and calls to it fail with -32001 at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/config/config.hpp"
#include "gateway/policy/audit.hpp"
#include "gateway/policy/rate_limit.hpp"
#include "gateway/runtime/event_loop.hpp"
#include "gateway/server/service.hpp"
#include "gateway/upstream/client.hpp"

namespace mcpgw::mux {

// Creates a Client for backend `backend_index` (an index into config.backends). Production
// wraps upstream::make_client with that backend's TransportFactory; tests pass fakes.
using ClientFactory = std::function<std::unique_ptr<upstream::Client>(
    std::size_t backend_index, upstream::ClientOptions options, upstream::ClientEvents& events)>;

// What authorization and rate limiting use. Replaced as a whole on reload (SIGHUP); a request
// keeps the snapshot it started with until it is answered.
struct PolicySnapshot {
  std::shared_ptr<const policy::CompiledPolicy> policy;   // never null
  std::shared_ptr<const policy::RateLimits> rate_limits;  // null: no limits
  std::uint64_t generation = 0;                           // 0 for the configuration's own
};

// Enforcement (issue 4), in SessionImpl, with the request's principal (RequestContext):
// - tools/call, prompts/get, resources/read, resources/subscribe/unsubscribe and
//   completion/complete are decided for the owning backend and the backend's own name (URI,
//   prompt or resource of a completion ref). A denial is answered exactly like a name the
//   gateway does not know: same code, same message, nothing reaches the backend.
// - Every other client method (lists, logging/setLevel, tasks, ...) is decided at method level
//   (Target without backend); a denial is -32601 "Method not found", as for unknown methods.
//   initialize, ping and notifications are not decided.
// - Lists are filtered item by item with the decision for the method that uses the item
//   (tools/call for a tool, prompts/get, resources/read; templates by their uriTemplate),
//   whenever a list is answered; nothing filtered is cached, so a list_changed can never
//   expose an unfiltered list, and calls are decided on their own anyway.
// - Then rate limits: a refusal is JSON-RPC error -32005 with data {"retryAfterMs", "limit"},
//   sent through ResponseStream::refuse with HTTP 429 and Retry-After.
// - Every decision (allow when AuditConfig::include_allowed, deny, rate_limited) goes to the
//   audit sink when one is set.
inline constexpr std::int64_t kRateLimitedError = -32005;

struct BackendStatus {
  std::string name;
  bool ready = false;
  std::string last_error;
};

class Gateway : public server::Service {
 public:
  // Opens a discovery session with every backend, to learn capabilities, instructions and
  // versions before the first client arrives. Returns at once.
  virtual void start() = 0;
  // Closes every client session and upstream session; `done` runs when all are released.
  virtual void shutdown(std::function<void()> done) = 0;
  virtual std::vector<BackendStatus> backends() const = 0;
  // Installs a new policy snapshot for requests that arrive from now on (SIGHUP reload).
  virtual void set_policy(std::shared_ptr<const PolicySnapshot> snapshot) = 0;
};

std::shared_ptr<Gateway> make_gateway(runtime::EventLoop& loop,
                                      std::shared_ptr<const config::Config> config,
                                      ClientFactory clients);

// Tunables with defaults; make_gateway above uses GatewayOptions{}.
struct GatewayOptions {
  std::string server_name = "mcpgw";     // serverInfo.name of the virtual server
  std::string server_version = "0.1.0";  // serverInfo.version; a test keeps it = project(VERSION)
  // The first initialize waits at most this long for every backend to answer or fail.
  std::chrono::milliseconds discovery_wait{5000};
  // Backend-to-client requests waiting for the client's answer, per session.
  std::size_t max_server_requests_per_session = 256;
  // Remembered exposed names (per kind); beyond it the table is emptied and refilled by lists.
  std::size_t max_name_entries = 65536;
  // Remembered resource URIs and templates (routing without URI prefixes).
  std::size_t max_resource_routes = 65536;
  // Rate-limit buckets (null: a memory store of config.server.max_rate_limit_buckets).
  std::shared_ptr<policy::BucketStore> buckets;
  // Where decisions are recorded; null: nowhere. Not owned; outlives the gateway.
  policy::AuditSink* audit = nullptr;
};

std::shared_ptr<Gateway> make_gateway(runtime::EventLoop& loop,
                                      std::shared_ptr<const config::Config> config,
                                      ClientFactory clients, GatewayOptions options);

}  // namespace mcpgw::mux
