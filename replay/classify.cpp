#include "replay/classify.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "mcp/json_text.hpp"

namespace mcpgw::replay {
namespace {

using Json = nlohmann::json;

// Schemas nest; deeper than this they are compared as whole values.
constexpr int kMaxSchemaDepth = 64;

// Compact JSON that never throws (invalid UTF-8 becomes U+FFFD); objects come out with sorted
// keys, so equal values give equal text: the canonical form used for hashing and sets.
// Numbers are written by value, so 1 and 1.0 are one set member (as they are equal).
void append_canonical(std::string& out, const Json& value) {
  switch (value.type()) {
    case Json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, member] : value.items()) {
        if (!first)
          out.push_back(',');
        first = false;
        out += Json(key).dump(-1, ' ', false, Json::error_handler_t::replace);
        out.push_back(':');
        append_canonical(out, member);
      }
      out.push_back('}');
      return;
    }
    case Json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& element : value) {
        if (!first)
          out.push_back(',');
        first = false;
        append_canonical(out, element);
      }
      out.push_back(']');
      return;
    }
    case Json::value_t::number_float: {
      const double number = value.get<double>();
      if (std::trunc(number) == number && std::fabs(number) < 9.0e15) {
        out += std::to_string(static_cast<std::int64_t>(number));
        return;
      }
      break;
    }
    default:
      break;
  }
  out += value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string canonical(const Json& value) {
  std::string out;
  append_canonical(out, value);
  return out;
}

std::string json_quoted(std::string_view text) {
  std::string out;
  mcp::append_json_string(out, text);
  return out;
}

// One JSON pointer reference token (RFC 6901).
std::string pointer_token(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 1);
  out.push_back('/');
  for (const char c : name) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out.push_back(c);
  }
  return out;
}

const Json* member(const Json& object, const char* name) {
  if (!object.is_object())
    return nullptr;
  const auto found = object.find(name);
  return found == object.end() ? nullptr : &*found;
}

const Json* member(const Json& object, const std::string& name) {
  if (!object.is_object())
    return nullptr;
  const auto found = object.find(name);
  return found == object.end() ? nullptr : &*found;
}

// Follows a pointer made by this file (plain object members and array indexes).
const Json* resolve(const Json& root, std::string_view pointer) {
  const Json* at = &root;
  std::size_t position = 0;
  while (position < pointer.size()) {
    if (pointer[position] != '/')
      return nullptr;
    const std::size_t end = std::min(pointer.find('/', position + 1), pointer.size());
    std::string token;
    for (std::size_t i = position + 1; i < end; ++i) {
      if (pointer[i] == '~' && i + 1 < end) {
        token.push_back(pointer[i + 1] == '1' ? '/' : '~');
        ++i;
      } else {
        token.push_back(pointer[i]);
      }
    }
    position = end;
    if (at->is_object()) {
      at = member(*at, token);
      if (at == nullptr)
        return nullptr;
    } else if (at->is_array()) {
      std::size_t index = 0;
      if (token.empty() || token.size() > 9)
        return nullptr;
      for (const char c : token) {
        if (c < '0' || c > '9')
          return nullptr;
        index = index * 10 + static_cast<std::size_t>(c - '0');
      }
      if (index >= at->size())
        return nullptr;
      at = &(*at)[index];
    } else {
      return nullptr;
    }
  }
  return at;
}

// ---------------------------------------------------------------------------------------------
// Schema comparison. Every change is judged by what it does to the set of values the schema
// accepts: it narrows it, widens it, or both (an opaque or unrelated change). The caller's side
// (input) breaks on narrowing, the reader's side (output) on widening.

enum class Effect : std::uint8_t { narrows, widens, both, neutral };

enum class Role : std::uint8_t { input, output };

bool breaks(Effect effect, Role role) {
  switch (effect) {
    case Effect::narrows:
      return role == Role::input;
    case Effect::widens:
      return role == Role::output;
    case Effect::both:
      return true;
    case Effect::neutral:
      return false;
  }
  return true;
}

// Keywords that describe rather than constrain: their changes are not schema changes.
bool is_annotation_keyword(std::string_view keyword) {
  static constexpr std::array<std::string_view, 11> kAnnotations{
      "description", "title",    "examples",  "default",    "$comment", "$schema",
      "$id",         "readOnly", "writeOnly", "deprecated", "$anchor"};
  for (const auto name : kAnnotations) {
    if (name == keyword)
      return true;
  }
  return false;
}

// Standard validation keywords this file does not model: compared as opaque values, and any
// change counts both ways (its direction is unknown). Other unknown keywords (vendor
// extensions) are reported but never breaking.
bool is_opaque_validation_keyword(std::string_view keyword) {
  static constexpr std::array<std::string_view, 18> kOpaque{"$ref",
                                                            "$dynamicRef",
                                                            "not",
                                                            "if",
                                                            "then",
                                                            "else",
                                                            "patternProperties",
                                                            "propertyNames",
                                                            "contains",
                                                            "minContains",
                                                            "maxContains",
                                                            "prefixItems",
                                                            "dependencies",
                                                            "dependentRequired",
                                                            "dependentSchemas",
                                                            "unevaluatedProperties",
                                                            "unevaluatedItems",
                                                            "contentEncoding"};
  for (const auto name : kOpaque) {
    if (name == keyword)
      return true;
  }
  return false;
}

class SchemaComparer {
 public:
  explicit SchemaComparer(Role role) : role_(role) {}

  std::vector<SchemaChange> take() { return std::move(changes_); }

  void compare(const Json& recorded, const Json& replayed, const std::string& path, int depth) {
    if (recorded == replayed)
      return;
    if (depth >= kMaxSchemaDepth) {
      add(path, Effect::both,
          "schema nested deeper than " + std::to_string(kMaxSchemaDepth) +
              " levels changed (compared as a whole)");
      return;
    }
    // Boolean schemas: true accepts everything (like {}), false nothing.
    const bool recorded_false = recorded.is_boolean() && !recorded.get<bool>();
    const bool replayed_false = replayed.is_boolean() && !replayed.get<bool>();
    if (recorded_false || replayed_false) {
      if (recorded_false)
        add(path, Effect::widens, "schema no longer rejects every value");
      else
        add(path, Effect::narrows, "schema now rejects every value");
      return;
    }
    static const Json kEmpty = Json::object();
    const Json& before = recorded.is_object() ? recorded : kEmpty;
    const Json& after = replayed.is_object() ? replayed : kEmpty;
    if ((!recorded.is_object() && !recorded.is_boolean() && !recorded.is_null()) ||
        (!replayed.is_object() && !replayed.is_boolean() && !replayed.is_null())) {
      add(path, Effect::both,
          "schema changed from " + short_json(recorded) + " to " + short_json(replayed));
      return;
    }
    compare_type(before, after, path);
    compare_properties(before, after, path, depth);
    compare_additional_properties(before, after, path, depth);
    compare_enum(before, after, path);
    compare_const(before, after, path);
    compare_items(before, after, path, depth);
    compare_alternatives(before, after, path, "anyOf", false);
    compare_alternatives(before, after, path, "oneOf", false);
    compare_alternatives(before, after, path, "allOf", true);
    compare_bounds(before, after, path);
    compare_definitions(before, after, path, depth, "$defs");
    compare_definitions(before, after, path, depth, "definitions");
    compare_remaining(before, after, path);
  }

 private:
  void add(const std::string& path, Effect effect, std::string detail) {
    changes_.push_back(SchemaChange{path, breaks(effect, role_), std::move(detail)});
  }

  // --- type: a string or an array of types; "integer" is a subset of "number".
  static std::vector<std::string> type_names(const Json& type) {
    std::vector<std::string> names;
    if (type.is_string()) {
      names.push_back(type.get<std::string>());
    } else if (type.is_array()) {
      for (const auto& entry : type) {
        if (entry.is_string())
          names.push_back(entry.get<std::string>());
      }
    }
    return names;
  }

  static bool covered(const std::string& name, const std::vector<std::string>& by) {
    for (const auto& other : by) {
      if (other == name || (name == "integer" && other == "number"))
        return true;
    }
    return false;
  }

  void compare_type(const Json& before, const Json& after, const std::string& path) {
    const Json* recorded = member(before, "type");
    const Json* replayed = member(after, "type");
    if (recorded == nullptr && replayed == nullptr)
      return;
    if (recorded != nullptr && replayed != nullptr && *recorded == *replayed)
      return;
    const std::string at = path + "/type";
    if (recorded == nullptr) {
      add(at, Effect::narrows, "type narrowed from any to " + short_json(*replayed));
      return;
    }
    if (replayed == nullptr) {
      add(at, Effect::widens, "type widened from " + short_json(*recorded) + " to any");
      return;
    }
    const auto before_names = type_names(*recorded);
    const auto after_names = type_names(*replayed);
    bool lost = false;
    bool gained = false;
    for (const auto& name : before_names)
      lost = lost || !covered(name, after_names);
    for (const auto& name : after_names)
      gained = gained || !covered(name, before_names);
    const std::string values = " from " + short_json(*recorded) + " to " + short_json(*replayed);
    if (lost && !gained)
      add(at, Effect::narrows, "type narrowed" + values);
    else if (gained && !lost)
      add(at, Effect::widens, "type widened" + values);
    else if (lost && gained)
      add(at, Effect::both, "type changed" + values);
    // Neither: the same set spelled differently (["string"] vs "string", order).
  }

  // --- properties and required.
  static std::unordered_set<std::string> required_names(const Json& schema) {
    std::unordered_set<std::string> names;
    if (const Json* required = member(schema, "required"); required != nullptr) {
      if (required->is_array()) {
        for (const auto& entry : *required) {
          if (entry.is_string())
            names.insert(entry.get<std::string>());
        }
      }
    }
    return names;
  }

  void compare_properties(const Json& before, const Json& after, const std::string& path,
                          int depth) {
    static const Json kNone = Json::object();
    const Json* recorded_properties = member(before, "properties");
    const Json* replayed_properties = member(after, "properties");
    const Json& recorded = recorded_properties != nullptr && recorded_properties->is_object()
                               ? *recorded_properties
                               : kNone;
    const Json& replayed = replayed_properties != nullptr && replayed_properties->is_object()
                               ? *replayed_properties
                               : kNone;
    const auto recorded_required = required_names(before);
    const auto replayed_required = required_names(after);
    // Names reported as a removed or new property: their required status goes with them.
    std::unordered_set<std::string> reported;
    for (const auto& [name, schema] : recorded.items()) {
      const std::string at = path + "/properties" + pointer_token(name);
      const Json* counterpart = member(replayed, name);
      if (counterpart == nullptr) {
        // Breaking for both sides: callers sending it and readers expecting it.
        add(at, Effect::both, "property " + json_quoted(name) + " removed");
        reported.insert(name);
        continue;
      }
      compare(schema, *counterpart, at, depth + 1);
    }
    for (const auto& [name, schema] : replayed.items()) {
      if (member(recorded, name) != nullptr)
        continue;
      reported.insert(name);
      const std::string at = path + "/properties" + pointer_token(name);
      if (role_ == Role::output)
        add(at, Effect::narrows, "new property " + json_quoted(name));
      else if (replayed_required.count(name) != 0)
        add(at, Effect::narrows, "new required property " + json_quoted(name));
      else
        add(at, Effect::widens, "new optional property " + json_quoted(name));
    }
    // Required-ness of the rest, in the order each side lists them.
    auto in_order = [](const Json& schema) {
      std::vector<std::string> names;
      if (const Json* required = member(schema, "required");
          required != nullptr && required->is_array()) {
        for (const auto& entry : *required) {
          if (entry.is_string())
            names.push_back(entry.get<std::string>());
        }
      }
      return names;
    };
    const std::string at = path + "/required";
    for (const auto& name : in_order(before)) {
      if (replayed_required.count(name) == 0 && reported.insert(name).second)
        add(at, Effect::widens, "property " + json_quoted(name) + " no longer required");
    }
    for (const auto& name : in_order(after)) {
      if (recorded_required.count(name) == 0 && reported.insert(name).second)
        add(at, Effect::narrows, "property " + json_quoted(name) + " now required");
    }
  }

  // --- additionalProperties: absent or true is open, false closed, a schema constrains.
  void compare_additional_properties(const Json& before, const Json& after, const std::string& path,
                                     int depth) {
    const Json* recorded = member(before, "additionalProperties");
    const Json* replayed = member(after, "additionalProperties");
    const auto open = [](const Json* value) {
      return value == nullptr || (value->is_boolean() && value->get<bool>());
    };
    const auto closed = [](const Json* value) {
      return value != nullptr && value->is_boolean() && !value->get<bool>();
    };
    const std::string at = path + "/additionalProperties";
    if (open(recorded) && open(replayed))
      return;
    if (closed(recorded) && closed(replayed))
      return;
    if (closed(replayed)) {
      add(at, Effect::narrows, "additionalProperties closed");
    } else if (closed(recorded)) {
      add(at, Effect::widens,
          open(replayed) ? "additionalProperties opened"
                         : "additionalProperties relaxed to a schema");
    } else if (open(recorded)) {
      add(at, Effect::narrows, "additionalProperties constrained by a schema");
    } else if (open(replayed)) {
      add(at, Effect::widens, "additionalProperties no longer constrained");
    } else {
      compare(*recorded, *replayed, at, depth + 1);
    }
  }

  // --- enum: a set of values.
  void compare_enum(const Json& before, const Json& after, const std::string& path) {
    const Json* recorded = member(before, "enum");
    const Json* replayed = member(after, "enum");
    const std::string at = path + "/enum";
    if (recorded == nullptr && replayed == nullptr)
      return;
    if (recorded == nullptr) {
      add(at, Effect::narrows, "enum " + short_json(*replayed) + " added");
      return;
    }
    if (replayed == nullptr) {
      add(at, Effect::widens, "enum " + short_json(*recorded) + " removed");
      return;
    }
    if (!recorded->is_array() || !replayed->is_array()) {
      if (*recorded != *replayed)
        add(at, Effect::both,
            "enum changed from " + short_json(*recorded) + " to " + short_json(*replayed));
      return;
    }
    std::unordered_set<std::string> recorded_values;
    std::unordered_set<std::string> replayed_values;
    for (const auto& value : *recorded)
      recorded_values.insert(canonical(value));
    for (const auto& value : *replayed)
      replayed_values.insert(canonical(value));
    for (const auto& value : *recorded) {
      if (replayed_values.count(canonical(value)) == 0)
        add(at, Effect::narrows, "enum value " + short_json(value) + " removed");
    }
    for (const auto& value : *replayed) {
      if (recorded_values.count(canonical(value)) == 0)
        add(at, Effect::widens, "enum value " + short_json(value) + " added");
    }
  }

  void compare_const(const Json& before, const Json& after, const std::string& path) {
    const Json* recorded = member(before, "const");
    const Json* replayed = member(after, "const");
    const std::string at = path + "/const";
    if (recorded == nullptr && replayed == nullptr)
      return;
    if (recorded == nullptr)
      add(at, Effect::narrows, "const " + short_json(*replayed) + " added");
    else if (replayed == nullptr)
      add(at, Effect::widens, "const " + short_json(*recorded) + " removed");
    else if (*recorded != *replayed)
      add(at, Effect::both,
          "const changed from " + short_json(*recorded) + " to " + short_json(*replayed));
  }

  // --- items: a schema for every element (recursed), or a tuple form (opaque).
  void compare_items(const Json& before, const Json& after, const std::string& path, int depth) {
    const Json* recorded = member(before, "items");
    const Json* replayed = member(after, "items");
    const std::string at = path + "/items";
    if (recorded == nullptr && replayed == nullptr)
      return;
    if (recorded == nullptr) {
      add(at, Effect::narrows, "items constrained by a schema");
      return;
    }
    if (replayed == nullptr) {
      add(at, Effect::widens, "items no longer constrained");
      return;
    }
    if (recorded->is_array() || replayed->is_array()) {
      if (*recorded != *replayed)
        add(at, Effect::both, "items changed (tuple form, compared as a whole)");
      return;
    }
    compare(*recorded, *replayed, at, depth + 1);
  }

  // --- anyOf / oneOf: sets of alternatives (one removed narrows); allOf: a set of
  // constraints (one removed widens). Subschemas compared by canonical text.
  void compare_alternatives(const Json& before, const Json& after, const std::string& path,
                            const char* keyword, bool conjunction) {
    const Json* recorded = member(before, keyword);
    const Json* replayed = member(after, keyword);
    const std::string at = path + "/" + keyword;
    const std::string name = keyword;
    if (recorded == nullptr && replayed == nullptr)
      return;
    if (recorded == nullptr) {
      add(at, Effect::narrows, name + " added");
      return;
    }
    if (replayed == nullptr) {
      add(at, Effect::widens, name + " removed");
      return;
    }
    if (!recorded->is_array() || !replayed->is_array()) {
      if (*recorded != *replayed)
        add(at, Effect::both, name + " changed");
      return;
    }
    std::unordered_set<std::string> recorded_set;
    std::unordered_set<std::string> replayed_set;
    for (const auto& entry : *recorded)
      recorded_set.insert(canonical(entry));
    for (const auto& entry : *replayed)
      replayed_set.insert(canonical(entry));
    const Effect removed = conjunction ? Effect::widens : Effect::narrows;
    const Effect added = conjunction ? Effect::narrows : Effect::widens;
    const std::string noun = conjunction ? " subschema " : " alternative ";
    for (const auto& entry : *recorded) {
      if (replayed_set.count(canonical(entry)) == 0)
        add(at, removed, name + noun + short_json(entry) + " removed");
    }
    for (const auto& entry : *replayed) {
      if (recorded_set.count(canonical(entry)) == 0)
        add(at, added, name + noun + short_json(entry) + " added");
    }
  }

  // --- bounds: lower bounds tighten upwards, upper bounds downwards.
  void compare_bounds(const Json& before, const Json& after, const std::string& path) {
    struct Bound {
      const char* keyword;
      bool lower;
    };
    static constexpr std::array<Bound, 10> kBounds{{{"minimum", true},
                                                    {"exclusiveMinimum", true},
                                                    {"maximum", false},
                                                    {"exclusiveMaximum", false},
                                                    {"minLength", true},
                                                    {"maxLength", false},
                                                    {"minItems", true},
                                                    {"maxItems", false},
                                                    {"minProperties", true},
                                                    {"maxProperties", false}}};
    for (const auto& bound : kBounds)
      compare_bound(before, after, path, bound.keyword, bound.lower);
    compare_constraint(before, after, path, "pattern");
    compare_constraint(before, after, path, "multipleOf");
    compare_constraint(before, after, path, "format");
    // uniqueItems: true constrains, false or absent does not.
    const auto unique = [](const Json& schema) {
      const Json* value = member(schema, "uniqueItems");
      return value != nullptr && value->is_boolean() && value->get<bool>();
    };
    if (unique(before) != unique(after))
      add(path + "/uniqueItems", unique(after) ? Effect::narrows : Effect::widens,
          unique(after) ? "uniqueItems required" : "uniqueItems no longer required");
  }

  void compare_bound(const Json& before, const Json& after, const std::string& path,
                     const char* keyword, bool lower) {
    const Json* recorded = member(before, keyword);
    const Json* replayed = member(after, keyword);
    const std::string at = path + "/" + keyword;
    const std::string name = keyword;
    if (recorded == nullptr && replayed == nullptr)
      return;
    if (recorded == nullptr) {
      add(at, Effect::narrows, name + " " + short_json(*replayed) + " added");
      return;
    }
    if (replayed == nullptr) {
      add(at, Effect::widens, name + " " + short_json(*recorded) + " removed");
      return;
    }
    if (*recorded == *replayed)
      return;
    const std::string values = " from " + short_json(*recorded) + " to " + short_json(*replayed);
    if (recorded->is_number() && replayed->is_number()) {
      const double old_value = recorded->get<double>();
      const double new_value = replayed->get<double>();
      if (old_value == new_value)
        return;
      const bool tighter = lower ? new_value > old_value : new_value < old_value;
      add(at, tighter ? Effect::narrows : Effect::widens,
          name + (tighter ? " tightened" : " loosened") + values);
      return;
    }
    // Draft 4's boolean exclusiveMinimum/exclusiveMaximum: true is the tighter one.
    if (recorded->is_boolean() && replayed->is_boolean()) {
      const bool tighter = replayed->get<bool>();
      add(at, tighter ? Effect::narrows : Effect::widens,
          name + (tighter ? " tightened" : " loosened") + values);
      return;
    }
    add(at, Effect::both, name + " changed" + values);
  }

  // Added or changed narrows (a new rule to meet), removed widens.
  void compare_constraint(const Json& before, const Json& after, const std::string& path,
                          const char* keyword) {
    const Json* recorded = member(before, keyword);
    const Json* replayed = member(after, keyword);
    const std::string at = path + "/" + keyword;
    const std::string name = keyword;
    if (recorded == nullptr && replayed == nullptr)
      return;
    if (recorded == nullptr)
      add(at, Effect::narrows, name + " " + short_json(*replayed) + " added");
    else if (replayed == nullptr)
      add(at, Effect::widens, name + " " + short_json(*recorded) + " removed");
    else if (*recorded != *replayed)
      add(at, Effect::narrows,
          name + " changed from " + short_json(*recorded) + " to " + short_json(*replayed));
  }

  // --- $defs / definitions: what $ref points at. Shared entries are compared as schemas in
  // the same role (a narrower definition narrows every place that refers to it); a removed
  // entry is opaque; an added one changes nothing until a $ref uses it (and that $ref change
  // is reported).
  void compare_definitions(const Json& before, const Json& after, const std::string& path,
                           int depth, const char* keyword) {
    const Json* recorded = member(before, keyword);
    const Json* replayed = member(after, keyword);
    if (recorded == nullptr || !recorded->is_object())
      return;
    const std::string at = path + "/" + keyword;
    static const Json kNone = Json::object();
    const Json& other = replayed != nullptr && replayed->is_object() ? *replayed : kNone;
    for (const auto& [name, schema] : recorded->items()) {
      const Json* counterpart = member(other, name);
      if (counterpart == nullptr)
        add(at + pointer_token(name), Effect::both, "definition " + json_quoted(name) + " removed");
      else
        compare(schema, *counterpart, at + pointer_token(name), depth + 1);
    }
  }

  // --- everything else: $ref and other validation keywords by equality (breaking either
  // way: their direction is unknown); vendor keywords reported, never breaking.
  void compare_remaining(const Json& before, const Json& after, const std::string& path) {
    static constexpr std::array<std::string_view, 33> kHandled{"type",
                                                               "properties",
                                                               "required",
                                                               "additionalProperties",
                                                               "enum",
                                                               "const",
                                                               "items",
                                                               "anyOf",
                                                               "oneOf",
                                                               "allOf",
                                                               "minimum",
                                                               "exclusiveMinimum",
                                                               "maximum",
                                                               "exclusiveMaximum",
                                                               "minLength",
                                                               "maxLength",
                                                               "minItems",
                                                               "maxItems",
                                                               "minProperties",
                                                               "maxProperties",
                                                               "pattern",
                                                               "multipleOf",
                                                               "format",
                                                               "uniqueItems",
                                                               "$defs",
                                                               "definitions",
                                                               "description",
                                                               "title",
                                                               "examples",
                                                               "default",
                                                               "$comment",
                                                               "$schema",
                                                               "$id"};
    const auto handled = [](const std::string& keyword) {
      for (const auto name : kHandled) {
        if (name == keyword)
          return true;
      }
      return is_annotation_keyword(keyword);
    };
    const auto report = [&](const std::string& keyword, const Json* recorded,
                            const Json* replayed) {
      const Effect effect = is_opaque_validation_keyword(keyword) ? Effect::both : Effect::neutral;
      const std::string at = path + pointer_token(keyword);
      if (recorded == nullptr)
        add(at, effect, keyword + " " + short_json(*replayed) + " added");
      else if (replayed == nullptr)
        add(at, effect, keyword + " " + short_json(*recorded) + " removed");
      else
        add(at, effect,
            keyword + " changed from " + short_json(*recorded) + " to " + short_json(*replayed));
    };
    for (const auto& [keyword, value] : before.items()) {
      if (handled(keyword))
        continue;
      const Json* counterpart = member(after, keyword);
      if (counterpart == nullptr || *counterpart != value)
        report(keyword, &value, counterpart);
    }
    for (const auto& [keyword, value] : after.items()) {
      if (!handled(keyword) && member(before, keyword) == nullptr)
        report(keyword, nullptr, &value);
    }
  }

  Role role_;
  std::vector<SchemaChange> changes_;
};

// ---------------------------------------------------------------------------------------------
// List classification.

struct KindTraits {
  const char* key;   // the member items are matched by
  const char* noun;  // "tool", "resource template"
  DifferenceKind added;
  DifferenceKind removed;
  std::optional<DifferenceKind> renamed;
};

KindTraits traits_of(ListKind kind) {
  switch (kind) {
    case ListKind::tools:
      return {"name", "tool", DifferenceKind::tool_added, DifferenceKind::tool_removed,
              DifferenceKind::tool_renamed};
    case ListKind::prompts:
      return {"name", "prompt", DifferenceKind::prompt_added, DifferenceKind::prompt_removed,
              DifferenceKind::prompt_renamed};
    case ListKind::resources:
      return {"uri", "resource", DifferenceKind::resource_added, DifferenceKind::resource_removed,
              std::nullopt};
    case ListKind::resource_templates:
      return {"uriTemplate", "resource template", DifferenceKind::resource_added,
              DifferenceKind::resource_removed, std::nullopt};
  }
  return {"name", "tool", DifferenceKind::tool_added, DifferenceKind::tool_removed, std::nullopt};
}

// A key as diff_json writes it in a keyed segment: cut at 256 bytes (on a UTF-8 boundary)
// with "…", so a path names the same item whichever of the two made it.
std::string segment_value(const std::string& key) {
  constexpr std::size_t kMaxSegmentValueBytes = 256;
  if (key.size() <= kMaxSegmentValueBytes)
    return key;
  std::size_t end = kMaxSegmentValueBytes;
  while (end > 0 && (static_cast<unsigned char>(key[end]) & 0xC0U) == 0x80U)
    --end;
  return key.substr(0, end) + "…";
}

struct Item {
  const Json* value = nullptr;
  bool keyed = false;   // has its key member as a string
  std::string key;      // the key's string value; for keyless items, "#" + canonical text
  std::string segment;  // path segment, "/[name=echo]" or "/3" for a keyless item
  std::string name;     // Difference::item: the key, or the item's short JSON
  std::string label;    // for details: the key quoted, or the item's short JSON
};

std::vector<Item> items_of(const Json& list, const char* key) {
  std::vector<Item> items;
  if (!list.is_array())
    return items;
  items.reserve(list.size());
  std::size_t position = 0;
  for (const auto& value : list) {
    Item item;
    item.value = &value;
    const Json* key_value = member(value, key);
    if (key_value != nullptr && key_value->is_string()) {
      item.keyed = true;
      item.key = key_value->get<std::string>();
      item.segment = pointer_token("[" + std::string(key) + "=" + segment_value(item.key) + "]");
      item.name = item.key;
      item.label = json_quoted(item.key);
    } else {
      item.key = "#" + canonical(value);
      item.segment = "/" + std::to_string(position);
      item.name = short_json(value);
      item.label = item.name;
    }
    items.push_back(std::move(item));
    ++position;
  }
  return items;
}

class ListClassifier {
 public:
  ListClassifier(ListKind kind, std::string_view method, const DiffOptions& diff)
      : kind_(kind),
        traits_(traits_of(kind)),
        method_(method),
        diff_(diff),
        base_("/result/" + std::string(list_field(kind))) {}

  std::vector<Difference> run(const Json& recorded_list, const Json& replayed_list) {
    const auto recorded = items_of(recorded_list, traits_.key);
    const auto replayed = items_of(replayed_list, traits_.key);
    std::unordered_map<std::string, std::size_t> recorded_by_key;
    std::unordered_map<std::string, std::size_t> replayed_by_key;
    std::unordered_map<std::string, std::size_t> recorded_count;
    std::unordered_map<std::string, std::size_t> replayed_count;
    for (std::size_t i = 0; i < recorded.size(); ++i) {
      recorded_by_key.emplace(recorded[i].key, i);
      ++recorded_count[recorded[i].key];
    }
    for (std::size_t i = 0; i < replayed.size(); ++i) {
      replayed_by_key.emplace(replayed[i].key, i);
      ++replayed_count[replayed[i].key];
    }
    // Unmatched items (first occurrence of each key only).
    std::vector<std::size_t> removed;
    std::vector<std::size_t> added;
    for (std::size_t i = 0; i < recorded.size(); ++i) {
      if (recorded_by_key[recorded[i].key] == i && replayed_by_key.count(recorded[i].key) == 0)
        removed.push_back(i);
    }
    for (std::size_t i = 0; i < replayed.size(); ++i) {
      if (replayed_by_key[replayed[i].key] == i && recorded_by_key.count(replayed[i].key) == 0)
        added.push_back(i);
    }
    const auto renames = pair_renames(recorded, replayed, removed, added);

    for (std::size_t i = 0; i < recorded.size(); ++i) {
      const Item& item = recorded[i];
      if (recorded_by_key[item.key] != i)
        continue;
      const auto match = replayed_by_key.find(item.key);
      if (match != replayed_by_key.end()) {
        compare_items(item, replayed[match->second]);
        const std::size_t before = recorded_count[item.key];
        const std::size_t after = replayed_count[item.key];
        if (before != after)
          emit(DifferenceKind::result_changed, false, item, base_ + item.segment,
               traits_.noun + std::string(" ") + item.label + " listed " + std::to_string(after) +
                   (after == 1 ? " time" : " times") + " (recorded " + std::to_string(before) + ")",
               std::nullopt, std::nullopt);
        continue;
      }
      const auto rename = renames.find(i);
      if (rename != renames.end()) {
        const Item& new_item = replayed[rename->second];
        emit(*traits_.renamed, true, item, base_ + item.segment + "/" + traits_.key,
             traits_.noun + std::string(" ") + item.label + " renamed to " + new_item.label +
                 (kind_ == ListKind::tools ? " (same input schema)" : " (same arguments)"),
             Json(item.name), Json(new_item.name));
        compare_items(item, new_item);
        continue;
      }
      emit(traits_.removed, true, item, base_ + item.segment,
           traits_.noun + std::string(" ") + item.label + " removed", *item.value, std::nullopt);
    }
    std::unordered_set<std::size_t> renamed_to;
    for (const auto& [from, to] : renames)
      renamed_to.insert(to);
    for (const std::size_t i : added) {
      if (renamed_to.count(i) != 0)
        continue;
      const Item& item = replayed[i];
      emit(traits_.added, false, item, base_ + item.segment,
           traits_.noun + std::string(" ") + item.label + " added", std::nullopt, *item.value);
    }
    return std::move(differences_);
  }

 private:
  // What a rename keeps: the tool's input schema, the prompt's arguments.
  std::string rename_signature(const Item& item) const {
    const Json* kept = member(*item.value, kind_ == ListKind::tools ? "inputSchema" : "arguments");
    return kept == nullptr ? std::string("null") : canonical(*kept);
  }

  // Removed × added pairs with equal signatures, hashed; only unambiguous pairs (exactly one
  // removed and one added item share the signature) are renames.
  std::unordered_map<std::size_t, std::size_t> pair_renames(const std::vector<Item>& recorded,
                                                            const std::vector<Item>& replayed,
                                                            const std::vector<std::size_t>& removed,
                                                            const std::vector<std::size_t>& added) {
    std::unordered_map<std::size_t, std::size_t> pairs;
    if (!traits_.renamed || removed.empty() || added.empty())
      return pairs;
    struct Bucket {
      std::size_t removed_count = 0;
      std::size_t added_count = 0;
      std::size_t removed_index = 0;
      std::size_t added_index = 0;
    };
    std::unordered_map<std::string, Bucket> buckets;
    for (const std::size_t i : removed) {
      if (!recorded[i].keyed)
        continue;
      auto& bucket = buckets[rename_signature(recorded[i])];
      ++bucket.removed_count;
      bucket.removed_index = i;
    }
    for (const std::size_t i : added) {
      if (!replayed[i].keyed)
        continue;
      const auto found = buckets.find(rename_signature(replayed[i]));
      if (found == buckets.end())
        continue;
      ++found->second.added_count;
      found->second.added_index = i;
    }
    for (const auto& [signature, bucket] : buckets) {
      if (bucket.removed_count == 1 && bucket.added_count == 1)
        pairs.emplace(bucket.removed_index, bucket.added_index);
    }
    return pairs;
  }

  void emit(DifferenceKind kind, bool breaking, const Item& item, std::string path,
            std::string detail, std::optional<Json> recorded, std::optional<Json> replayed) {
    if (diff_.ignore != nullptr && diff_.ignore->ignores(path, recorded ? &*recorded : nullptr,
                                                         replayed ? &*replayed : nullptr))
      return;
    Difference difference;
    difference.kind = kind;
    difference.method = method_;
    difference.item = item.name;
    if (kind_ == ListKind::tools)
      difference.tool = item.name;
    difference.breaking = breaking;
    difference.path = std::move(path);
    difference.detail = std::move(detail);
    difference.recorded = std::move(recorded);
    difference.replayed = std::move(replayed);
    differences_.push_back(std::move(difference));
  }

  static std::optional<Json> optional_member(const Json& object, const char* name) {
    const Json* value = member(object, name);
    return value == nullptr ? std::nullopt : std::optional<Json>(*value);
  }

  void compare_items(const Item& recorded, const Item& replayed) {
    const Json& before = *recorded.value;
    const Json& after = *replayed.value;
    const std::string at = base_ + recorded.segment;
    switch (kind_) {
      case ListKind::tools:
        compare_schema(recorded, member(before, "inputSchema"), member(after, "inputSchema"),
                       at + "/inputSchema", Role::input);
        compare_schema(recorded, member(before, "outputSchema"), member(after, "outputSchema"),
                       at + "/outputSchema", Role::output);
        compare_annotations(recorded, before, after, at);
        compare_description(recorded, before, after, at);
        compare_schema_descriptions(recorded, member(before, "inputSchema"),
                                    member(after, "inputSchema"), at + "/inputSchema", 0);
        compare_schema_descriptions(recorded, member(before, "outputSchema"),
                                    member(after, "outputSchema"), at + "/outputSchema", 0);
        compare_rest(recorded, before, after,
                     {"title", "description", "inputSchema", "outputSchema", "annotations"});
        break;
      case ListKind::prompts:
        compare_title(recorded, before, after, at);
        compare_description(recorded, before, after, at);
        compare_arguments(recorded, before, after, at);
        compare_rest(recorded, before, after, {"title", "description", "arguments"});
        break;
      case ListKind::resources:
      case ListKind::resource_templates:
        compare_title(recorded, before, after, at);
        compare_description(recorded, before, after, at);
        compare_rest(recorded, before, after, {"title", "description"});
        break;
    }
  }

  void compare_schema(const Item& item, const Json* recorded, const Json* replayed,
                      const std::string& at, Role role) {
    static const Json kAbsent;
    std::vector<SchemaChange> changes =
        role == Role::input
            ? compare_input_schema(recorded ? *recorded : kAbsent, replayed ? *replayed : kAbsent)
            : compare_output_schema(recorded ? *recorded : kAbsent, replayed ? *replayed : kAbsent);
    for (auto& change : changes) {
      std::optional<Json> recorded_value;
      std::optional<Json> replayed_value;
      if (recorded != nullptr) {
        if (const Json* value = resolve(*recorded, change.path); value != nullptr)
          recorded_value = *value;
      }
      if (replayed != nullptr) {
        if (const Json* value = resolve(*replayed, change.path); value != nullptr)
          replayed_value = *value;
      }
      emit(DifferenceKind::schema_changed, change.breaking, item, at + change.path,
           std::move(change.detail), std::move(recorded_value), std::move(replayed_value));
    }
  }

  // "destructiveHint false -> true", "title (unset) -> \"Echo\"".
  static std::string transition(std::string_view name, const Json* recorded, const Json* replayed) {
    return std::string(name) + " " + (recorded ? short_json(*recorded) : "(unset)") + " -> " +
           (replayed ? short_json(*replayed) : "(unset)");
  }

  // A display name for people, on tools, prompts, resources and templates alike.
  void compare_title(const Item& item, const Json& before, const Json& after,
                     const std::string& at) {
    const Json* recorded_title = member(before, "title");
    const Json* replayed_title = member(after, "title");
    if ((recorded_title == nullptr) != (replayed_title == nullptr) ||
        (recorded_title != nullptr && *recorded_title != *replayed_title))
      emit(DifferenceKind::annotation_changed, false, item, at + "/title",
           transition("title", recorded_title, replayed_title), optional_member(before, "title"),
           optional_member(after, "title"));
  }

  void compare_annotations(const Item& item, const Json& before, const Json& after,
                           const std::string& at) {
    compare_title(item, before, after, at);
    const Json* recorded = member(before, "annotations");
    const Json* replayed = member(after, "annotations");
    if (recorded == nullptr && replayed == nullptr)
      return;
    if (recorded != nullptr && replayed != nullptr && *recorded == *replayed)
      return;
    const bool both_objects = (recorded == nullptr || recorded->is_object()) &&
                              (replayed == nullptr || replayed->is_object());
    if (!both_objects) {
      emit(DifferenceKind::annotation_changed, false, item, at + "/annotations",
           transition("annotations", recorded, replayed), optional_member(before, "annotations"),
           optional_member(after, "annotations"));
      return;
    }
    static const Json kNone = Json::object();
    const Json& old_hints = recorded ? *recorded : kNone;
    const Json& new_hints = replayed ? *replayed : kNone;
    for (const auto& [name, value] : old_hints.items()) {
      const Json* counterpart = member(new_hints, name);
      if (counterpart == nullptr || *counterpart != value)
        emit(DifferenceKind::annotation_changed, false, item,
             at + "/annotations" + pointer_token(name), transition(name, &value, counterpart),
             value, counterpart ? std::optional<Json>(*counterpart) : std::nullopt);
    }
    for (const auto& [name, value] : new_hints.items()) {
      if (member(old_hints, name) == nullptr)
        emit(DifferenceKind::annotation_changed, false, item,
             at + "/annotations" + pointer_token(name), transition(name, nullptr, &value),
             std::nullopt, value);
    }
  }

  void compare_description(const Item& item, const Json& before, const Json& after,
                           const std::string& at) {
    const Json* recorded = member(before, "description");
    const Json* replayed = member(after, "description");
    if (recorded == nullptr && replayed == nullptr)
      return;
    if (recorded != nullptr && replayed != nullptr && *recorded == *replayed)
      return;
    std::string detail;
    if (recorded == nullptr)
      detail = "description added: " + short_json(*replayed);
    else if (replayed == nullptr)
      detail = "description removed (was " + short_json(*recorded) + ")";
    else
      detail = "description changed: " + short_json(*recorded) + " -> " + short_json(*replayed);
    emit(DifferenceKind::description_changed, false, item, at + "/description", std::move(detail),
         recorded ? std::optional<Json>(*recorded) : std::nullopt,
         replayed ? std::optional<Json>(*replayed) : std::nullopt);
  }

  // Descriptions inside a schema are not schema changes, but they reach the model as much as
  // the tool's own description does: reported as description_changed, never breaking.
  void compare_schema_descriptions(const Item& item, const Json* recorded, const Json* replayed,
                                   const std::string& at, int depth) {
    if (recorded == nullptr || replayed == nullptr || !recorded->is_object() ||
        !replayed->is_object() || depth >= kMaxSchemaDepth || *recorded == *replayed)
      return;
    compare_description(item, *recorded, *replayed, at);
    for (const char* keyword : {"properties", "$defs", "definitions"}) {
      const Json* old_map = member(*recorded, keyword);
      const Json* new_map = member(*replayed, keyword);
      if (old_map == nullptr || new_map == nullptr || !old_map->is_object())
        continue;
      for (const auto& [name, schema] : old_map->items())
        compare_schema_descriptions(item, &schema, member(*new_map, name),
                                    at + "/" + keyword + pointer_token(name), depth + 1);
    }
    for (const char* keyword : {"items", "additionalProperties"})
      compare_schema_descriptions(item, member(*recorded, keyword), member(*replayed, keyword),
                                  at + "/" + keyword, depth + 1);
  }

  void compare_arguments(const Item& item, const Json& before, const Json& after,
                         const std::string& at) {
    static const Json kNone = Json::array();
    const Json* recorded_arguments = member(before, "arguments");
    const Json* replayed_arguments = member(after, "arguments");
    const auto recorded = items_of(recorded_arguments ? *recorded_arguments : kNone, "name");
    const auto replayed = items_of(replayed_arguments ? *replayed_arguments : kNone, "name");
    const auto required = [](const Item& argument) {
      const Json* value = member(*argument.value, "required");
      return value != nullptr && value->is_boolean() && value->get<bool>();
    };
    std::unordered_map<std::string, std::size_t> replayed_by_key;
    std::unordered_set<std::string> recorded_keys;
    for (std::size_t i = 0; i < replayed.size(); ++i)
      replayed_by_key.emplace(replayed[i].key, i);
    for (const auto& argument : recorded) {
      if (!recorded_keys.insert(argument.key).second)
        continue;
      const std::string path = at + "/arguments" + argument.segment;
      const auto match = replayed_by_key.find(argument.key);
      if (match == replayed_by_key.end()) {
        emit(DifferenceKind::schema_changed, true, item, path,
             "argument " + argument.label + " removed", *argument.value, std::nullopt);
        continue;
      }
      const Item& counterpart = replayed[match->second];
      if (required(argument) != required(counterpart))
        emit(DifferenceKind::schema_changed, required(counterpart), item, path + "/required",
             "argument " + argument.label +
                 (required(counterpart) ? " now required" : " no longer required"),
             optional_member(*argument.value, "required"),
             optional_member(*counterpart.value, "required"));
      compare_description(item, *argument.value, *counterpart.value, path);
    }
    std::unordered_set<std::string> seen;
    for (const auto& argument : replayed) {
      if (recorded_keys.count(argument.key) != 0 || !seen.insert(argument.key).second)
        continue;
      const bool is_required = required(argument);
      emit(DifferenceKind::schema_changed, is_required, item, at + "/arguments" + argument.segment,
           std::string(is_required ? "new required argument " : "new optional argument ") +
               argument.label,
           std::nullopt, *argument.value);
    }
  }

  // Members not classified above, through diff_json on one-item lists shaped like the result,
  // so its paths, keyed segments and ignore rules are exactly those of the merged list.
  void compare_rest(const Item& item, const Json& before, const Json& after,
                    std::initializer_list<const char*> classified) {
    if (!before.is_object() || !after.is_object())
      return;
    Json recorded = before;
    Json replayed = after;
    for (const char* name : classified) {
      recorded.erase(name);
      replayed.erase(name);
    }
    // A renamed item is compared under its recorded key (the rename is reported on its own).
    if (item.keyed)
      replayed[traits_.key] = item.key;
    if (recorded == replayed)
      return;
    const std::string field(list_field(kind_));
    Json recorded_result = Json::object();
    Json replayed_result = Json::object();
    recorded_result["result"][field] = Json::array({std::move(recorded)});
    replayed_result["result"][field] = Json::array({std::move(replayed)});
    const DiffResult result = diff_json(recorded_result, replayed_result, diff_);
    for (const auto& change : result.changes) {
      const std::size_t slash = change.path.rfind('/');
      const std::string last =
          slash == std::string::npos ? change.path : change.path.substr(slash + 1);
      std::string detail;
      switch (change.op) {
        case JsonChange::Op::changed:
          detail = last + " changed: " + (change.recorded ? short_json(*change.recorded) : "") +
                   " -> " + (change.replayed ? short_json(*change.replayed) : "");
          break;
        case JsonChange::Op::added:
          detail = last + " added: " + (change.replayed ? short_json(*change.replayed) : "");
          break;
        case JsonChange::Op::removed:
          detail =
              last + " removed (was " + (change.recorded ? short_json(*change.recorded) : "") + ")";
          break;
      }
      // diff_json already applied the ignore rules.
      Difference difference;
      difference.kind = DifferenceKind::result_changed;
      difference.method = method_;
      difference.item = item.name;
      if (kind_ == ListKind::tools)
        difference.tool = item.name;
      difference.path = change.path;
      difference.detail = std::move(detail);
      difference.recorded = change.recorded;
      difference.replayed = change.replayed;
      differences_.push_back(std::move(difference));
    }
    if (result.omitted > 0) {
      Difference difference;
      difference.kind = DifferenceKind::result_changed;
      difference.method = method_;
      difference.item = item.name;
      if (kind_ == ListKind::tools)
        difference.tool = item.name;
      difference.path = base_ + item.segment;
      difference.detail = std::to_string(result.omitted) + " more changes in " + traits_.noun +
                          " " + item.label + " not listed";
      differences_.push_back(std::move(difference));
    }
  }

  ListKind kind_;
  KindTraits traits_;
  std::string method_;
  const DiffOptions& diff_;
  std::string base_;
  std::vector<Difference> differences_;
};

}  // namespace

std::optional<ListKind> list_kind_of(std::string_view method) {
  if (method == "tools/list")
    return ListKind::tools;
  if (method == "prompts/list")
    return ListKind::prompts;
  if (method == "resources/list")
    return ListKind::resources;
  if (method == "resources/templates/list")
    return ListKind::resource_templates;
  return std::nullopt;
}

std::string_view list_field(ListKind kind) {
  switch (kind) {
    case ListKind::tools:
      return "tools";
    case ListKind::prompts:
      return "prompts";
    case ListKind::resources:
      return "resources";
    case ListKind::resource_templates:
      return "resourceTemplates";
  }
  return "tools";
}

std::vector<Difference> classify_list(ListKind kind, std::string_view method,
                                      const nlohmann::json& recorded_items,
                                      const nlohmann::json& replayed_items,
                                      const DiffOptions& diff) {
  ListClassifier classifier(kind, method, diff);
  return classifier.run(recorded_items, replayed_items);
}

std::vector<SchemaChange> compare_input_schema(const nlohmann::json& recorded,
                                               const nlohmann::json& replayed) {
  SchemaComparer comparer(Role::input);
  // An absent input schema accepts anything.
  comparer.compare(recorded, replayed, "", 0);
  return comparer.take();
}

std::vector<SchemaChange> compare_output_schema(const nlohmann::json& recorded,
                                                const nlohmann::json& replayed) {
  const bool had = recorded.is_object() || recorded.is_boolean();
  const bool has = replayed.is_object() || replayed.is_boolean();
  if (had && !has)
    return {SchemaChange{"", true, "output schema removed"}};
  if (!had && has)
    return {SchemaChange{"", false, "output schema added"}};
  SchemaComparer comparer(Role::output);
  comparer.compare(recorded, replayed, "", 0);
  return comparer.take();
}

}  // namespace mcpgw::replay
