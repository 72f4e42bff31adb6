#include "gateway/lint/render.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "gateway/lint/rules.hpp"
#include "gateway/policy/policy.hpp"

namespace mcpgw::lint {
namespace {

using config::Diagnostic;
using config::Severity;
using ordered_json = nlohmann::ordered_json;

// Lines longer than this many code points are shown as a window around the column.
constexpr std::size_t kExcerptWidth = 120;
constexpr std::size_t kExcerptBeforeCaret = 60;

// One code point of a source line as shown: what to print, and what to print under it in the
// caret line so that the caret lines up (a tab under a tab, spaces under everything else).
struct Glyph {
  std::string shown;
  std::string filler;
};

std::string hex_escape(const char* prefix, std::uint32_t value, int digits) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%s%0*x", prefix, digits, value);
  return buffer;
}

// One decoded code point of a line; bytes that are not UTF-8 decode one by one as invalid.
struct CodePoint {
  std::size_t offset = 0;
  std::size_t length = 1;
  std::uint32_t code = 0;
  bool valid = true;
};

std::vector<CodePoint> decode(std::string_view text) {
  std::vector<CodePoint> points;
  points.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 1;
    std::uint32_t code = lead;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
      code = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      code = lead & 0x0Fu;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      code = lead & 0x07u;
    } else if (lead >= 0x80) {
      length = 0;  // a continuation byte or an invalid lead byte
    }
    bool valid = length > 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0u) != 0x80u) {
        valid = false;
      } else {
        code = (code << 6) | (next & 0x3Fu);
      }
    }
    if (valid && length > 1) {
      const bool overlong = (length == 3 && code < 0x800) || (length == 4 && code < 0x10000);
      const bool surrogate = code >= 0xD800 && code <= 0xDFFF;
      valid = !overlong && !surrogate && code <= 0x10FFFF;
    }
    if (!valid) {
      points.push_back({i, 1, lead, false});
      ++i;
      continue;
    }
    points.push_back({i, length, code, true});
    i += length;
  }
  return points;
}

// Control characters, C1 controls, bidirectional overrides and bytes that are not UTF-8 are
// shown escaped: they could reorder or recolour a terminal.
Glyph glyph_of(std::string_view text, const CodePoint& point) {
  const std::uint32_t code = point.code;
  if (!point.valid)
    return {hex_escape("\\x", code, 2), std::string(4, ' ')};
  if (code == '\t')
    return {"\t", "\t"};
  if (code < 0x20 || code == 0x7F)
    return {hex_escape("\\x", code, 2), std::string(4, ' ')};
  if ((code >= 0x80 && code <= 0x9F) || (code >= 0x202A && code <= 0x202E) ||
      (code >= 0x2066 && code <= 0x2069) || code == 0x2028 || code == 0x2029) {
    return {hex_escape("\\u", code, 4), std::string(6, ' ')};
  }
  return {std::string(text.substr(point.offset, point.length)), " "};
}

// Text safe to print on a terminal: the same escaping as source lines, tabs included.
std::string printable(std::string_view text) {
  std::string shown;
  shown.reserve(text.size());
  for (const auto& point : decode(text)) {
    shown += point.valid && point.code == '\t' ? "\\t" : glyph_of(text, point).shown;
  }
  return shown;
}

// The `line`-th line (1-based) of `contents`, without its line terminator.
std::optional<std::string_view> nth_line(std::string_view contents, std::uint32_t line) {
  if (line == 0)
    return std::nullopt;
  std::size_t start = 0;
  for (std::uint32_t current = 1; current < line; ++current) {
    const auto newline = contents.find('\n', start);
    if (newline == std::string_view::npos)
      return std::nullopt;
    start = newline + 1;
  }
  if (start >= contents.size())
    return std::nullopt;  // past the last line
  auto end = contents.find('\n', start);
  if (end == std::string_view::npos)
    end = contents.size();
  auto text = contents.substr(start, end - start);
  if (!text.empty() && text.back() == '\r')
    text.remove_suffix(1);
  return text;
}

struct Palette {
  bool on = false;
  const char* reset() const { return on ? "\x1b[0m" : ""; }
  const char* bold() const { return on ? "\x1b[1m" : ""; }
  const char* caret() const { return on ? "\x1b[1;32m" : ""; }
  const char* severity(Severity severity) const {
    if (!on)
      return "";
    switch (severity) {
      case Severity::error:
        return "\x1b[1;31m";
      case Severity::warning:
        return "\x1b[1;35m";
      case Severity::note:
        return "\x1b[1;36m";
    }
    return "\x1b[1m";
  }
};

void write_diagnostic(const Diagnostic& diagnostic, const config::SourceFiles& sources,
                      const Palette& palette, std::ostream& out) {
  out << palette.bold() << printable_location(diagnostic.where) << ':' << palette.reset() << ' '
      << palette.severity(diagnostic.severity) << config::to_string(diagnostic.severity) << ':'
      << palette.reset() << ' ' << palette.bold() << printable(diagnostic.message)
      << palette.reset();
  if (!diagnostic.rule.empty())
    out << " [" << printable(diagnostic.rule) << ']';
  out << '\n';
  if (diagnostic.where.line == 0)
    return;
  const std::string* contents = sources.find(diagnostic.where.file);
  if (contents == nullptr)
    return;
  const std::string excerpt =
      source_excerpt(*contents, diagnostic.where.line, diagnostic.where.column);
  if (excerpt.empty())
    return;
  if (!palette.on) {
    out << excerpt;
    return;
  }
  // Colour only the caret: it is the last character of the excerpt before the final newline.
  const auto caret = excerpt.rfind('^');
  if (diagnostic.where.column == 0 || caret == std::string::npos) {
    out << excerpt;
    return;
  }
  out << excerpt.substr(0, caret) << palette.caret() << '^' << palette.reset()
      << excerpt.substr(caret + 1);
}

std::string plural(std::size_t count, const char* singular) {
  std::string text = std::to_string(count) + ' ' + singular;
  if (count != 1)
    text += 's';
  return text;
}

std::string decision_text(policy::Effect effect, const std::string& rule) {
  std::string text = policy::to_string(effect);
  if (rule.empty())
    return text + " by the default";
  return text + " by rule '" + rule + "'";
}

ordered_json diagnostic_json(const Diagnostic& diagnostic) {
  ordered_json entry = ordered_json::object();
  entry["file"] = diagnostic.where.file;
  entry["line"] = diagnostic.where.line;
  entry["column"] = diagnostic.where.column;
  entry["severity"] = config::to_string(diagnostic.severity);
  entry["rule"] = diagnostic.rule;
  entry["message"] = diagnostic.message;
  return entry;
}

// Strings come from user files and need not be UTF-8: replace what is not, never throw.
std::string dump(const ordered_json& document, int indent) {
  return document.dump(indent, ' ', false, ordered_json::error_handler_t::replace);
}

bool is_unreserved_uri_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '/';
}

std::string percent_encode(std::string_view path) {
  std::string encoded;
  encoded.reserve(path.size());
  for (const char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved_uri_char(c)) {
      encoded += ch;
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", static_cast<unsigned>(c));
      encoded += buffer;
    }
  }
  return encoded;
}

}  // namespace

std::string source_excerpt(std::string_view contents, std::uint32_t line, std::uint32_t column) {
  const auto text = nth_line(contents, line);
  if (!text)
    return {};
  const auto points = decode(*text);
  // The caret may sit one past the end (a missing value at the end of a line).
  const std::size_t caret = column == 0 ? 0 : std::min<std::size_t>(column - 1, points.size());
  std::size_t first = 0;
  std::size_t last = points.size();
  if (points.size() > kExcerptWidth) {
    first = caret > kExcerptBeforeCaret ? caret - kExcerptBeforeCaret : 0;
    last = std::min(points.size(), first + kExcerptWidth);
    if (last - first < kExcerptWidth)
      first = last - kExcerptWidth;
  }
  const std::string number = std::to_string(line);
  const std::size_t gutter = std::max<std::size_t>(number.size(), 5);
  std::string excerpt = std::string(gutter - number.size(), ' ') + number + " | ";
  std::string caret_line = std::string(gutter, ' ') + " | ";
  if (first > 0) {
    excerpt += "...";
    caret_line += "   ";
  }
  for (std::size_t i = first; i < last; ++i) {
    const Glyph glyph = glyph_of(*text, points[i]);
    excerpt += glyph.shown;
    if (i < caret)
      caret_line += glyph.filler;
  }
  if (last < points.size())
    excerpt += "...";
  excerpt += '\n';
  if (column == 0)
    return excerpt;
  caret_line += "^\n";
  return excerpt + caret_line;
}

config::Diagnostic test_failure_diagnostic(const TestReport& test) {
  std::string expected = policy::to_string(test.expected);
  if (test.expected_rule) {
    expected = decision_text(test.expected, *test.expected_rule);
  }
  std::string actual = decision_text(test.actual, test.actual_rule);
  if (!test.actual_rule.empty() && !test.actual_rule_where.file.empty()) {
    actual += " (" + printable_location(test.actual_rule_where) + ')';
  }
  return Diagnostic{
      test.where, Severity::error, std::string(kTestFailedRule),
      "policy test '" + test.name + "' failed: expected " + expected + ", got " + actual};
}

std::string summary_line(const Report& report) {
  if (report.diagnostics.empty())
    return {};
  std::size_t counts[3] = {0, 0, 0};
  for (const auto& diagnostic : report.diagnostics) {
    ++counts[static_cast<std::size_t>(diagnostic.severity)];
  }
  std::string text;
  const auto append = [&](std::size_t count, const char* noun) {
    if (count == 0)
      return;
    if (!text.empty())
      text += ", ";
    text += plural(count, noun);
  };
  append(counts[static_cast<std::size_t>(Severity::error)], "error");
  append(counts[static_cast<std::size_t>(Severity::warning)], "warning");
  append(counts[static_cast<std::size_t>(Severity::note)], "note");
  return text + " in " + plural(report.files_checked, "file");
}

void render_text(const Report& report, const config::SourceFiles& sources, bool color,
                 std::ostream& out) {
  const Palette palette{color};
  for (const auto& diagnostic : report.diagnostics) {
    write_diagnostic(diagnostic, sources, palette, out);
  }
  std::size_t passed = 0;
  for (const auto& test : report.tests) {
    if (test.passed) {
      ++passed;
    } else {
      write_diagnostic(test_failure_diagnostic(test), sources, palette, out);
    }
  }
  const std::string summary = summary_line(report);
  if (!summary.empty())
    out << summary << '\n';
  if (report.tests_ran) {
    out << passed << " passed, " << report.tests.size() - passed << " failed\n";
  }
}

void render_json(const Report& report, std::ostream& out) {
  ordered_json document = ordered_json::object();
  ordered_json diagnostics = ordered_json::array();
  for (const auto& diagnostic : report.diagnostics) {
    diagnostics.push_back(diagnostic_json(diagnostic));
  }
  document["diagnostics"] = std::move(diagnostics);
  if (report.tests_ran) {
    ordered_json tests = ordered_json::array();
    std::size_t passed = 0;
    for (const auto& test : report.tests) {
      ordered_json entry = ordered_json::object();
      entry["name"] = test.name;
      entry["file"] = test.where.file;
      entry["line"] = test.where.line;
      entry["passed"] = test.passed;
      entry["expected"] = policy::to_string(test.expected);
      entry["actual"] = policy::to_string(test.actual);
      entry["rule"] =
          test.actual_rule.empty() ? ordered_json(nullptr) : ordered_json(test.actual_rule);
      entry["expected_rule"] =
          test.expected_rule ? ordered_json(*test.expected_rule) : ordered_json(nullptr);
      tests.push_back(std::move(entry));
      if (test.passed)
        ++passed;
    }
    document["tests"] = std::move(tests);
    document["passed"] = passed;
    document["failed"] = report.tests.size() - passed;
  }
  out << dump(document, -1) << '\n';
}

std::string artifact_uri(const std::string& path) {
  const std::filesystem::path given(path);
  if (given.is_absolute()) {
    return "file://" + percent_encode(given.lexically_normal().generic_string());
  }
  std::string relative = given.lexically_normal().generic_string();
  if (relative.empty() || relative == ".")
    relative = path;
  return percent_encode(relative);
}

void render_sarif(const Report& report, const std::string& tool_version, std::ostream& out) {
  std::vector<Diagnostic> findings = report.diagnostics;
  for (const auto& test : report.tests) {
    if (!test.passed)
      findings.push_back(test_failure_diagnostic(test));
  }

  ordered_json rules = ordered_json::array();
  std::map<std::string, std::size_t> rule_index;
  ordered_json results = ordered_json::array();
  for (const auto& finding : findings) {
    const std::string rule_id = finding.rule.empty() ? std::string("mcpgw") : finding.rule;
    auto [position, inserted] = rule_index.try_emplace(rule_id, rule_index.size());
    if (inserted) {
      ordered_json rule = ordered_json::object();
      rule["id"] = rule_id;
      rule["shortDescription"] = ordered_json::object();
      rule["shortDescription"]["text"] = std::string(rule_description(rule_id));
      rules.push_back(std::move(rule));
    }
    ordered_json artifact = ordered_json::object();
    const bool absolute = std::filesystem::path(finding.where.file).is_absolute();
    artifact["uri"] = artifact_uri(finding.where.file);
    if (!absolute)
      artifact["uriBaseId"] = "%SRCROOT%";
    ordered_json physical = ordered_json::object();
    physical["artifactLocation"] = std::move(artifact);
    if (finding.where.line > 0) {
      ordered_json region = ordered_json::object();
      region["startLine"] = finding.where.line;
      if (finding.where.column > 0)
        region["startColumn"] = finding.where.column;
      physical["region"] = std::move(region);
    }
    ordered_json result = ordered_json::object();
    result["ruleId"] = rule_id;
    result["ruleIndex"] = position->second;
    result["level"] = config::to_string(finding.severity);  // SARIF levels share the names
    result["message"] = ordered_json::object();
    result["message"]["text"] = finding.message;
    ordered_json location = ordered_json::object();
    location["physicalLocation"] = std::move(physical);
    result["locations"] = ordered_json::array();
    result["locations"].push_back(std::move(location));
    results.push_back(std::move(result));
  }

  ordered_json driver = ordered_json::object();
  driver["name"] = "mcpgw";
  if (!tool_version.empty())
    driver["version"] = tool_version;
  driver["rules"] = std::move(rules);
  ordered_json run = ordered_json::object();
  run["tool"] = ordered_json::object();
  run["tool"]["driver"] = std::move(driver);
  run["columnKind"] = "unicodeCodePoints";
  run["results"] = std::move(results);
  ordered_json log = ordered_json::object();
  log["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json";
  log["version"] = "2.1.0";
  log["runs"] = ordered_json::array();
  log["runs"].push_back(std::move(run));
  out << dump(log, 2) << '\n';
}

bool color_enabled(ColorMode mode, bool terminal, const char* no_color_env) {
  switch (mode) {
    case ColorMode::always:
      return true;
    case ColorMode::never:
      return false;
    case ColorMode::automatic:
      break;
  }
  const bool no_color = no_color_env != nullptr && no_color_env[0] != '\0';
  return terminal && !no_color;
}

bool stream_is_terminal(const std::ostream& out) {
  return &out == &std::cout && ::isatty(STDOUT_FILENO) == 1;
}

}  // namespace mcpgw::lint
