// Small text helpers for log lines and client-visible messages. Private to mux/.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mcpgw::mux {

// Quoted, with control characters and non-ASCII bytes escaped and long text cut, so names and
// URIs from backends or clients can go into logs and error messages safely.
std::string printable(std::string_view text, std::size_t max_chars = 200);
// The longest prefix of `text` of at most `max_bytes` that does not split a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

}  // namespace mcpgw::mux
