// The capture writer: a header opens every file (new, appended to, rotated), records land in
// order as valid JSON lines, credentials and configured paths are redacted, a message that
// cannot be redacted is never written, rotation keeps max_files, a full queue drops and marks
// the gap in the file, and flush_and_close writes everything queued. The writer thread is
// paused through CaptureWriterTestAccess, so overflow is deterministic.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gateway/capture/capture_writer_testing.hpp"
#include "gateway/capture/recorder.hpp"
#include "gateway/capture/redact.hpp"

namespace mcpgw::capture {
namespace {

namespace fs = std::filesystem;
using mcp::capture::Record;
using nlohmann::json;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "mcpgw-capture-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

std::vector<json> records_of(const std::string& path) {
  std::vector<json> records;
  for (const auto& line : lines_of(path))
    records.push_back(json::parse(line));  // every line must be valid JSON
  return records;
}

Record message(int n, std::string body = {}) {
  Record record;
  record.time_us = 1000 + n;
  record.leg = mcp::traffic::Leg::client;
  record.transport = mcp::traffic::Transport::streamable_http;
  record.message =
      body.empty() ? R"({"jsonrpc":"2.0","method":"n","params":{"n":)" + std::to_string(n) + "}}"
                   : std::move(body);
  return record;
}

std::unique_ptr<CaptureWriter> open_writer(const config::CaptureConfig& config) {
  std::string error;
  auto writer = CaptureWriter::open(config, "9.9.9", error);
  EXPECT_NE(writer, nullptr) << error;
  return writer;
}

config::CaptureConfig config_for(const std::string& path) {
  config::CaptureConfig config;
  config.enabled = true;
  config.path = path;
  return config;
}

// Runs until `done` holds or 10 s pass.
template <class Predicate>
bool wait_until(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

TEST(CaptureWriter, WritesAHeaderThenEveryRecordInOrderIntoAPrivateFile) {
  TempDir dir;
  const auto path = dir / "c.jsonl";
  auto writer = open_writer(config_for(path));
  for (int n = 0; n < 1000; ++n)
    writer->record(message(n));
  writer->flush_and_close();
  const auto records = records_of(path);
  ASSERT_EQ(records.size(), 1001u);
  EXPECT_EQ(records[0]["type"], "header");
  EXPECT_EQ(records[0]["format"], "mcpgw-capture");
  EXPECT_EQ(records[0]["version"], 1);
  EXPECT_EQ(records[0]["gateway"], "9.9.9");
  EXPECT_EQ(records[0]["file_index"], 0);
  for (int n = 0; n < 1000; ++n) {
    const auto& record = records[static_cast<std::size_t>(n) + 1];
    EXPECT_EQ(record["type"], "message");
    EXPECT_EQ(record["ts_us"], 1000 + n);
    EXPECT_EQ(record["message"]["params"]["n"], n);
  }
  const auto counters = writer->counters();
  EXPECT_EQ(counters.written, 1000u);
  EXPECT_EQ(counters.dropped, 0u);
  struct stat status {};
  ASSERT_EQ(::stat(path.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0600u);
}

TEST(CaptureWriter, RecordsAfterCloseAreCountedAsDropped) {
  TempDir dir;
  auto writer = open_writer(config_for(dir / "c.jsonl"));
  writer->flush_and_close();
  writer->record(message(1));
  writer->flush_and_close();  // idempotent
  EXPECT_EQ(writer->counters().dropped, 1u);
  EXPECT_EQ(lines_of(dir / "c.jsonl").size(), 1u);
}

TEST(CaptureWriter, AppendingStartsWithAHeaderOnALineOfItsOwn) {
  TempDir dir;
  const auto path = dir / "c.jsonl";
  {
    auto writer = open_writer(config_for(path));
    writer->record(message(1));
  }
  {
    // A SIGKILL left half a line behind.
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << R"({"type":"message","ts_us":)";
  }
  {
    auto writer = open_writer(config_for(path));
    writer->record(message(2));
  }
  const auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(json::parse(lines[0])["type"], "header");
  EXPECT_EQ(json::parse(lines[1])["message"]["params"]["n"], 1);
  EXPECT_EQ(lines[2], R"({"type":"message","ts_us":)");
  EXPECT_EQ(json::parse(lines[3])["type"], "header");
  EXPECT_EQ(json::parse(lines[4])["message"]["params"]["n"], 2);
}

TEST(CaptureWriter, RotatesBySizeKeepingMaxFilesEachWithAHeader) {
  TempDir dir;
  const auto path = dir / "c.jsonl";
  auto config = config_for(path);
  config.max_file_bytes = 1000;
  config.max_files = 2;
  auto writer = open_writer(config);
  for (int n = 0; n < 60; ++n)
    writer->record(message(n));
  writer->flush_and_close();
  const auto counters = writer->counters();
  EXPECT_GE(counters.rotated, 3u);
  EXPECT_EQ(counters.written, 60u);
  EXPECT_TRUE(fs::exists(path + ".1"));
  EXPECT_TRUE(fs::exists(path + ".2"));
  EXPECT_FALSE(fs::exists(path + ".3"));
  int last_n = 60;
  std::uint64_t last_index = counters.rotated + 1;
  // Newest first: PATH, PATH.1, PATH.2 hold consecutive runs of records.
  for (const auto& file : {path, path + ".1", path + ".2"}) {
    EXPECT_LE(fs::file_size(file), 1000u) << file;
    const auto records = records_of(file);
    ASSERT_GE(records.size(), 2u) << file;
    EXPECT_EQ(records[0]["type"], "header");
    EXPECT_EQ(records[0]["file_index"].get<std::uint64_t>(), last_index - 1) << file;
    last_index = records[0]["file_index"].get<std::uint64_t>();
    EXPECT_EQ(records.back()["message"]["params"]["n"], last_n - 1) << file;
    last_n = records[1]["message"]["params"]["n"].get<int>();
    for (std::size_t i = 1; i < records.size(); ++i)
      EXPECT_EQ(records[i]["type"], "message");
  }
}

TEST(CaptureWriter, AMessageLargerThanTheFileLimitStillGetsAFileOfItsOwn) {
  TempDir dir;
  const auto path = dir / "c.jsonl";
  auto config = config_for(path);
  config.max_file_bytes = 300;
  config.max_files = 1;
  auto writer = open_writer(config);
  writer->record(message(1, R"({"big":")" + std::string(1000, 'x') + "\"}"));
  writer->record(message(2));
  writer->flush_and_close();
  EXPECT_EQ(records_of(path + ".1").size(), 2u);
  const auto current = records_of(path);
  ASSERT_EQ(current.size(), 2u);
  EXPECT_EQ(current[1]["message"]["params"]["n"], 2);
}

TEST(CaptureWriter, AFullQueueDropsCountsAndMarksTheGapWhereItHappened) {
  TempDir dir;
  const auto path = dir / "c.jsonl";
  auto config = config_for(path);
  config.queue_records = 2;
  auto writer = open_writer(config);
  CaptureWriterTestAccess::set_paused(*writer, true);
  for (int n = 0; n < 5; ++n)
    writer->record(message(n));  // 0 and 1 queued, 2..4 dropped
  EXPECT_EQ(writer->counters().dropped, 3u);
  CaptureWriterTestAccess::set_paused(*writer, false);
  ASSERT_TRUE(wait_until([&] { return writer->counters().written == 2; }));
  CaptureWriterTestAccess::set_paused(*writer, true);
  writer->record(message(5));
  writer->record(message(6));
  writer->record(message(7));  // dropped
  writer->record(message(8));  // dropped
  CaptureWriterTestAccess::set_paused(*writer, false);
  ASSERT_TRUE(wait_until([&] { return writer->counters().written == 4; }));
  writer->record(message(9));
  writer->flush_and_close();
  const auto records = records_of(path);
  std::vector<std::string> shape;
  for (const auto& record : records) {
    if (record["type"] == "message")
      shape.push_back(std::to_string(record["message"]["params"]["n"].get<int>()));
    else if (record["type"] == "dropped")
      shape.push_back("dropped " + std::to_string(record["count"].get<int>()));
    else
      shape.push_back(record["type"]);
  }
  EXPECT_EQ(shape, (std::vector<std::string>{"header", "0", "1", "dropped 3", "5", "6", "dropped 2",
                                             "9"}));
  const auto counters = writer->counters();
  EXPECT_EQ(counters.dropped, 5u);
  EXPECT_EQ(counters.written, 5u);
}

TEST(CaptureWriter, CredentialAndConfiguredHeadersAreRedacted) {
  TempDir dir;
  const auto path = dir / "c.jsonl";
  auto config = config_for(path);
  config.redact_headers = {"X-Tenant"};
  auto writer = open_writer(config);
  EXPECT_TRUE(writer->wants_header("x-tenant"));
  EXPECT_TRUE(writer->wants_header("authorization"));
  EXPECT_TRUE(writer->wants_header("content-type"));
  EXPECT_FALSE(writer->wants_header("user-agent"));
  auto record = message(1);
  record.http_headers = {{"authorization", "Bearer secret-token"},
                         {"cookie", "sid=1"},
                         {"x-api-key", "k1"},
                         {"x-goog-api-key", "k2"},
                         {"x-tenant", "acme"},
                         {"content-type", "application/json"},
                         {"mcp-session-id", "abc"}};
  writer->record(std::move(record));
  writer->flush_and_close();
  const std::string text = read_file(path);
  for (const char* secret : {"secret-token", "sid=1", "k1", "k2", "acme"})
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
  const auto headers = records_of(path)[1]["http_headers"];
  EXPECT_EQ(headers["authorization"], "[redacted]");
  EXPECT_EQ(headers["cookie"], "[redacted]");
  EXPECT_EQ(headers["x-api-key"], "[redacted]");
  EXPECT_EQ(headers["x-goog-api-key"], "[redacted]");
  EXPECT_EQ(headers["x-tenant"], "[redacted]");
  EXPECT_EQ(headers["content-type"], "application/json");
  EXPECT_EQ(headers["mcp-session-id"], "abc");
}

TEST(CaptureWriter, ConfiguredPathsAreRedactedAndKeyOrderIsKept) {
  TempDir dir;
  const auto path = dir / "c.jsonl";
  auto config = config_for(path);
  config.redact_paths = {"params.arguments.password", "result.content.*.text", "params.*.token"};
  auto writer = open_writer(config);
  writer->record(
      message(1, R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"login",)"
                 R"("arguments":{"user":"u","password":"hunter2"},"z":{"token":"t1"}}})"));
  writer->record(
      message(2, R"({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"s1"},)"
                 R"({"type":"text","text":"s2"},{"type":"image"}]}})"));
  const std::string untouched = R"({"jsonrpc":"2.0","id":2,"result":{"zeta":1,"alpha":2}})";
  writer->record(message(3, untouched));
  writer->flush_and_close();
  const auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 4u);
  for (const char* secret : {"hunter2", "t1", "s1", "s2"})
    EXPECT_EQ(read_file(path).find(secret), std::string::npos) << secret;
  EXPECT_NE(lines[1].find(R"("message":{"jsonrpc":"2.0","id":1,"method":"tools/call",)"
                          R"("params":{"name":"login","arguments":{"user":"u",)"
                          R"("password":"[redacted]"},"z":{"token":"[redacted]"}}})"),
            std::string::npos)
      << lines[1];
  const auto content = json::parse(lines[2])["message"]["result"]["content"];
  EXPECT_EQ(content[0]["text"], "[redacted]");
  EXPECT_EQ(content[1]["text"], "[redacted]");
  EXPECT_FALSE(content[2].contains("text"));
  EXPECT_NE(lines[3].find(untouched), std::string::npos);  // nothing to redact: byte for byte
}

TEST(CaptureWriter, AMessageThatCannotBeParsedForRedactionIsNeverWritten) {
  TempDir dir;
  const auto path = dir / "c.jsonl";
  auto config = config_for(path);
  config.redact_paths = {"params.secret"};
  auto writer = open_writer(config);
  const std::string truncated = R"({"params":{"secret":"s3cr3t")";
  writer->record(message(1, truncated));
  writer->flush_and_close();
  EXPECT_EQ(read_file(path).find("s3cr3t"), std::string::npos);
  const auto records = records_of(path);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1]["message"], "[unparseable: " + std::to_string(truncated.size()) + " bytes]");
  EXPECT_EQ(writer->counters().unredactable, 1u);
  EXPECT_EQ(writer->counters().written, 1u);
}

TEST(CaptureWriter, OpenFailsWithTheReason) {
  TempDir dir;
  std::string error;
  EXPECT_EQ(CaptureWriter::open(config_for(dir / "missing/c.jsonl"), "1", error), nullptr);
  EXPECT_NE(error.find("cannot open capture file"), std::string::npos) << error;
  EXPECT_EQ(CaptureWriter::open(config_for("/dev/null"), "1", error), nullptr);
  EXPECT_NE(error.find("not a regular file"), std::string::npos) << error;
  auto config = config_for(dir / "c.jsonl");
  config.redact_paths = {"a..b"};
  EXPECT_EQ(CaptureWriter::open(config, "1", error), nullptr);
  EXPECT_NE(error.find("a..b"), std::string::npos) << error;
}

TEST(CaptureRedactPath, Syntax) {
  std::string error;
  EXPECT_EQ(parse_redact_path("params.arguments.password", error),
            (RedactPath{"params", "arguments", "password"}));
  EXPECT_EQ(parse_redact_path("result.*.text", error), (RedactPath{"result", "*", "text"}));
  EXPECT_EQ(parse_redact_path("*", error), (RedactPath{"*"}));
  for (const char* bad : {"", ".a", "a.", "a..b", "a.b*", "*x"}) {
    EXPECT_FALSE(parse_redact_path(bad, error).has_value()) << bad;
    EXPECT_FALSE(error.empty());
  }
}

TEST(CaptureRedact, CredentialHeaderNames) {
  for (const char* name : {"authorization", "proxy-authorization", "cookie", "set-cookie",
                           "x-api-key", "api-key", "x-auth-token", "x-goog-api-key", "apikey"})
    EXPECT_TRUE(is_credential_header(name)) << name;
  for (const char* name : {"content-type", "accept", "mcp-session-id", "mcp-protocol-version",
                           "last-event-id", "user-agent"})
    EXPECT_FALSE(is_credential_header(name)) << name;
}

}  // namespace
}  // namespace mcpgw::capture
