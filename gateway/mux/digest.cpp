#include "gateway/mux/digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>

#include <spdlog/spdlog.h>

#include "mcp/base64url.hpp"

namespace mcpgw::mux {

Sha256 sha256(std::string_view data) {
  Sha256 out{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &length, EVP_sha256(), nullptr) != 1) {
    // Only a broken OpenSSL installation gets here; a wrong hash would silently misroute.
    spdlog::critical("mux: SHA-256 is unavailable in OpenSSL");
    std::abort();
  }
  return out;
}

Sha256 hmac_sha256(std::span<const std::uint8_t> key, std::string_view data) {
  Sha256 out{};
  unsigned int length = 0;
  const auto* result =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &length);
  if (result == nullptr) {
    spdlog::critical("mux: HMAC-SHA-256 is unavailable in OpenSSL");
    std::abort();
  }
  return out;
}

std::vector<std::uint8_t> random_bytes(std::size_t count) {
  std::vector<std::uint8_t> out(count);
  if (RAND_bytes(out.data(), static_cast<int>(count)) != 1) {
    spdlog::critical("mux: the OpenSSL random generator failed");
    std::abort();
  }
  return out;
}

std::string hex_prefix(std::span<const std::uint8_t> digest, std::size_t bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  const auto count = std::min(bytes, digest.size());
  out.reserve(count * 2);
  for (std::size_t index = 0; index < count; ++index) {
    out.push_back(kDigits[digest[index] >> 4]);
    out.push_back(kDigits[digest[index] & 0x0f]);
  }
  return out;
}

bool equal_constant_time(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64url_encode(std::string_view bytes) {
  return mcp::base64url_encode(bytes);
}

bool base64url_decode(std::string_view text, std::string& out) {
  auto decoded = mcp::base64url_decode(text);
  if (!decoded) {
    out.clear();
    return false;
  }
  out = std::move(*decoded);
  return true;
}

}  // namespace mcpgw::mux
