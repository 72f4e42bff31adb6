// The three renderings of a ReplayReport: the human report (grouped by session and method, each
// difference shown in context), JSON (schema v1, docs/replay.md) and JUnit XML (one testcase per
// exchange).
#pragma once

#include <cstddef>
#include <string>

#include "replay/model.hpp"

namespace mcpgw::replay {

struct TextOptions {
  bool color = false;             // ANSI colours (the caller decides: a TTY and no NO_COLOR)
  bool show_identical = false;    // --verbose: list identical exchanges too, one line each
  std::size_t context_lines = 3;  // lines of the pretty-printed response around each difference
  std::size_t max_differences_shown = 20;  // per exchange; the rest summarised in one line
};

// Per session: a heading (id, sources, replayed session, notes), then the exchanges with
// differences grouped by method (breaking first), each difference with its kind, path, detail
// and the recorded/replayed values in context, then one line of totals for the whole run:
// "12 exchanges: 9 identical, 3 changed (1 breaking)". Terminal-hostile text from the traffic
// (control characters, escape sequences) is shown escaped.
std::string render_text(const ReplayReport& report, const TextOptions& options);

// {"v":1,"target":…,"inputs":[…],"input_problems":N,"exchanges":N,"identical":N,"changed":N,
//  "breaking":N,"differences":[{"session","exchange","method","kind","change","tool","item",
//  "breaking","path","detail","recorded","replayed"}…],"sessions":[{"id","sources",
//  "replayed_session","notes","exchanges":[{"index","direction","method","target","id",
//  "identical","breaking","pages_recorded","pages_replayed","recorded_latency_ms",
//  "replayed_latency_ms","differences_omitted"}…]}…]}
// Keys in this order, always present (null or "" when empty); documented in docs/replay.md.
std::string render_json(const ReplayReport& report);

// <testsuites> with one <testsuite> per session and one <testcase> per exchange
// (classname "session.method", name "#index method target"); a breaking exchange is a
// <failure>, any other difference a <failure> too when fail_on is any, else <system-out>; time
// is the replayed latency in seconds. XML-escaped, invalid UTF-8 replaced.
std::string render_junit(const ReplayReport& report, FailOn fail_on);

}  // namespace mcpgw::replay
