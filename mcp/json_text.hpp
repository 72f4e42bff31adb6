// Writing untrusted text into JSON by hand (capture lines, inspect's JSONL, stats and HTML):
// one escaper that never emits invalid JSON, whatever bytes it is given.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mcpgw::mcp {

// Length of the valid UTF-8 sequence starting at text[at]: 1 for ASCII, 2–4 for a well-formed
// multi-byte sequence, 0 when the bytes there are not one (stray continuation byte, overlong
// form, surrogate, beyond U+10FFFF, or cut off by the end of `text`).
std::size_t utf8_sequence_length(std::string_view text, std::size_t at);

// Appends `text` as a JSON string literal (with quotes): quotes, backslashes and control
// characters escaped, every byte that is not part of valid UTF-8 replaced by U+FFFD. With
// `html_safe`, '<', '>', '&', U+2028 and U+2029 are escaped too, so the literal can sit inside
// an HTML <script> element without ending it.
void append_json_string(std::string& out, std::string_view text, bool html_safe = false);

}  // namespace mcpgw::mcp
