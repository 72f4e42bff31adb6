// Keeps man/mcpgw-config.5 in step with the code and with docs/config.md, the reference it
// follows: every rule id of the lint catalogue is documented in both with the same severity,
// every entry of the reference's key and syntax tables has an entry in the matching section of
// the page, the page's TOML examples load cleanly and their decision tests pass, and the page
// renders without groff warnings in 80 columns (skipped when groff is missing).
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "repo_files.hpp"

#include "gateway/config/config.hpp"
#include "gateway/lint/rules.hpp"
#include "gateway/policy/testing.hpp"

namespace mcpgw::cli {
namespace {

using test_support::have_program;
using test_support::lines_of;
using test_support::read_text;
using test_support::run_command;
using test_support::source_path;

constexpr const char* kManualPage = "man/mcpgw-config.5";
constexpr const char* kReference = "docs/config.md";

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos)
    return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
}

// `token` occurs in `text` with no name character directly before or after it, so that
// "include" is not found inside "duplicate-include".
bool contains_token(const std::string& text, const std::string& token) {
  for (auto at = text.find(token); at != std::string::npos; at = text.find(token, at + 1)) {
    const bool starts = at == 0 || !is_name_char(text[at - 1]) || !is_name_char(token.front());
    const auto end = at + token.size();
    const bool ends = end == text.size() || !is_name_char(text[end]) || !is_name_char(token.back());
    if (starts && ends)
      return true;
  }
  return false;
}

// --- roff -----------------------------------------------------------------------------------

// Resolves the escapes the page uses into the characters they show.
std::string resolve_escapes(const std::string& text) {
  static const std::vector<std::pair<std::string, std::string>> escapes{
      {"\\-", "-"},    {"\\(dq", "\""}, {"\\(ha", "^"}, {"\\(em", "--"}, {"\\(lq", "\""},
      {"\\(rq", "\""}, {"\\~", " "},    {"\\&", ""},    {"\\|", ""},     {"\\c", ""},
      {"\\fB", ""},    {"\\fI", ""},    {"\\fR", ""},   {"\\fP", ""},    {"\\e", "\\"}};
  std::string shown;
  for (std::size_t i = 0; i < text.size();) {
    bool resolved = false;
    if (text[i] == '\\') {
      for (const auto& [escape, character] : escapes) {
        if (text.compare(i, escape.size(), escape) == 0) {
          shown += character;
          i += escape.size();
          resolved = true;
          break;
        }
      }
    }
    if (!resolved)
      shown += text[i++];
  }
  return shown;
}

// The arguments of a macro line: words, or "quoted text" with "" for a quote.
std::vector<std::string> macro_arguments(const std::string& rest) {
  std::vector<std::string> arguments;
  std::size_t i = 0;
  while (i < rest.size()) {
    if (rest[i] == ' ') {
      ++i;
      continue;
    }
    std::string argument;
    if (rest[i] == '"') {
      for (++i; i < rest.size(); ++i) {
        if (rest[i] == '"') {
          if (i + 1 < rest.size() && rest[i + 1] == '"') {
            argument += '"';
            ++i;
            continue;
          }
          ++i;
          break;
        }
        argument += rest[i];
      }
    } else {
      for (; i < rest.size() && rest[i] != ' '; ++i)
        argument += rest[i];
    }
    arguments.push_back(argument);
  }
  return arguments;
}

// The text a line of the page shows: font macros joined as groff joins them, escapes resolved.
std::string shown_text(const std::string& line) {
  if (line.empty() || line.front() != '.')
    return resolve_escapes(line);
  const auto space = line.find(' ');
  const std::string macro = line.substr(1, space == std::string::npos ? line.npos : space - 1);
  const auto arguments =
      space == std::string::npos ? std::vector<std::string>{} : macro_arguments(line.substr(space));
  static const std::set<std::string> alternating{"BR", "BI", "IB", "IR", "RB", "RI"};
  const std::string separator = alternating.contains(macro) ? "" : " ";
  std::string shown;
  for (const auto& argument : arguments)
    shown += (shown.empty() ? "" : separator) + argument;
  return resolve_escapes(shown);
}

struct ManSection {
  std::string title;    // as shown, lower case
  std::string chapter;  // the enclosing .SH title, lower case
  std::vector<std::string> lines;
};

// Every .SH and .SS section of the page, in order; a .SH holds only the lines before its first
// .SS.
std::vector<ManSection> man_sections(const std::string& page) {
  std::vector<ManSection> sections;
  std::string chapter;
  for (const auto& line : lines_of(page)) {
    const bool heading = line.rfind(".SH ", 0) == 0;
    const bool subheading = line.rfind(".SS ", 0) == 0;
    if (heading || subheading) {
      const std::string title = lower(shown_text(line));
      if (heading)
        chapter = title;
      sections.push_back({title, chapter, {}});
    } else if (!sections.empty()) {
      sections.back().lines.push_back(line);
    }
  }
  return sections;
}

// The shown text of the tag line after each .TP.
std::vector<std::string> tags_of(const ManSection& section) {
  std::vector<std::string> tags;
  for (std::size_t i = 0; i + 1 < section.lines.size(); ++i) {
    if (section.lines[i] == ".TP")
      tags.push_back(shown_text(section.lines[i + 1]));
  }
  return tags;
}

// The .nf ... .fi blocks of the page, escapes resolved.
std::vector<std::string> literal_blocks(const std::string& page) {
  std::vector<std::string> blocks;
  bool inside = false;
  for (const auto& line : lines_of(page)) {
    if (line == ".nf") {
      inside = true;
      blocks.emplace_back();
    } else if (line == ".fi") {
      inside = false;
    } else if (inside) {
      blocks.back() += resolve_escapes(line) + "\n";
    }
  }
  return blocks;
}

// --- markdown -------------------------------------------------------------------------------

struct MarkdownTable {
  std::string heading;  // the nearest heading above, without #s and backticks
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

// The cells of a `| a | b |` row; `\|` is a pipe inside a cell.
std::vector<std::string> table_cells(const std::string& row) {
  std::vector<std::string> cells;
  std::string cell;
  for (std::size_t i = 1; i < row.size(); ++i) {
    if (row[i] == '\\' && i + 1 < row.size() && row[i + 1] == '|') {
      cell += '|';
      ++i;
    } else if (row[i] == '|') {
      cells.push_back(trim(cell));
      cell.clear();
    } else {
      cell += row[i];
    }
  }
  return cells;
}

bool is_separator_row(const std::vector<std::string>& cells) {
  return std::all_of(cells.begin(), cells.end(), [](const std::string& cell) {
    return !cell.empty() && cell.find_first_not_of("-:") == std::string::npos;
  });
}

std::vector<MarkdownTable> markdown_tables(const std::string& markdown) {
  std::vector<MarkdownTable> tables;
  std::string heading;
  bool in_table = false;
  bool in_code = false;
  for (const auto& line : lines_of(markdown)) {
    if (line.rfind("```", 0) == 0)
      in_code = !in_code;
    if (in_code)
      continue;
    if (line.rfind('#', 0) == 0) {
      const auto start = line.find_first_not_of('#');
      std::string text = start == std::string::npos ? std::string() : line.substr(start);
      text.erase(std::remove(text.begin(), text.end(), '`'), text.end());
      heading = trim(text);
    }
    if (line.rfind('|', 0) != 0) {
      in_table = false;
      continue;
    }
    const auto cells = table_cells(line);
    if (!in_table) {
      tables.push_back({heading, cells, {}});
      in_table = true;
    } else if (!is_separator_row(cells)) {
      tables.back().rows.push_back(cells);
    }
  }
  return tables;
}

// The `code spans` of a cell.
std::vector<std::string> code_spans(const std::string& cell) {
  std::vector<std::string> spans;
  for (auto open = cell.find('`'); open != std::string::npos; open = cell.find('`', open + 1)) {
    const auto close = cell.find('`', open + 1);
    if (close == std::string::npos)
      break;
    spans.push_back(cell.substr(open + 1, close - open - 1));
    open = close;
  }
  return spans;
}

// --- rule ids -------------------------------------------------------------------------------

// id -> severity from the reference's `| id | severity | meaning |` tables.
std::map<std::string, std::string> reference_rule_ids() {
  std::map<std::string, std::string> ids;
  for (const auto& table : markdown_tables(read_text(kReference))) {
    if (table.columns.size() < 2 || table.columns[0] != "id" || table.columns[1] != "severity")
      continue;
    for (const auto& row : table.rows) {
      const auto spans = code_spans(row.front());
      if (spans.size() == 1 && row.size() >= 2)
        ids[spans.front()] = row[1];
    }
  }
  return ids;
}

// id -> severity from the page's DIAGNOSTICS entries, tagged "id (severity)".
std::map<std::string, std::string> manual_rule_ids() {
  std::map<std::string, std::string> ids;
  for (const auto& section : man_sections(read_text(kManualPage))) {
    if (section.chapter != "diagnostics")
      continue;
    for (const auto& tag : tags_of(section)) {
      const auto open = tag.find(" (");
      const auto close = tag.rfind(')');
      if (open == std::string::npos || close == std::string::npos || close < open)
        continue;
      ids[tag.substr(0, open)] = tag.substr(open + 2, close - open - 2);
    }
  }
  return ids;
}

TEST(ConfigManual, EveryRuleIdIsDocumentedWithTheSameSeverity) {
  const auto& catalogue = lint::known_rules();
  ASSERT_FALSE(catalogue.empty());
  const auto in_reference = reference_rule_ids();
  const auto in_manual = manual_rule_ids();
  for (const auto& rule : catalogue) {
    const std::string id(rule.id);
    const auto reference = in_reference.find(id);
    const auto manual = in_manual.find(id);
    EXPECT_TRUE(reference != in_reference.end()) << kReference << " does not describe " << id;
    EXPECT_TRUE(manual != in_manual.end()) << kManualPage << " DIAGNOSTICS lacks " << id;
    if (reference != in_reference.end() && manual != in_manual.end()) {
      EXPECT_EQ(manual->second, reference->second) << "severity of " << id;
    }
  }
  for (const auto& [id, severity] : in_reference)
    EXPECT_TRUE(lint::find_rule(id) != nullptr) << kReference << " describes unknown id " << id;
  for (const auto& [id, severity] : in_manual)
    EXPECT_TRUE(lint::find_rule(id) != nullptr) << kManualPage << " describes unknown id " << id;
}

// --- keys -----------------------------------------------------------------------------------

// The reference's tables whose first column lists names the page must have an entry for: keys
// (and top-level tables), environment references and glob syntax.
bool lists_names(const MarkdownTable& table) {
  static const std::set<std::string> kinds{"key", "written", "glob"};
  return !table.columns.empty() && kinds.contains(table.columns.front());
}

TEST(ConfigManual, EveryKeyOfTheReferenceHasAnEntryInTheMatchingSection) {
  const auto sections = man_sections(read_text(kManualPage));
  std::size_t tables_checked = 0;
  std::size_t names_checked = 0;
  for (const auto& table : markdown_tables(read_text(kReference))) {
    if (!lists_names(table))
      continue;
    ++tables_checked;
    // The section of the page titled like the reference's heading ("[server]", "File layout").
    std::vector<std::string> tags;
    bool found_section = false;
    for (const auto& section : sections) {
      if (section.title != lower(table.heading))
        continue;
      found_section = true;
      const auto section_tags = tags_of(section);
      tags.insert(tags.end(), section_tags.begin(), section_tags.end());
    }
    EXPECT_TRUE(found_section) << kManualPage << " has no section titled \"" << table.heading
                               << "\"";
    for (const auto& row : table.rows) {
      for (const auto& name : code_spans(row.front())) {
        ++names_checked;
        const bool documented = std::any_of(tags.begin(), tags.end(), [&](const std::string& tag) {
          return contains_token(tag, name);
        });
        EXPECT_TRUE(documented) << kManualPage << " section \"" << table.heading
                                << "\" has no entry (.TP) for " << name;
      }
    }
  }
  // Guards the parsers: the reference has a dozen key tables with over a hundred names.
  EXPECT_GE(tables_checked, 10u);
  EXPECT_GE(names_checked, 80u);
}

// --- examples -------------------------------------------------------------------------------

config::LoadOptions example_options() {
  config::LoadOptions options;
  // Any ${VAR} the examples use is taken as set, so an undefined-env warning cannot hide.
  options.env = [](const std::string&) -> std::optional<std::string> { return "example"; };
  return options;
}

std::string describe(const config::Diagnostics& diagnostics) {
  std::string text;
  for (const auto& diagnostic : diagnostics.items()) {
    text += std::to_string(diagnostic.where.line) + ":" + std::to_string(diagnostic.where.column) +
            ": " + diagnostic.rule + ": " + diagnostic.message + "\n";
  }
  return text;
}

// Every TOML example that starts with a table header loads without a finding, and every
// [[case]] example passes against the configuration shown before it.
TEST(ConfigManual, ExamplesLoadCleanlyAndTheirDecisionTestsPass) {
  std::shared_ptr<const config::Config> latest;
  std::size_t configurations = 0;
  std::size_t case_files = 0;
  for (const auto& block : literal_blocks(read_text(kManualPage))) {
    if (block.rfind('[', 0) != 0)
      continue;  // a shell command or a one-line fragment such as `include = [...]`
    const std::string name =
        source_path("man/example" + std::to_string(configurations + case_files) + ".toml");
    if (block.rfind("[[case]]", 0) == 0) {
      ++case_files;
      const auto tests = config::load_policy_tests_text(name, block, example_options());
      EXPECT_TRUE(tests.diagnostics.items().empty()) << block << describe(tests.diagnostics);
      ASSERT_NE(latest, nullptr) << "no configuration before\n" << block;
      ASSERT_NE(latest->policy, nullptr) << block;
      ASSERT_FALSE(tests.cases.empty()) << block;
      for (const auto& outcome : policy::run_tests(*latest->policy, tests.cases)) {
        EXPECT_TRUE(outcome.passed) << outcome.test_case->name << "\n" << block;
      }
      continue;
    }
    ++configurations;
    const auto loaded = config::load_config_text(name, block, example_options());
    EXPECT_TRUE(loaded.diagnostics.items().empty()) << block << describe(loaded.diagnostics);
    ASSERT_NE(loaded.config, nullptr) << block;
    latest = loaded.config;
  }
  EXPECT_GE(configurations, 2u);  // the [[rule]] example and the complete one under EXAMPLES
  EXPECT_GE(case_files, 2u);
}

// --- rendering ------------------------------------------------------------------------------

TEST(ConfigManual, RendersWithoutWarningsIn80Columns) {
  if (!have_program("groff"))
    GTEST_SKIP() << "groff is not installed";
  const std::string page = "'" + source_path(kManualPage) + "'";
  std::string output;
  EXPECT_EQ(run_command("groff -man -ww -z " + page, output), 0);
  EXPECT_EQ(output, "");
  // man(1) sets the line length to 78n for an 80-column terminal; literal blocks are not
  // filled, so an overlong one would run past the edge. -P-cbou: plain text, no overstriking.
  ASSERT_EQ(run_command("groff -man -Tascii -rLL=78n -P-cbou " + page, output), 0) << output;
  const auto rendered = lines_of(output);
  EXPECT_GT(rendered.size(), 100u);
  for (const auto& line : rendered)
    EXPECT_LE(line.size(), 80u) << line;
}

}  // namespace
}  // namespace mcpgw::cli
