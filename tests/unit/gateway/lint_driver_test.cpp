// lint::run end to end on files written to a scratch directory: exit statuses, roots that other
// roots include, deduplication, policy tests, and inputs that must not crash it.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gateway/lint/lint.hpp"

namespace mcpgw::lint {
namespace {

namespace fs = std::filesystem;

constexpr const char* kGateway =
    "[server]\n"
    "listen = \"127.0.0.1:8080\"\n"
    "\n"
    "[[backend]]\n"
    "name = \"github\"\n"
    "transport = \"stdio\"\n"
    "command = [\"gh-mcp\"]\n";

// Two allow rules, the second covered by the first: a shadowed-rule warning whose message names
// the generated rule ids, which depend on the including file's directory.
constexpr const char* kShadowedRules =
    "[[rule]]\n"
    "effect = \"allow\"\n"
    "tools = [\"create_*\"]\n"
    "\n"
    "[[rule]]\n"
    "effect = \"allow\"\n"
    "tools = [\"create_issue\"]\n";

constexpr const char* kPolicy =
    "[policy]\n"
    "default = \"deny\"\n"
    "\n"
    "[[rule]]\n"
    "id = \"read-only\"\n"
    "effect = \"allow\"\n"
    "tools = [\"get_*\", \"list_*\"]\n";

class LintDriver : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("mcpgw-lint-driver-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    previous_ = fs::current_path();
    fs::current_path(dir_);  // relative paths keep the expected output short
  }
  void TearDown() override {
    fs::current_path(previous_);
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  static void write(const std::string& path, const std::string& text) {
    const fs::path file(path);
    if (file.has_parent_path())
      fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
  }

  int lint(Options options, std::string* err_text = nullptr) {
    if (options.color == ColorMode::automatic)
      options.color = ColorMode::never;
    std::ostringstream out, err;
    const int status = run(options, out, err);
    out_ = out.str();
    err_ = err.str();
    if (err_text != nullptr)
      *err_text = err_;
    return status;
  }

  static Options files(std::vector<std::string> names) {
    Options options;
    options.files = std::move(names);
    return options;
  }

  fs::path dir_;
  fs::path previous_;
  std::string out_;
  std::string err_;
};

TEST_F(LintDriver, CleanConfigPrintsNothingAndExitsZero) {
  write("gw.toml", kGateway);
  EXPECT_EQ(lint(files({"gw.toml"})), 0);
  EXPECT_EQ(out_, "");
  EXPECT_EQ(err_, "");
}

TEST_F(LintDriver, ErrorsPrintCompilerStyleAndExitOne) {
  write("gw.toml", std::string(kGateway) + "nonsense = 1\n");
  EXPECT_EQ(lint(files({"gw.toml"})), 1);
  EXPECT_EQ(out_.rfind("gw.toml:8:1: error: ", 0), 0u) << out_;
  EXPECT_NE(out_.find("[unknown-key]\n    8 | nonsense = 1\n      | ^\n"), std::string::npos)
      << out_;
  EXPECT_NE(out_.find("\n1 error in 1 file\n"), std::string::npos) << out_;
}

TEST_F(LintDriver, WarningsExitZeroUnlessStrict) {
  write("rules.toml", kShadowedRules);
  EXPECT_EQ(lint(files({"rules.toml"})), 0);
  const std::string relaxed = out_;
  EXPECT_NE(relaxed.find("warning: "), std::string::npos) << relaxed;
  EXPECT_NE(relaxed.find("1 warning in 1 file\n"), std::string::npos) << relaxed;
  Options strict = files({"rules.toml"});
  strict.strict = true;
  EXPECT_EQ(lint(strict), 1);
  EXPECT_EQ(out_, relaxed);  // --strict changes the status, not the report
}

TEST_F(LintDriver, UnreadableFileIsAnIoErrorWithExitTwo) {
  write("gw.toml", kGateway);
  EXPECT_EQ(lint(files({"gw.toml", "missing.toml"})), 2);
  EXPECT_EQ(out_.rfind("missing.toml: error: ", 0), 0u) << out_;
  EXPECT_NE(out_.find("[io-error]\n1 error in 2 files\n"), std::string::npos) << out_;
  fs::create_directories("a-directory.toml");
  EXPECT_EQ(lint(files({"a-directory.toml"})), 2);
}

TEST_F(LintDriver, UnreadableIncludeIsAFindingNotAnIoError) {
  fs::create_directories("policy.d");
  write("gw.toml", std::string("include = [\"policy.d\"]\n") + kGateway);
  EXPECT_EQ(lint(files({"gw.toml"})), 1);
  EXPECT_EQ(out_.rfind("gw.toml:1:12: error: ", 0), 0u) << out_;
}

TEST_F(LintDriver, FileIncludedByAnotherGivenFileIsReportedOnlyAsPartOfIt) {
  write("gw.toml", std::string("include = [\"sub/rules.toml\"]\n") + kGateway);
  write("sub/rules.toml", kShadowedRules);
  EXPECT_EQ(lint(files({"gw.toml"})), 0);
  const std::string as_included = out_;
  EXPECT_NE(as_included.find("'sub/rules.toml#rule2'"), std::string::npos) << as_included;
  EXPECT_NE(as_included.find("1 warning in 2 files\n"), std::string::npos) << as_included;

  // Alone, the fragment names its rules differently; given with its includer, it is not
  // reported on its own, whatever the order or spelling of the paths.
  EXPECT_EQ(lint(files({"sub/rules.toml"})), 0);
  EXPECT_NE(out_.find("'rules.toml#rule2'"), std::string::npos) << out_;
  for (const auto& order :
       std::vector<std::vector<std::string>>{{"gw.toml", "sub/rules.toml"},
                                             {"sub/rules.toml", "gw.toml"},
                                             {"./sub/../sub/rules.toml", "gw.toml", "./gw.toml"},
                                             {(dir_ / "sub/rules.toml").string(), "gw.toml"}}) {
    EXPECT_EQ(lint(files(order)), 0);
    EXPECT_EQ(out_, as_included) << order.front();
  }
}

TEST_F(LintDriver, IncludeCycleGivenTwiceIsReportedFromTheFirstFile) {
  write("a.toml", "include = [\"b.toml\"]\n");
  write("b.toml", "include = [\"a.toml\"]\n");
  EXPECT_EQ(lint(files({"a.toml"})), 1);
  const std::string from_a = out_;
  EXPECT_NE(from_a.find("[include-cycle]"), std::string::npos) << from_a;
  EXPECT_EQ(lint(files({"b.toml"})), 1);
  const std::string from_b = out_;
  EXPECT_NE(from_a, from_b);
  EXPECT_EQ(lint(files({"a.toml", "b.toml"})), 1);
  EXPECT_EQ(out_, from_a);
  EXPECT_EQ(lint(files({"b.toml", "a.toml"})), 1);
  EXPECT_EQ(out_, from_b);
}

TEST_F(LintDriver, IdenticalDiagnosticsFromASharedIncludeAreReportedOnce) {
  write("one.toml", std::string("include = [\"shared.toml\"]\n") + kGateway);
  write("two.toml", std::string("include = [\"shared.toml\"]\n") + kGateway);
  write("shared.toml", "[[rule]]\neffect = \"allow\"\nbogus = 1\n");
  EXPECT_EQ(lint(files({"one.toml", "two.toml"})), 1);
  std::size_t count = 0;
  for (auto at = out_.find("[unknown-key]"); at != std::string::npos;
       at = out_.find("[unknown-key]", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1u) << out_;
  EXPECT_NE(out_.find("shared.toml:3:1: error: "), std::string::npos) << out_;
  EXPECT_NE(out_.find("1 error in 3 files\n"), std::string::npos) << out_;
}

TEST_F(LintDriver, JsonReportsEveryDiagnostic) {
  write("gw.toml", std::string(kGateway) + "nonsense = 1\n");
  Options options = files({"gw.toml", "missing.toml"});
  options.format = OutputFormat::json;
  EXPECT_EQ(lint(options), 2);
  const auto document = nlohmann::json::parse(out_, nullptr, false);
  ASSERT_FALSE(document.is_discarded()) << out_;
  ASSERT_EQ(document.size(), 1u) << out_;
  ASSERT_EQ(document["diagnostics"].size(), 2u) << out_;
  const auto& first = document["diagnostics"][0];
  EXPECT_EQ(first["file"], "gw.toml");
  EXPECT_EQ(first["line"], 8);
  EXPECT_EQ(first["column"], 1);
  EXPECT_EQ(first["severity"], "error");
  EXPECT_EQ(first["rule"], "unknown-key");
  EXPECT_EQ(document["diagnostics"][1]["rule"], "io-error");
}

TEST_F(LintDriver, SarifCarriesTheToolVersion) {
  write("gw.toml", std::string(kGateway) + "nonsense = 1\n");
  Options options = files({"gw.toml"});
  options.format = OutputFormat::sarif;
  options.tool_version = "9.8.7";
  EXPECT_EQ(lint(options), 1);
  const auto log = nlohmann::json::parse(out_, nullptr, false);
  ASSERT_FALSE(log.is_discarded()) << out_;
  EXPECT_EQ(log["runs"][0]["tool"]["driver"]["version"], "9.8.7");
  const auto& result = log["runs"][0]["results"][0];
  EXPECT_EQ(result["ruleId"], "unknown-key");
  EXPECT_EQ(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "gw.toml");
  EXPECT_EQ(result["locations"][0]["physicalLocation"]["region"]["startLine"], 8);
}

TEST_F(LintDriver, ColourOnlyWhenAskedFor) {
  write("gw.toml", std::string(kGateway) + "nonsense = 1\n");
  Options options = files({"gw.toml"});
  options.color = ColorMode::always;
  EXPECT_EQ(lint(options), 1);
  EXPECT_NE(out_.find("\x1b[1;31merror:"), std::string::npos) << out_;
  // automatic: a string stream is not a terminal.
  std::ostringstream out, err;
  options.color = ColorMode::automatic;
  EXPECT_EQ(run(options, out, err), 1);
  EXPECT_EQ(out.str().find('\x1b'), std::string::npos);
}

TEST_F(LintDriver, PolicyTestsReportFailuresAndCounts) {
  write("policy.toml", kPolicy);
  write("cases.toml",
        "[[case]]\n"
        "name = \"reading is fine\"\n"
        "tool = \"get_issue\"\n"
        "backend = \"github\"\n"
        "principal = { subject = \"alice\" }\n"
        "expect = \"allow\"\n"
        "rule = \"read-only\"\n"
        "\n"
        "[[case]]\n"
        "name = \"deleting is allowed\"\n"
        "tool = \"delete_repo\"\n"
        "backend = \"github\"\n"
        "principal = { subject = \"alice\" }\n"
        "expect = \"allow\"\n"
        "\n"
        "[[case]]\n"
        "name = \"listing is denied\"\n"
        "tool = \"list_issues\"\n"
        "expect = \"deny\"\n");
  Options options = files({"policy.toml"});
  options.test_file = "cases.toml";
  EXPECT_EQ(lint(options), 1);
  EXPECT_EQ(out_,
            "cases.toml:9:1: error: policy test 'deleting is allowed' failed: expected allow, "
            "got deny by the default [policy-test-failed]\n"
            "    9 | [[case]]\n"
            "      | ^\n"
            "cases.toml:16:1: error: policy test 'listing is denied' failed: expected deny, got "
            "allow by rule 'read-only' (policy.toml:4:1) [policy-test-failed]\n"
            "   16 | [[case]]\n"
            "      | ^\n"
            "1 passed, 2 failed\n");

  options.format = OutputFormat::json;
  EXPECT_EQ(lint(options), 1);
  const auto document = nlohmann::json::parse(out_, nullptr, false);
  ASSERT_FALSE(document.is_discarded()) << out_;
  EXPECT_TRUE(document["diagnostics"].empty());
  EXPECT_EQ(document["passed"], 1);
  EXPECT_EQ(document["failed"], 2);
  ASSERT_EQ(document["tests"].size(), 3u);
  EXPECT_EQ(document["tests"][0]["name"], "reading is fine");
  EXPECT_EQ(document["tests"][0]["passed"], true);
  EXPECT_EQ(document["tests"][0]["rule"], "read-only");
  EXPECT_EQ(document["tests"][0]["expected_rule"], "read-only");
  EXPECT_EQ(document["tests"][1]["line"], 9);
  EXPECT_TRUE(document["tests"][1]["rule"].is_null());
  EXPECT_EQ(document["tests"][2]["actual"], "allow");

  options.format = OutputFormat::sarif;
  EXPECT_EQ(lint(options), 1);
  const auto log = nlohmann::json::parse(out_, nullptr, false);
  ASSERT_FALSE(log.is_discarded()) << out_;
  EXPECT_EQ(log["runs"][0]["results"].size(), 2u);
  EXPECT_EQ(log["runs"][0]["results"][0]["ruleId"], "policy-test-failed");
}

TEST_F(LintDriver, PassingPolicyTestsExitZero) {
  write("policy.toml", kPolicy);
  write("cases.toml",
        "[[case]]\nname = \"read\"\ntool = \"get_x\"\nprincipal = { subject = \"a\" }\n"
        "expect = \"allow\"\n\n"
        "[[case]]\nname = \"write\"\ntool = \"put_x\"\nexpect = \"deny\"\nrule = \"\"\n");
  Options options = files({"policy.toml"});
  options.test_file = "cases.toml";
  EXPECT_EQ(lint(options), 0);
  EXPECT_EQ(out_, "2 passed, 0 failed\n");
}

TEST_F(LintDriver, PolicyWithErrorsRunsNoTests) {
  write("policy.toml", "[[rule]]\neffect = \"maybe\"\n");
  write("cases.toml", "[[case]]\nname = \"x\"\ntool = \"t\"\nexpect = \"deny\"\n");
  Options options = files({"policy.toml"});
  options.test_file = "cases.toml";
  std::string err;
  EXPECT_EQ(lint(options, &err), 1);
  EXPECT_NE(out_.find("policy.toml:2:"), std::string::npos) << out_;
  EXPECT_EQ(out_.find("passed"), std::string::npos) << out_;
  EXPECT_NE(err.find("policy tests not run"), std::string::npos) << err;
  options.format = OutputFormat::json;
  EXPECT_EQ(lint(options), 1);
  const auto document = nlohmann::json::parse(out_, nullptr, false);
  ASSERT_FALSE(document.is_discarded()) << out_;
  EXPECT_FALSE(document.contains("tests"));
}

TEST_F(LintDriver, ErrorsInTheCasesFileFailTheRun) {
  write("policy.toml", kPolicy);
  write("cases.toml",
        "[[case]]\nname = \"fine\"\ntool = \"get_x\"\nprincipal = { subject = \"a\" }\n"
        "expect = \"allow\"\n\n"
        "[[case]]\nname = \"typo\"\ntool = \"get_x\"\nexpect = \"alow\"\n");
  Options options = files({"policy.toml"});
  options.test_file = "cases.toml";
  EXPECT_EQ(lint(options), 1);
  EXPECT_NE(out_.find("cases.toml:10:"), std::string::npos) << out_;
  EXPECT_NE(out_.find("1 passed, 0 failed\n"), std::string::npos) << out_;
  options.test_file = "no-such-cases.toml";
  EXPECT_EQ(lint(options), 2);
  EXPECT_NE(out_.find("no-such-cases.toml: error: "), std::string::npos) << out_;
}

constexpr const char* kCases =
    "[[case]]\n"
    "name = \"reading is fine\"\n"
    "tool = \"get_issue\"\n"
    "principal = { subject = \"alice\" }\n"
    "expect = \"allow\"\n"
    "rule = \"read-only\"\n";

// A policy test file named like any other file is recognised by its [[case]] tables and
// checked with the test loader; its cases are not run (there is no policy to run them on).
TEST_F(LintDriver, PolicyTestFilesAmongTheFilesAreCheckedAsTestFiles) {
  write("policy.toml", kPolicy);
  write("cases.toml", kCases);
  for (const bool strict : {false, true}) {
    Options options = files({"policy.toml", "cases.toml"});
    options.strict = strict;
    EXPECT_EQ(lint(options), 0) << out_;
    EXPECT_EQ(out_, "");
    EXPECT_EQ(err_, "");
  }
  EXPECT_EQ(lint(files({"cases.toml"})), 0) << out_;
  EXPECT_EQ(out_, "");

  // Its findings are reported like any other file's, and it counts as a checked file.
  write("bad-cases.toml", std::string(kCases) +
                              "\n[[case]]\nname = \"reading is fine\"\n"
                              "tool = \"get_x\"\nexpect = \"alow\"\n");
  EXPECT_EQ(lint(files({"policy.toml", "bad-cases.toml"})), 1);
  EXPECT_EQ(out_.rfind("bad-cases.toml:9:8: warning: a case named 'reading is fine' is already "
                       "defined at bad-cases.toml:2:8 [duplicate-case-name]\n",
                       0),
            0u)
      << out_;
  EXPECT_NE(out_.find("bad-cases.toml:11:10: error: 'expect': invalid value 'alow'; expected "
                      "'allow' or 'deny'; did you mean 'allow'? [invalid-value]\n"),
            std::string::npos)
      << out_;
  EXPECT_NE(out_.find("\n1 error, 1 warning in 2 files\n"), std::string::npos) << out_;
  EXPECT_EQ(out_.find("passed"), std::string::npos) << out_;

  Options json = files({"bad-cases.toml"});
  json.format = OutputFormat::json;
  EXPECT_EQ(lint(json), 1);
  const auto document = nlohmann::json::parse(out_, nullptr, false);
  ASSERT_FALSE(document.is_discarded()) << out_;
  ASSERT_EQ(document["diagnostics"].size(), 2u) << out_;
  EXPECT_EQ(document["diagnostics"][1]["rule"], "invalid-value");
  EXPECT_FALSE(document.contains("tests"));
}

TEST_F(LintDriver, CasesMixedIntoAConfigurationAreAnError) {
  write("gw.toml", std::string(kGateway) + "\n" + kCases);
  EXPECT_EQ(lint(files({"gw.toml"})), 1);
  EXPECT_EQ(out_,
            "gw.toml:9:3: error: 'case' does not belong in a configuration: policy decision test "
            "cases ([[case]]) go in a file of their own, used with `mcpgw lint --test CASES "
            "POLICY` [unknown-key]\n"
            "    9 | [[case]]\n"
            "      |   ^\n"
            "1 error in 1 file\n");
}

TEST_F(LintDriver, TestFileInPlaceOfThePolicyIsAUsageError) {
  write("policy.toml", kPolicy);
  write("cases.toml", kCases);
  Options swapped = files({"cases.toml"});
  swapped.test_file = "policy.toml";
  std::string err;
  EXPECT_EQ(lint(swapped, &err), 2);
  EXPECT_EQ(out_, "");
  EXPECT_NE(err.find("cases.toml holds test cases"), std::string::npos) << err;
  // The right way round still runs the cases.
  Options options = files({"policy.toml"});
  options.test_file = "cases.toml";
  EXPECT_EQ(lint(options), 0) << out_;
  EXPECT_EQ(out_, "1 passed, 0 failed\n");
}

TEST_F(LintDriver, UsageErrorsExitTwo) {
  std::string err;
  EXPECT_EQ(lint(Options{}, &err), 2);
  EXPECT_NE(err.find("no files"), std::string::npos) << err;
  Options options = files({"a.toml", "b.toml"});
  options.test_file = "cases.toml";
  EXPECT_EQ(lint(options, &err), 2);
  EXPECT_NE(err.find("exactly one"), std::string::npos) << err;
  EXPECT_EQ(out_, "");
}

TEST_F(LintDriver, UnwritableOutputIsAnIoError) {
  write("gw.toml", kGateway);
  std::ostringstream out, err;
  out.setstate(std::ios::badbit);
  EXPECT_EQ(run(files({"gw.toml"}), out, err), 2);
  EXPECT_NE(err.str().find("cannot write"), std::string::npos) << err.str();
}

TEST_F(LintDriver, HostileInputsNeverCrash) {
  const std::vector<std::string> inputs = {
      std::string("\0\xff\xfe[[[[", 8),
      std::string(100000, '['),
      "a = " + std::string(5000, '[') + std::string(5000, ']') + "\n",
      "x = \"" + std::string(200000, 'y') + "\n",
      "[server]\nlisten = \"\x1b[2J\"\n\xe2\x80\xae = 1\n",
      "include = [\"*\"]\n",
      "[[rule]]\neffect = \"allow\"\ntools = [\"re:(((((\"]\n",
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string name = "hostile" + std::to_string(i) + ".toml";
    write(name, inputs[i]);
    for (const auto format : {OutputFormat::text, OutputFormat::json, OutputFormat::sarif}) {
      Options options = files({name});
      options.format = format;
      const int status = lint(options);
      EXPECT_TRUE(status == 1 || status == 2) << name << " exit " << status << "\n" << out_;
      EXPECT_EQ(err_.find("internal error"), std::string::npos) << name << err_;
      if (format == OutputFormat::text) {
        EXPECT_EQ(out_.find('\x1b'), std::string::npos) << name;  // escaped, never raw
      } else {
        EXPECT_FALSE(nlohmann::json::parse(out_, nullptr, false).is_discarded()) << name;
      }
    }
  }
}

TEST_F(LintDriver, IncludingAnEndlessFileIsBounded) {
  if (!fs::exists("/dev/zero"))
    GTEST_SKIP() << "no /dev/zero";
  write("gw.toml", "include = [\"/dev/zero\"]\n");
  EXPECT_EQ(lint(files({"gw.toml"})), 1);
  EXPECT_NE(out_.find("gw.toml:1:12: error: "), std::string::npos) << out_;
}

}  // namespace
}  // namespace mcpgw::lint
