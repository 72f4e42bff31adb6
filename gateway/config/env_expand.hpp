// ${VAR} and ${VAR:-default} expansion in configuration string values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.hpp"

namespace mcpgw::config {

struct EnvIssue {
  enum class Kind { undefined, malformed };
  Kind kind = Kind::undefined;
  std::size_t offset = 0;  // byte offset of the '$' in the unexpanded text
  std::string name;        // the variable (undefined only)
  std::string message;
};

struct EnvExpansion {
  std::string value;
  std::vector<EnvIssue> issues;
};

// "$$" is a literal '$'; a '$' not followed by '{' or '$' stays as it is.
// ${NAME} expands to the variable, or to "" with an `undefined` issue when it is not set.
// ${NAME:-text} expands to the variable, or to `text` when it is unset or empty; `text` is
// literal up to the first '}'. NAME is [A-Za-z_][A-Za-z0-9_]*. Anything else after "${" is
// `malformed` and the reference is kept unexpanded.
EnvExpansion expand_env(std::string_view text, const EnvLookup& env);

}  // namespace mcpgw::config
