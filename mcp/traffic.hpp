// Decoded MCP traffic: the one event model every traffic decoder produces (mcpgw capture JSONL,
// HAR, raw HTTP / curl transcripts, pcap, stdio NDJSON) and that inspect and replay consume.
//
// A decoder turns its input into a stream of Events, one per JSON-RPC message (a batch is split
// into its members, each keeping the batch's context), in input order. It never pairs
// requests with responses (inspect does) and never throws: a record it cannot read becomes a
// Problem and decoding goes on with the next record.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpgw::mcp {
struct MessageSummary;  // mcp/message_summary.hpp
}  // namespace mcpgw::mcp

namespace mcpgw::mcp::traffic {

// Who sent the message: the MCP client side or the MCP server side of its leg.
enum class Direction : std::uint8_t { client_to_server, server_to_client };

// Which leg of a gateway the message crossed. Only mcpgw captures know legs; every other input
// is `unknown` (a plain client <-> server conversation).
enum class Leg : std::uint8_t { unknown, client, backend };

enum class Transport : std::uint8_t { unknown, streamable_http, sse, stdio };

std::string_view to_string(Direction direction);  // "client->server" | "server->client"
std::string_view to_string(Leg leg);              // "unknown" | "client" | "backend"
std::string_view to_string(Transport transport);  // "unknown" | "streamable_http" | "sse" | "stdio"
std::optional<Direction> parse_direction(std::string_view text);
std::optional<Leg> parse_leg(std::string_view text);
std::optional<Transport> parse_transport(std::string_view text);

struct Header {
  std::string name;  // lower-case
  std::string value;
};

// The HTTP exchange a message travelled in, when it did.
struct HttpContext {
  std::string method;  // of the request ("POST", "GET", "DELETE"); "" when unknown
  std::string target;  // request target ("/mcp"); "" when unknown
  int status = 0;      // of the response; 0 for a message in the request body or when unknown
  std::vector<Header> headers;  // of the message's own side (request or response), as recorded
};

// Where in the input a record starts: for line-based inputs the 1-based line; for the others 0
// as the line and an offset: the packet number (1-based, as Wireshark counts) in pcap, the entry
// index (0-based, as its problems name it) in HAR, the byte offset (0-based) elsewhere.
struct Where {
  std::string source;  // the file name as given, "-" for standard input
  std::uint64_t line = 0;
  std::uint64_t offset = 0;
};

// "FILE:LINE", or "FILE@OFFSET" when there is no line ("-" for a missing file name).
std::string describe(const Where& where);

// Timestamps outside years -7999..9999 are corrupt input, not time: decoders report them and
// leave the event untimed, so every difference of two event times fits in an int64.
inline constexpr std::int64_t kMaxAbsTimeUs = 253'402'300'800LL * 1'000'000LL;
constexpr bool time_in_range(std::int64_t time_us) {
  return time_us >= -kMaxAbsTimeUs && time_us <= kMaxAbsTimeUs;
}

struct Event {
  std::optional<std::int64_t> time_us;  // microseconds since the Unix epoch, when the input has it
  Direction direction = Direction::client_to_server;
  Leg leg = Leg::unknown;
  Transport transport = Transport::unknown;
  // Request ids repeat across sessions and connections: ids pair only within one scope. The
  // decoder sets it to the most specific identity it knows, never empty: the MCP session id
  // when there is one ("session:<id>"), else the connection ("tcp:10.0.0.1:5000>10.0.0.2:80",
  // "har:<file>"), else the stream ("stdio:<file>"). For gateway captures the leg and backend
  // are part of it, since both legs of one client session carry independent id spaces.
  std::string scope;
  std::string session;          // client-facing MCP session id (Mcp-Session-Id), when known
  std::string backend;          // backend name (gateway captures)
  std::string backend_session;  // the backend's own session id (gateway captures)
  std::optional<HttpContext> http;
  std::string sse_event_id;  // the SSE `id:` of the event that carried the message
  std::string message;       // raw JSON text of exactly one JSON-RPC message
  Where where;
};

// A record the decoder could not read; it was skipped.
struct Problem {
  Where where;
  std::string message;  // what is wrong, one line, without the location
};

std::string describe(const Problem& problem);  // describe(where) + ": " + message

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void on_event(Event&& event) = 0;
  virtual void on_problem(Problem&& problem) = 0;
  // A decoder that has already summarized the message hands the summary on, so that a sink
  // that needs it (the Pairer) does not scan the text again. `summary` must be
  // summarize_message(event.message). Sinks that do not need it get on_event.
  virtual void on_summarized_event(Event&& event, MessageSummary&& summary) {
    static_cast<void>(summary);
    on_event(std::move(event));
  }
};

enum class Format : std::uint8_t { capture, har, http_transcript, pcap, stdio };

std::string_view to_string(Format format);  // "capture" | "har" | "http" | "pcap" | "stdio"
std::optional<Format> parse_format(std::string_view name);

// Guesses the format from the first bytes of an input (up to kDetectBytes; fewer at end of
// input). nullopt when nothing fits; the caller then asks for --input-format.
inline constexpr std::size_t kDetectBytes = 4096;
std::optional<Format> detect_format(std::string_view first_bytes);

struct DecoderOptions {
  std::string source = "-";  // the name problems and scopes use
  // stdio only: the direction of an unlabelled stream (one file per direction). A labelled
  // combined file carries the direction on each line and ignores this.
  std::optional<Direction> stdio_direction;
  // stdio only: the pairing scope of every event; "" gives "stdio:<source>", one per file.
  std::string stdio_scope;
};

// A push decoder for the byte-stream formats (capture, har, http_transcript, stdio): feed()
// the input in chunks of any size, then finish(). Memory stays bounded by the largest single
// record for the line formats; HAR is one JSON document and is decoded at finish().
class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void feed(std::string_view bytes, Sink& sink) = 0;
  // End of input: decodes what is pending and reports a truncated last record as a Problem.
  virtual void finish(Sink& sink) = 0;
};

// nullptr for Format::pcap, which libpcap reads from a FILE* (decode_pcap below).
std::unique_ptr<Decoder> make_decoder(Format format, const DecoderOptions& options);

// Reads a pcap or pcapng file of plain HTTP traffic from `file` (not closed) and reports every
// JSON-RPC message of every TCP connection in it: TCP streams are reassembled (out of order
// segments, retransmissions, both directions), then HTTP/1.1 keep-alive, chunked bodies and
// SSE are decoded. A truncated file ends with a Problem, after everything before it.
void decode_pcap(std::FILE* file, const DecoderOptions& options, Sink& sink);

struct ReadOptions {
  std::optional<Format> format;  // nullopt: detect_format on the first bytes
  std::optional<Direction> stdio_direction;
  // --follow: at end of file, wait for more instead of finishing, until stop() is true. Polled
  // every `follow_poll_ms`; a file that shrinks (rotated or truncated) is reopened from the start.
  bool follow = false;
  int follow_poll_ms = 200;
  std::function<bool()> stop;  // required with follow; also checked between chunks otherwise
  // stdio inputs get the scope "stdio" instead of "stdio:<file>": a stdio session is usually
  // recorded as one file per direction (tee on each pipe), and files read with this set pair
  // as one conversation.
  bool join_stdio = false;
};

// Reads `path` ("-" for standard input) to the end through the right decoder, pcap included
// (standard input holding a pcap is spooled to an unnamed temporary file for libpcap). Returns
// an error message when the input cannot be opened or its format is unknown; problems inside
// the input go to the sink.
std::optional<std::string> read_traffic(const std::string& path, const ReadOptions& options,
                                        Sink& sink);

}  // namespace mcpgw::mcp::traffic
