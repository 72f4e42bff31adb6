#include "gateway/mux/capabilities.hpp"

#include "gateway/mux/text.hpp"
#include "mcp/catalogue.hpp"

namespace mcpgw::mux {

namespace {

void deep_merge(nlohmann::json& target, const nlohmann::json& source) {
  for (auto it = source.begin(); it != source.end(); ++it) {
    const auto found = target.find(it.key());
    if (found == target.end()) {
      target[it.key()] = it.value();
    } else if (found->is_object() && it.value().is_object()) {
      deep_merge(*found, it.value());
    } else if (found->is_boolean() && it.value().is_boolean()) {
      *found = found->get<bool>() || it.value().get<bool>();
    }
  }
}

}  // namespace

std::string negotiate_version(const nlohmann::json& initialize_params) {
  if (initialize_params.is_object()) {
    const auto requested = initialize_params.find("protocolVersion");
    if (requested != initialize_params.end() && requested->is_string()) {
      const auto version = mcp::parse_protocol_version(requested->get_ref<const std::string&>());
      if (version && mcp::era(*version) == mcp::ProtocolEra::legacy) {
        return requested->get<std::string>();
      }
    }
  }
  return std::string(mcp::to_string(mcp::kLatestLegacyVersion));
}

nlohmann::json merge_capabilities(const std::vector<const nlohmann::json*>& capabilities) {
  nlohmann::json merged = nlohmann::json::object();
  for (const auto* backend : capabilities) {
    if (backend != nullptr && backend->is_object()) {
      deep_merge(merged, *backend);
    }
  }
  for (const char* kind : {"tools", "prompts", "resources"}) {
    const auto found = merged.find(kind);
    if (found == merged.end()) {
      continue;
    }
    if (!found->is_object()) {
      *found = nlohmann::json::object();
    }
    (*found)["listChanged"] = true;
  }
  return merged;
}

std::optional<std::string> merge_instructions(const std::vector<BackendInstructions>& parts,
                                              bool headings) {
  std::string out;
  for (const auto& part : parts) {
    if (part.text.empty()) {
      continue;
    }
    if (!out.empty()) {
      out += "\n\n";
    }
    if (headings) {
      out += "## " + part.backend + "\n\n";
    }
    out += part.text;
    if (out.size() > kMaxInstructionsBytes) {
      out = std::string(utf8_prefix(out, kMaxInstructionsBytes));
      break;
    }
  }
  if (out.empty()) {
    return std::nullopt;
  }
  return out;
}

}  // namespace mcpgw::mux
