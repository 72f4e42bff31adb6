// What `mcpgw replay` reports: differences between a recorded exchange and its replay, grouped
// per exchange and session, and the exit code a CI job gates on. Produced by compare.hpp,
// written by report.hpp (text, JSON schema v1 in docs/replay.md, JUnit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcp/traffic.hpp"

namespace mcpgw::replay {

// Kinds of difference. Which ones are breaking is decided where they are made (classify.cpp,
// compare.cpp) and documented in docs/replay.md; `breaking` on the Difference is the verdict.
enum class DifferenceKind : std::uint8_t {
  // List items (tools/list, prompts/list, resources/list, resources/templates/list), compared
  // by name (tools, prompts), uri (resources) or uriTemplate (templates) over all pages.
  tool_added,          // compatible
  tool_removed,        // breaking
  tool_renamed,        // breaking: a removed and an added tool with the same input schema
  prompt_added,        // compatible
  prompt_removed,      // breaking
  prompt_renamed,      // breaking
  resource_added,      // compatible (resources and resource templates)
  resource_removed,    // breaking
  schema_changed,      // a tool's input or output schema, a prompt's arguments; breaking per change
  annotation_changed,  // a tool's annotations, any item's title; not breaking, always reported
  description_changed,  // not breaking, reported on its own: a changed description can be a
                        // "rug pull" that re-instructs the model
  // Responses.
  result_changed,     // a result differs outside the ignored paths; not breaking
  error_changed,      // see ErrorChange
  latency_regressed,  // replayed/recorded latency over --latency-threshold; not breaking
  // Server→client requests (sampling, elicitation, roots) during the replay.
  server_request_unmatched,  // no recorded client reply matched; answered with a default or an
                             // error
  server_request_missing,    // recorded, but the target did not ask it in the replay
  // The exchange could not be compared.
  target_failed,  // no answer: timeout, the target exited or disconnected, a transport error
  not_replayed,   // never sent: its session ended early (target crash) or its list page no longer
                  // exists
};

// For error_changed: which way.
enum class ErrorChange : std::uint8_t {
  none,
  success_to_error,    // breaking: a result (isError false or absent) became a JSON-RPC error
                       // or a tool result with isError: true
  error_to_success,    // not breaking
  error_code_changed,  // not breaking: both errors, different code (or JSON-RPC error vs isError)
};

std::string_view to_string(DifferenceKind kind);  // the snake_case names above
std::string_view to_string(ErrorChange change);   // "", "success_to_error", ...
std::optional<DifferenceKind> parse_difference_kind(std::string_view name);

struct Difference {
  DifferenceKind kind = DifferenceKind::result_changed;
  ErrorChange change = ErrorChange::none;  // error_changed only
  std::string method;                      // of the exchange
  std::string tool;  // the tool concerned (tools/call target, or the tool a list item is)
  std::string item;  // list differences: the item's name or URI; else ""
  bool breaking = false;
  // Where in the response: a JSON pointer into the recorded response ("/result/content/0/text").
  // Elements of arrays compared as sets are addressed by key as a segment of their own:
  // "/result/tools/[name=echo]/inputSchema/required". "" when it concerns the whole exchange.
  std::string path;
  std::string detail;  // one line for humans, e.g. "new required property \"prefix\""
  std::optional<nlohmann::json> recorded;  // the value at `path` in the recording, when any
  std::optional<nlohmann::json> replayed;  // the value at `path` in the replay, when any
};

enum class ExchangeDirection : std::uint8_t {
  client_to_server,  // a request the recording's client sent and the replay re-sent
  server_to_client,  // a request the target sent to replay (sampling, elicitation, roots)
};

struct ExchangeOutcome {
  std::size_t index = 0;  // 0-based within its session, in send order; initialize is 0 when present
  ExchangeDirection direction = ExchangeDirection::client_to_server;
  std::string method;
  std::string target;              // tool, prompt or resource named by the request, else ""
  std::string recorded_id;         // canonical JSON text of the recorded id ("7", "\"a\"")
  mcp::traffic::Where where;       // where the recorded request is in the input
  std::size_t pages_recorded = 1;  // list chains: pages in the recording
  std::size_t pages_replayed = 1;  // and in the replay
  std::optional<std::int64_t> recorded_latency_us;
  std::optional<std::int64_t> replayed_latency_us;
  // JSON text, kept for the text report's context and the JUnit failure body: as recorded or
  // received, or compact when rebuilt. For a list chain, compact
  // {"result":{"<list field>":[every item of every page]}}. Empty when the replayed answer was
  // byte for byte the recorded one: nothing to show.
  std::string recorded_response;
  std::string replayed_response;
  std::vector<Difference> differences;
  std::size_t differences_omitted = 0;  // beyond the per-exchange bound

  bool identical() const { return differences.empty() && differences_omitted == 0; }
  bool breaking() const;
};

struct SessionOutcome {
  std::string id;  // the recorded session id, or the decoder's scope when there is none
  std::vector<std::string> sources;  // input files the session came from
  std::string replayed_session;      // the target's Mcp-Session-Id, when it has one
  std::vector<ExchangeOutcome> exchanges;
  // Session-level events worth a line in every report: "target exited (code 3) at exchange
  // 4; 6 exchanges not sent", "initialize missing from the recording: negotiated 2025-11-25".
  std::vector<std::string> notes;
};

struct Totals {
  std::size_t sessions = 0;
  std::size_t exchanges = 0;
  std::size_t identical = 0;
  std::size_t changed = 0;   // exchanges with at least one difference
  std::size_t breaking = 0;  // exchanges with at least one breaking difference
  std::size_t differences = 0;
};

struct ReplayReport {
  std::string target;                    // describe_target(): "stdio: node server.js", "http://…"
  std::vector<std::string> inputs;       // as given
  std::size_t input_problems = 0;        // malformed records skipped while reading the inputs
  std::vector<SessionOutcome> sessions;  // in recording order
  // Set when the run was stopped early ("SIGINT"): the report covers what was replayed; a
  // session interrupted mid-way says in its notes how many requests were not replayed.
  std::string interrupted_by;
  std::size_t sessions_not_replayed = 0;  // interrupted before their handshake completed

  Totals totals() const;
};

// --fail-on: the level at which differences fail the run.
enum class FailOn : std::uint8_t { breaking, any, never };

// 0 when nothing reaches the --fail-on level, 1 when something does. (2, for usage, input and
// target errors, is run_replay's.)
int exit_code(const ReplayReport& report, FailOn fail_on);

}  // namespace mcpgw::replay
