// Golden-output tests for `mcpgw lint` (layout described in tests/lint/README.md): every
// tests/lint/**/NAME.toml with a sibling NAME.expected is linted in-process from the source
// directory, and the transcript (command, exit status, output) must match the expected file.
// MCPGW_UPDATE_GOLDEN=1 rewrites the expected files instead, and creates the missing ones for
// tests/lint/bad/RULE.toml and tests/lint/bad/RULE/main.toml.
// Also runs the real binary a few times to check exit codes and formats end to end.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/app.hpp"
#include "gateway/lint/rules.hpp"

namespace mcpgw::cli {
namespace {

namespace fs = std::filesystem;

const fs::path kSourceDir{MCPGW_SOURCE_DIR};
const fs::path kGoldenRoot{"tests/lint"};
const fs::path kBadDir{"tests/lint/bad"};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

bool update_mode() {
  const char* value = std::getenv("MCPGW_UPDATE_GOLDEN");
  return value != nullptr && std::string(value) == "1";
}

// Runs the test body with the source directory as the working directory, so that the paths in
// the output are the stable relative ones.
class InSourceDir {
 public:
  InSourceDir() : previous_(fs::current_path()) { fs::current_path(kSourceDir); }
  ~InSourceDir() {
    std::error_code ignored;
    fs::current_path(previous_, ignored);
  }
  InSourceDir(const InSourceDir&) = delete;
  InSourceDir& operator=(const InSourceDir&) = delete;

 private:
  fs::path previous_;
};

struct GoldenCase {
  fs::path input;     // relative to the source directory
  fs::path expected;  // NAME.expected next to the input
  fs::path args;      // NAME.args: extra arguments, whitespace separated (may not exist)
};

GoldenCase case_for(const fs::path& input) {
  fs::path expected = input;
  expected.replace_extension(".expected");
  fs::path args = input;
  args.replace_extension(".args");
  return {input, expected, args};
}

// The inputs that must have an expected file: bad/RULE.toml and bad/RULE/main.toml.
bool is_bad_entry_point(const fs::path& input) {
  if (input.extension() != ".toml")
    return false;
  if (input.parent_path() == kBadDir)
    return true;
  return input.filename() == "main.toml" && input.parent_path().parent_path() == kBadDir;
}

// The rule id a bad input is named after.
std::string rule_of(const fs::path& input) {
  if (input.parent_path() == kBadDir)
    return input.stem().string();
  return input.parent_path().filename().string();
}

std::vector<GoldenCase> discover(bool include_missing_bad) {
  std::vector<GoldenCase> cases;
  std::error_code error;
  if (!fs::is_directory(kGoldenRoot, error))
    return cases;
  for (fs::recursive_directory_iterator it(kGoldenRoot, error), end; !error && it != end;
       it.increment(error)) {
    if (!it->is_regular_file() || it->path().extension() != ".toml")
      continue;
    GoldenCase golden = case_for(it->path());
    if (fs::exists(golden.expected) || (include_missing_bad && is_bad_entry_point(golden.input))) {
      cases.push_back(std::move(golden));
    }
  }
  std::sort(cases.begin(), cases.end(),
            [](const GoldenCase& a, const GoldenCase& b) { return a.input < b.input; });
  return cases;
}

// NAME.args may place the input with "{}" (e.g. "--test {} tests/lint/policy.toml" for a bad
// test cases file); without "{}" the input is the last argument.
std::vector<std::string> arguments_for(const GoldenCase& golden) {
  std::vector<std::string> args{"lint", "--color", "never"};
  const std::string input = golden.input.generic_string();
  bool placed = false;
  std::istringstream extra(read_file(golden.args));
  for (std::string word; extra >> word;) {
    if (word == "{}") {
      word = input;
      placed = true;
    }
    args.push_back(word);
  }
  if (!placed)
    args.push_back(input);
  return args;
}

// "# mcpgw ARGS", "# exit status N", standard output verbatim, then standard error with each
// line prefixed by "stderr: ".
std::string transcript(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int status = run(args, out, err);
  std::string text = "# mcpgw";
  for (const auto& arg : args)
    text += ' ' + arg;
  text += "\n# exit status " + std::to_string(status) + "\n" + out.str();
  std::istringstream err_lines(err.str());
  for (std::string line; std::getline(err_lines, line);)
    text += "stderr: " + line + "\n";
  return text;
}

TEST(LintGolden, EveryInputMatchesItsExpectedTranscript) {
  InSourceDir in_source;
  const bool update = update_mode();
  const auto cases = discover(update);
  if (cases.empty())
    GTEST_SKIP() << "no tests/lint/**/*.expected files yet";
  for (const auto& golden : cases) {
    const std::string actual = transcript(arguments_for(golden));
    if (update) {
      write_file(golden.expected, actual);
      continue;
    }
    EXPECT_EQ(read_file(golden.expected), actual)
        << golden.input.generic_string()
        << " differs from its expected output; if the change is intended, rerun with "
           "MCPGW_UPDATE_GOLDEN=1 and review the diff";
  }
}

// Bad inputs whose point needs more than one finding; every other one is minimal: it produces
// exactly one finding (plus any notes explaining it), of the rule it is named after.
const std::set<std::string> kMultiFindingInputs = {
    // A weak secret needs HS256, which is always warned about as well.
    "tests/lint/bad/weak-secret.toml",
};

struct Finding {
  std::string severity;
  std::string rule;
};

// The findings in a text-format transcript: "file:line:col: severity: message [rule]" lines.
std::vector<Finding> findings_in(const std::string& transcript) {
  std::vector<Finding> findings;
  std::istringstream lines(transcript);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.front() == '#' || line.front() == ' ' || line.back() != ']')
      continue;
    for (const char* severity : {"error", "warning", "note"}) {
      const std::string marker = std::string(": ") + severity + ": ";
      const auto open = line.rfind(" [");
      if (line.find(marker) == std::string::npos || open == std::string::npos)
        continue;
      findings.push_back({severity, line.substr(open + 2, line.size() - open - 3)});
      break;
    }
  }
  return findings;
}

TEST(LintGolden, EveryBadInputHasAnExpectedFileThatReportsItsRule) {
  InSourceDir in_source;
  std::error_code error;
  if (!fs::is_directory(kBadDir, error))
    GTEST_SKIP() << "no tests/lint/bad yet";
  std::size_t checked = 0;
  for (const auto& entry : fs::directory_iterator(kBadDir)) {
    fs::path input = entry.path();
    if (entry.is_directory()) {
      input /= "main.toml";
      EXPECT_TRUE(fs::exists(input)) << entry.path() << " has no main.toml entry point";
    } else if (input.extension() != ".toml") {
      continue;
    }
    const std::string rule = rule_of(input);
    const GoldenCase golden = case_for(input);
    ASSERT_TRUE(fs::exists(golden.expected))
        << golden.expected << " is missing: run the test with MCPGW_UPDATE_GOLDEN=1";
    const std::string expected = read_file(golden.expected);
    EXPECT_NE(expected.find("[" + rule + "]"), std::string::npos)
        << input.generic_string() << " does not produce its own rule [" << rule << "]";
    EXPECT_EQ(expected.find("# exit status 0\n"), std::string::npos)
        << input.generic_string() << " is clean, but files in tests/lint/bad must have findings";
    EXPECT_NE(lint::find_rule(rule), nullptr)
        << "rule " << rule << " has no description in gateway/lint/rules.cpp (used by SARIF)";
    const auto findings = findings_in(expected);
    const bool multi = kMultiFindingInputs.contains(input.generic_string());
    std::size_t counted = 0;
    for (const auto& finding : findings) {
      if (!multi) {
        EXPECT_EQ(finding.rule, rule)
            << input.generic_string() << " also produces [" << finding.rule
            << "]; make it minimal, or list it in kMultiFindingInputs";
      }
      if (finding.severity != "note")
        ++counted;
    }
    if (!multi) {
      EXPECT_EQ(counted, 1u) << input.generic_string()
                             << " must produce exactly one finding (notes aside), in text format";
    }
    ++checked;
  }
  if (checked == 0)
    GTEST_SKIP() << "tests/lint/bad is empty";
}

// --- the real binary ------------------------------------------------------------------------

struct Outcome {
  int status = -1;
  std::string out;
};

std::string shell_quote(const std::string& word) {
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

// Runs the mcpgw binary from the source directory; standard error is discarded.
Outcome run_binary(const std::vector<std::string>& args) {
  std::string command =
      "cd " + shell_quote(kSourceDir.string()) + " && " + shell_quote(MCPGW_BINARY);
  for (const auto& arg : args)
    command += ' ' + shell_quote(arg);
  command += " 2>/dev/null";
  Outcome outcome;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr)
    return outcome;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) {
    outcome.out.append(buffer, n);
  }
  const int status = ::pclose(pipe);
  outcome.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return outcome;
}

// A scratch file that is removed again.
class ScratchFile {
 public:
  ScratchFile(const std::string& name, const std::string& contents)
      : path_(fs::temp_directory_path() /
              ("mcpgw-lint-golden-" + std::to_string(::getpid()) + "-" + name)) {
    write_file(path_, contents);
  }
  ~ScratchFile() {
    std::error_code ignored;
    fs::remove(path_, ignored);
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

constexpr const char* kBadConfig =
    "[server]\n"
    "listen = \"127.0.0.1:8080\"\n"
    "no_such_key = 1\n";

TEST(LintBinary, ExitCodesEndToEnd) {
  const Outcome example = run_binary({"lint", "examples/gateway.toml"});
  EXPECT_EQ(example.status, kExitOk) << example.out;
  EXPECT_EQ(example.out, "");
  // `mcpgw lint examples/*.toml`: configurations, fragments and policy test files alike.
  std::vector<std::string> examples;
  for (const auto& entry : fs::directory_iterator(kSourceDir / "examples")) {
    if (entry.path().extension() == ".toml")
      examples.push_back("examples/" + entry.path().filename().string());
  }
  std::sort(examples.begin(), examples.end());
  ASSERT_GE(examples.size(), 3u);
  for (const bool strict : {false, true}) {
    std::vector<std::string> args{"lint"};
    if (strict)
      args.emplace_back("--strict");
    args.insert(args.end(), examples.begin(), examples.end());
    const Outcome all = run_binary(args);
    EXPECT_EQ(all.status, kExitOk) << all.out;
    EXPECT_EQ(all.out, "");
  }
  const Outcome tests =
      run_binary({"lint", "--test", "examples/policy-tests.toml", "examples/policy.toml"});
  EXPECT_EQ(tests.status, kExitOk) << tests.out;
  EXPECT_NE(tests.out.find(" passed, 0 failed\n"), std::string::npos) << tests.out;
  const ScratchFile bad("bad.toml", kBadConfig);
  const Outcome findings = run_binary({"lint", "--color", "never", bad.path()});
  EXPECT_EQ(findings.status, kExitFindings) << findings.out;
  EXPECT_NE(findings.out.find(bad.path() + ":3:"), std::string::npos) << findings.out;
  EXPECT_EQ(run_binary({"lint", "tests/lint/no-such-file.toml"}).status, kExitUsage);
  EXPECT_EQ(run_binary({"lint", "--no-such-option", bad.path()}).status, kExitUsage);
  EXPECT_EQ(run_binary({"lint"}).status, kExitUsage);
  EXPECT_EQ(run_binary({"lint", "--test", bad.path(), bad.path(), bad.path()}).status, kExitUsage);
}

TEST(LintBinary, JsonAndSarifAreJson) {
  const ScratchFile bad("bad-formats.toml", kBadConfig);
  const Outcome json = run_binary({"lint", "--format", "json", bad.path()});
  EXPECT_EQ(json.status, kExitFindings);
  const auto document = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(document.is_discarded()) << json.out;
  ASSERT_TRUE(document["diagnostics"].is_array());
  ASSERT_FALSE(document["diagnostics"].empty());
  EXPECT_EQ(document["diagnostics"][0]["file"], bad.path());

  const Outcome sarif = run_binary({"lint", "--format", "sarif", bad.path()});
  EXPECT_EQ(sarif.status, kExitFindings);
  const auto log = nlohmann::json::parse(sarif.out, nullptr, false);
  ASSERT_FALSE(log.is_discarded()) << sarif.out;
  EXPECT_EQ(log["version"], "2.1.0");
  EXPECT_EQ(log["runs"][0]["tool"]["driver"]["name"], "mcpgw");
  EXPECT_FALSE(log["runs"][0]["tool"]["driver"]["version"].get<std::string>().empty());
  EXPECT_FALSE(log["runs"][0]["results"].empty());

  const Outcome missing = run_binary({"lint", "--format", "json", "tests/lint/no-such.toml"});
  EXPECT_EQ(missing.status, kExitUsage);
  const auto io = nlohmann::json::parse(missing.out, nullptr, false);
  ASSERT_FALSE(io.is_discarded()) << missing.out;
  ASSERT_EQ(io["diagnostics"].size(), 1u);
  EXPECT_EQ(io["diagnostics"][0]["rule"], "io-error");
  EXPECT_EQ(io["diagnostics"][0]["line"], 0);
}

}  // namespace
}  // namespace mcpgw::cli
