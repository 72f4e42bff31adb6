// A cheap pre-scan of TOML text that bounds how deep the parsed tree can become.
// toml++ limits nested arrays and inline tables, but not dotted keys: "a.a.a....= 1" with
// 100,000 parts builds a tree whose recursive destruction overflows the stack.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mcpgw::config {

inline constexpr std::size_t kMaxTomlNesting = 64;

struct NestingViolation {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

// Over-approximates the depth of every value (table headers, dotted keys, arrays and inline
// tables all count) and returns where it first exceeds `limit`. Linear time, no allocation.
std::optional<NestingViolation> find_excessive_nesting(std::string_view text,
                                                       std::size_t limit = kMaxTomlNesting);

}  // namespace mcpgw::config
