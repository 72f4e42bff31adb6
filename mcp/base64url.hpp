// base64url without padding (RFC 4648 section 5, as JWS and our cursors use it). One
// implementation for the whole project: the multiplexer's cursors and the JWT verifier.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mcpgw::mcp {

std::string base64url_encode(std::string_view bytes);
// Strict: only the URL-safe alphabet, no padding, no whitespace, no length that cannot be
// base64url, no non-zero trailing bits (one encoding per byte string); nullopt otherwise.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace mcpgw::mcp
