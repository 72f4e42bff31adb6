// The sessions replay re-sends, built from any input inspect reads: the inputs go through the
// shared decoders (mcp/traffic.hpp) and the Pairer (mcp/pairing.hpp), and the client side of
// each session becomes an ordered list of steps with the recorded answers to compare against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mcp/exchange.hpp"
#include "mcp/expected.hpp"
#include "mcp/traffic.hpp"

namespace mcpgw::replay {

// One thing the recorded client sent (after initialize): a request or a notification.
struct RecordedStep {
  // The request or notification with payloads (request_message, response_message), times and
  // the location in the input. For a list chain, the exchange of its first page.
  mcp::traffic::Exchange exchange;
  // A paginated list (tools/list, prompts/list, resources/list, resources/templates/list,
  // completion is not paginated): the requests that fetched the later pages, each sent with the
  // previous page's nextCursor in the recording, in order. The chain is one step.
  std::vector<mcp::traffic::Exchange> later_pages;
  // Indexes of earlier request steps whose answers the recorded client had received after the
  // previous step was sent and before this one (by Exchange::end_position). The replay sends
  // this step only once those are answered, so a client that waited still waits and requests
  // that were concurrent stay concurrent. Each request index appears in at most one list.
  std::vector<std::size_t> after;
  // When the recorded message was sent, relative to the session's first message (µs), for
  // --preserve-timing. Absent when the input has no times.
  std::optional<std::int64_t> offset_us;
  // The recorded client cancelled this request (notifications/cancelled linked to it):
  // cancel_after_us is how long after sending it (absent without times: cancel at once),
  // cancel_reason the notification's params.reason ("" when none).
  bool cancelled = false;
  std::optional<std::int64_t> cancel_after_us;
  std::string cancel_reason;

  bool is_request() const { return exchange.kind == mcp::traffic::ExchangeKind::request; }
};

// A request the recorded server sent the client (sampling/createMessage, elicitation/create,
// roots/list) with the client's recorded reply (Exchange::response_message).
struct RecordedServerRequest {
  mcp::traffic::Exchange exchange;
  // The request step in flight when it was sent (the latest request sent before it that was
  // not yet answered), when there was one.
  std::optional<std::size_t> during_step;
};

struct RecordedSession {
  std::string id;  // Exchange::session_or_scope() of its messages
  std::vector<std::string> sources;
  mcp::traffic::Leg leg = mcp::traffic::Leg::unknown;
  std::string backend;  // backend-leg sessions of a gateway capture: the backend's name
  // The recorded initialize (request params and the server's result), when the recording has it.
  std::optional<mcp::traffic::Exchange> initialize;
  std::vector<RecordedStep> steps;  // in recorded send order; notifications/initialized left out
  std::vector<RecordedServerRequest> server_requests;  // in recorded order; pings left out
  // What was left out of this session and why: orphan responses, pending requests without a
  // body, a cancellation naming a request that had already been answered.
  std::vector<std::string> notes;

  std::size_t request_steps() const;  // steps that expect an answer
};

// Which side of a gateway capture to replay. Other inputs have one side, the client's.
enum class LegChoice : std::uint8_t {
  automatic,  // the client leg when the inputs have one, else everything
  client,     // what clients sent to the gateway
  backend,    // what the gateway sent to backends (all of them, or `backend` only)
};

struct LoadOptions {
  std::vector<std::string> inputs;                   // files, "-" for standard input
  std::optional<mcp::traffic::Format> input_format;  // absent: detected per input
  std::optional<mcp::traffic::Direction> stdio_direction;
  // A session is replayed when its id starts with one of these, or matches one as a glob
  // (mcp/glob.hpp) when it contains '*'; all sessions when empty (as inspect --session).
  std::vector<std::string> sessions;
  LegChoice leg = LegChoice::automatic;
  std::string backend;  // with leg backend: only sessions of this backend ("" = every backend)
  bool strict = false;  // a malformed record fails the load
};

struct LoadedRecording {
  std::vector<RecordedSession> sessions;        // in the order their first message appears
  std::vector<mcp::traffic::Problem> problems;  // malformed records skipped
};

// Reads every input completely (sessions must be whole before they are replayed; memory grows
// with the recording). Errors: an input that cannot be opened or read, an unknown format, a
// malformed record under `strict`, or no session with anything to replay (the message says
// why: e.g. curl transcripts hold no request bodies).
mcp::Expected<LoadedRecording, std::string> load_recording(const LoadOptions& options);

// The same from events already decoded (tests, and inputs held in memory), in input order.
LoadedRecording build_sessions(std::vector<mcp::traffic::Event> events, const LoadOptions& options);

}  // namespace mcpgw::replay
