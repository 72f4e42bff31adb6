// mcpgw replay: recorded sessions (any input inspect reads) -> re-sent to a target -> compared
// -> reported, with exit codes for CI. The command line (cli/app.cpp) fills ReplayOptions and
// calls run_replay.
#pragma once

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "replay/compare.hpp"
#include "replay/driver.hpp"
#include "replay/model.hpp"
#include "replay/recording.hpp"
#include "replay/report.hpp"
#include "replay/target.hpp"

namespace mcpgw::replay {

enum class OutputFormat { text, json };

struct ReplayOptions {
  LoadOptions load;  // inputs, format, --session, --leg, --from-backend, --strict
  TargetSpec target;
  DriverOptions driver;                      // jobs, timing, timeout, protocol version, replies
  std::vector<std::string> reply_specs;      // --reply METHOD=JSON, parsed into driver
  std::vector<std::string> ignore_specs;     // --ignore
  bool default_ignores = true;               // --no-default-ignores turns it off
  std::vector<std::string> unordered_specs;  // --unordered PATTERN[=KEY], after the defaults
  std::optional<double> latency_threshold;   // --latency-threshold RATIO
  std::chrono::milliseconds latency_floor{5};
  FailOn fail_on = FailOn::breaking;
  OutputFormat format = OutputFormat::text;
  std::string junit_path;   // --junit FILE
  std::string record_path;  // --record FILE: the new run as a capture (the next baseline)
  bool color = false;       // decided by the caller
  bool verbose = false;     // identical exchanges too
  bool progress = false;    // a progress bar on `err` (the caller passes true on a TTY)
  // SIGINT/SIGTERM while the target runs stop the replay cleanly (see run_replay). The CLI sets
  // it; in-process callers (tests) keep their own signal dispositions.
  bool handle_signals = false;
  std::string tool_version = "mcpgw";  // written into the header of a --record capture
};

// Exit codes: 0 nothing at or over the --fail-on level, 1 differences at or over it, 2 usage,
// input or target errors (no input readable, nothing to replay, the target cannot be started
// or never completes a handshake). Reports go to `out` (text or JSON), diagnostics and the
// progress bar to `err`. With handle_signals, the first SIGINT or SIGTERM while the target runs
// stops the run: targets are closed, what was replayed is compared and reported (the report
// says it was interrupted), JUnit is written, and the exit code is 128 + the signal's number
// (130, 143) whatever was found. A second signal ends the process at once.
int run_replay(const ReplayOptions& options, std::ostream& out, std::ostream& err);

}  // namespace mcpgw::replay
