#include "replay/diff.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <re2/re2.h>

#include "mcp/glob.hpp"
#include "mcp/json_text.hpp"

namespace mcpgw::replay {
namespace {

using nlohmann::json;

// Patterns match by a bit set of positions (one bit per segment, plus the accept bit).
constexpr std::size_t kMaxPatternSegments = 32;
constexpr std::size_t kMaxSpecBytes = 4096;
constexpr std::size_t kMaxRules = 1024;
constexpr std::int64_t kRegexMaxMemBytes = std::int64_t{1} << 20;
// Decoded documents are at most 128 deep; deeper subtrees are compared as a whole, iteratively.
constexpr std::size_t kMaxWalkDepth = 256;
// Key and set values spelled into a path segment are cut beyond this.
constexpr std::size_t kMaxSegmentValueBytes = 256;

enum class SegmentKind : std::uint8_t { literal, glob, any_one, any_many };

struct PatternSegment {
  SegmentKind kind = SegmentKind::literal;
  std::string text;  // unescaped; a glob's '*' matches within the segment
};

// Most patterns are "**/NAME" or "**": their state never changes, so the walk tests them
// without stepping ("**/NAME" matches exactly where the segment is NAME).
enum class PatternShape : std::uint8_t { general, anywhere_name, everywhere };

struct PathPattern {
  std::vector<PatternSegment> segments;
  std::uint64_t start = 0;  // the positions reachable before any segment
  PatternShape shape = PatternShape::general;

  std::uint64_t accept() const { return std::uint64_t{1} << segments.size(); }
};

std::uint64_t bit(std::size_t position) {
  return std::uint64_t{1} << position;
}

// Adds the positions a "**" may skip to (it matches no segment too).
std::uint64_t closure(const PathPattern& pattern, std::uint64_t mask) {
  for (std::size_t i = 0; i < pattern.segments.size(); ++i) {
    if ((mask & bit(i)) != 0 && pattern.segments[i].kind == SegmentKind::any_many)
      mask |= bit(i + 1);
  }
  return mask;
}

bool segment_matches(const PatternSegment& segment, std::string_view text) {
  switch (segment.kind) {
    case SegmentKind::literal:
      return segment.text == text;
    case SegmentKind::glob:
      return mcp::glob_match(segment.text, text);
    case SegmentKind::any_one:
    case SegmentKind::any_many:
      return true;
  }
  return false;
}

std::uint64_t step(const PathPattern& pattern, std::uint64_t mask, std::string_view segment) {
  const std::size_t count = pattern.segments.size();
  std::uint64_t next = 0;
  std::uint64_t pending = mask & (pattern.accept() - 1);
  while (pending != 0) {
    const auto position = static_cast<std::size_t>(std::countr_zero(pending));
    pending &= pending - 1;
    if (position >= count)
      break;
    const PatternSegment& current = pattern.segments[position];
    if (current.kind == SegmentKind::any_many)
      next |= bit(position);  // "**" consumes this segment and stays
    else if (segment_matches(current, segment))
      next |= bit(position + 1);
  }
  return next == 0 ? 0 : closure(pattern, next);
}

void append_escaped_segment(std::string& out, std::string_view segment) {
  for (const char c : segment) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
}

// RFC 6901 unescaping; false on a '~' not followed by 0 or 1.
bool unescape_segment(std::string_view raw, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '~') {
      out += raw[i];
      continue;
    }
    if (i + 1 >= raw.size() || (raw[i + 1] != '0' && raw[i + 1] != '1'))
      return false;
    out += raw[i + 1] == '0' ? '~' : '/';
    ++i;
  }
  return true;
}

// The position of the first `needle` outside "[...]" segments, or npos.
std::size_t find_outside_brackets(std::string_view text, std::string_view needle, bool last) {
  std::size_t depth = 0;
  std::size_t found = std::string_view::npos;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '[') {
      ++depth;
    } else if (text[i] == ']') {
      if (depth > 0)
        --depth;
    } else if (depth == 0 && text.substr(i, needle.size()) == needle) {
      found = i;
      if (!last)
        return found;
    }
  }
  return found;
}

mcp::Expected<PathPattern, std::string> parse_pattern(std::string_view text) {
  if (text.empty())
    return mcp::unexpected(std::string("empty path pattern"));
  if (text.front() == '/')
    text.remove_prefix(1);
  PathPattern pattern;
  std::string unescaped;
  while (true) {
    const std::size_t slash = text.find('/');
    const std::string_view raw = text.substr(0, slash);
    if (pattern.segments.size() == kMaxPatternSegments)
      return mcp::unexpected("more than " + std::to_string(kMaxPatternSegments) + " segments");
    PatternSegment segment;
    if (raw == "**") {
      segment.kind = SegmentKind::any_many;
    } else if (raw == "*") {
      segment.kind = SegmentKind::any_one;
    } else {
      if (raw.find("**") != std::string_view::npos)
        return mcp::unexpected(std::string("\"**\" must be a whole segment"));
      if (!raw.empty() && raw.front() == '[' && raw.back() != ']')
        return mcp::unexpected("\"[\" opens a keyed segment that \"]\" does not close: \"" +
                               std::string(raw) + "\"");
      if (!unescape_segment(raw, unescaped))
        return mcp::unexpected(std::string("\"~\" must be followed by 0 or 1 (RFC 6901)"));
      segment.kind =
          unescaped.find('*') == std::string::npos ? SegmentKind::literal : SegmentKind::glob;
      segment.text = unescaped;
    }
    pattern.segments.push_back(std::move(segment));
    if (slash == std::string_view::npos)
      break;
    text.remove_prefix(slash + 1);
  }
  pattern.start = closure(pattern, 1);
  const auto& first = pattern.segments.front();
  if (pattern.segments.size() == 1 && first.kind == SegmentKind::any_many)
    pattern.shape = PatternShape::everywhere;
  else if (pattern.segments.size() == 2 && first.kind == SegmentKind::any_many &&
           pattern.segments[1].kind == SegmentKind::literal)
    pattern.shape = PatternShape::anywhere_name;
  return pattern;
}

// Splits a difference path into its unescaped segments (malformed escapes are kept as text).
std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  if (path.empty())
    return segments;
  if (path.front() == '/')
    path.remove_prefix(1);
  std::string unescaped;
  while (true) {
    const std::size_t slash = path.find('/');
    const std::string_view raw = path.substr(0, slash);
    if (unescape_segment(raw, unescaped))
      segments.push_back(unescaped);
    else
      segments.emplace_back(raw);
    if (slash == std::string_view::npos)
      break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool regex_accepts(const RE2& regex, const json* recorded, const json* replayed) {
  if (recorded == nullptr && replayed == nullptr)
    return false;
  for (const json* value : {recorded, replayed}) {
    if (value == nullptr)
      continue;
    if (!value->is_string())
      return false;
    if (!RE2::PartialMatch(value->get_ref<const std::string&>(), regex))
      return false;
  }
  return true;
}

enum class Category : std::uint8_t { null, boolean, number, string, array, object, other };

Category category(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return Category::null;
    case json::value_t::boolean:
      return Category::boolean;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return Category::number;
    case json::value_t::string:
      return Category::string;
    case json::value_t::array:
      return Category::array;
    case json::value_t::object:
      return Category::object;
    default:
      return Category::other;
  }
}

// A double holding an integer that fits 64 bits, as that integer; else nothing.
std::optional<std::int64_t> exact_signed(double value) {
  if (!std::isfinite(value) || value != std::floor(value) || value < -9223372036854775808.0 ||
      value >= 9223372036854775808.0)
    return std::nullopt;
  return static_cast<std::int64_t>(value);
}

std::optional<std::uint64_t> exact_unsigned(double value) {
  if (!std::isfinite(value) || value != std::floor(value) || value < 0.0 ||
      value >= 18446744073709551616.0)
    return std::nullopt;
  return static_cast<std::uint64_t>(value);
}

// By value, exactly: 1 == 1.0, an unsigned and a signed integer of the same value are equal,
// and no integer is rounded through a double.
bool numbers_equal(const json& a, const json& b) {
  const auto type_a = a.type();
  const auto type_b = b.type();
  if (type_a == json::value_t::number_float && type_b == json::value_t::number_float)
    return a.get<double>() == b.get<double>();
  if (type_a == json::value_t::number_float || type_b == json::value_t::number_float) {
    const json& floating = type_a == json::value_t::number_float ? a : b;
    const json& integer = type_a == json::value_t::number_float ? b : a;
    const double value = floating.get<double>();
    if (integer.type() == json::value_t::number_unsigned) {
      const auto exact = exact_unsigned(value);
      return exact && *exact == integer.get<std::uint64_t>();
    }
    const auto exact = exact_signed(value);
    return exact && *exact == integer.get<std::int64_t>();
  }
  if (type_a == json::value_t::number_unsigned && type_b == json::value_t::number_unsigned)
    return a.get<std::uint64_t>() == b.get<std::uint64_t>();
  if (type_a == json::value_t::number_integer && type_b == json::value_t::number_integer)
    return a.get<std::int64_t>() == b.get<std::int64_t>();
  const json& unsigned_side = type_a == json::value_t::number_unsigned ? a : b;
  const json& signed_side = type_a == json::value_t::number_unsigned ? b : a;
  const auto signed_value = signed_side.get<std::int64_t>();
  return signed_value >= 0 &&
         static_cast<std::uint64_t>(signed_value) == unsigned_side.get<std::uint64_t>();
}

bool scalars_equal(const json& a, const json& b) {
  const Category kind = category(a);
  if (kind != category(b))
    return false;
  switch (kind) {
    case Category::null:
      return true;
    case Category::number:
      return numbers_equal(a, b);
    case Category::boolean:
      return a.get<bool>() == b.get<bool>();
    case Category::string:
      return a.get_ref<const std::string&>() == b.get_ref<const std::string&>();
    default:
      return a == b;
  }
}

// Ordered structural equality without recursion, for subtrees beyond kMaxWalkDepth.
bool deep_equal(const json& a, const json& b) {
  std::vector<std::pair<const json*, const json*>> pending{{&a, &b}};
  while (!pending.empty()) {
    const auto [left, right] = pending.back();
    pending.pop_back();
    const Category kind = category(*left);
    if (kind != category(*right))
      return false;
    if (kind == Category::object) {
      if (left->size() != right->size())
        return false;
      for (auto it = left->begin(); it != left->end(); ++it) {
        const auto other = right->find(it.key());
        if (other == right->end())
          return false;
        pending.emplace_back(&*it, &*other);
      }
    } else if (kind == Category::array) {
      if (left->size() != right->size())
        return false;
      for (std::size_t i = 0; i < left->size(); ++i)
        pending.emplace_back(&(*left)[i], &(*right)[i]);
    } else if (!scalars_equal(*left, *right)) {
      return false;
    }
  }
  return true;
}

// Compact JSON written with a byte budget: stops early on large values instead of dumping them
// whole. `canonical` spells numbers by value (1.0 as 1) so equal values have equal text.
class BoundedWriter {
 public:
  BoundedWriter(std::string& out, std::size_t limit, bool canonical)
      : out_(out), limit_(limit), canonical_(canonical) {}

  // False when the budget ran out (the text is then longer than the limit, to be cut).
  bool write(const json& value, std::size_t depth = 0) {
    if (out_.size() > limit_)
      return false;
    if (depth > kMaxWalkDepth) {
      out_ += "\"…\"";
      return true;
    }
    switch (value.type()) {
      case json::value_t::object: {
        out_ += '{';
        bool first = true;
        for (auto it = value.begin(); it != value.end(); ++it) {
          if (!first)
            out_ += ',';
          first = false;
          append_string(it.key());
          out_ += ':';
          if (!write(*it, depth + 1))
            return false;
        }
        out_ += '}';
        break;
      }
      case json::value_t::array: {
        out_ += '[';
        bool first = true;
        for (const json& element : value) {
          if (!first)
            out_ += ',';
          first = false;
          if (!write(element, depth + 1))
            return false;
        }
        out_ += ']';
        break;
      }
      case json::value_t::string:
        append_string(value.get_ref<const std::string&>());
        break;
      case json::value_t::number_integer:
        out_ += std::to_string(value.get<std::int64_t>());
        break;
      case json::value_t::number_unsigned:
        out_ += std::to_string(value.get<std::uint64_t>());
        break;
      case json::value_t::number_float:
        append_float(value);
        break;
      case json::value_t::boolean:
        out_ += value.get<bool>() ? "true" : "false";
        break;
      case json::value_t::null:
        out_ += "null";
        break;
      default:
        out_ += "null";  // binary and discarded values have no JSON text
        break;
    }
    return out_.size() <= limit_;
  }

 private:
  void append_string(std::string_view text) {
    // Past the budget only a few bytes more are needed to know the text is cut; escaping never
    // shrinks, so `room + 4` input bytes fill it (the 4 keep a cut UTF-8 sequence past the cut).
    const std::size_t room = limit_ >= out_.size() ? limit_ - out_.size() : 0;
    if (text.size() > room + 4)
      text = text.substr(0, room + 4);
    mcp::append_json_string(out_, text);
  }

  void append_float(const json& value) {
    const double number = value.get<double>();
    if (canonical_) {
      if (const auto exact = exact_signed(number)) {
        out_ += std::to_string(*exact);
        return;
      }
      if (const auto exact = exact_unsigned(number)) {
        out_ += std::to_string(*exact);
        return;
      }
    }
    out_ += value.dump();  // a scalar: no recursion, no strings
  }

  std::string& out_;
  std::size_t limit_;
  bool canonical_;
};

// Cuts `text` to at most `max_bytes` without splitting a UTF-8 sequence.
void cut_utf8(std::string& text, std::size_t max_bytes) {
  if (text.size() <= max_bytes)
    return;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0U) == 0x80U)
    --end;
  text.resize(end);
}

std::string canonical_text(const json& value, std::size_t limit) {
  std::string out;
  BoundedWriter writer(out, limit, true);
  if (!writer.write(value)) {
    cut_utf8(out, limit);
    out += "…";
  }
  return out;
}

std::string canonical_text(const json& value) {
  return canonical_text(value, static_cast<std::size_t>(-1) / 2);
}

struct CompiledUnordered {
  PathPattern pattern;
  std::string key;
};

std::vector<CompiledUnordered> compile_unordered(const std::vector<UnorderedArray>& arrays) {
  std::vector<CompiledUnordered> compiled;
  compiled.reserve(arrays.size());
  for (const auto& array : arrays) {
    auto pattern = parse_pattern(array.pattern);
    if (pattern)  // DiffOptions are built from parse_unordered_array; a bad one matches nothing
      compiled.push_back({std::move(*pattern), array.key});
  }
  return compiled;
}

bool same_arrays(const std::vector<UnorderedArray>& a, const std::vector<UnorderedArray>& b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].pattern != b[i].pattern || a[i].key != b[i].key)
      return false;
  }
  return true;
}

const std::vector<CompiledUnordered>& compiled_default_unordered() {
  static const std::vector<CompiledUnordered> compiled =
      compile_unordered(default_unordered_arrays());
  return compiled;
}

}  // namespace

struct IgnoreRules::Compiled {
  struct Rule {
    std::string spec;
    PathPattern pattern;
    std::unique_ptr<RE2> regex;  // null: the path alone decides
  };
  std::vector<Rule> rules;
  // The NAMEs of path rules "**/NAME": a segment found here is ignored wherever it is. Views
  // into `rules`, which no longer changes once compiled (moves keep this object in place).
  std::unordered_set<std::string_view> ignored_names;
};

const std::vector<std::string>& IgnoreRules::default_specs() {
  static const std::vector<std::string> specs = {
      // Protocol metadata: progress tokens, trace context, server-specific annotations.
      "**/_meta",
      // The JSON-RPC id of the response: the replay sends its own ids.
      "/id",
      // Opaque pagination cursors: list chains are compared item by item over all pages.
      "/result/nextCursor",
      // Session ids are minted per session.
      "**/sessionId",
      "**/session_id",
      // Progress tokens are the client's, per request.
      "**/progressToken",
      // Task ids (2025-11-25 tasks) are minted per call.
      "**/taskId",
      // Opaque server state a client echoes back (2026-07-28 input_required results).
      "**/requestState",
      // Members named for a time: the time of the run, whatever their type (epoch numbers too).
      "**/timestamp",
      "**/createdAt",
      "**/updatedAt",
      "**/lastUpdatedAt",
      "**/lastModified",
      "**/date",
      // Any string that is an RFC 3339 date-time and nothing else, under any name; a string
      // with more text around a date-time is still compared.
      R"(**=~^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?$)",
  };
  return specs;
}

namespace {

mcp::Expected<std::unique_ptr<RE2>, std::string> compile_regex(std::string_view text) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kRegexMaxMemBytes);
  auto regex = std::make_unique<RE2>(re2::StringPiece(text.data(), text.size()), options);
  if (!regex->ok()) {
    if (regex->error_code() == RE2::ErrorPatternTooLarge) {
      return mcp::unexpected("regular expression is too large (over the " +
                             std::to_string(kRegexMaxMemBytes >> 10) + " KiB budget)");
    }
    return mcp::unexpected("invalid regular expression: " + regex->error());
  }
  return regex;
}

// The start of an over-long spec, for its error message.
std::string spec_excerpt(std::string_view spec) {
  std::string excerpt(spec.substr(0, 41));
  cut_utf8(excerpt, 40);
  return excerpt + "…";
}

std::string spec_error(std::string_view option, std::string_view spec, std::string_view what) {
  std::string message(option);
  message += " \"";
  message += spec;
  message += "\": ";
  message += what;
  return message;
}

}  // namespace

IgnoreRules::IgnoreRules() : compiled_(std::make_unique<Compiled>()) {}
IgnoreRules::IgnoreRules(IgnoreRules&&) noexcept = default;
IgnoreRules& IgnoreRules::operator=(IgnoreRules&&) noexcept = default;
IgnoreRules::~IgnoreRules() = default;

mcp::Expected<IgnoreRules, std::string> IgnoreRules::compile(const std::vector<std::string>& specs,
                                                             bool with_defaults) {
  IgnoreRules rules;
  const auto add = [&](const std::string& spec) -> std::optional<std::string> {
    if (rules.compiled_->rules.size() >= kMaxRules)
      return spec_error("--ignore", spec,
                        "too many ignore rules (at most " + std::to_string(kMaxRules) + ")");
    if (spec.size() > kMaxSpecBytes)
      return spec_error("--ignore", spec_excerpt(spec),
                        "longer than " + std::to_string(kMaxSpecBytes) + " bytes");
    Compiled::Rule rule;
    rule.spec = spec;
    std::string_view pattern_text = spec;
    const std::size_t operator_at = find_outside_brackets(spec, "=~", false);
    if (operator_at != std::string::npos) {
      pattern_text = std::string_view(spec).substr(0, operator_at);
      const std::string_view regex_text = std::string_view(spec).substr(operator_at + 2);
      if (regex_text.empty())
        return spec_error("--ignore", spec, "empty regular expression after \"=~\"");
      auto regex = compile_regex(regex_text);
      if (!regex)
        return spec_error("--ignore", spec, regex.error());
      rule.regex = std::move(*regex);
    }
    auto pattern = parse_pattern(pattern_text);
    if (!pattern)
      return spec_error("--ignore", spec, pattern.error());
    rule.pattern = std::move(*pattern);
    rules.compiled_->rules.push_back(std::move(rule));
    return std::nullopt;
  };
  if (with_defaults) {
    for (const auto& spec : default_specs()) {
      if (auto error = add(spec))
        return mcp::unexpected(std::move(*error));
    }
  }
  for (const auto& spec : specs) {
    if (auto error = add(spec))
      return mcp::unexpected(std::move(*error));
  }
  for (const auto& rule : rules.compiled_->rules) {
    if (!rule.regex && rule.pattern.shape == PatternShape::anywhere_name)
      rules.compiled_->ignored_names.insert(rule.pattern.segments[1].text);
  }
  return rules;
}

bool IgnoreRules::ignores(std::string_view path, const nlohmann::json* recorded,
                          const nlohmann::json* replayed) const {
  if (!compiled_)
    return false;
  const std::vector<std::string> segments = split_path(path);
  for (const auto& rule : compiled_->rules) {
    const PathPattern& pattern = rule.pattern;
    std::uint64_t mask = pattern.start;
    // A path rule ignores everything at or below a match: check every prefix.
    bool matched = !rule.regex && (mask & pattern.accept()) != 0;
    for (std::size_t i = 0; i < segments.size() && mask != 0 && !matched; ++i) {
      mask = step(pattern, mask, segments[i]);
      if (!rule.regex && (mask & pattern.accept()) != 0)
        matched = true;
    }
    if (matched)
      return true;
    if (rule.regex && (mask & pattern.accept()) != 0 &&
        regex_accepts(*rule.regex, recorded, replayed))
      return true;
  }
  return false;
}

const std::vector<UnorderedArray>& default_unordered_arrays() {
  static const std::vector<UnorderedArray> arrays = {
      {"/result/tools", "name"},
      {"/result/prompts", "name"},
      {"/result/resources", "uri"},
      {"/result/resourceTemplates", "uriTemplate"},
      {"/result/roots", "uri"},
      {"**/required", ""},
      {"**/enum", ""},
  };
  return arrays;
}

mcp::Expected<UnorderedArray, std::string> parse_unordered_array(std::string_view spec) {
  if (spec.size() > kMaxSpecBytes) {
    return mcp::unexpected(spec_error("--unordered", spec_excerpt(spec),
                                      "longer than " + std::to_string(kMaxSpecBytes) + " bytes"));
  }
  UnorderedArray array;
  std::string_view pattern_text = spec;
  const std::size_t equals = find_outside_brackets(spec, "=", true);
  if (equals != std::string_view::npos) {
    pattern_text = spec.substr(0, equals);
    array.key = std::string(spec.substr(equals + 1));
    if (array.key.empty())
      return mcp::unexpected(spec_error("--unordered", spec, "empty key after \"=\""));
  }
  auto pattern = parse_pattern(pattern_text);
  if (!pattern)
    return mcp::unexpected(spec_error("--unordered", spec, pattern.error()));
  array.pattern = std::string(pattern_text);
  return array;
}

std::string short_json(const nlohmann::json& value, std::size_t max_bytes) {
  std::string out;
  BoundedWriter writer(out, max_bytes, false);
  if (!writer.write(value) || out.size() > max_bytes) {
    cut_utf8(out, max_bytes);
    out += "…";
  }
  return out;
}

// Walks both documents once, depth first, carrying for every pattern (ignore rules, then
// unordered arrays) the set of pattern positions the current path has reached.
struct JsonDiffWalker {
  JsonDiffWalker(const IgnoreRules* ignore, const std::vector<CompiledUnordered>& unordered,
                 std::size_t max_changes, DiffResult& result)
      : rules_(ignore != nullptr && ignore->compiled_ ? &ignore->compiled_->rules : nullptr),
        ignored_names_(rules_ != nullptr ? &ignore->compiled_->ignored_names : nullptr),
        unordered_(unordered),
        max_changes_(max_changes),
        result_(result) {
    rule_count_ = rules_ != nullptr ? rules_->size() : 0;
    pattern_count_ = rule_count_ + unordered_.size();
    for (std::size_t i = 0; i < pattern_count_; ++i) {
      const bool plain_rule = i < rule_count_ && !(*rules_)[i].regex;
      if (!plain_rule || pattern(i).shape != PatternShape::anywhere_name)
        tracked_.push_back(i);
    }
  }

  void run(const json& recorded, const json& replayed) {
    masks_.assign(pattern_count_, 0);
    for (std::size_t i = 0; i < pattern_count_; ++i) {
      const PathPattern& current = pattern(i);
      masks_[i] = current.start;
      if (i < rule_count_ && !(*rules_)[i].regex && (current.start & current.accept()) != 0)
        return;  // a rule matching the root ignores everything
    }
    walk(recorded, replayed, 0);
  }

 private:
  const PathPattern& pattern(std::size_t index) const {
    return index < rule_count_ ? (*rules_)[index].pattern : unordered_[index - rule_count_].pattern;
  }

  // Moves to the child `segment` of the path at `level`; false when a path rule ignores it.
  bool enter(std::size_t level, std::string_view segment) {
    const std::size_t base = level * pattern_count_;
    const std::size_t next = base + pattern_count_;
    if (masks_.size() < next + pattern_count_)
      masks_.resize(next + pattern_count_);
    path_ += '/';
    append_escaped_segment(path_, segment);
    if (ignored_names_ != nullptr && ignored_names_->contains(segment))
      return false;
    for (const std::size_t i : tracked_) {
      const PathPattern& current = pattern(i);
      const bool plain_rule = i < rule_count_ && !(*rules_)[i].regex;
      std::uint64_t reached = 0;
      switch (current.shape) {
        case PatternShape::everywhere:
          reached = current.start;
          break;
        case PatternShape::anywhere_name:
          reached = current.start | (segment == current.segments[1].text ? current.accept() : 0);
          break;
        case PatternShape::general: {
          const std::uint64_t mask = masks_[base + i];
          reached = mask == 0 ? 0 : step(current, mask, segment);
          break;
        }
      }
      masks_[next + i] = reached;
      if (plain_rule && (reached & current.accept()) != 0)
        return false;
    }
    return true;
  }

  bool matches_here(std::size_t level, std::size_t index) const {
    return (masks_[level * pattern_count_ + index] & pattern(index).accept()) != 0;
  }

  void report(JsonChange::Op op, std::size_t level, const json* recorded, const json* replayed,
              bool keep_values = true) {
    for (std::size_t i = 0; i < rule_count_; ++i) {
      const auto& rule = (*rules_)[i];
      if (rule.regex && matches_here(level, i) && regex_accepts(*rule.regex, recorded, replayed))
        return;
    }
    if (result_.changes.size() >= max_changes_) {
      ++result_.omitted;
      return;
    }
    JsonChange change;
    change.op = op;
    change.path = path_;
    if (recorded != nullptr && keep_values)
      change.recorded = *recorded;
    if (replayed != nullptr && keep_values)
      change.replayed = *replayed;
    result_.changes.push_back(std::move(change));
  }

  // The unordered-array entry for the array at `level`: the last matching one wins, so entries
  // given after the defaults override them.
  const CompiledUnordered* unordered_here(std::size_t level) const {
    for (std::size_t i = unordered_.size(); i > 0; --i) {
      if (matches_here(level, rule_count_ + i - 1))
        return &unordered_[i - 1];
    }
    return nullptr;
  }

  void walk(const json& recorded, const json& replayed, std::size_t level) {
    if (level >= kMaxWalkDepth) {
      // Values this deep are not copied (copying recurses): the change says where, not what.
      if (!deep_equal(recorded, replayed))
        report(JsonChange::Op::changed, level, &recorded, &replayed, false);
      return;
    }
    const Category kind = category(recorded);
    if (kind != category(replayed)) {
      report(JsonChange::Op::changed, level, &recorded, &replayed);
      return;
    }
    if (kind == Category::object) {
      walk_object(recorded, replayed, level);
    } else if (kind == Category::array) {
      const CompiledUnordered* unordered = unordered_here(level);
      if (unordered == nullptr)
        walk_ordered(recorded, replayed, level);
      else if (unordered->key.empty())
        walk_multiset(recorded, replayed, level);
      else
        walk_keyed(recorded, replayed, level, unordered->key);
    } else if (!scalars_equal(recorded, replayed)) {
      report(JsonChange::Op::changed, level, &recorded, &replayed);
    }
  }

  void walk_object(const json& recorded, const json& replayed, std::size_t level) {
    const std::size_t mark = path_.size();
    // Members are sorted by key on both sides: one merge pass pairs them.
    std::vector<json::const_iterator> additions;
    auto other = replayed.begin();
    for (auto it = recorded.begin(); it != recorded.end(); ++it) {
      while (other != replayed.end() && other.key() < it.key())
        additions.push_back(other++);
      const bool paired = other != replayed.end() && other.key() == it.key();
      if (enter(level, it.key())) {
        if (paired)
          walk(*it, *other, level + 1);
        else
          report(JsonChange::Op::removed, level + 1, &*it, nullptr);
      }
      path_.resize(mark);
      if (paired)
        ++other;
    }
    for (; other != replayed.end(); ++other)
      additions.push_back(other);
    for (const auto& added : additions) {
      if (enter(level, added.key()))
        report(JsonChange::Op::added, level + 1, nullptr, &*added);
      path_.resize(mark);
    }
  }

  void walk_ordered(const json& recorded, const json& replayed, std::size_t level) {
    const std::size_t mark = path_.size();
    const std::size_t common = std::min(recorded.size(), replayed.size());
    for (std::size_t i = 0; i < recorded.size(); ++i) {
      if (enter(level, std::to_string(i))) {
        if (i < common)
          walk(recorded[i], replayed[i], level + 1);
        else
          report(JsonChange::Op::removed, level + 1, &recorded[i], nullptr);
      }
      path_.resize(mark);
    }
    for (std::size_t i = common; i < replayed.size(); ++i) {
      if (enter(level, std::to_string(i)))
        report(JsonChange::Op::added, level + 1, nullptr, &replayed[i]);
      path_.resize(mark);
    }
  }

  static std::string set_segment(const std::string& canonical) {
    std::string segment = "[";
    if (canonical.size() > kMaxSegmentValueBytes) {
      std::string cut = canonical;
      cut_utf8(cut, kMaxSegmentValueBytes);
      segment += cut;
      segment += "…";
    } else {
      segment += canonical;
    }
    segment += ']';
    return segment;
  }

  // Plain values as a multiset: equal values (by canonical text) pair up, duplicates counted.
  void walk_multiset(const json& recorded, const json& replayed, std::size_t level) {
    struct Count {
      std::size_t total = 0;    // occurrences in the replayed array
      std::size_t left = 0;     // of those, not paired with a recorded one
      std::size_t skipped = 0;  // paired ones passed over while listing additions
    };
    std::vector<std::string> replayed_text;
    replayed_text.reserve(replayed.size());
    for (const json& element : replayed)
      replayed_text.push_back(canonical_text(element));
    std::unordered_map<std::string_view, Count> counts;
    counts.reserve(replayed_text.size());
    for (const auto& text : replayed_text) {
      Count& count = counts[text];
      ++count.total;
      ++count.left;
    }
    const std::size_t mark = path_.size();
    for (const json& element : recorded) {
      const std::string text = canonical_text(element);
      const auto found = counts.find(text);
      if (found != counts.end() && found->second.left > 0) {
        --found->second.left;
        continue;
      }
      if (enter(level, set_segment(text)))
        report(JsonChange::Op::removed, level + 1, &element, nullptr);
      path_.resize(mark);
    }
    // The earliest replayed occurrences are the paired ones; the rest are additions.
    for (std::size_t i = 0; i < replayed.size(); ++i) {
      Count& count = counts[replayed_text[i]];
      if (count.skipped < count.total - count.left) {
        ++count.skipped;
        continue;
      }
      if (enter(level, set_segment(replayed_text[i])))
        report(JsonChange::Op::added, level + 1, nullptr, &replayed[i]);
      path_.resize(mark);
    }
  }

  static std::string keyed_segment(std::string_view key, const json& value) {
    std::string segment = "[";
    segment += key;
    segment += '=';
    std::string text = value.is_string() ? value.get<std::string>() : canonical_text(value);
    if (text.size() > kMaxSegmentValueBytes) {
      cut_utf8(text, kMaxSegmentValueBytes);
      text += "…";
    }
    segment += text;
    segment += ']';
    return segment;
  }

  // Objects matched by a member; elements without it pair up by their order among such
  // elements and are addressed by index.
  void walk_keyed(const json& recorded, const json& replayed, std::size_t level,
                  const std::string& key) {
    const auto key_of = [&key](const json& element) -> const json* {
      if (!element.is_object())
        return nullptr;
      const auto found = element.find(key);
      return found == element.end() ? nullptr : &*found;
    };
    struct Matches {
      std::vector<std::size_t> indexes;  // replayed elements with this key, in order
      std::size_t next = 0;
    };
    std::unordered_map<std::string, Matches> by_key;
    by_key.reserve(replayed.size());
    std::vector<std::size_t> keyless;
    for (std::size_t i = 0; i < replayed.size(); ++i) {
      if (const json* value = key_of(replayed[i]))
        by_key[canonical_text(*value)].indexes.push_back(i);
      else
        keyless.push_back(i);
    }
    std::vector<bool> paired(replayed.size(), false);
    std::size_t keyless_next = 0;
    const std::size_t mark = path_.size();
    for (std::size_t i = 0; i < recorded.size(); ++i) {
      const json& element = recorded[i];
      std::optional<std::size_t> partner;
      const json* value = key_of(element);
      if (value != nullptr) {
        const auto found = by_key.find(canonical_text(*value));
        if (found != by_key.end() && found->second.next < found->second.indexes.size())
          partner = found->second.indexes[found->second.next++];
      } else if (keyless_next < keyless.size()) {
        partner = keyless[keyless_next++];
      }
      const std::string segment = value != nullptr ? keyed_segment(key, *value) : std::to_string(i);
      if (enter(level, segment)) {
        if (partner) {
          paired[*partner] = true;
          walk(element, replayed[*partner], level + 1);
        } else {
          report(JsonChange::Op::removed, level + 1, &element, nullptr);
        }
      } else if (partner) {
        paired[*partner] = true;
      }
      path_.resize(mark);
    }
    for (std::size_t i = 0; i < replayed.size(); ++i) {
      if (paired[i])
        continue;
      const json* value = key_of(replayed[i]);
      const std::string segment = value != nullptr ? keyed_segment(key, *value) : std::to_string(i);
      if (enter(level, segment))
        report(JsonChange::Op::added, level + 1, nullptr, &replayed[i]);
      path_.resize(mark);
    }
  }

  const std::vector<IgnoreRules::Compiled::Rule>* rules_;
  const std::unordered_set<std::string_view>* ignored_names_;
  const std::vector<CompiledUnordered>& unordered_;
  std::size_t max_changes_;
  DiffResult& result_;
  std::size_t rule_count_ = 0;
  std::size_t pattern_count_ = 0;
  std::vector<std::uint64_t> masks_;  // pattern_count_ per level, level-major
  // The patterns whose state the walk carries; "**/NAME" path rules go by ignored_names_.
  std::vector<std::size_t> tracked_;
  std::string path_;
};

DiffResult diff_json(const nlohmann::json& recorded, const nlohmann::json& replayed,
                     const DiffOptions& options) {
  DiffResult result;
  std::vector<CompiledUnordered> custom;
  const bool defaults = same_arrays(options.unordered, default_unordered_arrays());
  if (!defaults)
    custom = compile_unordered(options.unordered);
  JsonDiffWalker walker(options.ignore, defaults ? compiled_default_unordered() : custom,
                        options.max_changes, result);
  walker.run(recorded, replayed);
  return result;
}

}  // namespace mcpgw::replay
