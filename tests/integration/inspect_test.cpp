// The real `mcpgw inspect` binary on captures recorded by real tools
// (tests/fixtures/inspect/recorded/): exit codes, bad input with and without --strict, colour
// on a terminal and NO_COLOR, --follow ended by SIGTERM, and the HTML page rendered by headless
// Chromium (screenshot and DOM). Every child is started here and killed by PID and reaped.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness.hpp"

namespace mcpgw::integration {
namespace {

namespace fs = std::filesystem;

const fs::path kRecorded = fs::path(MCPGW_SOURCE_DIR) / "tests/fixtures/inspect/recorded";

std::vector<std::string> inspect_args(std::vector<std::string> extra) {
  std::vector<std::string> args{MCPGW_BINARY, "inspect"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

class InspectBinary : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("inspect-it"); }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  fs::path dir_;
};

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> objects;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    objects.push_back(nlohmann::json::parse(line, nullptr, false));
  return objects;
}

TEST_F(InspectBinary, DecodesEveryRecordedFormat) {
  for (const char* file : {"curl-i.txt", "curl-v.txt", "session.pcap", "session.pcapng",
                           "playwright.har", "stdio-server.ndjson"}) {
    const Ran ran =
        run_to_end(inspect_args({"--format", "jsonl", (kRecorded / file).string()}), dir_);
    EXPECT_EQ(ran.status, 0) << file << ": " << ran.err;
    const auto exchanges = json_lines(ran.out);
    EXPECT_FALSE(exchanges.empty()) << file;
    for (const auto& exchange : exchanges) {
      ASSERT_TRUE(exchange.is_object()) << file;
      EXPECT_EQ(exchange["v"], 1);
    }
  }
  // Standard input as "-", and --stats as JSON.
  const Ran ran =
      run_to_end({"/bin/sh", "-c",
                  std::string("'") + MCPGW_BINARY + "' inspect --stats --format json - < '" +
                      (kRecorded / "curl-i.txt").string() + "'"},
                 dir_);
  ASSERT_EQ(ran.status, 0) << ran.err;
  const auto stats = nlohmann::json::parse(ran.out, nullptr, false);
  ASSERT_TRUE(stats.is_object()) << ran.out;
  EXPECT_GT(stats["requests"].get<int>(), 3);
  EXPECT_TRUE(stats["methods"].is_array());
}

TEST_F(InspectBinary, ExitCodesForMissingFilesAndUsageErrors) {
  const Ran missing = run_to_end(inspect_args({(dir_ / "nope.jsonl").string()}), dir_);
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("nope.jsonl"), std::string::npos) << missing.err;
  EXPECT_TRUE(missing.out.empty());

  const Ran bad_format = run_to_end(
      inspect_args({"--input-format", "xml", (kRecorded / "curl-i.txt").string()}), dir_);
  EXPECT_EQ(bad_format.status, 2) << bad_format.err;

  const Ran bad_output =
      run_to_end(inspect_args({"--format", "yaml", (kRecorded / "curl-i.txt").string()}), dir_);
  EXPECT_EQ(bad_output.status, 2);

  const Ran bad_time =
      run_to_end(inspect_args({"--since", "yesterday", (kRecorded / "curl-i.txt").string()}), dir_);
  EXPECT_EQ(bad_time.status, 2);
  EXPECT_NE(bad_time.err.find("not a time"), std::string::npos) << bad_time.err;

  const Ran help = run_to_end(inspect_args({"--help"}), dir_);
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--follow"), std::string::npos);
}

TEST_F(InspectBinary, MalformedRecordsAreReportedSkippedAndFatalUnderStrict) {
  // A real recording with one damaged line in the middle and a cut last line.
  const std::string recorded = read_file(kRecorded / "stdio-server.ndjson");
  const auto second_line = recorded.find('\n') + 1;
  const fs::path damaged = dir_ / "damaged.ndjson";
  write_file(damaged, recorded.substr(0, second_line) + "{\"jsonrpc\":\"2.0\",\"id\":\n" +
                          recorded.substr(second_line, recorded.size() - second_line - 20));

  const Ran lenient =
      run_to_end(inspect_args({"--stdio-direction", "s2c", damaged.string()}), dir_);
  EXPECT_EQ(lenient.status, 0) << lenient.err;
  EXPECT_NE(lenient.err.find(damaged.string() + ":2: "), std::string::npos) << lenient.err;
  EXPECT_NE(lenient.err.find("problems in the input, skipped"), std::string::npos) << lenient.err;
  EXPECT_FALSE(lenient.out.empty());

  const Ran strict =
      run_to_end(inspect_args({"--strict", "--stdio-direction", "s2c", damaged.string()}), dir_);
  EXPECT_EQ(strict.status, 1);
  EXPECT_NE(strict.err.find(damaged.string() + ":2: "), std::string::npos) << strict.err;
  EXPECT_NE(strict.err.find("--strict"), std::string::npos) << strict.err;
}

TEST_F(InspectBinary, ColourOnlyOnATerminalAndNotWithNoColor) {
  if (!fs::exists("/usr/bin/script"))
    GTEST_SKIP() << "script(1) is needed for a pseudo-terminal";
  const std::string command =
      std::string("'") + MCPGW_BINARY + "' inspect '" + (kRecorded / "session.pcap").string() + "'";
  const Ran piped =
      run_to_end(inspect_args({(kRecorded / "session.pcap").string()}), dir_, {"NO_COLOR"});
  ASSERT_EQ(piped.status, 0) << piped.err;
  EXPECT_EQ(piped.out.find('\x1b'), std::string::npos) << "no colour into a pipe";

  const Ran terminal =
      run_to_end({"/usr/bin/script", "-qec", command, "/dev/null"}, dir_, {"NO_COLOR"});
  ASSERT_EQ(terminal.status, 0) << terminal.err;
  EXPECT_NE(terminal.out.find("\x1b[32mok"), std::string::npos) << terminal.out;

  const Ran no_color =
      run_to_end({"/usr/bin/script", "-qec", command, "/dev/null"}, dir_, {"NO_COLOR=1"});
  ASSERT_EQ(no_color.status, 0);
  EXPECT_EQ(no_color.out.find("\x1b["), std::string::npos) << no_color.out;
  EXPECT_NE(no_color.out.find("initialize"), std::string::npos);

  const Ran forced =
      run_to_end(inspect_args({"--color", "always", (kRecorded / "session.pcap").string()}), dir_,
                 {"NO_COLOR=1"});
  EXPECT_NE(forced.out.find("\x1b["), std::string::npos);
}

TEST_F(InspectBinary, FollowPrintsWhatArrivesAndStopsCleanlyOnSigterm) {
  const std::string recorded = read_file(kRecorded / "stdio-server.ndjson");
  std::vector<std::string> lines;
  std::istringstream in(recorded);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line + "\n");
  ASSERT_GE(lines.size(), 4u);
  const fs::path growing = dir_ / "growing.ndjson";
  write_file(growing, lines[0]);
  Child child({MCPGW_BINARY, "inspect", "--follow", "--format", "jsonl", "--stdio-direction", "s2c",
               growing.string()},
              dir_ / "follow.err");
  const auto first = child.read_line(20s);
  ASSERT_TRUE(first) << child.stderr_text();
  EXPECT_TRUE(nlohmann::json::parse(*first, nullptr, false).is_object()) << *first;
  {
    std::ofstream append(growing, std::ios::binary | std::ios::app);
    for (std::size_t i = 1; i < lines.size(); ++i)
      append << lines[i];
  }
  const auto more = child.read_line(20s);
  ASSERT_TRUE(more) << "appended lines were not picked up; " << child.stderr_text();
  const int status = child.stop(10s, SIGTERM);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << child.stderr_text();
}

// A bounded Chromium run, killed by PID at the deadline.
Ran chromium(const std::vector<std::string>& extra, const fs::path& dir) {
  std::vector<std::string> args{"/usr/bin/chromium",
                                "--headless=new",
                                "--no-sandbox",
                                "--disable-gpu",
                                "--disable-dev-shm-usage",
                                "--no-first-run",
                                "--user-data-dir=" + (dir / "chromium-profile").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_to_end(args, dir, {}, 90s);
}

TEST_F(InspectBinary, HtmlPageRendersInHeadlessChromium) {
  const fs::path page = dir_ / "waterfall.html";
  const Ran ran =
      run_to_end(inspect_args({"--html", page.string(), (kRecorded / "session.pcap").string(),
                               (kRecorded / "playwright.har").string()}),
                 dir_);
  ASSERT_EQ(ran.status, 0) << ran.err;
  EXPECT_TRUE(ran.out.empty());
  const std::string html = read_file(page);
  ASSERT_NE(html.find("<!DOCTYPE html>"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos) << "no external resources";
  if (!fs::exists("/usr/bin/chromium"))
    GTEST_SKIP() << "chromium is not installed";

  const Ran dom = chromium({"--dump-dom", "file://" + page.string()}, dir_);
  ASSERT_EQ(dom.status, 0) << dom.err;
  // The rows exist only if the page's script ran and built them.
  std::size_t rows = 0;
  for (auto at = dom.out.find("class=\"row status-"); at != std::string::npos;
       at = dom.out.find("class=\"row status-", at + 1))
    ++rows;
  EXPECT_GE(rows, 5u) << dom.out.substr(0, 2000);
  EXPECT_NE(dom.out.find("<section class=\"session\">"), std::string::npos);
  EXPECT_NE(dom.out.find("tools/call"), std::string::npos);

  const fs::path png = dir_ / "waterfall.png";
  const Ran shot = chromium({"--screenshot=" + png.string(), "--window-size=1200,800",
                             "--hide-scrollbars", "file://" + page.string()},
                            dir_);
  ASSERT_EQ(shot.status, 0) << shot.err;
  ASSERT_TRUE(fs::exists(png)) << shot.err;
  EXPECT_GT(fs::file_size(png), 20'000u) << "a blank page compresses to a few KiB";
  const std::string bytes = read_file(png);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // For people: the lead looks at this one.
  std::error_code ignored;
  fs::copy_file(png, "/tmp/inspect-html.png", fs::copy_options::overwrite_existing, ignored);
}

}  // namespace
}  // namespace mcpgw::integration
