// The [audit] sink: lines land in order, flush() waits for them, the file is private, and a
// sink that cannot keep up drops (and counts) instead of growing. The writer is blocked
// deterministically by a FIFO whose pipe buffer the test has filled and does not read yet.
#include "gateway/serve/audit_sink.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace mcpgw::serve {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "mcpgw-audit-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// Counts what the library logs (the writer thread logs too, hence the lock).
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()), sink_(std::make_shared<Sink>()) {
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::size_t count(const std::string& text) const {
    std::lock_guard lock(sink_->lines_mutex);
    std::size_t found = 0;
    for (const auto& line : sink_->lines)
      if (line.find(text) != std::string::npos)
        ++found;
    return found;
  }

 private:
  struct Sink final : spdlog::sinks::base_sink<std::mutex> {
    mutable std::mutex lines_mutex;
    std::vector<std::string> lines;

   protected:
    void sink_it_(const spdlog::details::log_msg& message) override {
      std::lock_guard lock(lines_mutex);
      lines.emplace_back(message.payload.data(), message.payload.size());
    }
    void flush_() override {}
  };

  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<Sink> sink_;
};

config::AuditConfig audit_to(const std::string& sink) {
  config::AuditConfig audit;
  audit.enabled = true;
  audit.sink = sink;
  return audit;
}

policy::AuditRecord record_named(const std::string& name) {
  policy::AuditRecord record;
  record.time = std::chrono::system_clock::now();
  record.principal_key = "key:ci";
  record.api_key = "ci";
  record.method = "tools/call";
  record.backend = "gh";
  record.kind = policy::TargetKind::tool;
  record.name = name;
  record.decision = "allow";
  return record;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

// Names of the records in JSON lines, in order; a line that is not a record fails the test.
std::vector<std::string> names_in(const std::vector<std::string>& lines) {
  std::vector<std::string> names;
  for (const std::string& line : lines) {
    const auto parsed = nlohmann::json::parse(line, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << line;
    if (!parsed.is_discarded())
      names.push_back(parsed.value("name", ""));
  }
  return names;
}

class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t mask) : previous_(::umask(mask)) {}
  ~UmaskGuard() { ::umask(previous_); }

 private:
  mode_t previous_;
};

TEST(AuditSink, WritesLinesInOrderToAPrivateFile) {
  TempDir dir;
  const fs::path path = dir / "audit.log";
  std::string error;
  std::unique_ptr<policy::AuditSink> sink;
  {
    const UmaskGuard permissive(0);  // the mode comes from the open, not from the umask
    sink = make_audit_sink(audit_to(path.string()), error);
  }
  ASSERT_NE(sink, nullptr) << error;
  EXPECT_TRUE(error.empty());
  std::vector<std::string> expected;
  for (int i = 0; i < 500; ++i) {
    expected.push_back("tool-" + std::to_string(i));
    sink->record(record_named(expected.back()));
  }
  sink->flush();
  EXPECT_EQ(names_in(lines_of(read_file(path))), expected);
  EXPECT_EQ(sink->dropped(), 0u);

  struct stat status {};
  ASSERT_EQ(::stat(path.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0600u);
}

TEST(AuditSink, AppendsToAnExistingFileAndTheDestructorFlushes) {
  TempDir dir;
  const fs::path path = dir / "audit.log";
  { std::ofstream(path) << "{\"earlier\":true}\n"; }
  std::string error;
  auto sink = make_audit_sink(audit_to(path.string()), error);
  ASSERT_NE(sink, nullptr) << error;
  for (int i = 0; i < 2000; ++i)
    sink->record(record_named("n" + std::to_string(i)));
  sink.reset();  // no flush(): destruction writes everything still queued
  const auto lines = lines_of(read_file(path));
  ASSERT_EQ(lines.size(), 2001u);
  EXPECT_EQ(lines.front(), "{\"earlier\":true}");
  EXPECT_NE(lines[1].find("\"name\":\"n0\""), std::string::npos);
  EXPECT_NE(lines.back().find("\"name\":\"n1999\""), std::string::npos);
}

TEST(AuditSink, OpenFailureIsReportedWithThePathAndReason) {
  TempDir dir;
  const std::string path = (dir / "missing-dir" / "audit.log").string();
  std::string error;
  EXPECT_EQ(make_audit_sink(audit_to(path), error), nullptr);
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find(std::strerror(ENOENT)), std::string::npos) << error;

  EXPECT_EQ(make_audit_sink(audit_to(""), error), nullptr);
  EXPECT_FALSE(error.empty());
}

TEST(AuditSink, AFifoWithoutReaderFailsInsteadOfHanging) {
  TempDir dir;
  const fs::path fifo = dir / "audit.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string error;
  EXPECT_EQ(make_audit_sink(audit_to(fifo.string()), error), nullptr);
  EXPECT_NE(error.find(std::strerror(ENXIO)), std::string::npos) << error;
}

TEST(AuditSink, StandardStreamsAreSinks) {
  std::string error;
  EXPECT_NE(make_audit_sink(audit_to("stdout"), error), nullptr) << error;
  EXPECT_NE(make_audit_sink(audit_to("stderr"), error), nullptr) << error;
}

TEST(AuditSink, RecordsBeyondTheQueueAreDroppedCountedAndWarnedAboutOnce) {
  std::signal(SIGPIPE, SIG_IGN);  // should the reader give up, the writer gets EPIPE
  TempDir dir;
  const fs::path fifo = dir / "audit.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  // Fill the pipe so that the sink's writer blocks on its first write.
  const int filler = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(filler, 0);
  const std::string page(4096, 'x');
  std::size_t prefilled = 0;
  for (ssize_t n; (n = ::write(filler, page.data(), page.size())) > 0;)
    prefilled += static_cast<std::size_t>(n);
  for (ssize_t n; (n = ::write(filler, "x", 1)) > 0;)
    prefilled += static_cast<std::size_t>(n);
  ASSERT_EQ(errno, EAGAIN);
  ASSERT_GT(prefilled, 0u);

  LogCapture log;
  std::string error;
  auto sink = make_audit_sink(audit_to(fifo.string()), error, 4);
  ASSERT_NE(sink, nullptr) << error;
  for (int i = 0; i < 10; ++i)
    sink->record(record_named("r" + std::to_string(i)));
  // Nothing can be written, so exactly 4 lines are waiting (queued or in the writer's hands).
  EXPECT_EQ(sink->dropped(), 6u);
  EXPECT_EQ(log.count("dropped so far"), 1u);

  // Now read everything: the prefill, then the four accepted records.
  std::string received;
  std::thread drain([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::size_t newlines = 0;
    char buffer[8192];
    while (newlines < 4 && std::chrono::steady_clock::now() < deadline) {
      pollfd ready{reader, POLLIN, 0};
      if (::poll(&ready, 1, 100) <= 0)
        continue;
      const ssize_t n = ::read(reader, buffer, sizeof buffer);
      if (n <= 0)
        continue;
      received.append(buffer, static_cast<std::size_t>(n));
      newlines = static_cast<std::size_t>(std::count(received.begin(), received.end(), '\n'));
    }
    ::close(reader);  // after a timeout this fails the writer (EPIPE) instead of hanging flush()
  });
  sink->flush();
  drain.join();
  ::close(filler);
  ASSERT_GE(received.size(), prefilled);
  EXPECT_EQ(received.substr(0, prefilled), std::string(prefilled, 'x'));
  EXPECT_EQ(names_in(lines_of(received.substr(prefilled))),
            (std::vector<std::string>{"r0", "r1", "r2", "r3"}));
  EXPECT_EQ(sink->dropped(), 6u);
}

TEST(AuditSink, WriteErrorsCountAsDropped) {
  if (::access("/dev/full", W_OK) != 0)
    GTEST_SKIP() << "no /dev/full";
  LogCapture log;
  std::string error;
  auto sink = make_audit_sink(audit_to("/dev/full"), error);
  ASSERT_NE(sink, nullptr) << error;
  for (int i = 0; i < 3; ++i)
    sink->record(record_named("lost"));
  sink->flush();
  EXPECT_EQ(sink->dropped(), 3u);
  EXPECT_GE(log.count("failed"), 1u);
  sink.reset();
  EXPECT_EQ(log.count("dropped in total"), 1u);
}

}  // namespace
}  // namespace mcpgw::serve
