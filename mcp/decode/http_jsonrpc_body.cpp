#include "mcp/decode/http_jsonrpc_body.hpp"

#include "mcp/jsonrpc.hpp"

namespace mcpgw::mcp {

bool split_jsonrpc_body(std::string_view text, std::vector<JsonRpcBodyItem>& items,
                        std::string& error) {
  auto decoded = decode(text);
  if (!decoded) {
    error = decoded.error().message;
    return false;
  }
  if (!decoded->is_batch) {
    constexpr std::string_view kSpace = " \t\r\n";
    const std::size_t first = text.find_first_not_of(kSpace);
    const std::size_t last = text.find_last_not_of(kSpace);
    items.push_back(JsonRpcBodyItem{true, std::string(text.substr(first, last - first + 1))});
    return true;
  }
  for (auto& item : decoded->items) {
    if (item) {
      items.push_back(JsonRpcBodyItem{true, encode(*item)});
    } else {
      items.push_back(JsonRpcBodyItem{false, item.error().message});
    }
  }
  return true;
}

}  // namespace mcpgw::mcp
