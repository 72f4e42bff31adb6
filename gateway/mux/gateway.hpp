// The multiplexer: one virtual MCP server in front of every configured backend. It implements
// server::Service for the front ends and drives one upstream::Client per (client session,
// backend), or one shared Client per backend in shared mode. All protocol semantics of the
// gateway live here: initialize, prefixed names, merged pagination, routing in both
// directions, id/token/URI rewriting, cancellation, list_changed, failure isolation.
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
