// spdlog set-up for serve: one stderr logger, text or JSON lines, a level from the CLI.
#pragma once

#include <string>
#include <string_view>

#include "gateway/serve/serve.hpp"
#include "mcp/expected.hpp"

namespace mcpgw::serve {

// Replaces the default logger; logs go to stderr (stdout may carry MCP traffic with --stdio).
// Returns an error for an unknown level name.
mcp::Expected<bool, std::string> configure_logging(std::string_view level, LogFormat format);

// One JSON log line (without the newline) — exposed for tests of the JSON format.
std::string format_json_log_line(std::string_view time_iso8601, std::string_view level,
                                 std::string_view logger, std::string_view message);

}  // namespace mcpgw::serve
