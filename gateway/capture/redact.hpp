// Redaction of capture records, run on the capture writer's thread: credential headers become
// "[redacted]", and so do the values at configured JSON paths inside the message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/capture.hpp"

namespace mcpgw::capture {

inline constexpr std::string_view kRedacted = "[redacted]";

// A redact path split into member names; "*" is any member or array element.
using RedactPath = std::vector<std::string>;

// "params.arguments.password" -> {"params", "arguments", "password"}. Nullopt with `error` set
// for an empty path, an empty segment ("a..b", ".a", "a.") or "*" inside a longer segment.
std::optional<RedactPath> parse_redact_path(std::string_view text, std::string& error);

class Redactor {
 public:
  // `header_names`: names to redact on top of is_credential_header (any case).
  Redactor(std::vector<std::string> header_names, std::vector<RedactPath> paths);

  bool redacts_header(std::string_view lower_name) const noexcept;
  bool has_paths() const noexcept { return !paths_.empty(); }

  enum class Outcome : std::uint8_t { unchanged, redacted, unparseable };
  // Header values, then (with paths) the message. A message that cannot be parsed while paths
  // are configured is replaced by the JSON string "[unparseable: N bytes]": nothing that might
  // hold a secret is written unredacted.
  Outcome apply(mcp::capture::Record& record) const;

 private:
  std::vector<std::string> header_names_;  // lower-case
  std::vector<RedactPath> paths_;
};

}  // namespace mcpgw::capture
