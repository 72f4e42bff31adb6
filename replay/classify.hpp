// Semantic classification of list results (tools, prompts, resources, resource templates):
// what a client of the upgraded server gains or loses, with breaking changes told apart from
// compatible ones. compare.cpp calls it on the merged items of every page.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "replay/diff.hpp"
#include "replay/model.hpp"

namespace mcpgw::replay {

enum class ListKind : std::uint8_t { tools, prompts, resources, resource_templates };

// tools/list, prompts/list, resources/list, resources/templates/list; else nothing.
std::optional<ListKind> list_kind_of(std::string_view method);
// The result member holding the items: "tools", "prompts", "resources", "resourceTemplates".
std::string_view list_field(ListKind kind);

// Compares the items of a recorded and a replayed list (JSON arrays; anything else counts as
// empty). Items are matched by their key (name, uri or uriTemplate). The differences carry
// `method`, `item`, `tool` (tools only), `breaking` and a path in the merged list result
// ("/result/tools/[name=echo]/inputSchema/properties/text"):
// - added, removed, renamed (tools and prompts: one removed and one added whose input schema,
//   respectively arguments, are equal; reported once as *_renamed, breaking);
// - tools: input schema (compare_input_schema), output schema (compare_output_schema),
//   annotations and title (annotation_changed), description (description_changed);
// - prompts: arguments (a new required argument, a removed argument, optional → required are
//   breaking; a new optional argument is not), title (annotation_changed), description;
// - resources and templates: title (annotation_changed), description, and any other member
//   through diff_json (result_changed, not breaking).
// `diff` supplies the ignore rules (paths as above) and the bound.
std::vector<Difference> classify_list(ListKind kind, std::string_view method,
                                      const nlohmann::json& recorded_items,
                                      const nlohmann::json& replayed_items,
                                      const DiffOptions& diff);

struct SchemaChange {
  std::string path;  // relative to the schema: "/properties/text", "/properties/n/type"
  bool breaking = false;
  std::string detail;  // "new required property \"prefix\"", "type narrowed from
                       // [\"string\",\"number\"] to \"string\""
};

// A tool's input schema, from the caller's side (what the client sends). Breaking: a new
// required property, a removed property, an optional property made required, a type narrowed
// (fewer JSON types, number → integer), an enum value removed, additionalProperties closed,
// tighter bounds (minimum, maximum, minLength, maxLength, minItems, maxItems, pattern added or
// changed). Compatible: a new optional property, a required property made optional, a type
// widened, an enum value added, looser bounds. Nested object properties and array items are
// compared recursively (bounded depth). Description-only changes inside the schema are not
// schema changes (description_changed reports the tool's own description).
std::vector<SchemaChange> compare_input_schema(const nlohmann::json& recorded,
                                               const nlohmann::json& replayed);

// A tool's output schema, from the reader's side: the roles flip. Breaking: a property removed,
// a property no longer required, a type widened, an enum value added, the schema removed.
// Compatible: a new property, a type narrowed, an output schema added.
std::vector<SchemaChange> compare_output_schema(const nlohmann::json& recorded,
                                                const nlohmann::json& replayed);

}  // namespace mcpgw::replay
