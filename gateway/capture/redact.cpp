#include "gateway/capture/redact.hpp"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "gateway/capture/recorder.hpp"
#include "mcp/ascii.hpp"

namespace mcpgw::capture {
namespace {

// Deeper than the gateway's own decoders accept (mcp::kMaxDepthCeiling): nothing it forwards
// is this deep, and dump() recurses, so deeper text is treated as unparseable.
constexpr std::size_t kMaxRedactDepth = 1024;

constexpr std::array<std::string_view, 5> kInformationalHeaders = {
    "content-type", "accept", "mcp-session-id", "mcp-protocol-version", "last-event-id"};

constexpr std::array<std::string_view, 5> kCredentialNames = {
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"};
constexpr std::array<std::string_view, 8> kCredentialParts = {
    "auth", "cookie", "token", "secret", "password", "api-key", "api_key", "apikey"};

// Nesting depth of JSON text, counted outside strings; stops counting past `limit`.
bool deeper_than(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit)
        return true;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return false;
}

using Json = nlohmann::ordered_json;

bool redact_at(Json& node, const RedactPath& path, std::size_t index) {
  const std::string& segment = path[index];
  const bool last = index + 1 == path.size();
  bool changed = false;
  const auto visit = [&](Json& child) {
    if (last) {
      child = std::string(kRedacted);
      changed = true;
    } else {
      changed = redact_at(child, path, index + 1) || changed;
    }
  };
  if (node.is_object()) {
    if (segment == "*") {
      for (auto& [key, child] : node.items()) {
        (void)key;
        visit(child);
      }
    } else if (const auto it = node.find(segment); it != node.end()) {
      visit(*it);
    }
  } else if (node.is_array() && segment == "*") {
    for (auto& child : node)
      visit(child);
  }
  return changed;
}

}  // namespace

bool is_credential_header(std::string_view lower_name) noexcept {
  if (std::find(kCredentialNames.begin(), kCredentialNames.end(), lower_name) !=
      kCredentialNames.end())
    return true;
  return std::any_of(kCredentialParts.begin(), kCredentialParts.end(), [&](std::string_view part) {
    return lower_name.find(part) != std::string_view::npos;
  });
}

bool Recorder::wants_header(std::string_view lower_name) const noexcept {
  return std::find(kInformationalHeaders.begin(), kInformationalHeaders.end(), lower_name) !=
             kInformationalHeaders.end() ||
         is_credential_header(lower_name);
}

std::optional<RedactPath> parse_redact_path(std::string_view text, std::string& error) {
  if (text.empty()) {
    error = "a redact path must not be empty";
    return std::nullopt;
  }
  RedactPath path;
  std::size_t start = 0;
  while (true) {
    const auto dot = text.find('.', start);
    const auto segment =
        text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (segment.empty()) {
      error = "empty member name (paths are names separated by single dots)";
      return std::nullopt;
    }
    if (segment != "*" && segment.find('*') != std::string_view::npos) {
      error = "'*' must be a whole member name, not part of one";
      return std::nullopt;
    }
    path.emplace_back(segment);
    if (dot == std::string_view::npos)
      break;
    start = dot + 1;
  }
  return path;
}

Redactor::Redactor(std::vector<std::string> header_names, std::vector<RedactPath> paths)
    : paths_(std::move(paths)) {
  for (const auto& name : header_names)
    header_names_.push_back(mcp::ascii_lower(name));
}

bool Redactor::redacts_header(std::string_view lower_name) const noexcept {
  if (is_credential_header(lower_name))
    return true;
  return std::find(header_names_.begin(), header_names_.end(), lower_name) != header_names_.end();
}

Redactor::Outcome Redactor::apply(mcp::capture::Record& record) const {
  Outcome outcome = Outcome::unchanged;
  for (auto& header : record.http_headers) {
    if (header.value != kRedacted && redacts_header(mcp::ascii_lower(header.name))) {
      header.value = std::string(kRedacted);
      outcome = Outcome::redacted;
    }
  }
  if (paths_.empty())
    return outcome;
  Json message;
  if (!deeper_than(record.message, kMaxRedactDepth))
    message = Json::parse(record.message, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded() || message.is_null()) {
    // What could not be parsed cannot be redacted: its size is all that is written.
    const auto size = record.message.size();
    record.message = Json("[unparseable: " + std::to_string(size) + " bytes]").dump();
    return Outcome::unparseable;
  }
  bool changed = false;
  for (const auto& path : paths_)
    changed = redact_at(message, path, 0) || changed;
  if (changed) {
    record.message = message.dump(-1, ' ', false, Json::error_handler_t::replace);
    outcome = Outcome::redacted;
  }
  return outcome;
}

}  // namespace mcpgw::capture
