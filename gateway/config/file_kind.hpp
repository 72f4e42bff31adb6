// Internal to gateway/config: telling a configuration from a policy decision test file, and
// loading either from a root that is already read and parsed, so that lint parses each file
// it is given once.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "gateway/config/config.hpp"

namespace mcpgw::config::detail {

// The keys a configuration file may have at its top level.
inline constexpr std::array<std::string_view, 9> kConfigTopLevelKeys = {
    "include", "server", "policy", "auth", "audit", "capture", "backend", "rule", "rate_limit"};

// The one key of a policy test file.
inline constexpr std::string_view kTestCaseKey = "case";

// A policy test file has `case` at its top level and none of the configuration's keys. Anything
// else is a configuration: a file that mixes both is loaded as one, and its `case` reported.
FileKind classify(const toml::table& top_level);

// load_config_text and load_policy_tests_text for a root file whose text is already read
// (`text`, not counted against any limit yet) and parsed (`document`, parsed from `text`).
LoadResult load_config_parsed(const std::string& path, std::string text, toml::table document,
                              const LoadOptions& options);
TestFileResult load_policy_tests_parsed(const std::string& path, std::string text,
                                        toml::table document, const LoadOptions& options);

}  // namespace mcpgw::config::detail
