// The stdio front end on pipes, in front of a scripted Service.
#include "gateway/front/stdio_front.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <vector>

#include "tests/unit/gateway/upstream/upstream_test_support.hpp"

namespace mcpgw::front {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::run_until;

// Answers by method: initialize (echoes the requested version), echo, progress (a related
// notification, a channel message, then the answer), hold (kept for the test), abandon.
class ScriptedSession final : public server::Session {
 public:
  void handle_request(mcp::Message request, std::shared_ptr<server::ResponseStream> stream,
                      const server::RequestContext&) override {
    requests.push_back(request);
    const auto& method = request.method;
    if (method == "initialize") {
      stream->finish(mcp::make_success_response(
          *request.id,
          json{{"protocolVersion", request.param("protocolVersion")->get<std::string>()},
               {"capabilities", json::object()},
               {"serverInfo", {{"name", "scripted"}, {"version", "1"}}}}));
    } else if (method == "echo") {
      stream->finish(mcp::make_success_response(*request.id, request.params.value_or(json())));
    } else if (method == "progress") {
      stream->send(mcp::make_notification("notifications/progress", json{{"progress", 1}}));
      channel->send(mcp::make_notification("notifications/tools/list_changed"));
      stream->finish(mcp::make_success_response(*request.id, json{{"done", true}}));
    } else if (method == "hold") {
      held.push_back(std::move(stream));
    } else if (method == "abandon") {
      stream->abandon();
    }
  }
  void handle_notification(mcp::Message notification, const server::RequestContext&) override {
    notifications.push_back(std::move(notification));
  }
  void handle_response(mcp::Message response) override { responses.push_back(std::move(response)); }
  void close() override {
    ++close_count;
    for (auto& stream : held)
      stream->abandon();
    held.clear();
  }

  std::shared_ptr<server::ClientChannel> channel;
  std::vector<mcp::Message> requests;
  std::vector<mcp::Message> notifications;
  std::vector<mcp::Message> responses;
  std::vector<std::shared_ptr<server::ResponseStream>> held;
  int close_count = 0;
};

class ScriptedService final : public server::Service {
 public:
  std::shared_ptr<server::Session> open_session(std::shared_ptr<server::ClientChannel> channel,
                                                const server::SessionOpening& opening) override {
    openings.push_back(opening);
    session->channel = std::move(channel);
    return session;
  }
  std::shared_ptr<ScriptedSession> session = std::make_shared<ScriptedSession>();
  std::vector<server::SessionOpening> openings;
};

class StdioFrontTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int input[2];
    int output[2];
    ASSERT_EQ(::pipe(input), 0);
    ASSERT_EQ(::pipe(output), 0);
    front_input_ = input[0];
    test_input_ = input[1];
    test_output_ = output[0];
    front_output_ = output[1];
    ASSERT_EQ(::fcntl(test_output_, F_SETFL, O_NONBLOCK), 0);
  }
  void TearDown() override {
    front_.reset();
    for (int fd : {front_input_, test_input_, test_output_, front_output_})
      if (fd >= 0)
        ::close(fd);
  }

  void start(StdioFrontOptions options = {}) {
    options.input_fd = front_input_;
    options.output_fd = front_output_;
    front_ = make_stdio_front(context_, service_, options);
    front_->start([this] { ++ended_; });
  }

  void send_line(const std::string& line) {
    const std::string text = line + "\n";
    ASSERT_EQ(::write(test_input_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  void send(const mcp::Message& message) { send_line(mcp::encode(message)); }

  void close_input() {
    ::close(test_input_);
    test_input_ = -1;
  }

  // Reads what the front end wrote so far, split into lines.
  void collect() {
    char buffer[65536];
    for (;;) {
      const ssize_t got = ::read(test_output_, buffer, sizeof buffer);
      if (got <= 0)
        break;
      partial_.append(buffer, static_cast<std::size_t>(got));
    }
    for (std::size_t newline; (newline = partial_.find('\n')) != std::string::npos;) {
      lines_.push_back(partial_.substr(0, newline));
      partial_.erase(0, newline + 1);
    }
  }

  bool wait_lines(std::size_t count) {
    return run_until(context_, [&] {
      collect();
      return lines_.size() >= count;
    });
  }

  json line(std::size_t index) { return json::parse(lines_.at(index)); }

  void initialize(const std::string& version) {
    send(mcp::make_request(0, "initialize", json{{"protocolVersion", version}}));
    ASSERT_TRUE(wait_lines(lines_.size() + 1));
  }

  boost::asio::io_context context_;
  ScriptedService service_;
  std::unique_ptr<StdioFront> front_;
  int front_input_ = -1;
  int test_input_ = -1;
  int test_output_ = -1;
  int front_output_ = -1;
  int ended_ = 0;
  std::string partial_;
  std::vector<std::string> lines_;
};

TEST_F(StdioFrontTest, RequestsAreAnsweredOnOneSession) {
  start();
  initialize("2025-06-18");
  send(mcp::make_request("a", "echo", json{{"x", 1}}));
  send(mcp::make_request(2, "echo", json{{"y", 2}}));
  ASSERT_TRUE(wait_lines(3));
  EXPECT_EQ(line(0)["result"]["protocolVersion"], "2025-06-18");
  EXPECT_EQ(line(1), (json{{"jsonrpc", "2.0"}, {"id", "a"}, {"result", {{"x", 1}}}}));
  EXPECT_EQ(line(2), (json{{"jsonrpc", "2.0"}, {"id", 2}, {"result", {{"y", 2}}}}));
  ASSERT_EQ(service_.openings.size(), 1u);
  EXPECT_EQ(service_.openings[0].transport, "stdio");
  EXPECT_EQ(front_->requests_in_flight(), 0u);
}

TEST_F(StdioFrontTest, NotificationsAndResponsesGoToTheSessionSilently) {
  start();
  initialize("2025-06-18");
  send(mcp::make_notification("notifications/initialized"));
  send(mcp::make_success_response("s1", json{{"roots", json::array()}}));
  send(mcp::make_error_response(std::nullopt, -32603, "client broke"));
  send(mcp::make_request(5, "echo"));
  ASSERT_TRUE(wait_lines(2));
  EXPECT_EQ(line(1)["id"], 5);
  ASSERT_EQ(service_.session->notifications.size(), 1u);
  EXPECT_EQ(service_.session->notifications[0].method, "notifications/initialized");
  ASSERT_EQ(service_.session->responses.size(), 1u);  // the id-less error is dropped
  EXPECT_EQ(service_.session->responses[0].id, mcp::RequestId("s1"));
}

TEST_F(StdioFrontTest, InvalidJsonIsAParseErrorWithNullId) {
  start();
  send_line("{\"jsonrpc\":\"2.0\",");
  send_line("   ");  // blank lines are skipped
  send(mcp::make_request(1, "echo"));
  ASSERT_TRUE(wait_lines(2));
  EXPECT_EQ(line(0)["error"]["code"], -32700);
  EXPECT_TRUE(line(0).contains("id"));
  EXPECT_TRUE(line(0)["id"].is_null());
  EXPECT_EQ(line(1)["id"], 1);
}

TEST_F(StdioFrontTest, InvalidRequestIsMinus32600WithTheRecoveredId) {
  start();
  send_line(R"({"jsonrpc":"2.0","id":9,"method":7})");
  send_line(R"({"jsonrpc":"1.0","id":"v","method":"echo"})");
  ASSERT_TRUE(wait_lines(2));
  EXPECT_EQ(line(0)["error"]["code"], -32600);
  EXPECT_EQ(line(0)["id"], 9);
  EXPECT_EQ(line(1)["error"]["code"], -32600);
  EXPECT_EQ(line(1)["id"], "v");
  EXPECT_TRUE(service_.session->requests.empty());
}

TEST_F(StdioFrontTest, RelatedMessagesChannelMessagesAndAnswersKeepTheirOrder) {
  start();
  send(mcp::make_request(3, "progress"));
  ASSERT_TRUE(wait_lines(3));
  EXPECT_EQ(line(0)["method"], "notifications/progress");
  EXPECT_EQ(line(1)["method"], "notifications/tools/list_changed");
  EXPECT_EQ(line(2)["id"], 3);
}

TEST_F(StdioFrontTest, AbandonWritesNothingAndHeldRequestsCount) {
  start();
  send(mcp::make_request(1, "abandon"));
  send(mcp::make_request(2, "hold"));
  send(mcp::make_request(3, "echo"));
  ASSERT_TRUE(wait_lines(1));
  EXPECT_EQ(line(0)["id"], 3);
  EXPECT_EQ(front_->requests_in_flight(), 1u);
  service_.session->held[0]->finish(mcp::make_success_response(2, json{{"late", true}}));
  ASSERT_TRUE(wait_lines(2));
  EXPECT_EQ(line(1)["id"], 2);
  EXPECT_EQ(front_->requests_in_flight(), 0u);
}

TEST_F(StdioFrontTest, EofKeepsTheSessionForDrainingThenShutdownClosesIt) {
  start();
  send(mcp::make_request(1, "hold"));
  send(mcp::make_request(2, "echo"));
  // The last line has no newline: it is still a message.
  const std::string last = mcp::encode(mcp::make_request(3, "echo"));
  ASSERT_EQ(::write(test_input_, last.data(), last.size()), static_cast<ssize_t>(last.size()));
  close_input();
  ASSERT_TRUE(run_until(context_, [&] { return ended_ == 1; }));
  collect();
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_EQ(line(0)["id"], 2);
  EXPECT_EQ(line(1)["id"], 3);
  // The held request is still in flight and its answer still reaches the client.
  EXPECT_EQ(service_.session->close_count, 0);
  EXPECT_EQ(front_->requests_in_flight(), 1u);
  service_.session->held[0]->finish(mcp::make_success_response(1, json{{"late", true}}));
  ASSERT_TRUE(wait_lines(3));
  EXPECT_EQ(line(2)["id"], 1);
  EXPECT_EQ(front_->requests_in_flight(), 0u);
  bool shut = false;
  front_->shutdown([&] { shut = true; });
  ASSERT_TRUE(run_until(context_, [&] { return shut; }));
  EXPECT_EQ(service_.session->close_count, 1);
  EXPECT_EQ(ended_, 1);
}

TEST_F(StdioFrontTest, BatchesAreRefusedUnlessTheVersionIs20250326) {
  start();
  const std::string batch = "[" + mcp::encode(mcp::make_request(1, "echo")) + "]";
  send_line(batch);  // before initialize
  ASSERT_TRUE(wait_lines(1));
  EXPECT_EQ(line(0)["error"]["code"], -32600);
  EXPECT_TRUE(line(0)["id"].is_null());
  initialize("2025-06-18");
  send_line(batch);
  ASSERT_TRUE(wait_lines(3));
  EXPECT_EQ(line(2)["error"]["code"], -32600);
  EXPECT_TRUE(service_.session->requests.size() == 1u);  // only initialize
}

TEST_F(StdioFrontTest, BatchesAreAnsweredWithOneBatchIn20250326) {
  start();
  initialize("2025-03-26");
  send_line("[" + mcp::encode(mcp::make_request(1, "echo", json{{"n", 1}})) + "," +
            mcp::encode(mcp::make_notification("notifications/progress")) + "," +
            mcp::encode(mcp::make_request(2, "hold")) + "," + R"({"jsonrpc":"2.0","id":7})" + "," +
            mcp::encode(mcp::make_request(3, "abandon")) + "]");
  run_until(context_, [&] { return service_.session->held.size() == 1; });
  collect();
  EXPECT_EQ(lines_.size(), 1u);  // waits for the held request
  service_.session->held[0]->finish(mcp::make_success_response(2, json{{"n", 2}}));
  ASSERT_TRUE(wait_lines(2));
  const json answer = line(1);
  ASSERT_TRUE(answer.is_array()) << answer.dump();
  ASSERT_EQ(answer.size(), 3u);
  EXPECT_EQ(answer[0]["error"]["code"], -32600);  // the invalid element
  EXPECT_EQ(answer[0]["id"], 7);
  EXPECT_EQ(answer[1]["id"], 1);
  EXPECT_EQ(answer[2]["id"], 2);
  EXPECT_EQ(service_.session->notifications.size(), 1u);

  // A batch of notifications only gets no answer at all.
  send_line("[" + mcp::encode(mcp::make_notification("notifications/a")) + "]");
  send(mcp::make_request(4, "echo"));
  ASSERT_TRUE(wait_lines(3));
  EXPECT_EQ(line(2)["id"], 4);
}

TEST_F(StdioFrontTest, OversizeLineIsRefusedAndReadingGoesOn) {
  StdioFrontOptions options;
  options.max_line_bytes = 100;
  start(options);
  send_line(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"s":")" + std::string(200, 'x') +
            "\"}}");
  send(mcp::make_request(2, "echo"));
  ASSERT_TRUE(wait_lines(2));
  EXPECT_EQ(line(0)["error"]["code"], -32600);
  EXPECT_TRUE(line(0)["id"].is_null());
  EXPECT_EQ(line(1)["id"], 2);
}

TEST_F(StdioFrontTest, OutputOverflowEndsTheFrontEnd) {
  StdioFrontOptions options;
  options.max_output_queue_bytes = 1024;
  start(options);
  send(mcp::make_request(1, "echo", json{{"s", std::string(2000, 'y')}}));
  ASSERT_TRUE(run_until(context_, [&] { return ended_ == 1; }));
  EXPECT_EQ(service_.session->close_count, 1);
}

TEST_F(StdioFrontTest, AClientThatDoesNotReadGetsBackpressureNotAnOverflow) {
  StdioFrontOptions options;
  options.max_output_queue_bytes = 128u << 10;
  start(options);
  ASSERT_EQ(::fcntl(test_input_, F_SETFL, O_NONBLOCK), 0);
  std::string input;
  constexpr int kRequests = 64;
  for (int i = 0; i < kRequests; ++i)
    input += mcp::encode(mcp::make_request(i, "echo", json{{"s", std::string(10000, 'z')}})) + "\n";
  std::size_t written = 0;
  auto write_some = [&] {
    const ssize_t got = ::write(test_input_, input.data() + written, input.size() - written);
    if (got > 0)
      written += static_cast<std::size_t>(got);
    return got;
  };
  // Without reading the output, the front end stops reading its input: the input pipe fills.
  bool blocked = false;
  for (int round = 0; round < 1000 && !blocked; ++round) {
    blocked = write_some() < 0 && errno == EAGAIN;
    context_.restart();
    context_.poll();
  }
  // Give the front end every chance to read on (it must not).
  for (int round = 0; round < 100; ++round) {
    context_.restart();
    context_.poll();
  }
  EXPECT_TRUE(blocked);
  EXPECT_LT(written, input.size());
  EXPECT_EQ(ended_, 0);
  // Reading the output lets everything through.
  ASSERT_TRUE(run_until(context_, [&] {
    if (written < input.size())
      write_some();
    collect();
    return lines_.size() == kRequests;
  }));
  EXPECT_EQ(line(kRequests - 1)["id"], kRequests - 1);
  EXPECT_EQ(ended_, 0);
}

TEST_F(StdioFrontTest, ShutdownClosesTheSessionAndFlushes) {
  start();
  send(mcp::make_request(1, "hold"));
  send(mcp::make_request(2, "echo"));
  ASSERT_TRUE(wait_lines(1));
  bool done = false;
  front_->shutdown([&] { done = true; });
  ASSERT_TRUE(run_until(context_, [&] { return done; }));
  EXPECT_EQ(service_.session->close_count, 1);
  EXPECT_EQ(front_->requests_in_flight(), 0u);
  EXPECT_EQ(ended_, 0);  // on_end is for the input ending, not for shutdown
}

TEST_F(StdioFrontTest, AClientThatStopsReadingEndsItWithoutASignal) {
  start();
  ::close(test_output_);
  test_output_ = -1;
  send(mcp::make_request(1, "echo"));
  ASSERT_TRUE(run_until(context_, [&] { return ended_ == 1; }));
  EXPECT_EQ(service_.session->close_count, 1);
}

TEST_F(StdioFrontTest, DescriptorsStayOpenAndBlockingAfterTheFrontEnd) {
  const int flags = ::fcntl(front_input_, F_GETFL);
  start();
  EXPECT_NE(::fcntl(front_input_, F_GETFL) & O_NONBLOCK, 0);
  front_.reset();
  EXPECT_EQ(::fcntl(front_input_, F_GETFL), flags);
  EXPECT_EQ(::fcntl(front_output_, F_GETFL) & O_NONBLOCK, 0);
}

}  // namespace
}  // namespace mcpgw::front
