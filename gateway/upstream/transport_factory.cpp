#include "gateway/upstream/transport.hpp"

#include <spdlog/spdlog.h>

namespace mcpgw::upstream {

void TransportHandler::on_message_text(std::string_view text, const mcp::MessageSummary& summary,
                                       const std::optional<mcp::RequestId>& request_stream) {
  (void)summary;
  auto decoded = mcp::decode_message(text);
  if (!decoded) {
    // The summary checks less than the codec in one corner: duplicate keys the summary does
    // not read (deep in params or result).
    spdlog::warn("skipped a backend message that is not JSON-RPC (bad_message): {}",
                 decoded.error().message);
    return;
  }
  on_message(std::move(*decoded), request_stream);
}

void Transport::send_text(const mcp::Message& request, std::string text) {
  auto decoded = mcp::decode_message(text);
  if (!decoded || !decoded->is_request()) {
    // Not reached from the Client, which sends text only where accepts_text(); a transport
    // that claims it without overriding this gets the message decoded here. The codec is
    // stricter than the Client's tree-free check in a few corners (duplicate keys deep in
    // params): such a call ends by its timeout.
    spdlog::error("not sending {} {}: {}", request.method,
                  request.id ? request.id->to_string() : std::string("(no id)"),
                  decoded ? std::string("not a request") : decoded.error().message);
    return;
  }
  send(std::move(*decoded));
}

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
