// run_replay end to end in-process, against the real mcpgw-fixture over stdio: what goes to
// `err` besides the report (the progress bar).
#include "replay/replay.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>

namespace mcpgw::replay {
namespace {

namespace fs = std::filesystem;

// A session recorded against the fixture as a split stdio transcript (client and server side).
const fs::path kRecorded = fs::path(MCPGW_SOURCE_DIR) / "tests/fixtures/inspect/recorded";

ReplayOptions options_for(bool progress) {
  ReplayOptions options;
  options.load.inputs = {(kRecorded / "stdio-client.ndjson").string(),
                         (kRecorded / "stdio-server.ndjson").string()};
  options.target.command = std::string(MCPGW_FIXTURE_BINARY) + " stdio";
  options.progress = progress;
  return options;
}

TEST(RunReplay, TheProgressBarEndsFullAndIsClearedBeforeTheReport) {
  std::ostringstream out;
  std::ostringstream err;
  ASSERT_EQ(run_replay(options_for(true), out, err), 0) << err.str() << out.str();
  const std::string drawn = err.str();
  // The last drawing is the full bar (always drawn, however fast the run), then the line is
  // blanked so that nothing of it stays on the terminal.
  const std::string full = "\r[" + std::string(30, '#') + "] ";
  const auto last = drawn.rfind(full);
  ASSERT_NE(last, std::string::npos) << drawn;
  const auto counts_end = drawn.find(" exchanges", last);
  ASSERT_NE(counts_end, std::string::npos) << drawn;
  const std::string counts = drawn.substr(last + full.size(), counts_end - last - full.size());
  const auto slash = counts.find('/');
  ASSERT_NE(slash, std::string::npos) << counts;
  EXPECT_EQ(counts.substr(0, slash), counts.substr(slash + 1)) << counts;
  EXPECT_NE(counts.substr(0, slash), "0");
  const std::size_t width = counts_end + std::string(" exchanges").size() - last - 1;
  EXPECT_TRUE(drawn.ends_with("\r" + std::string(width, ' ') + "\r")) << drawn;
  EXPECT_TRUE(out.str().ends_with("changed (0 breaking)\n")) << out.str();  // the report, whole

  std::ostringstream quiet_out;
  std::ostringstream quiet_err;
  ASSERT_EQ(run_replay(options_for(false), quiet_out, quiet_err), 0) << quiet_err.str();
  EXPECT_EQ(quiet_err.str().find('\r'), std::string::npos) << quiet_err.str();
  EXPECT_EQ(out.str().find('\r'), std::string::npos) << "the bar goes to err only";
}

}  // namespace
}  // namespace mcpgw::replay
