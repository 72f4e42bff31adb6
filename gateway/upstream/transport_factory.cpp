#include "gateway/upstream/transport.hpp"

namespace mcpgw::upstream {

std::unique_ptr<TransportFactory> make_transport_factory(boost::asio::io_context& context,
                                                         const config::BackendConfig& backend,
                                                         const TransportLimits& limits) {
  switch (backend.transport) {
    case config::BackendTransport::stdio:
      return make_stdio_transport_factory(context, backend, limits);
    case config::BackendTransport::streamable_http:
      return make_streamable_http_transport_factory(context, backend, limits);
    case config::BackendTransport::sse:
      return make_sse_transport_factory(context, backend, limits);
  }
  return nullptr;  // not reached: the loader only produces the three kinds above
}

}  // namespace mcpgw::upstream
