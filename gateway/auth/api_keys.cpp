// API keys: the config holds SHA-256 digests only; a presented key is hashed and compared with
// every entry, in constant time and without an early exit, so neither the timing of one
// comparison nor the number of comparisons tells which prefix or which entry came close.
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <spdlog/spdlog.h>

#include "gateway/auth/authenticator.hpp"

#include "mcp/ascii.hpp"

namespace mcpgw::auth {
namespace {

bool parse_digest(std::string_view hex, std::array<unsigned char, 32>& out) {
  if (hex.size() != 2 * out.size()) {
    return false;
  }
  for (std::size_t index = 0; index < out.size(); ++index) {
    const int high = mcp::hex_digit_value(hex[2 * index]);
    const int low = mcp::hex_digit_value(hex[2 * index + 1]);
    if (high < 0 || low < 0) {
      return false;
    }
    out[index] = static_cast<unsigned char>((high << 4) | low);
  }
  return true;
}

}  // namespace

ApiKeyTable::ApiKeyTable(const std::vector<config::ApiKeyConfig>& keys) {
  entries_.reserve(keys.size());
  for (const auto& key : keys) {
    Entry entry;
    entry.name = key.name;
    if (!parse_digest(key.sha256_hex, entry.digest)) {
      // The loader validates the hash; a table built by hand with a bad one loses that key.
      spdlog::error("auth: API key '{}' has no valid SHA-256 hash and is ignored", key.name);
      continue;
    }
    entries_.push_back(std::move(entry));
  }
}

std::optional<std::string> ApiKeyTable::match(std::string_view presented) const {
  if (presented.empty() || entries_.empty()) {
    return std::nullopt;
  }
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  if (EVP_Digest(presented.data(), presented.size(), digest.data(), &length, EVP_sha256(),
                 nullptr) != 1 ||
      length != digest.size()) {
    ERR_clear_error();
    spdlog::error("auth: SHA-256 is unavailable in OpenSSL; API key refused");
    return std::nullopt;
  }
  const Entry* found = nullptr;
  for (const auto& entry : entries_) {
    const bool equal = CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0;
    found = equal ? &entry : found;
  }
  if (found == nullptr) {
    return std::nullopt;
  }
  return found->name;
}

}  // namespace mcpgw::auth
