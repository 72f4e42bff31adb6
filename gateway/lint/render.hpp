// The three output formats of `mcpgw lint`: compiler-style text, a small JSON document, and
// SARIF 2.1.0 for code-scanning tools. The driver (lint.cpp) builds a Report; these only print.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.hpp"
#include "gateway/config/diagnostic.hpp"
#include "gateway/lint/lint.hpp"
#include "gateway/policy/spec.hpp"

namespace mcpgw::lint {

// The rule id under which a failed policy decision test is reported (text and SARIF).
inline constexpr std::string_view kTestFailedRule = "policy-test-failed";

// One evaluated policy decision test, flattened so the renderers need no pointers.
struct TestReport {
  std::string name;
  config::SourceLocation where;  // the [[case]] header
  bool passed = false;
  policy::Effect expected = policy::Effect::deny;
  std::optional<std::string> expected_rule;  // "" expects the default to decide
  policy::Effect actual = policy::Effect::deny;
  std::string actual_rule;  // empty: the default decided
  config::SourceLocation actual_rule_where;
};

struct Report {
  std::vector<config::Diagnostic> diagnostics;  // deduplicated, in the order found
  bool tests_ran = false;
  std::vector<TestReport> tests;
  std::size_t files_checked = 0;  // distinct files read (roots, includes, test cases)
};

// The compiler-style line for a failed test: located at the case, rule kTestFailedRule.
config::Diagnostic test_failure_diagnostic(const TestReport& test);

// `file:line:col: severity: message [rule]`, the quoted source line with a caret, then a summary
// line ("2 errors, 1 warning in 3 files"; nothing when there are no diagnostics) and, when tests
// ran, "N passed, M failed".
void render_text(const Report& report, const config::SourceFiles& sources, bool color,
                 std::ostream& out);

// {"diagnostics":[{"file","line","column","severity","rule","message"}]}, plus
// "tests", "passed" and "failed" when tests ran. One line.
void render_json(const Report& report, std::ostream& out);

// A SARIF 2.1.0 log with one run; failed tests are results under kTestFailedRule.
void render_sarif(const Report& report, const std::string& tool_version, std::ostream& out);

// The summary line of the text format without its newline; empty when there is nothing to count.
std::string summary_line(const Report& report);

// The quoted source line and the caret line under `column` (1-based, in code points; 0: no
// caret), each ending in '\n', without colour. Control characters are shown escaped and tabs are
// kept in the caret line so the caret lines up. Empty when the line does not exist.
std::string source_excerpt(std::string_view contents, std::uint32_t line, std::uint32_t column);

// A SARIF artifact URI for a path as given on the command line: relative paths stay relative
// (normalised, percent-encoded), absolute ones become file:// URIs.
std::string artifact_uri(const std::string& path);

// Colour decision for the text format: --color always/never win; auto means colour only on a
// terminal when NO_COLOR is unset or empty (https://no-color.org).
bool color_enabled(ColorMode mode, bool stream_is_terminal, const char* no_color_env);

// True when `out` is std::cout and standard output is a terminal.
bool stream_is_terminal(const std::ostream& out);

}  // namespace mcpgw::lint
