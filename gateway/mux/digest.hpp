// Hashes and randomness the multiplexer needs (names, cursors), on OpenSSL. Private to mux/.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mcpgw::mux {

using Sha256 = std::array<std::uint8_t, 32>;

Sha256 sha256(std::string_view data);
Sha256 hmac_sha256(std::span<const std::uint8_t> key, std::string_view data);
// Cryptographically random bytes (OpenSSL's CSPRNG).
std::vector<std::uint8_t> random_bytes(std::size_t count);
// Lower-case hex of the first `bytes` bytes.
std::string hex_prefix(std::span<const std::uint8_t> digest, std::size_t bytes);
// Constant-time comparison of equally long byte ranges.
bool equal_constant_time(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

// mcp/base64url.hpp in the form the cursor code uses. RFC 4648 section 5, without padding.
std::string base64url_encode(std::string_view bytes);
// Strict: only the URL-safe alphabet, no padding, no whitespace, no impossible trailing bits.
bool base64url_decode(std::string_view text, std::string& out);

}  // namespace mcpgw::mux
