// The stdio front end: mcpgw as the local MCP server a desktop client launches. Reads NDJSON
// JSON-RPC from an input descriptor and writes to an output descriptor (stdin and stdout in
// production; a pipe in tests). Logs must go to stderr meanwhile.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "gateway/server/service.hpp"

namespace boost::asio {
class io_context;
}

namespace mcpgw::capture {
class Recorder;
}

namespace mcpgw::front {

struct StdioFrontOptions {
  int input_fd = 0;
  int output_fd = 1;
  std::uint64_t max_line_bytes = 16u << 20;
  std::uint64_t max_output_queue_bytes = 64u << 20;
  // Records every message read and written (serve --capture). Null: none. Not owned.
  capture::Recorder* recorder = nullptr;
};

class StdioFront {
 public:
  virtual ~StdioFront() = default;
  // Starts reading. `on_end` runs once when the input reaches EOF or fails. At EOF the session
  // stays open, so requests in flight can still be answered while the caller drains (it
  // watches requests_in_flight(), then calls shutdown()); when output failed, the session is
  // closed first, since nothing could be delivered any more.
  virtual void start(std::function<void()> on_end) = 0;
  // Closes the session and stops reading; `done` runs when pending output is flushed.
  virtual void shutdown(std::function<void()> done) = 0;
  virtual std::size_t requests_in_flight() const = 0;
};

std::unique_ptr<StdioFront> make_stdio_front(boost::asio::io_context& context,
                                             server::Service& service, StdioFrontOptions options);

}  // namespace mcpgw::front
