#include "cli/app.hpp"

#include <sstream>

#include <gtest/gtest.h>

namespace mcpgw::cli {
namespace {

int run_cli(const std::vector<std::string>& args, std::string* out_text = nullptr,
            std::string* err_text = nullptr) {
  std::ostringstream out, err;
  const int code = run(args, out, err);
  if (out_text) *out_text = out.str();
  if (err_text) *err_text = err.str();
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

TEST(Cli, MissingSubcommandIsAUsageError) { EXPECT_EQ(run_cli({}), kExitUsage); }

TEST(Cli, UnknownOptionIsAUsageError) { EXPECT_EQ(run_cli({"lint", "--bogus", "x"}), kExitUsage); }

TEST(Cli, PendingSubcommandsSaySoAndExitTwo) {
  for (const char* name : {"serve", "inspect", "replay"}) {
    std::string err;
    EXPECT_EQ(run_cli({name, "--config", "x.toml"}, nullptr, &err), kExitUsage) << name;
    EXPECT_NE(err.find("not built yet"), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace mcpgw::cli
