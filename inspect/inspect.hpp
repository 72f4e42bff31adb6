// mcpgw inspect: decoded traffic -> exchanges (requests paired with their responses) ->
// filters -> one renderer. The command line (cli/app.cpp) fills InspectOptions and calls
// run_inspect; everything else lives here, on top of the protocol core (mcp/) only.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "mcp/traffic.hpp"

namespace mcpgw::inspect {

// timeline: the human view; jsonl: one JSON object per exchange (docs/inspect.md); json: the
// same objects as one JSON array (and with stats: the statistics as JSON).
enum class OutputFormat { timeline, jsonl, json };

struct InspectOptions {
  std::vector<std::string> inputs;  // files, "-" for standard input; at least one
  std::optional<mcp::traffic::Format> input_format;
  std::optional<mcp::traffic::Direction> stdio_direction;
  OutputFormat format = OutputFormat::timeline;
  bool stats = false;       // --stats: the statistics instead of the exchanges
  bool stats_json = false;  // --stats --format json (also implied by format json or jsonl)
  bool full = false;        // --full: payloads unshortened
  bool color = false;       // decided by the caller: a TTY and no NO_COLOR
  bool strict = false;      // a malformed record is fatal
  bool follow = false;
  std::function<bool()> stop;  // --follow ends when this is true (SIGINT/SIGTERM)
  int follow_poll_ms = 200;
  std::string html_path;  // --html FILE, "" for none
  // Filters: an exchange is shown when it matches all given ones.
  std::vector<std::string> sessions;
  std::vector<std::string> methods;  // exact or glob with '*'
  std::vector<std::string> tools;    // exact or glob with '*'
  std::vector<std::string> backends;
  bool errors_only = false;
  std::optional<std::int64_t> since_us;
  std::optional<std::int64_t> until_us;
};

// Exit codes: 0 success, 1 input problems under --strict or an input that cannot be read,
// 2 usage errors found here (e.g. unknown format). Problems in the input are reported on `err`
// as "FILE:LINE: message" and counted in the summary.
int run_inspect(const InspectOptions& options, std::ostream& out, std::ostream& err);

}  // namespace mcpgw::inspect
