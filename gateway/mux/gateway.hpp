// The multiplexer: one virtual MCP server in front of every configured backend. It implements
// server::Service for the front ends and drives one upstream::Client per (client session,
// backend), or one shared Client per backend in shared mode. All protocol semantics of the
// gateway live here: initialize, prefixed names, merged pagination, routing in both
// directions, id/token/URI rewriting, cancellation, list_changed, failure isolation.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

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

}  // namespace mcpgw::mux
