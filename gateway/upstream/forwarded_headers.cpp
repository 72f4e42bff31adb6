#include "gateway/upstream/forwarded_headers.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>
#include <vector>

namespace mcpgw::upstream::http {

namespace {

// Lower case. Credentials towards the gateway, framing and connection management, and what
// the transports set themselves even when a request does not carry it (yet).
constexpr std::array<std::string_view, 17> kNeverForwarded = {"authorization",
                                                              "proxy-authorization",
                                                              "host",
                                                              "content-length",
                                                              "content-type",
                                                              "transfer-encoding",
                                                              "connection",
                                                              "keep-alive",
                                                              "proxy-connection",
                                                              "te",
                                                              "trailer",
                                                              "upgrade",
                                                              "expect",
                                                              "accept",
                                                              "last-event-id",
                                                              "mcp-session-id",
                                                              "mcp-protocol-version"};

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool token_name(std::string_view name) {
  static constexpr std::string_view allowed = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           allowed.find(c) != std::string_view::npos;
  });
}

bool field_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && byte != '\t') || byte == 0x7f;
  });
}

}  // namespace

void add_forwarded_headers(Exchange::Request& request, const ForwardedHeaders& forwarded) {
  std::size_t added = 0;
  std::size_t bytes = 0;
  std::vector<std::string_view> ours;  // names added here (a client may repeat one)
  for (const auto& [name, value] : forwarded) {
    if (!token_name(name) || !field_value(value)) {
      spdlog::debug("a forwarded header with characters HTTP does not allow was dropped");
      continue;
    }
    const bool reserved =
        std::any_of(kNeverForwarded.begin(), kNeverForwarded.end(),
                    [&](std::string_view never) { return equals_ignoring_case(name, never); });
    const bool ours_already = std::any_of(
        ours.begin(), ours.end(),
        [&](std::string_view added_name) { return equals_ignoring_case(name, added_name); });
    if (reserved || (!ours_already && request.find(name) != request.end()))
      continue;
    if (added == kMaxForwardedHeaders ||
        bytes + name.size() + value.size() > kMaxForwardedHeaderBytes) {
      spdlog::warn("forwarded headers over {} or {} bytes were dropped", kMaxForwardedHeaders,
                   kMaxForwardedHeaderBytes);
      return;
    }
    request.insert(name, value);
    if (!ours_already)
      ours.push_back(name);
    ++added;
    bytes += name.size() + value.size();
  }
}

}  // namespace mcpgw::upstream::http
