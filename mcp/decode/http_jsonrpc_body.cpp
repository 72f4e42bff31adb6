#include "mcp/decode/http_jsonrpc_body.hpp"

#include "mcp/message_summary.hpp"

namespace mcpgw::mcp {
namespace {

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) {
    return {};
  }
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

}  // namespace

bool split_jsonrpc_body(std::string_view text, std::vector<JsonRpcBodyItem>& items,
                        std::string& error) {
  std::vector<std::string_view> members;
  SummaryError problem;
  if (!split_batch(text, members, &problem)) {
    error = problem.message + " (at byte " + std::to_string(problem.offset) + ")";
    return false;
  }
  if (members.empty()) {
    error = "an empty batch ([])";
    return false;
  }
  const std::size_t first = text.find_first_not_of(" \t\r\n\xef\xbb\xbf");
  const bool batch = first != std::string_view::npos && text[first] == '[';
  for (std::string_view member : members) {
    SummaryError member_problem;
    if (summarize_message(member, &member_problem)) {
      items.push_back(JsonRpcBodyItem{true, std::string(trim(member))});
    } else if (!batch) {
      error = member_problem.message;
      return false;
    } else {
      items.push_back(JsonRpcBodyItem{false, member_problem.message});
    }
  }
  return true;
}

}  // namespace mcpgw::mcp
