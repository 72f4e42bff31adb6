// Structural JSON diff of a recorded response against its replay: ignore rules (user-given and
// a documented default list of volatile fields) and arrays whose order carries no meaning,
// compared as sets or by key.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcp/expected.hpp"

namespace mcpgw::replay {

// Paths are JSON pointers (RFC 6901, "~0" and "~1" escapes) over the response message
// ("/result/content/0/text"). Elements of arrays compared by key are one segment
// "[KEY=VALUE]" ("/result/tools/[name=echo]/description"); of arrays compared as plain sets,
// "[VALUE-AS-JSON]" ("/result/tools/[name=echo]/inputSchema/required/[\"text\"]").
//
// A path pattern has the same syntax where a segment may also be "*" (any one segment) or
// "**" (any number of segments, none included). "*" matches keyed segments too.
//
// An ignore rule is "PATTERN" (differences at or below a matching path are ignored) or
// "PATTERN=~REGEX" (ignored only when the values on both sides that exist are strings that
// RE2 finds REGEX in; anchor it with ^ and $ for a full match).
class IgnoreRules {
 public:
  // The documented defaults (docs/replay.md), in order.
  static const std::vector<std::string>& default_specs();

  // Compiles `specs` (after the defaults when `with_defaults`). Errors name the bad spec and
  // say what is wrong: "--ignore \"/a/**b\": \"**\" must be a whole segment".
  static mcp::Expected<IgnoreRules, std::string> compile(const std::vector<std::string>& specs,
                                                         bool with_defaults);

  IgnoreRules();
  IgnoreRules(IgnoreRules&&) noexcept;
  IgnoreRules& operator=(IgnoreRules&&) noexcept;
  ~IgnoreRules();

  // Whether a difference at `path` (a path as above) is ignored; `recorded`/`replayed` are the
  // values on each side, null when that side has none.
  bool ignores(std::string_view path, const nlohmann::json* recorded,
               const nlohmann::json* replayed) const;

 private:
  friend struct JsonDiffWalker;  // diff.cpp's walker matches the compiled rules incrementally
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
};

// Arrays compared without regard to order: at paths matching `pattern`, elements are matched
// by the member `key` (objects; elements without it fall back to position) or, with an empty
// key, as a multiset of values.
struct UnorderedArray {
  std::string pattern;
  std::string key;
};

// The defaults: /result/tools and /result/prompts by name, /result/resources by uri,
// /result/resourceTemplates by uriTemplate, /result/roots by uri, **/required and **/enum as
// sets.
const std::vector<UnorderedArray>& default_unordered_arrays();

// Parses "PATTERN" or "PATTERN=KEY" (--unordered). Errors as for ignore rules.
mcp::Expected<UnorderedArray, std::string> parse_unordered_array(std::string_view spec);

struct DiffOptions {
  const IgnoreRules* ignore = nullptr;  // null: nothing ignored
  std::vector<UnorderedArray> unordered = default_unordered_arrays();
  std::size_t max_changes = 100;  // more are counted in DiffResult::omitted
};

struct JsonChange {
  enum class Op : std::uint8_t { changed, added, removed };
  Op op = Op::changed;
  std::string path;  // as above; for added/removed the member or element that appeared/vanished
  std::optional<nlohmann::json> recorded;  // absent for added
  std::optional<nlohmann::json> replayed;  // absent for removed
};

struct DiffResult {
  std::vector<JsonChange> changes;  // in document order of the recorded side, then additions
  std::size_t omitted = 0;
};

// Compares two documents. Numbers compare by value (1 == 1.0); a type change is one `changed`
// at that path, never a cascade below it. Depth and size are those of parsed JSON (bounded by
// the decoder), so recursion is bounded too.
DiffResult diff_json(const nlohmann::json& recorded, const nlohmann::json& replayed,
                     const DiffOptions& options);

// Human rendering of a value for details and the text report: compact JSON, cut at `max_bytes`
// with "…".
std::string short_json(const nlohmann::json& value, std::size_t max_bytes = 80);

}  // namespace mcpgw::replay
