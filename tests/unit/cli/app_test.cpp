#include "cli/app.hpp"

#include <sstream>

#include <gtest/gtest.h>

namespace mcpgw::cli {
namespace {

int run_cli(const std::vector<std::string>& args, std::string* out_text = nullptr,
            std::string* err_text = nullptr) {
  std::ostringstream out, err;
  const int code = run(args, out, err);
  if (out_text)
    *out_text = out.str();
  if (err_text)
    *err_text = err.str();
  return code;
}

TEST(Cli, VersionPrintsNameAndVersion) {
  std::string out;
  EXPECT_EQ(run_cli({"--version"}, &out), kExitOk);
  EXPECT_NE(out.find("mcpgw "), std::string::npos);
}

TEST(Cli, HelpListsEverySubcommand) {
  std::string out;
  EXPECT_EQ(run_cli({"--help"}, &out), kExitOk);
  for (const char* name : {"serve", "inspect", "replay", "lint"}) {
    EXPECT_NE(out.find(name), std::string::npos) << name;
  }
}

TEST(Cli, MissingSubcommandIsAUsageError) {
  EXPECT_EQ(run_cli({}), kExitUsage);
}

TEST(Cli, UnknownOptionIsAUsageError) {
  EXPECT_EQ(run_cli({"lint", "--bogus", "x"}), kExitUsage);
}

TEST(Cli, ReplayNeedsATargetAndAnInput) {
  std::string err;
  EXPECT_EQ(run_cli({"replay", "/nonexistent/recording.jsonl"}, nullptr, &err), kExitUsage);
  EXPECT_NE(err.find("no target"), std::string::npos) << err;
  err.clear();
  EXPECT_EQ(run_cli({"replay", "--jobs", "0", "--target-command", "x", "r.jsonl"}, nullptr, &err),
            kExitUsage);
  EXPECT_NE(err.find("--jobs"), std::string::npos) << err;
  err.clear();
  EXPECT_EQ(run_cli({"replay", "--fail-on", "sometimes", "r.jsonl"}, nullptr, &err), kExitUsage);
  EXPECT_NE(err.find("--fail-on"), std::string::npos) << err;
}

TEST(Cli, LintHelpShowsPlainChoicesAndTheExitStatus) {
  std::string out;
  EXPECT_EQ(run_cli({"lint", "--help"}, &out), kExitOk);
  EXPECT_NE(out.find("--format text|json|sarif"), std::string::npos) << out;
  EXPECT_NE(out.find("--color auto|always|never"), std::string::npos) << out;
  EXPECT_NE(out.find("--test CASES"), std::string::npos) << out;
  EXPECT_NE(out.find("--strict"), std::string::npos) << out;
  EXPECT_NE(out.find("Exit status"), std::string::npos) << out;
  EXPECT_EQ(out.find("ENUM"), std::string::npos) << out;
  EXPECT_EQ(out.find("->"), std::string::npos) << out;
}

TEST(Cli, LintRejectsUnknownFormatAndColorValues) {
  std::string err;
  EXPECT_EQ(run_cli({"lint", "--format", "xml", "a.toml"}, nullptr, &err), kExitUsage);
  EXPECT_NE(err.find("xml"), std::string::npos) << err;
  EXPECT_EQ(run_cli({"lint", "--color", "sometimes", "a.toml"}), kExitUsage);
}

TEST(Cli, LintNeedsAFile) {
  std::string err;
  EXPECT_EQ(run_cli({"lint"}, nullptr, &err), kExitUsage);
  EXPECT_NE(err.find("files"), std::string::npos) << err;
}

TEST(Cli, LintTestWantsExactlyOnePolicyFile) {
  std::string err;
  EXPECT_EQ(run_cli({"lint", "--test", "cases.toml", "a.toml", "b.toml"}, nullptr, &err),
            kExitUsage);
  EXPECT_NE(err.find("exactly one"), std::string::npos) << err;
}

const CommandDescription* find_command(const std::vector<CommandDescription>& commands,
                                       const std::string& name) {
  for (const auto& command : commands) {
    if (command.name == name)
      return &command;
  }
  return nullptr;
}

const OptionDescription* find_option(const CommandDescription& command, const std::string& name) {
  for (const auto& option : command.options) {
    for (const auto& option_name : option.names) {
      if (option_name == name)
        return &option;
    }
  }
  return nullptr;
}

TEST(Cli, InspectUsageErrorsExitTwo) {
  std::string out, err;
  EXPECT_EQ(run_cli({"inspect", "--help"}, &out), kExitOk);
  EXPECT_NE(out.find("--format timeline|jsonl|json"), std::string::npos) << out;
  EXPECT_NE(out.find("--input-format auto|capture|har|http|pcap|stdio"), std::string::npos);
  EXPECT_EQ(run_cli({"inspect", "--input-format", "xml", "x"}), kExitUsage);
  EXPECT_EQ(run_cli({"inspect", "--bogus", "x"}), kExitUsage);
  EXPECT_EQ(run_cli({"inspect", "--until", "2026-13-01T00:00:00Z", "x"}, nullptr, &err),
            kExitUsage);
  EXPECT_NE(err.find("not a time"), std::string::npos) << err;
  err.clear();
  EXPECT_EQ(run_cli({"inspect", "/nonexistent/capture.jsonl"}, nullptr, &err), kExitFindings);
  EXPECT_NE(err.find("/nonexistent/capture.jsonl"), std::string::npos) << err;
}

TEST(Cli, DescribeListsTheTopLevelThenEverySubcommand) {
  const auto commands = describe_cli();
  ASSERT_EQ(commands.size(), 5u);
  EXPECT_EQ(commands[0].name, "");
  EXPECT_NE(find_option(commands[0], "--version"), nullptr);
  const auto* help = find_option(commands[0], "--help");
  ASSERT_NE(help, nullptr);
  EXPECT_EQ(help->names, (std::vector<std::string>{"-h", "--help"}));
  EXPECT_FALSE(help->takes_value);
  for (const char* name : {"lint", "serve", "inspect", "replay"}) {
    const auto* command = find_command(commands, name);
    ASSERT_NE(command, nullptr) << name;
    EXPECT_FALSE(command->summary.empty()) << name;
    EXPECT_NE(find_option(*command, "--help"), nullptr) << name;
  }
}

TEST(Cli, ServeRefusesAConfigurationWithErrorsBeforeStartingAnything) {
  std::string err;
  EXPECT_EQ(run_cli({"serve", "--config", "/nonexistent/gateway.toml"}, nullptr, &err), 1);
  EXPECT_NE(err.find("nothing was started"), std::string::npos) << err;
  EXPECT_EQ(run_cli({"serve", "--log-level", "loud"}), kExitUsage);
}

TEST(Cli, DescribeReportsLintOptionsWithTheirValues) {
  const auto commands = describe_cli();
  const auto* lint = find_command(commands, "lint");
  ASSERT_NE(lint, nullptr);
  std::vector<std::string> names;
  for (const auto& option : lint->options)
    names.push_back(option.names.back());
  EXPECT_EQ(names, (std::vector<std::string>{"--help", "files", "--format", "--strict", "--test",
                                             "--color"}));

  const auto* files = find_option(*lint, "files");
  ASSERT_NE(files, nullptr);
  EXPECT_TRUE(files->positional);
  EXPECT_EQ(files->value_name, "FILE");

  const auto* format = find_option(*lint, "--format");
  ASSERT_NE(format, nullptr);
  EXPECT_TRUE(format->takes_value);
  EXPECT_EQ(format->values, (std::vector<std::string>{"text", "json", "sarif"}));
  EXPECT_EQ(format->value_name, "text|json|sarif");

  const auto* color = find_option(*lint, "--color");
  ASSERT_NE(color, nullptr);
  EXPECT_EQ(color->values, (std::vector<std::string>{"auto", "always", "never"}));

  const auto* strict = find_option(*lint, "--strict");
  ASSERT_NE(strict, nullptr);
  EXPECT_FALSE(strict->takes_value);
  EXPECT_TRUE(strict->values.empty());

  const auto* test = find_option(*lint, "--test");
  ASSERT_NE(test, nullptr);
  EXPECT_TRUE(test->takes_value);
  EXPECT_EQ(test->value_name, "CASES");
}

}  // namespace
}  // namespace mcpgw::cli
