#include "gateway/mux/cursor.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "gateway/mux/digest.hpp"
#include "mcp/jsonrpc.hpp"

namespace mcpgw::mux {

namespace {

constexpr std::size_t kMacBytes = 16;
constexpr std::size_t kKeyBytes = 32;
constexpr int kFormatVersion = 1;

std::string fingerprint_of(const std::vector<std::string>& backends) {
  std::string joined;
  for (const auto& name : backends) {
    joined.append(name);
    joined.push_back('\0');
  }
  return hex_prefix(sha256(joined), 8);
}

}  // namespace

bool CompositeCursor::any_pending() const {
  return std::any_of(backends.begin(), backends.end(),
                     [](const auto& entry) { return entry.has_value(); });
}

CursorCodec::CursorCodec(const std::vector<std::string>& backends)
    : CursorCodec(backends, random_bytes(kKeyBytes)) {}

CursorCodec::CursorCodec(const std::vector<std::string>& backends, std::vector<std::uint8_t> key)
    : fingerprint_(fingerprint_of(backends)),
      backend_count_(backends.size()),
      key_(std::move(key)) {}

std::optional<std::string> CursorCodec::encode(const CompositeCursor& cursor) const {
  nlohmann::json pages = nlohmann::json::array();
  for (const auto& entry : cursor.backends) {
    if (entry) {
      pages.push_back(*entry);
    } else {
      pages.push_back(nullptr);
    }
  }
  const nlohmann::json payload = {
      {"v", kFormatVersion}, {"m", cursor.method}, {"f", fingerprint_}, {"c", std::move(pages)}};
  auto bytes = payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const auto mac = hmac_sha256(key_, bytes);
  bytes.append(reinterpret_cast<const char*>(mac.data()), kMacBytes);
  auto token = base64url_encode(bytes);
  if (token.size() > kMaxCursorTokenBytes) {
    return std::nullopt;
  }
  return token;
}

mcp::Expected<CompositeCursor, std::string> CursorCodec::decode(std::string_view token,
                                                                std::string_view method) const {
  using mcp::unexpected;
  if (token.size() > kMaxCursorTokenBytes) {
    return unexpected(std::string("the cursor is too long"));
  }
  std::string bytes;
  if (!base64url_decode(token, bytes) || bytes.size() <= kMacBytes) {
    return unexpected(std::string("the cursor was not issued by this server"));
  }
  const std::string_view payload(bytes.data(), bytes.size() - kMacBytes);
  const auto mac = hmac_sha256(key_, payload);
  const std::span<const std::uint8_t> given(
      reinterpret_cast<const std::uint8_t*>(bytes.data() + payload.size()), kMacBytes);
  if (!equal_constant_time(std::span<const std::uint8_t>(mac.data(), kMacBytes), given)) {
    return unexpected(std::string("the cursor was not issued by this server"));
  }
  auto parsed = mcp::parse_json(payload);
  if (!parsed || !parsed->is_object()) {
    return unexpected(std::string("the cursor is malformed"));
  }
  const auto& object = *parsed;
  const auto version = object.find("v");
  const auto list = object.find("m");
  const auto fingerprint = object.find("f");
  const auto pages = object.find("c");
  if (version == object.end() || *version != kFormatVersion || list == object.end() ||
      !list->is_string() || fingerprint == object.end() || !fingerprint->is_string() ||
      pages == object.end() || !pages->is_array()) {
    return unexpected(std::string("the cursor is malformed"));
  }
  if (list->get_ref<const std::string&>() != method) {
    return unexpected(std::string("the cursor belongs to another list"));
  }
  if (fingerprint->get_ref<const std::string&>() != fingerprint_ ||
      pages->size() != backend_count_) {
    return unexpected(std::string("the cursor belongs to another configuration"));
  }
  CompositeCursor cursor;
  cursor.method = std::string(method);
  cursor.backends.reserve(pages->size());
  for (const auto& page : *pages) {
    if (page.is_null()) {
      cursor.backends.emplace_back();
    } else if (page.is_string() &&
               page.get_ref<const std::string&>().size() <= kMaxBackendCursorBytes) {
      cursor.backends.emplace_back(page.get<std::string>());
    } else {
      return unexpected(std::string("the cursor is malformed"));
    }
  }
  if (!cursor.any_pending()) {
    return unexpected(std::string("the cursor is malformed"));
  }
  return cursor;
}

}  // namespace mcpgw::mux
