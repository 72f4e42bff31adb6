// Splits a JSON body (an SSE event's data or an HTTP body) into the JSON-RPC messages it
// carries, with the tree-free scanner of mcp/message_summary.hpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mcpgw::mcp {

struct JsonRpcBodyItem {
  bool ok = false;
  std::string text;  // ok: the message's JSON text; else: why the element is not a message
};

// false (with `error`) when the text is not one JSON-RPC message or batch as a whole. Every
// message keeps its exact text (a single one without surrounding whitespace); each invalid
// batch element is reported on its own.
bool split_jsonrpc_body(std::string_view text, std::vector<JsonRpcBodyItem>& items,
                        std::string& error);

}  // namespace mcpgw::mcp
