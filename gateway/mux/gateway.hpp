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
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/config/config.hpp"
#include "gateway/runtime/event_loop.hpp"
#include "gateway/server/service.hpp"
#include "gateway/upstream/client.hpp"

namespace mcpgw::mux {

// Creates a Client for backend `backend_index` (an index into config.backends). Production
// wraps upstream::make_client with that backend's TransportFactory; tests pass fakes.
using ClientFactory = std::function<std::unique_ptr<upstream::Client>(
    std::size_t backend_index, upstream::ClientOptions options, upstream::ClientEvents& events)>;

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
};

std::shared_ptr<Gateway> make_gateway(runtime::EventLoop& loop,
                                      std::shared_ptr<const config::Config> config,
                                      ClientFactory clients, GatewayOptions options);

}  // namespace mcpgw::mux
