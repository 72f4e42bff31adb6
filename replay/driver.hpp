// Drives recorded sessions against a target: one upstream::Client (the gateway's own MCP client
// session: handshake, id remapping, timeouts) per session, on the caller's event loop, at most
// `jobs` sessions at a time. It re-sends; compare.hpp judges.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/runtime/event_loop.hpp"
#include "gateway/upstream/transport.hpp"
#include "replay/diff.hpp"
#include "replay/recording.hpp"

namespace mcpgw::replay {

struct DriverOptions {
  std::size_t jobs = 1;  // sessions replayed at the same time (each has its own target session)
  // --preserve-timing [FACTOR]: each step is sent no earlier than its recorded offset times
  // the factor (2.0 = half speed) from the session's start; absent: as fast as the ordering
  // constraints (RecordedStep::after) allow. Cancellations always keep their recorded delay
  // (times the factor), since sending them at once would change what they cancel.
  std::optional<double> preserve_timing;
  std::chrono::milliseconds request_timeout{30000};  // per request, and for the handshake
  // --protocol-version: sent in initialize instead of the recorded one ("" keeps it; a session
  // without a recorded initialize uses this or the newest version the catalogue knows).
  std::string protocol_version;
  // Server→client requests no recorded reply matches are answered with the result configured
  // for their method (--reply METHOD=JSON), else with JSON-RPC error -32601 … and reported.
  std::map<std::string, nlohmann::json> default_replies;
  // How the params of a server→client request are compared with the recorded ones; null: exact.
  const IgnoreRules* ignore = nullptr;
  std::size_t max_pages = 1000;  // a list chain stops following nextCursor after this many pages
  // Tags the capture records of each session's transports (--record) with the recorded session
  // id. Handed to ClientOptions::capture_session.
  bool tag_capture_sessions = false;
  // Called on the loop after each finished exchange: (exchanges done, exchanges in all).
  std::function<void(std::size_t, std::size_t)> progress;
};

// A recorded request step as replayed.
struct ReplayedStep {
  std::size_t step = 0;  // index into RecordedSession::steps
  // The target's answers with the recorded id restored: one, or one per page of a list chain in
  // order. An answer that came as text (stdio, Client::call_text) is kept as the target wrote
  // it; the others are the codec's compact encoding. A chain follows the replay's own
  // nextCursor: it stops where the replay's list ends, and continues past the recording's last
  // page up to max_pages.
  std::vector<std::string> responses;
  // Set when the step has no (complete) answer, e.g. "no answer within 30000 ms", "target
  // exited (code 3)", "not sent: the target exited earlier in this session", "cancelled as
  // recorded". A chain can have both pages and a failure.
  std::string failure;
  bool sent = false;
  bool cancelled = false;  // cancelled as recorded (no answer expected)
  // The run was interrupted before this step finished: not sent, or its answer abandoned.
  // Such a step is not compared.
  bool interrupted = false;
  // From sending to the answer; for a chain, the sum over its pages.
  std::optional<std::int64_t> latency_us;
};

// A request the target sent during the replay.
struct ReplayedServerRequest {
  std::string request;                     // as the target sent it (compact JSON)
  std::optional<std::size_t> during_step;  // the step whose call it came with, when known
  // Index into RecordedSession::server_requests of the recorded request it matched (same method,
  // params equal under the ignore rules; each recorded one used once, earliest first). The
  // recorded client reply was sent. Absent: unmatched.
  std::optional<std::size_t> matched;
  bool answered_with_default = false;  // unmatched, answered from default_replies
  std::string answer;                  // what replay sent back (compact JSON)
};

struct ReplayedSession {
  std::size_t session = 0;  // index into the sessions given
  // The target's InitializeResult (compact JSON, {"result":…} form) and the handshake's latency;
  // empty when the handshake failed (then `failure` says why and no step was sent).
  std::string initialize_response;
  std::optional<std::int64_t> initialize_latency_us;
  std::string target_session;  // the target's Mcp-Session-Id, when it has one
  std::string failure;         // session-level failure, e.g. "target exited (code 3) at step 4"
  std::vector<ReplayedStep> steps;  // one per request step of the recording, in step order
  std::vector<ReplayedServerRequest> server_requests;  // in the order the target sent them
  std::vector<std::string>
      notes;             // e.g. "initialize not recorded: sent 2025-11-25 with empty capabilities"
  bool started = false;  // false: the run was interrupted before this session began
  bool interrupted = false;  // the run was interrupted before this session finished
};

// Stops a run early, e.g. on SIGINT: no further session starts; each running one abandons what
// is in flight, marks its unfinished steps `interrupted` and closes its target (a stdio target
// is terminated as on any close). `done` still runs, once every target is closed, with what was
// replayed. `reason` ("SIGINT") goes into the interrupted sessions' failure. Call on the loop;
// does nothing once the run has finished.
using Interrupt = std::function<void(const std::string& reason)>;

// Replays `sessions` against transports from `factory` (one Client and so one target session,
// for stdio one process, per recorded session; a crash ends only that session, and the next
// session starts a new transport) and calls `done` on the loop with one ReplayedSession per
// recorded session, in the given order, once all have finished. Nothing throws; every wait is
// bounded by request_timeout. The sessions and the factory must outlive the run.
Interrupt replay_sessions(runtime::EventLoop& loop, upstream::TransportFactory& factory,
                          const std::vector<RecordedSession>& sessions,
                          const DriverOptions& options,
                          std::function<void(std::vector<ReplayedSession>)> done);

}  // namespace mcpgw::replay
