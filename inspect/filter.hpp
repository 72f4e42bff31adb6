// The exchange filters of `mcpgw inspect`: an exchange is shown when it matches every filter
// that was given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "inspect/exchange.hpp"
#include "mcp/glob.hpp"

namespace mcpgw::inspect {

using mcp::glob_match;

struct FilterOptions {
  // The session (or, without one, the scope) starts with one of these, or matches one of them
  // as a glob when it contains '*'. The timeline's short session ids therefore work.
  std::vector<std::string> sessions;
  std::vector<std::string> methods;      // exact or glob
  std::vector<std::string> tools;        // tools/call targets, exact or glob
  std::vector<std::string> backends;     // exact
  bool errors_only = false;              // JSON-RPC errors and tool errors
  std::optional<std::int64_t> since_us;  // started at or after; needs a timestamp
  std::optional<std::int64_t> until_us;  // started at or before; needs a timestamp
};

class Filter {
 public:
  explicit Filter(FilterOptions options) : options_(std::move(options)) {}
  bool matches(const Exchange& exchange) const;
  bool empty() const;

 private:
  FilterOptions options_;
};

// Parses a --since/--until value: RFC 3339 ("2026-11-22T04:11:02Z",
// "2026-11-22T05:11:02.5+01:00", a space instead of 'T' allowed) or microseconds since the
// Unix epoch as a plain integer.
std::optional<std::int64_t> parse_time_us(std::string_view text);

}  // namespace mcpgw::inspect
