// inspect on the captures recorded by real tools (tests/fixtures/inspect/recorded/, made by
// record.sh): each is read through read_traffic and the decoders, paired and rendered as a
// timeline and as statistics, and compared with tests/fixtures/inspect/golden/recorded-*.
// MCPGW_UPDATE_GOLDEN=1 rewrites the goldens (after re-recording, for instance).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "inspect/inspect.hpp"
#include "tests/unit/golden.hpp"

namespace mcpgw::inspect {
namespace {

namespace fs = std::filesystem;

const fs::path kSourceDir{MCPGW_SOURCE_DIR};

// The paths in the output are the stable relative ones.
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

struct Result {
  int status = -1;
  std::string out;
  std::string err;
};

Result inspect(InspectOptions options) {
  InSourceDir in_source;
  std::ostringstream out, err;
  Result result;
  result.status = run_inspect(options, out, err);
  result.out = out.str();
  result.err = err.str();
  return result;
}

void expect_golden(const std::string& name, const Result& result) {
  const std::string transcript = "status " + std::to_string(result.status) + "\n" + result.out +
                                 "--- stderr ---\n" + result.err;
  testing::expect_golden_file(kSourceDir / "tests/fixtures/inspect/golden" / name, transcript);
}

struct Recording {
  const char* golden;  // stem of the golden files
  std::vector<std::string> inputs;
  // curl prints the responses only (-v adds request heads, never bodies): every answer there is
  // a response without request.
  bool has_requests = true;
};

// For gtest's messages (its fallback prints raw bytes, padding included).
void PrintTo(const Recording& recording, std::ostream* out) {
  *out << recording.golden;
}

const std::vector<Recording>& recordings() {
  static const std::vector<Recording> all = {
      {"curl-i", {"tests/fixtures/inspect/recorded/curl-i.txt"}, false},
      {"curl-v", {"tests/fixtures/inspect/recorded/curl-v.txt"}, false},
      {"pcap", {"tests/fixtures/inspect/recorded/session.pcap"}},
      {"pcapng", {"tests/fixtures/inspect/recorded/session.pcapng"}},
      {"har", {"tests/fixtures/inspect/recorded/playwright.har"}},
      {"gateway", {"tests/fixtures/inspect/recorded/gateway.capture.jsonl"}},
      {"stdio",
       {"tests/fixtures/inspect/recorded/stdio-client.ndjson",
        "tests/fixtures/inspect/recorded/stdio-server.ndjson"}},
  };
  return all;
}

class RecordedGolden : public ::testing::TestWithParam<Recording> {};

TEST_P(RecordedGolden, Timeline) {
  InspectOptions options;
  options.inputs = GetParam().inputs;
  const Result result = inspect(options);
  EXPECT_EQ(result.status, 0) << result.err;
  expect_golden(std::string("recorded-") + GetParam().golden + ".txt", result);
}

TEST_P(RecordedGolden, Stats) {
  InspectOptions options;
  options.inputs = GetParam().inputs;
  options.stats = true;
  const Result result = inspect(options);
  EXPECT_EQ(result.status, 0) << result.err;
  expect_golden(std::string("recorded-") + GetParam().golden + "-stats.txt", result);
}

// What every recording of a session with the fixture must show, independent of the goldens:
// initialize answered, and tool calls paired with their responses; from curl, the answers as
// responses without request, with their status and the session.
TEST_P(RecordedGolden, RequestsArePairedWithTheirResponses) {
  InspectOptions options;
  options.inputs = GetParam().inputs;
  options.format = OutputFormat::jsonl;
  const Result result = inspect(options);
  ASSERT_EQ(result.status, 0) << result.err;
  std::istringstream lines(result.out);
  int initialize_ok = 0, calls_answered = 0, orphans = 0, orphan_errors = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto exchange = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(exchange.is_object()) << line;
    EXPECT_NE(exchange["source"].get<std::string>().rfind("tests/fixtures/inspect/recorded/", 0),
              std::string::npos)
        << line;
    if (exchange["orphan"] == true) {
      ++orphans;
      orphan_errors += exchange["status"] == "error" ? 1 : 0;
    }
    if (exchange["method"] == "initialize" && exchange["status"] == "ok")
      ++initialize_ok;
    if (exchange["method"] == "tools/call" && exchange["status"] != "pending")
      ++calls_answered;
  }
  if (!GetParam().has_requests) {
    EXPECT_GE(orphans, 5) << result.out;
    EXPECT_GE(orphan_errors, 1) << result.out;
    return;
  }
  EXPECT_GE(initialize_ok, 1) << result.out;
  EXPECT_GE(calls_answered, 1) << result.out;
}

INSTANTIATE_TEST_SUITE_P(Inspect, RecordedGolden, ::testing::ValuesIn(recordings()),
                         [](const auto& param_info) {
                           std::string name = param_info.param.golden;
                           for (char& c : name) {
                             if (c == '-')
                               c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace mcpgw::inspect
