// The virtual server's side of initialize: the version answered to a client, the union of the
// backends' capabilities and their merged instructions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcpgw::mux {

inline constexpr std::size_t kMaxInstructionsBytes = 128 * 1024;

// The client's protocolVersion when it is a supported legacy version, else the latest legacy
// version (2025-11-25).
std::string negotiate_version(const nlohmann::json& initialize_params);

// Union of ServerCapabilities objects: members present in any backend are present, boolean
// flags are OR-ed (resources.subscribe, ...), objects merge recursively, and for other values
// the backend earlier in the configuration wins. tools, prompts and resources always say
// listChanged: true, because the gateway itself announces changes (a backend that comes back).
nlohmann::json merge_capabilities(const std::vector<const nlohmann::json*>& capabilities);

struct BackendInstructions {
  std::string backend;
  std::string text;
};
// One backend of one: its text as is. Several configured backends: each text under a
// "## <backend>" heading, in configuration order. Empty when no backend has instructions.
// Bounded by kMaxInstructionsBytes.
std::optional<std::string> merge_instructions(const std::vector<BackendInstructions>& parts,
                                              bool headings);

}  // namespace mcpgw::mux
