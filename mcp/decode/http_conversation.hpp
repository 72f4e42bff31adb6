// A passive HTTP/1.1 decoder for one connection: fed what the client sent and what the server
// sent, each side incrementally, it reports every JSON-RPC message carried in request bodies,
// response bodies and text/event-stream responses as a traffic::Event. The shared heart of the
// raw HTTP transcript decoder and of the pcap decoder (after TCP reassembly).
//
// Framing follows RFC 9112: Content-Length, chunked transfer coding (extensions, trailers),
// read-until-close responses, no body for HEAD/1xx/204/304, keep-alive pipelining. Requests and
// responses pair up in order, so each message knows its exchange's method, target and status.
// Everything is bounded (HttpLimits); malformed input becomes a traffic::Problem and the side
// resynchronises at the next line that looks like a request or status line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mcp/traffic.hpp"

namespace mcpgw::mcp::decode {

// Where a chunk of input came from: the time it was seen and the `where.offset` of its first
// byte. Byte streams (transcripts) advance the offset with each byte; packets (pcap) give every
// byte of a chunk the packet's number.
struct ChunkOrigin {
  std::optional<std::int64_t> time_us;
  std::uint64_t offset = 0;
  bool per_byte = true;
};

struct HttpLimits {
  std::size_t max_head_bytes = std::size_t{64} << 10;       // request/status line + headers
  std::size_t max_body_bytes = std::size_t{64} << 20;       // a JSON body kept for decoding
  std::size_t max_sse_event_bytes = std::size_t{16} << 20;  // one SSE event
  std::size_t max_pending_requests = 1024;                  // pipelined, awaiting a response
  std::size_t max_held_bytes = std::size_t{16} << 20;       // request messages awaiting a session
};

struct HttpConversationOptions {
  std::string source = "-";  // Where::source of events and problems
  std::string connection;    // the scope of messages without a session ("tcp:a:1>b:2")
  HttpLimits limits;
  // Transcripts: a response head may say `Transfer-Encoding: chunked` over a body that curl
  // already de-chunked. When the body does not start with a chunk-size line it is read as is.
  bool transcript = false;
};

enum class HttpSideState : std::uint8_t {
  idle,              // between messages
  head,              // inside a request/status line or headers
  body,              // inside a body whose end the framing knows (length, chunked)
  body_until_close,  // inside a body that ends when the connection does
  skipping,          // resynchronising after bad input: waiting for a start line
  closed,            // the rest of this connection is not HTTP (101, CONNECT) or it finished
};

// The side a start line belongs to: a request line (client->server) or a status line
// (server->client, HTTP/1.x and the `HTTP/2 200` curl prints). `line` has no terminator.
std::optional<traffic::Direction> classify_start_line(std::string_view line);

class HttpConversation {
 public:
  explicit HttpConversation(HttpConversationOptions options);
  ~HttpConversation();
  HttpConversation(const HttpConversation&) = delete;
  HttpConversation& operator=(const HttpConversation&) = delete;

  // The next bytes `side` sent. Consumes all of them, unless `stop_at_boundary`: then it
  // returns early (with the count consumed) once a message of that side is complete or its body
  // turns out to run until the connection closes, so a transcript can route what follows.
  std::size_t feed(traffic::Direction side, std::string_view bytes, const ChunkOrigin& origin,
                   traffic::Sink& sink, bool stop_at_boundary = false);

  HttpSideState state(traffic::Direction side) const;

  // Ends the side's current message as if its connection closed there (a read-until-close
  // body is complete; a partial one is reported), leaving the side ready for the next head.
  void end_message(traffic::Direction side, const ChunkOrigin& origin, traffic::Sink& sink);
  // The body announced by the head just read is not in the input (curl -v request heads).
  void omit_body(traffic::Direction side);
  // `bytes` of the side's stream are missing (a TCP gap): the message in progress is salvaged
  // when its framing allows, else dropped, and the side resynchronises.
  void gap(traffic::Direction side, std::uint64_t bytes, const ChunkOrigin& origin,
           traffic::Sink& sink);
  // The connection ended: completes read-until-close bodies, reports truncated messages and
  // releases requests still waiting for their response's session.
  void finish(const ChunkOrigin& origin, traffic::Sink& sink);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mcpgw::mcp::decode
