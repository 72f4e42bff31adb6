// The stdio transport against real child processes (small /bin/sh scripts).
#include "tests/unit/gateway/upstream/upstream_test_support.hpp"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <cerrno>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gateway/capture/recorder.hpp"
#include "gateway/upstream/process.hpp"
#include "gateway/upstream/transport.hpp"

namespace mcpgw::upstream {
namespace {

using namespace std::chrono_literals;
using test::run_until;

class Recorder final : public TransportHandler {
 public:
  void on_message(mcp::Message message,
                  const std::optional<mcp::RequestId>& request_stream) override {
    EXPECT_FALSE(request_stream.has_value());
    messages.push_back(std::move(message));
  }
  void on_send_failed(const mcp::RequestId& id, const TransportError& error) override {
    send_failures.emplace_back(id, error);
  }
  void on_closed(const TransportError& error) override {
    ++closed_count;
    closed = error;
  }

  std::vector<mcp::Message> messages;
  std::vector<std::pair<mcp::RequestId, TransportError>> send_failures;
  std::optional<TransportError> closed;
  int closed_count = 0;
};

config::BackendConfig shell_backend(const std::string& script) {
  config::BackendConfig backend;
  backend.name = "sh";
  backend.command = {"/bin/sh", "-c", script};
  return backend;
}

TransportLimits quick_limits() {
  TransportLimits limits;
  limits.shutdown_grace = 50ms;
  return limits;
}

// Script text that prints one notification line whose params are `params_json`.
std::string print_notification(const std::string& method, const std::string& params_json) {
  return "printf '%s\\n' '{\"jsonrpc\":\"2.0\",\"method\":\"" + method +
         "\",\"params\":" + params_json + "}'";
}

// The child has been reaped (by the transport) and no longer exists.
bool is_reaped(pid_t pid) {
  errno = 0;
  const bool not_our_child = ::waitpid(pid, nullptr, WNOHANG) < 0 && errno == ECHILD;
  const bool gone = ::kill(pid, 0) != 0 && errno == ESRCH;
  return not_our_child && gone;
}

class StdioTransportTest : public ::testing::Test {
 protected:
  std::unique_ptr<Transport> make(const config::BackendConfig& backend,
                                  const TransportLimits& limits = quick_limits()) {
    factory_ = make_stdio_transport_factory(context_, backend, limits);
    return factory_->create();
  }

  // Closes the transport and waits until it is released.
  void close_and_wait(Transport& transport) {
    bool done = false;
    transport.close([&] { done = true; });
    ASSERT_TRUE(run_until(context_, [&] { return done; }));
  }

  pid_t pid_from(const mcp::Message& message) {
    const auto* pid = message.param("pid");
    EXPECT_TRUE(pid != nullptr && pid->is_number_integer());
    return pid != nullptr ? static_cast<pid_t>(pid->get<int>()) : -1;
  }

  boost::asio::io_context context_;
  std::unique_ptr<TransportFactory> factory_;
  Recorder recorder_;
};

TEST_F(StdioTransportTest, MessagesTravelBothWaysInOrder) {
  auto transport = make(shell_backend("exec cat"));
  transport->start(recorder_);
  for (int i = 0; i < 50; ++i)
    transport->send(mcp::make_request(i, "tools/call", nlohmann::json{{"n", i}}));
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.messages.size() == 50; }));
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(recorder_.messages[static_cast<std::size_t>(i)],
              mcp::make_request(i, "tools/call", nlohmann::json{{"n", i}}));
  close_and_wait(*transport);
  EXPECT_EQ(recorder_.closed_count, 0);  // close() ends handler calls
}

// Keeps capture records in memory (the transport records on the loop's thread).
class MemoryCapture final : public capture::Recorder {
 public:
  void record(mcp::capture::Record&& record) noexcept override {
    records.push_back(std::move(record));
  }
  std::vector<mcp::capture::Record> records;
};

TEST_F(StdioTransportTest, CaptureRecordsCarryTheClientSessionTheTransportServes) {
  MemoryCapture capture;
  auto limits = quick_limits();
  limits.recorder = &capture;
  auto own = make(shell_backend("exec cat"), limits);
  own->set_capture_session("client-7");
  auto shared = factory_->create();  // no client session: a shared upstream's
  Recorder shared_handler;
  own->start(recorder_);
  shared->start(shared_handler);
  own->send(mcp::make_request(1, "ping"));
  shared->send(mcp::make_request(2, "ping"));
  ASSERT_TRUE(run_until(context_, [&] {
    return recorder_.messages.size() == 1 && shared_handler.messages.size() == 1;
  }));
  close_and_wait(*own);
  close_and_wait(*shared);
  ASSERT_EQ(capture.records.size(), 4u);  // each request out and echoed back
  for (const auto& record : capture.records) {
    EXPECT_EQ(record.leg, mcp::traffic::Leg::backend);
    EXPECT_EQ(record.backend, "sh");
    const bool mine = record.message.find("\"id\":1") != std::string::npos;
    EXPECT_EQ(record.session, mine ? "client-7" : "") << record.message;
  }
}

TEST_F(StdioTransportTest, MessagesSentBeforeStartAreQueued) {
  auto transport = make(shell_backend("exec cat"));
  transport->send(mcp::make_notification("notifications/initialized"));
  transport->start(recorder_);
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.messages.size() == 1; }));
  EXPECT_EQ(recorder_.messages[0].method, "notifications/initialized");
  close_and_wait(*transport);
}

TEST_F(StdioTransportTest, FiveMebibyteLineArrivesWhole) {
  const std::string script =
      "printf '{\"jsonrpc\":\"2.0\",\"method\":\"big\",\"params\":{\"s\":\"'; "
      "head -c 5242880 /dev/zero | tr '\\0' a; printf '\"}}\\n'; exec cat";
  auto transport = make(shell_backend(script));
  transport->start(recorder_);
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.messages.size() == 1; }));
  const auto* text = recorder_.messages[0].param("s");
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->get_ref<const std::string&>().size(), 5u << 20);
  // And a large message the other way round, echoed back by cat.
  const std::string payload(6u << 20, 'b');
  transport->send(mcp::make_request(7, "big", nlohmann::json{{"s", payload}}));
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.messages.size() == 2; }));
  EXPECT_EQ(recorder_.messages[1].param("s")->get_ref<const std::string&>(), payload);
  close_and_wait(*transport);
}

TEST_F(StdioTransportTest, OversizeAndInvalidLinesAreSkippedNotFatal) {
  test::LogCapture log;
  TransportLimits limits = quick_limits();
  limits.max_line_bytes = 1024;
  const std::string script = "head -c 4096 /dev/zero | tr '\\0' x; echo; echo 'not json'; " +
                             print_notification("after", "{\"ok\":true}") + "; exec cat";
  auto transport = make(shell_backend(script), limits);
  transport->start(recorder_);
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.messages.size() == 1; }));
  EXPECT_EQ(recorder_.messages[0].method, "after");
  EXPECT_TRUE(log.contains("too_large")) << log.all();
  EXPECT_TRUE(log.contains("bad_message")) << log.all();
  // Still alive: it echoes.
  transport->send(mcp::make_notification("still/alive"));
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.messages.size() == 2; }));
  EXPECT_EQ(recorder_.closed_count, 0);
  close_and_wait(*transport);
}

// A handler that wants text: each line as written, with its summary.
class TextRecorder final : public TransportHandler {
 public:
  void on_message(mcp::Message message, const std::optional<mcp::RequestId>&) override {
    ADD_FAILURE() << "decoded although text was preferred: " << mcp::encode(message);
  }
  bool prefers_text() const override { return true; }
  void on_message_text(std::string_view text, const mcp::MessageSummary& summary,
                       const std::optional<mcp::RequestId>& request_stream) override {
    EXPECT_FALSE(request_stream.has_value());
    texts.emplace_back(text);
    summaries.push_back(summary);
  }
  void on_send_failed(const mcp::RequestId&, const TransportError&) override {}
  void on_closed(const TransportError&) override {}

  std::vector<std::string> texts;
  std::vector<mcp::MessageSummary> summaries;
};

// For a handler that prefers text, lines are checked and summarized, never decoded; lines that
// are not JSON-RPC are skipped as before, and capture records what arrived.
TEST_F(StdioTransportTest, LinesGoAsTextToAHandlerThatPrefersIt) {
  test::LogCapture log;
  MemoryCapture capture;
  auto limits = quick_limits();
  limits.recorder = &capture;
  const std::string script =
      "printf '%s\\n' '{\"id\": 3, \"result\" : {\"b\":1,\"a\":2}, \"jsonrpc\":\"2.0\"}' "
      "'{\"jsonrpc\":\"2.0\",\"id\":4}' '[1]' "
      "'{\"jsonrpc\":\"2.0\",\"method\":\"notifications/"
      "progress\",\"params\":{\"progressToken\":\"t\"}}'"
      "; exec cat";
  auto transport = make(shell_backend(script), limits);
  TextRecorder handler;
  transport->start(handler);
  ASSERT_TRUE(run_until(context_, [&] { return handler.texts.size() == 2; }));
  EXPECT_EQ(handler.texts[0], R"({"id": 3, "result" : {"b":1,"a":2}, "jsonrpc":"2.0"})");
  EXPECT_EQ(handler.summaries[0].kind, mcp::SummaryKind::response);
  EXPECT_EQ(handler.summaries[0].id, "3");
  EXPECT_EQ(handler.texts[0].substr(handler.summaries[0].id_offset, handler.summaries[0].id_length),
            "3");
  EXPECT_EQ(handler.summaries[1].method, "notifications/progress");
  EXPECT_EQ(handler.summaries[1].progress_token, "\"t\"");
  EXPECT_EQ(log.count("bad_message"), 2u) << log.all();
  close_and_wait(*transport);
  ASSERT_EQ(capture.records.size(), 2u);  // the two messages, not the skipped lines
  EXPECT_EQ(capture.records[0].message, handler.texts[0]);
}

TEST_F(StdioTransportTest, ExitIsReportedWithStatusAfterRemainingOutput) {
  auto transport = make(shell_backend(print_notification("last/words", "{}") + "; exit 3"));
  transport->start(recorder_);
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.closed.has_value(); }));
  ASSERT_EQ(recorder_.messages.size(), 1u);
  EXPECT_EQ(recorder_.messages[0].method, "last/words");
  EXPECT_EQ(recorder_.closed->kind, TransportError::Kind::exited);
  EXPECT_NE(recorder_.closed->message.find("exited with status 3"), std::string::npos)
      << recorder_.closed->message;
  // A message sent to a dead backend is dropped quietly; nothing more is reported.
  transport->send(mcp::make_notification("too/late"));
  close_and_wait(*transport);
  EXPECT_EQ(recorder_.closed_count, 1);
}

TEST_F(StdioTransportTest, ExitIsDetectedByPollingWithoutPidfd) {
  process::set_pidfd_disabled(true);
  auto transport =
      make(shell_backend(print_notification("hello", "{\"pid\":'$$'}") + "; read line; exit 4"));
  transport->start(recorder_);
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.messages.size() == 1; }));
  const pid_t pid = pid_from(recorder_.messages[0]);
  transport->send(mcp::make_notification("go"));
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.closed.has_value(); }));
  process::set_pidfd_disabled(false);
  EXPECT_NE(recorder_.closed->message.find("exited with status 4"), std::string::npos)
      << recorder_.closed->message;
  EXPECT_TRUE(is_reaped(pid));
  close_and_wait(*transport);

  // And the close sequence with polling.
  process::set_pidfd_disabled(true);
  Recorder second;
  auto other = make(shell_backend("exec cat"));
  other->start(second);
  close_and_wait(*other);
  process::set_pidfd_disabled(false);
  EXPECT_EQ(second.closed_count, 0);
}

TEST_F(StdioTransportTest, AWriteToAnExitingProcessIsReportedAsItsExit) {
  TransportLimits limits;
  limits.shutdown_grace = 10s;  // the exit comes long before: no signal is needed
  auto transport = make(shell_backend("exec 0<&-; " + print_notification("stdin/closed", "{}") +
                                      "; sleep 0.2; exit 5"),
                        limits);
  transport->start(recorder_);
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.messages.size() == 1; }));
  transport->send(mcp::make_notification("into/the/void"));
  transport->send(mcp::make_notification("and/again"));
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.closed.has_value(); }));
  EXPECT_EQ(recorder_.closed->kind, TransportError::Kind::exited);
  EXPECT_NE(recorder_.closed->message.find("exited with status 5"), std::string::npos)
      << recorder_.closed->message;
  close_and_wait(*transport);
}

TEST_F(StdioTransportTest, DeathBySignalIsReported) {
  auto transport = make(shell_backend("kill -9 $$"));
  transport->start(recorder_);
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.closed.has_value(); }));
  EXPECT_EQ(recorder_.closed->kind, TransportError::Kind::exited);
  EXPECT_NE(recorder_.closed->message.find("killed by signal 9"), std::string::npos)
      << recorder_.closed->message;
  close_and_wait(*transport);
}

TEST_F(StdioTransportTest, CloseEndsAProcessThatExitsOnStdinEof) {
  auto transport =
      make(shell_backend(print_notification("hello", "{\"pid\":'$$'}") + "; exec cat"));
  transport->start(recorder_);
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.messages.size() == 1; }));
  const pid_t pid = pid_from(recorder_.messages[0]);
  close_and_wait(*transport);
  EXPECT_TRUE(is_reaped(pid));
}

TEST_F(StdioTransportTest, CloseSendsSigtermWhenStdinEofIsIgnored) {
  test::LogCapture log;
  // The shell ignores its stdin; TERM ends it (and the sleep of its process group).
  const std::string script = print_notification("hello", "{\"pid\":'$$'}") +
                             "; trap 'exit 0' TERM; while :; do sleep 0.05; done";
  TransportLimits limits;
  limits.shutdown_grace = 1s;  // long enough that TERM always wins over KILL
  auto transport = make(shell_backend(script), limits);
  transport->start(recorder_);
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.messages.size() == 1; }));
  const pid_t pid = pid_from(recorder_.messages[0]);
  close_and_wait(*transport);
  EXPECT_TRUE(is_reaped(pid));
  EXPECT_TRUE(log.contains("SIGTERM")) << log.all();
  EXPECT_FALSE(log.contains("SIGKILL")) << log.all();
}

TEST_F(StdioTransportTest, CloseSendsSigkillWhenSigtermIsIgnored) {
  test::LogCapture log;
  // TERM is ignored by the shell and, inherited, by every sleep it starts: only KILL ends it.
  const std::string script = "trap '' TERM; " + print_notification("hello", "{\"pid\":'$$'}") +
                             "; while :; do sleep 0.05; done";
  auto transport = make(shell_backend(script));
  transport->start(recorder_);
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.messages.size() == 1; }));
  const pid_t pid = pid_from(recorder_.messages[0]);
  close_and_wait(*transport);
  EXPECT_TRUE(is_reaped(pid));
  EXPECT_TRUE(log.contains("SIGKILL")) << log.all();
}

TEST_F(StdioTransportTest, CloseWritesQueuedOutputBeforeClosingStdin) {
  // The backend copies stdin to a file until EOF; close() must deliver what was sent first.
  const auto directory =
      std::filesystem::temp_directory_path() / ("mcpgw-stdio-" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  const auto file = directory / "copy.jsonl";
  auto transport = make(shell_backend("cat > '" + file.string() + "'"));
  transport->start(recorder_);
  transport->send(mcp::make_notification("first"));
  transport->send(mcp::make_notification("second"));
  close_and_wait(*transport);
  std::FILE* stream = std::fopen(file.c_str(), "r");
  ASSERT_NE(stream, nullptr);
  char buffer[256] = {};
  const std::size_t size = std::fread(buffer, 1, sizeof buffer - 1, stream);
  std::fclose(stream);
  EXPECT_EQ(
      std::string(buffer, size),
      "{\"jsonrpc\":\"2.0\",\"method\":\"first\"}\n{\"jsonrpc\":\"2.0\",\"method\":\"second\"}\n");
  std::filesystem::remove_all(directory);
}

TEST_F(StdioTransportTest, DestroyingWithoutCloseKillsAndReaps) {
  const std::string script =
      "trap '' TERM; " + print_notification("hello", "{\"pid\":'$$'}") + "; exec sleep 100";
  auto transport = make(shell_backend(script));
  transport->start(recorder_);
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.messages.size() == 1; }));
  const pid_t pid = pid_from(recorder_.messages[0]);
  transport.reset();
  EXPECT_TRUE(is_reaped(pid));
  context_.restart();
  context_.poll();  // aborted operations complete without touching the handler
  EXPECT_EQ(recorder_.closed_count, 0);
}

TEST_F(StdioTransportTest, NonexistentProgramIsASpawnFailure) {
  for (const std::string program :
       {"/nonexistent/mcpgw-no-such-program", "mcpgw-no-such-program"}) {
    Recorder recorder;
    config::BackendConfig backend;
    backend.name = "missing";
    backend.command = {program, "--flag"};
    auto transport = make(backend);
    transport->start(recorder);
    EXPECT_FALSE(recorder.closed.has_value());  // reported later, not from inside start()
    ASSERT_TRUE(run_until(context_, [&] { return recorder.closed.has_value(); }));
    EXPECT_EQ(recorder.closed->kind, TransportError::Kind::spawn_failed);
    EXPECT_NE(recorder.closed->message.find("No such file or directory"), std::string::npos)
        << recorder.closed->message;
    close_and_wait(*transport);
    EXPECT_EQ(recorder.closed_count, 1);
  }
}

TEST_F(StdioTransportTest, MissingWorkingDirectoryIsASpawnFailure) {
  auto backend = shell_backend("exec cat");
  backend.cwd = "/nonexistent/mcpgw-dir";
  auto transport = make(backend);
  transport->start(recorder_);
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.closed.has_value(); }));
  EXPECT_EQ(recorder_.closed->kind, TransportError::Kind::spawn_failed);
  EXPECT_NE(recorder_.closed->message.find("working directory"), std::string::npos);
  close_and_wait(*transport);
}

TEST_F(StdioTransportTest, EnvironmentIsAddedToTheGatewaysAndCwdIsApplied) {
  ASSERT_EQ(::setenv("MCPGW_TEST_INHERITED", "from-gateway", 1), 0);
  ASSERT_EQ(::setenv("MCPGW_TEST_OVERRIDDEN", "old", 1), 0);
  auto backend = shell_backend(
      "printf '{\"jsonrpc\":\"2.0\",\"method\":\"env\",\"params\":{\"added\":\"%s\","
      "\"inherited\":\"%s\",\"overridden\":\"%s\",\"cwd\":\"%s\"}}\\n' "
      "\"$MCPGW_TEST_ADDED\" \"$MCPGW_TEST_INHERITED\" \"$MCPGW_TEST_OVERRIDDEN\" \"$(pwd -P)\"; "
      "exec cat");
  backend.env = {{"MCPGW_TEST_ADDED", "added value"}, {"MCPGW_TEST_OVERRIDDEN", "new"}};
  const auto directory = std::filesystem::canonical(std::filesystem::temp_directory_path());
  backend.cwd = directory.string();
  auto transport = make(backend);
  transport->start(recorder_);
  ASSERT_TRUE(run_until(context_, [&] { return !recorder_.messages.empty(); }));
  const auto& message = recorder_.messages[0];
  EXPECT_EQ(message.param("added")->get<std::string>(), "added value");
  EXPECT_EQ(message.param("inherited")->get<std::string>(), "from-gateway");
  EXPECT_EQ(message.param("overridden")->get<std::string>(), "new");
  EXPECT_EQ(message.param("cwd")->get<std::string>(), directory.string());
  close_and_wait(*transport);
  ::unsetenv("MCPGW_TEST_INHERITED");
  ::unsetenv("MCPGW_TEST_OVERRIDDEN");
}

TEST_F(StdioTransportTest, ProgramIsFoundInTheBackendsPath) {
  const auto directory =
      std::filesystem::temp_directory_path() / ("mcpgw-path-" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  const auto program = directory / "mcpgw-test-echo";
  {
    std::FILE* stream = std::fopen(program.c_str(), "w");
    ASSERT_NE(stream, nullptr);
    std::fputs("#!/bin/sh\nexec cat\n", stream);
    std::fclose(stream);
  }
  std::filesystem::permissions(program, std::filesystem::perms::owner_all);
  config::BackendConfig backend;
  backend.name = "path";
  backend.command = {"mcpgw-test-echo"};
  backend.env = {{"PATH", directory.string() + ":/usr/bin:/bin"}};
  auto transport = make(backend);
  transport->start(recorder_);
  transport->send(mcp::make_notification("echo"));
  ASSERT_TRUE(run_until(
      context_, [&] { return !recorder_.messages.empty() || recorder_.closed.has_value(); }));
  ASSERT_FALSE(recorder_.closed.has_value()) << recorder_.closed->message;
  EXPECT_EQ(recorder_.messages[0].method, "echo");
  close_and_wait(*transport);
  std::filesystem::remove_all(directory);
}

TEST_F(StdioTransportTest, StderrLinesGoToTheLogWithTheBackendName) {
  test::LogCapture log;
  const std::string script =
      "echo 'warming up' >&2; head -c 10000 /dev/zero | tr '\\0' e >&2; echo >&2; "
      "printf 'bell\\007here\\n' >&2; " +
      print_notification("ready", "{}") + "; exec cat";
  auto transport = make(shell_backend(script));
  transport->start(recorder_);
  ASSERT_TRUE(run_until(context_, [&] {
    return !recorder_.messages.empty() && log.contains("bell?here");
  })) << log.all();
  EXPECT_TRUE(log.contains("[sh] warming up")) << log.all();
  EXPECT_TRUE(log.contains(std::string(4096, 'e') + " [line cut]")) << log.all();
  EXPECT_FALSE(log.contains(std::string(4097, 'e'))) << log.all();
  close_and_wait(*transport);
}

TEST_F(StdioTransportTest, StdoutClosedWhileRunningStopsTheProcess) {
  auto transport = make(shell_backend("exec 1>&-; exec sleep 100"));
  transport->start(recorder_);
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.closed.has_value(); }));
  EXPECT_EQ(recorder_.closed->kind, TransportError::Kind::disconnected);
  EXPECT_NE(recorder_.closed->message.find("stdout closed"), std::string::npos)
      << recorder_.closed->message;
  EXPECT_NE(recorder_.closed->message.find("signal 15"), std::string::npos)
      << recorder_.closed->message;
  close_and_wait(*transport);
}

TEST_F(StdioTransportTest, WriteQueueOverflowFailsTheBackend) {
  // The backend never reads stdin; 17 messages of 256 KiB exceed the 4 MiB queue (the pipe
  // itself holds 64 KiB at most, so most of it stays queued).
  TransportLimits limits = quick_limits();
  limits.max_line_bytes = 1u << 20;
  limits.max_write_queue_bytes = 4u << 20;
  auto transport =
      make(shell_backend(print_notification("hello", "{}") + "; exec sleep 100"), limits);
  transport->start(recorder_);
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.messages.size() == 1; }));
  const std::string payload(256u << 10, 'q');
  for (int i = 0; i < 17 && !recorder_.closed; ++i)
    transport->send(mcp::make_request(i, "tools/call", nlohmann::json{{"s", payload}}));
  ASSERT_TRUE(run_until(context_, [&] { return recorder_.closed.has_value(); }));
  EXPECT_EQ(recorder_.closed->kind, TransportError::Kind::disconnected);
  EXPECT_NE(recorder_.closed->message.find("overflow"), std::string::npos)
      << recorder_.closed->message;
  close_and_wait(*transport);
}

TEST_F(StdioTransportTest, ClosingBeforeStartAndTwiceIsFine) {
  auto transport = make(shell_backend("exec cat"));
  int done = 0;
  transport->close([&] { ++done; });
  ASSERT_TRUE(run_until(context_, [&] { return done == 1; }));

  auto second = make(shell_backend("exec cat"));
  second->start(recorder_);
  second->close([&] { ++done; });
  second->close([&] { ++done; });
  ASSERT_TRUE(run_until(context_, [&] { return done == 3; }));
}

}  // namespace
}  // namespace mcpgw::upstream
