// The one '*' glob of the command-line filters (inspect's --method/--tool/--session, replay's
// --session): '*' matches any run of characters (also none); everything else matches itself.
// Linear in practice: the classic greedy matcher that backtracks only to the last '*'.
#pragma once

#include <string_view>

namespace mcpgw::mcp {

bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace mcpgw::mcp
