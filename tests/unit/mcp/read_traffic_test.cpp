#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "mcp/traffic.hpp"
#include "tests/unit/mcp/decode_test_support.hpp"

namespace mcpgw::mcp::traffic {
namespace {

using testing::CollectingSink;

const std::string kCaptureLine =
    R"({"type":"message","ts_us":1,"leg":"client","direction":"client->server","message":{"jsonrpc":"2.0","id":1,"method":"ping"}})";

TEST(DetectFormat, EachFormat) {
  EXPECT_EQ(detect_format(R"({"type":"header","format":"mcpgw-capture","version":1})"
                          "\n"),
            Format::capture);
  EXPECT_EQ(detect_format(kCaptureLine + "\n"), Format::capture);
  EXPECT_EQ(detect_format("{\n  \"log\": {\n    \"version\": \"1.2\",\n    \"entries\": []"),
            Format::har);
  EXPECT_EQ(detect_format("\xEF\xBB\xBF{\"log\":{\"entries\":[]}}"), Format::har);
  EXPECT_EQ(detect_format(std::string("\xD4\xC3\xB2\xA1\x02\x00\x04\x00", 8)), Format::pcap);
  EXPECT_EQ(detect_format(std::string("\x0A\x0D\x0D\x0A\x1C\x00\x00\x00", 8)), Format::pcap);
  EXPECT_EQ(detect_format("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"),
            Format::http_transcript);
  EXPECT_EQ(detect_format("POST /mcp HTTP/1.1\r\nHost: x\r\n\r\n"), Format::http_transcript);
  EXPECT_EQ(detect_format("*   Trying 127.0.0.1:8080...\n* Connected\n> POST /mcp HTTP/1.1\n"),
            Format::http_transcript);
  EXPECT_EQ(detect_format("> POST /mcp HTTP/1.1\n"), Format::http_transcript);
  EXPECT_EQ(detect_format(R"({"jsonrpc":"2.0","id":0,"method":"initialize"})"
                          "\n"),
            Format::stdio);
  EXPECT_EQ(detect_format(R"([{"jsonrpc":"2.0","id":0,"method":"ping"}])"), Format::stdio);
  EXPECT_EQ(detect_format(R"(> {"jsonrpc":"2.0","id":0,"method":"ping"})"), Format::stdio);
  EXPECT_EQ(detect_format(R"(2024-05-01T10:00:00Z < {"jsonrpc":"2.0","id":0,"result":{}})"),
            Format::stdio);
  // A capture record longer than the detection window.
  EXPECT_EQ(detect_format(R"({"type":"message","ts_us":1,"message":{"jsonrpc":"2.0","params":")" +
                          std::string(kDetectBytes, 'x')),
            Format::capture);
}

TEST(DetectFormat, GarbageAndAmbiguous) {
  EXPECT_FALSE(detect_format(""));
  EXPECT_FALSE(detect_format("   \n\n"));
  EXPECT_FALSE(detect_format("hello world\n"));
  EXPECT_FALSE(detect_format("{\"a\":1}\n"));
  EXPECT_FALSE(detect_format("{\"jsonrpc\":\"2.0\",\"id\":"));  // cut short, not at the window
  EXPECT_FALSE(detect_format("> hello\n"));
  EXPECT_FALSE(detect_format("<html><body></body></html>"));
  EXPECT_FALSE(detect_format(std::string("\x00\x01\x02\x03", 4)));
  EXPECT_FALSE(detect_format("[1,2,3]\n"));
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    path_ =
        (std::filesystem::temp_directory_path() /
         ("mcpgw-read-traffic-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++)))
            .string();
    write(content);
  }
  ~TempFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  void write(const std::string& content, bool append = false) const {
    std::ofstream out(path_, append ? std::ios::binary | std::ios::app : std::ios::binary);
    out << content;
  }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

TEST(ReadTraffic, ReadsADetectedFile) {
  std::string text;
  for (int i = 0; i < 20000; ++i) {
    text += kCaptureLine + "\n";  // > 2 MiB: several chunks
  }
  TempFile file(text);
  CollectingSink sink;
  EXPECT_EQ(read_traffic(file.path(), ReadOptions{}, sink), std::nullopt);
  EXPECT_EQ(sink.events.size(), 20000u);
  EXPECT_TRUE(sink.problems.empty());
  EXPECT_EQ(sink.events.back().where.source, file.path());
  EXPECT_EQ(sink.events.back().where.line, 20000u);
}

TEST(ReadTraffic, Errors) {
  CollectingSink sink;
  auto missing = read_traffic("/nonexistent/mcpgw/file", ReadOptions{}, sink);
  ASSERT_TRUE(missing.has_value());
  EXPECT_NE(missing->find("cannot open /nonexistent/mcpgw/file"), std::string::npos);
  TempFile garbage("hello\n");
  auto unknown = read_traffic(garbage.path(), ReadOptions{}, sink);
  ASSERT_TRUE(unknown.has_value());
  EXPECT_NE(unknown->find("--input-format"), std::string::npos);
  ReadOptions forced;
  forced.format = Format::stdio;
  EXPECT_EQ(read_traffic(garbage.path(), forced, sink), std::nullopt);
  EXPECT_EQ(sink.problems.size(), 1u);
  TempFile har("{\"log\":{\"entries\":[]}}");
  ReadOptions follow;
  follow.follow = true;
  follow.stop = [] { return true; };
  auto refused = read_traffic(har.path(), follow, sink);
  ASSERT_TRUE(refused.has_value());
  EXPECT_NE(refused->find("--follow"), std::string::npos);
}

TEST(ReadTraffic, FollowSeesAppendsAndRotation) {
  TempFile file(kCaptureLine + "\n");
  std::atomic<std::size_t> seen{0};
  class CountingSink final : public Sink {
   public:
    explicit CountingSink(std::atomic<std::size_t>& count) : count_(count) {}
    void on_event(Event&&) override { ++count_; }
    void on_problem(Problem&&) override {}

   private:
    std::atomic<std::size_t>& count_;
  } sink(seen);
  std::atomic<bool> stop{false};
  ReadOptions options;
  options.follow = true;
  options.follow_poll_ms = 10;
  options.stop = [&] { return stop.load(); };
  std::optional<std::string> result;
  std::thread reader([&] { result = read_traffic(file.path(), options, sink); });
  auto wait_for = [&](std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (seen.load() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return seen.load();
  };
  EXPECT_EQ(wait_for(1), 1u);
  file.write(kCaptureLine + "\n" + kCaptureLine + "\n", true);
  EXPECT_EQ(wait_for(3), 3u);
  // Rotation: the path now names a new file.
  const std::string rotated = file.path() + ".1";
  std::filesystem::rename(file.path(), rotated);
  file.write(kCaptureLine + "\n");
  EXPECT_EQ(wait_for(4), 4u);
  stop = true;
  reader.join();
  EXPECT_EQ(result, std::nullopt);
  std::filesystem::remove(rotated);
}

}  // namespace
}  // namespace mcpgw::mcp::traffic
