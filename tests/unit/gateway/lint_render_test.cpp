// The lint renderers, fed with hand-built diagnostics (no loader involved).
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gateway/lint/render.hpp"
#include "gateway/lint/rules.hpp"

namespace mcpgw::lint {
namespace {

using config::Diagnostic;
using config::Severity;
using config::SourceLocation;

Diagnostic make(std::string file, std::uint32_t line, std::uint32_t column, Severity severity,
                std::string rule, std::string message) {
  return Diagnostic{SourceLocation{std::move(file), line, column}, severity, std::move(rule),
                    std::move(message)};
}

config::SourceFiles sources_with(std::string file, std::string contents) {
  config::SourceFiles sources;
  sources.contents.emplace(std::move(file), std::move(contents));
  return sources;
}

std::string text_of(const Report& report, const config::SourceFiles& sources, bool color = false) {
  std::ostringstream out;
  render_text(report, sources, color, out);
  return out.str();
}

TestReport failed_test() {
  TestReport test;
  test.name = "interns cannot delete";
  test.where = {"cases.toml", 4, 1};
  test.passed = false;
  test.expected = policy::Effect::deny;
  test.actual = policy::Effect::allow;
  test.actual_rule = "staff-tools";
  test.actual_rule_where = {"policy.toml", 12, 1};
  return test;
}

TEST(LintExcerpt, QuotesTheLineAndPutsTheCaretUnderTheColumn) {
  EXPECT_EQ(source_excerpt("a = 1\nlisten = 8080\n", 2, 10),
            "    2 | listen = 8080\n"
            "      |          ^\n");
}

TEST(LintExcerpt, KeepsTabsInTheCaretLine) {
  EXPECT_EQ(source_excerpt("\tkey =\tvalue\n", 1, 8),
            "    1 | \tkey =\tvalue\n"
            "      | \t     \t^\n");
}

TEST(LintExcerpt, CountsColumnsInCodePoints) {
  // "é" is two bytes but one column; the caret goes under the "=".
  EXPECT_EQ(source_excerpt("café = 1\n", 1, 6),
            "    1 | café = 1\n"
            "      |      ^\n");
}

TEST(LintExcerpt, AllowsTheColumnJustPastTheEndAndClampsBeyond) {
  EXPECT_EQ(source_excerpt("key =\n", 1, 6),
            "    1 | key =\n"
            "      |      ^\n");
  EXPECT_EQ(source_excerpt("key =\n", 1, 500), source_excerpt("key =\n", 1, 6));
}

TEST(LintExcerpt, NoCaretForColumnZeroAndNothingForMissingLines) {
  EXPECT_EQ(source_excerpt("a\nb\n", 2, 0), "    2 | b\n");
  EXPECT_EQ(source_excerpt("a\nb\n", 0, 1), "");
  EXPECT_EQ(source_excerpt("a\nb\n", 3, 1), "");
  EXPECT_EQ(source_excerpt("a\nb", 2, 1), "    2 | b\n      | ^\n");
  EXPECT_EQ(source_excerpt("", 1, 1), "");
}

TEST(LintExcerpt, StripsCarriageReturns) {
  EXPECT_EQ(source_excerpt("a = 1\r\nb = 2\r\n", 2, 5),
            "    2 | b = 2\n"
            "      |     ^\n");
}

TEST(LintExcerpt, EscapesControlCharactersAndKeepsTheCaretAligned) {
  EXPECT_EQ(source_excerpt("a\x1b[31m = 1\n", 1, 8),
            "    1 | a\\x1b[31m = 1\n"
            "      |           ^\n");
  // A right-to-left override is shown escaped rather than reordering the line.
  EXPECT_EQ(source_excerpt("x\u202Ey\n", 1, 3),
            "    1 | x\\u202ey\n"
            "      |        ^\n");
  // Bytes that are not UTF-8 count as one column each.
  EXPECT_EQ(source_excerpt("\xff\xfe=\n", 1, 3),
            "    1 | \\xff\\xfe=\n"
            "      |         ^\n");
}

TEST(LintExcerpt, ShowsAWindowOfLongLines) {
  const std::string line = std::string(300, 'a') + "X" + std::string(300, 'b');
  const std::string excerpt = source_excerpt(line + "\n", 1, 301);
  const auto newline = excerpt.find('\n');
  ASSERT_NE(newline, std::string::npos);
  const std::string shown = excerpt.substr(0, newline);
  const std::string carets = excerpt.substr(newline + 1);
  EXPECT_EQ(shown.substr(0, 11), "    1 | ...");
  EXPECT_EQ(shown.substr(shown.size() - 3), "...");
  EXPECT_LT(shown.size(), 140u);
  const auto x = shown.find('X');
  ASSERT_NE(x, std::string::npos);
  EXPECT_EQ(carets.find('^'), x);
  EXPECT_EQ(carets.back(), '\n');

  // Near the start no leading ellipsis; the caret stays under its column.
  const std::string early = source_excerpt(line + "\n", 1, 3);
  EXPECT_EQ(early.substr(0, 11), "    1 | aaa");
  EXPECT_EQ(early.find('^', early.find('\n')) - early.find('\n') - 1, 8u + 2u);
}

TEST(LintExcerpt, WidensTheGutterForLargeLineNumbers) {
  std::string contents;
  for (int i = 0; i < 123456; ++i)
    contents += "x\n";
  EXPECT_EQ(source_excerpt(contents, 123456, 1),
            "123456 | x\n"
            "       | ^\n");
}

TEST(LintText, PrintsCompilerStyleLinesExcerptsAndASummary) {
  Report report;
  report.diagnostics = {
      make("gw.toml", 2, 1, Severity::error, "unknown-key", "unknown key 'listn' in [server]"),
      make("gw.toml", 3, 7, Severity::warning, "shadowed-rule", "rule 'b' never decides"),
      make("gw.toml", 1, 1, Severity::note, "shadowed-rule", "rule 'a' decides first"),
  };
  report.files_checked = 1;
  const auto sources = sources_with("gw.toml", "[server]\nlistn = \"x\"\nrule = \"b\"\n");
  EXPECT_EQ(text_of(report, sources),
            "gw.toml:2:1: error: unknown key 'listn' in [server] [unknown-key]\n"
            "    2 | listn = \"x\"\n"
            "      | ^\n"
            "gw.toml:3:7: warning: rule 'b' never decides [shadowed-rule]\n"
            "    3 | rule = \"b\"\n"
            "      |       ^\n"
            "gw.toml:1:1: note: rule 'a' decides first [shadowed-rule]\n"
            "    1 | [server]\n"
            "      | ^\n"
            "1 error, 1 warning, 1 note in 1 file\n");
}

TEST(LintText, WholeFileDiagnosticsHaveNoExcerpt) {
  Report report;
  report.diagnostics = {make("missing.toml", 0, 0, Severity::error, "io-error",
                             "cannot open: No such file or directory")};
  report.files_checked = 2;
  EXPECT_EQ(text_of(report, {}),
            "missing.toml: error: cannot open: No such file or directory [io-error]\n"
            "1 error in 2 files\n");
}

TEST(LintText, DiagnosticForAFileWithoutSourceOrAPastTheEndLineHasNoExcerpt) {
  Report report;
  report.diagnostics = {make("a.toml", 9, 2, Severity::warning, "w", "m"),
                        make("b.toml", 1, 1, Severity::warning, "w", "m")};
  report.files_checked = 2;
  EXPECT_EQ(text_of(report, sources_with("a.toml", "one line\n")),
            "a.toml:9:2: warning: m [w]\nb.toml:1:1: warning: m [w]\n2 warnings in 2 files\n");
}

TEST(LintText, LineWithoutColumnPrintsTheLineWithoutCaret) {
  Report report;
  report.diagnostics = {make("a.toml", 1, 0, Severity::error, "r", "m")};
  report.files_checked = 1;
  EXPECT_EQ(text_of(report, sources_with("a.toml", "k = 1\n")),
            "a.toml:1: error: m [r]\n    1 | k = 1\n1 error in 1 file\n");
}

TEST(LintText, CleanReportPrintsNothing) {
  Report report;
  report.files_checked = 3;
  EXPECT_EQ(text_of(report, {}), "");
}

TEST(LintText, EscapesControlCharactersInMessagesAndFileNames) {
  Report report;
  report.diagnostics = {
      make("a\x1b.toml", 0, 0, Severity::error, "unknown-key", "unknown key \"\x1b[2J\t\"")};
  report.files_checked = 1;
  const std::string text = text_of(report, {});
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_NE(text.find("a\\x1b.toml: error: unknown key \"\\x1b[2J\\t\""), std::string::npos);
}

TEST(LintText, ColoursSeverityLocationAndCaretWhenAsked) {
  Report report;
  report.diagnostics = {make("a.toml", 1, 3, Severity::error, "r", "bad"),
                        make("a.toml", 1, 1, Severity::warning, "w", "meh")};
  report.files_checked = 1;
  const auto sources = sources_with("a.toml", "k = 1\n");
  const std::string coloured = text_of(report, sources, true);
  EXPECT_NE(
      coloured.find("\x1b[1ma.toml:1:3:\x1b[0m \x1b[1;31merror:\x1b[0m \x1b[1mbad\x1b[0m [r]\n"),
      std::string::npos);
  EXPECT_NE(coloured.find("\x1b[1;35mwarning:\x1b[0m"), std::string::npos);
  EXPECT_NE(coloured.find("      |   \x1b[1;32m^\x1b[0m\n"), std::string::npos);
  EXPECT_EQ(text_of(report, sources, false).find('\x1b'), std::string::npos);
}

TEST(LintText, ReportsFailedTestsAndTheirCount) {
  Report report;
  report.tests_ran = true;
  TestReport passing;
  passing.name = "admins can delete";
  passing.where = {"cases.toml", 1, 1};
  passing.passed = true;
  report.tests = {passing, failed_test()};
  TestReport by_default = failed_test();
  by_default.name = "anonymous is denied";
  by_default.expected_rule = "deny-anonymous";
  by_default.actual = policy::Effect::deny;
  by_default.actual_rule.clear();
  by_default.actual_rule_where = {};
  report.tests.push_back(by_default);
  report.files_checked = 2;
  EXPECT_EQ(text_of(report, sources_with("cases.toml", "[[case]]\n\n\n[[case]]\n")),
            "cases.toml:4:1: error: policy test 'interns cannot delete' failed: expected deny, "
            "got allow by rule 'staff-tools' (policy.toml:12:1) [policy-test-failed]\n"
            "    4 | [[case]]\n"
            "      | ^\n"
            "cases.toml:4:1: error: policy test 'anonymous is denied' failed: expected deny by "
            "rule 'deny-anonymous', got deny by the default [policy-test-failed]\n"
            "    4 | [[case]]\n"
            "      | ^\n"
            "1 passed, 2 failed\n");
}

TEST(LintText, ExpectedDefaultIsSpelledOut) {
  TestReport test = failed_test();
  test.expected_rule = "";
  EXPECT_EQ(test_failure_diagnostic(test).message,
            "policy test 'interns cannot delete' failed: expected deny by the default, got allow "
            "by rule 'staff-tools' (policy.toml:12:1)");
}

TEST(LintSummary, PluralisesAndOmitsZeroCounts) {
  Report report;
  report.files_checked = 3;
  EXPECT_EQ(summary_line(report), "");
  report.diagnostics = {make("a", 1, 1, Severity::error, "r", "m"),
                        make("a", 1, 1, Severity::error, "r", "n"),
                        make("a", 1, 1, Severity::warning, "r", "m")};
  EXPECT_EQ(summary_line(report), "2 errors, 1 warning in 3 files");
  report.diagnostics = {make("a", 1, 1, Severity::note, "r", "m")};
  report.files_checked = 1;
  EXPECT_EQ(summary_line(report), "1 note in 1 file");
}

std::string json_of(const Report& report) {
  std::ostringstream out;
  render_json(report, out);
  return out.str();
}

TEST(LintJson, HasTheDocumentedShapeAndKeyOrder) {
  Report report;
  report.diagnostics = {make("gw.toml", 2, 5, Severity::warning, "unknown-key", "say \"hi\"")};
  EXPECT_EQ(json_of(report),
            "{\"diagnostics\":[{\"file\":\"gw.toml\",\"line\":2,\"column\":5,\"severity\":"
            "\"warning\",\"rule\":\"unknown-key\",\"message\":\"say \\\"hi\\\"\"}]}\n");
  EXPECT_EQ(json_of(Report{}), "{\"diagnostics\":[]}\n");
}

TEST(LintJson, IncludesTestsWhenTheyRan) {
  Report report;
  report.tests_ran = true;
  TestReport passing = failed_test();
  passing.passed = true;
  passing.expected_rule = "";
  passing.actual_rule.clear();
  report.tests = {passing, failed_test()};
  const auto document = nlohmann::json::parse(json_of(report));
  EXPECT_EQ(document["passed"], 1);
  EXPECT_EQ(document["failed"], 1);
  ASSERT_EQ(document["tests"].size(), 2u);
  const auto& first = document["tests"][0];
  EXPECT_EQ(first["name"], "interns cannot delete");
  EXPECT_EQ(first["file"], "cases.toml");
  EXPECT_EQ(first["line"], 4);
  EXPECT_EQ(first["passed"], true);
  EXPECT_EQ(first["expected"], "deny");
  EXPECT_EQ(first["actual"], "allow");
  EXPECT_TRUE(first["rule"].is_null());
  EXPECT_EQ(first["expected_rule"], "");
  EXPECT_EQ(document["tests"][1]["rule"], "staff-tools");
  EXPECT_TRUE(document["tests"][1]["expected_rule"].is_null());
}

TEST(LintJson, SurvivesInvalidUtf8) {
  Report report;
  report.diagnostics = {make("bad\xff.toml", 1, 1, Severity::error, "r", "x\xc3(y")};
  const std::string text = json_of(report);
  const auto document = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(document.is_discarded()) << text;
  EXPECT_EQ(document["diagnostics"][0]["message"], "x\xEF\xBF\xBD(y");
}

nlohmann::json sarif_of(const Report& report) {
  std::ostringstream out;
  render_sarif(report, "1.2.3", out);
  return nlohmann::json::parse(out.str());
}

TEST(LintSarif, IsASarif210LogWithRulesAndResults) {
  Report report;
  report.diagnostics = {
      make("conf/gw.toml", 2, 5, Severity::error, "unknown-key", "unknown key \"x\""),
      make("missing.toml", 0, 0, Severity::error, "io-error", "cannot open"),
      make("./conf/gw.toml", 3, 0, Severity::note, "unknown-key", "see here"),
      make("/etc/mcpgw/a b.toml", 1, 1, Severity::warning, "io-error", "odd"),
  };
  report.tests_ran = true;
  report.tests = {failed_test()};
  const auto log = sarif_of(report);
  EXPECT_EQ(log["version"], "2.1.0");
  EXPECT_NE(log["$schema"].get<std::string>().find("sarif-2.1.0"), std::string::npos);
  ASSERT_EQ(log["runs"].size(), 1u);
  const auto& run = log["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "mcpgw");
  EXPECT_EQ(run["tool"]["driver"]["version"], "1.2.3");

  const auto& rules = run["tool"]["driver"]["rules"];
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0]["id"], "unknown-key");
  EXPECT_EQ(rules[1]["id"], "io-error");
  EXPECT_EQ(rules[2]["id"], "policy-test-failed");
  for (const auto& rule : rules) {
    EXPECT_FALSE(rule["shortDescription"]["text"].get<std::string>().empty());
  }

  const auto& results = run["results"];
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0]["ruleId"], "unknown-key");
  EXPECT_EQ(results[0]["ruleIndex"], 0);
  EXPECT_EQ(results[0]["level"], "error");
  EXPECT_EQ(results[0]["message"]["text"], "unknown key \"x\"");
  const auto& first = results[0]["locations"][0]["physicalLocation"];
  EXPECT_EQ(first["artifactLocation"]["uri"], "conf/gw.toml");
  EXPECT_EQ(first["artifactLocation"]["uriBaseId"], "%SRCROOT%");
  EXPECT_EQ(first["region"]["startLine"], 2);
  EXPECT_EQ(first["region"]["startColumn"], 5);

  const auto& whole_file = results[1]["locations"][0]["physicalLocation"];
  EXPECT_EQ(results[1]["ruleIndex"], 1);
  EXPECT_FALSE(whole_file.contains("region"));

  EXPECT_EQ(results[2]["level"], "note");
  EXPECT_EQ(results[2]["ruleIndex"], 0);
  const auto& no_column = results[2]["locations"][0]["physicalLocation"];
  EXPECT_EQ(no_column["artifactLocation"]["uri"], "conf/gw.toml");
  EXPECT_EQ(no_column["region"]["startLine"], 3);
  EXPECT_FALSE(no_column["region"].contains("startColumn"));

  const auto& absolute = results[3]["locations"][0]["physicalLocation"]["artifactLocation"];
  EXPECT_EQ(absolute["uri"], "file:///etc/mcpgw/a%20b.toml");
  EXPECT_FALSE(absolute.contains("uriBaseId"));
  EXPECT_EQ(results[3]["level"], "warning");

  EXPECT_EQ(results[4]["ruleId"], "policy-test-failed");
  EXPECT_EQ(results[4]["ruleIndex"], 2);
  EXPECT_EQ(results[4]["locations"][0]["physicalLocation"]["region"]["startLine"], 4);
}

TEST(LintSarif, CleanRunHasEmptyResultsAndRules) {
  const auto log = sarif_of(Report{});
  EXPECT_TRUE(log["runs"][0]["results"].empty());
  EXPECT_TRUE(log["runs"][0]["tool"]["driver"]["rules"].empty());
}

TEST(LintSarif, ArtifactUrisArePercentEncodedAndNormalised) {
  EXPECT_EQ(artifact_uri("examples/gateway.toml"), "examples/gateway.toml");
  EXPECT_EQ(artifact_uri("./examples/../x y#1.toml"), "x%20y%231.toml");
  EXPECT_EQ(artifact_uri("/tmp/é.toml"), "file:///tmp/%C3%A9.toml");
  EXPECT_EQ(artifact_uri("../up.toml"), "../up.toml");
}

TEST(LintColor, FollowsTheFlagThenTheTerminalAndNoColor) {
  EXPECT_TRUE(color_enabled(ColorMode::always, false, "1"));
  EXPECT_FALSE(color_enabled(ColorMode::never, true, nullptr));
  EXPECT_TRUE(color_enabled(ColorMode::automatic, true, nullptr));
  EXPECT_TRUE(color_enabled(ColorMode::automatic, true, ""));
  EXPECT_FALSE(color_enabled(ColorMode::automatic, true, "1"));
  EXPECT_FALSE(color_enabled(ColorMode::automatic, true, "false"));
  EXPECT_FALSE(color_enabled(ColorMode::automatic, false, nullptr));
}

TEST(LintColor, AStringStreamIsNotATerminal) {
  std::ostringstream out;
  EXPECT_FALSE(stream_is_terminal(out));
}

TEST(LintRules, CatalogueIsSortedUniqueAndDescribed) {
  const auto& rules = known_rules();
  ASSERT_FALSE(rules.empty());
  std::set<std::string_view> ids;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    EXPECT_TRUE(ids.insert(rules[i].id).second) << rules[i].id;
    EXPECT_FALSE(rules[i].description.empty()) << rules[i].id;
    EXPECT_NE(rules[i].description.back(), '.') << rules[i].id;
    if (i > 0) {
      EXPECT_LT(rules[i - 1].id, rules[i].id);
    }
    EXPECT_EQ(find_rule(rules[i].id), &rules[i]);
  }
  EXPECT_EQ(find_rule("no-such-rule"), nullptr);
  EXPECT_FALSE(rule_description("no-such-rule").empty());
  EXPECT_NE(find_rule(kTestFailedRule), nullptr);
  EXPECT_NE(find_rule("io-error"), nullptr);
}

}  // namespace
}  // namespace mcpgw::lint
