// The summary a decoder hands on with an event (Sink::on_summarized_event): the stdio decoder's
// one-scan path for whole-object lines must report exactly what its general path reports, and
// the Pairer must pair summarized events exactly as it pairs events it summarizes itself.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "mcp/decode/decoders.hpp"
#include "mcp/message_summary.hpp"
#include "mcp/pairing.hpp"
#include "tests/unit/mcp/decode_test_support.hpp"
#include "tests/unit/mcp/test_events.hpp"

namespace mcpgw::mcp::traffic {
namespace {

using testing::CollectingSink;
using testing::digest;

std::string describe_summary(const MessageSummary& summary) {
  return std::to_string(static_cast<int>(summary.kind)) + "|" + summary.method + "|" + summary.id +
         "|" + std::to_string(summary.error_code.value_or(-1)) + "|" + summary.error_message + "|" +
         summary.target + "|" + summary.progress_token + "|" + summary.cancelled_id + "|" +
         summary.protocol_version + "|" + (summary.tool_error ? "tool_error" : "");
}

// Keeps events like CollectingSink, and checks every summary against a fresh summarize_message
// of the event's text.
class SummaryCheckingSink final : public Sink {
 public:
  void on_event(Event&& event) override {
    ++plain_events;
    collected.on_event(std::move(event));
  }
  void on_summarized_event(Event&& event, MessageSummary&& summary) override {
    ++summarized_events;
    const auto expected = summarize_message(event.message, nullptr);
    if (!expected) {
      ADD_FAILURE() << "a summary came with a message that does not summarize: " << event.message;
    } else {
      EXPECT_EQ(describe_summary(summary), describe_summary(*expected)) << event.message;
    }
    collected.on_event(std::move(event));
  }
  void on_problem(Problem&& problem) override { collected.on_problem(std::move(problem)); }

  CollectingSink collected;
  int plain_events = 0;
  int summarized_events = 0;
};

void decode_stdio(const std::string& text, Sink& sink) {
  auto decoder = make_decoder(Format::stdio, DecoderOptions{"in.ndjson", {}, {}});
  decoder->feed(text, sink);
  decoder->finish(sink);
}

std::string nested_params(std::size_t depth) {
  std::string open;
  std::string close;
  for (std::size_t i = 0; i < depth; ++i) {
    open += "{\"a\":";
    close += "}";
  }
  return open + "1" + close;
}

// Lines that begin with '{' and end with '}' take the one-scan path when they summarize; the
// same line with a trailing space must take the general path and report the same. (No line here
// breaks at its very end, where the space would move the reported offset.)
std::vector<std::string> tricky_lines() {
  return {
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}})",
      R"({"jsonrpc":"2.0","id":1,"result":{"content":[],"isError":true}})",
      R"({"jsonrpc":"2.0","id":"x","error":{"code":-32601,"message":"no \"such\" method"}})",
      R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":7}})",
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"x"}})",
      // Escaped member names and values.
      R"({"jsonrpc":"2.0","\u0069d":2,"method":"tools\/call","params":{"n\u0061me":"\u00e9"}})",
      // Duplicates: valid JSON for split_batch, not a JSON-RPC message for the summary.
      R"({"jsonrpc":"2.0","id":1,"id":2,"method":"ping"})",
      R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"a","name":"b"}})",
      // Valid JSON, not JSON-RPC.
      R"({"a":1})",
      R"({})",
      R"({"jsonrpc":"2.0","id":1.5,"method":"x"})",
      R"({"jsonrpc":"2.0","id":1,"method":"x","params":7})",
      // Invalid JSON that still starts with '{' and ends with '}'.
      R"({"jsonrpc":"2.0","method":"x"}})",
      R"({"jsonrpc":"2.0","method":"x"}{"jsonrpc":"2.0","method":"y"})",
      R"({"jsonrpc":"2.0","method":"x","params":{"a":01}})",
      R"({"jsonrpc":"2.0","method":"x","params":{"a":1e400}})",
      R"({"jsonrpc":"2.0","method":"x","params":{"a":"\ud800"}})",
      R"({"jsonrpc":"2.0","method":"x","params":{"a":"\q"}})",
      "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":{\"a\":\"\xff\"}}",
      "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":{\"a\":\"\x01\"}}",
      R"({"jsonrpc":"2.0","method":"x",})",
      R"({"jsonrpc":"2.0","method":"x" "id":1})",
      R"({"jsonrpc":"2.0","method":"x","params":{"a":[1,2}})",
      R"({})",
      // Nesting around the limit (the message itself is one level).
      R"({"jsonrpc":"2.0","method":"x","params":)" + nested_params(kMaxSummaryDepth - 2) + "}",
      R"({"jsonrpc":"2.0","method":"x","params":)" + nested_params(kMaxSummaryDepth - 1) + "}",
      R"({"jsonrpc":"2.0","method":"x","params":)" + nested_params(kMaxSummaryDepth) + "}",
      // Whitespace inside is fine.
      "{ \"jsonrpc\" : \"2.0\" ,\t\"id\" : 4 , \"method\" : \"ping\" }",
  };
}

TEST(SummarizedEvents, StdioWholeObjectLinesReportWhatTheGeneralPathReports) {
  for (const char* label : {"", "> ", "< ", "2024-05-01T10:00:00.250Z > "}) {
    for (const auto& line : tricky_lines()) {
      SummaryCheckingSink fast;
      decode_stdio(label + line + "\n", fast);
      SummaryCheckingSink general;
      decode_stdio(label + line + " \n", general);
      EXPECT_EQ(digest(fast.collected), digest(general.collected)) << label << line;
    }
  }
}

TEST(SummarizedEvents, StdioHandsEverySummaryOnAndItIsTheMessages) {
  std::string input;
  for (const auto& line : tricky_lines())
    input += line + "\n";
  input += "[" + tricky_lines()[0] + "," + tricky_lines()[1] + "]\n";  // a batch
  input += "  " + tricky_lines()[2] + "  \n";                          // padded
  input += "\xEF\xBB\xBF" + tricky_lines()[3] + "\n";                  // a BOM
  SummaryCheckingSink sink;
  decode_stdio(input, sink);
  EXPECT_EQ(sink.plain_events, 0);
  // Every message that summarizes: the first six lines, the two nestings within the limit, the
  // one with whitespace inside, the batch's two members, the padded and the BOM line.
  EXPECT_EQ(sink.summarized_events, 13) << digest(sink.collected);
  EXPECT_EQ(sink.collected.events.size(), 13u);
  EXPECT_FALSE(sink.collected.problems.empty());
}

using test_events::EventBuilder;
using test_events::kC2S;
using test_events::kS2C;
using test_events::rpc_error;
using test_events::rpc_notification;
using test_events::rpc_request;
using test_events::rpc_result;

std::string describe_exchange(const Exchange& e) {
  std::string out =
      std::to_string(e.position) + "/" + std::to_string(e.end_position) + " " +
      std::string(to_string(e.kind)) + " " + std::string(to_string(e.direction)) + " " +
      std::string(to_string(e.status)) + " " + e.method + " " + e.id + " " + e.target + " " +
      e.protocol_version + " " + e.scope + " " + e.session + " " + e.backend + " " +
      std::to_string(e.http_status) + " " + std::to_string(e.started_us.value_or(-1)) + " " +
      std::to_string(e.ended_us.value_or(-1)) + " " + std::to_string(e.error_code.value_or(-1)) +
      " " + e.error_message + " " + (e.tool_error ? "T" : "-") + (e.orphan ? "O" : "-") + " " +
      e.progress_token + " " + e.related_id + " [" + e.request_message + "] [" +
      e.response_message + "] " + std::to_string(e.request_where.line) + " " +
      std::to_string(e.response_where ? e.response_where->line : 0) + " linked";
  for (const auto& linked : e.linked)
    out += " " + linked.method + "@" + std::to_string(linked.time_us.value_or(-1));
  return out + " +" + std::to_string(e.linked_omitted);
}

std::vector<Event> conversation() {
  std::vector<Event> events;
  std::uint64_t line = 0;
  const auto add = [&](Direction direction, std::string message) {
    ++line;
    events.push_back(EventBuilder("s", direction, std::move(message))
                         .at(static_cast<std::int64_t>(line) * 10)
                         .line(line));
  };
  add(kC2S, rpc_request(0, "initialize", R"({"protocolVersion":"2025-06-18"})"));
  add(kS2C, rpc_result(0, R"({"protocolVersion":"2025-06-18"})"));
  add(kC2S, rpc_notification("notifications/initialized"));
  add(kC2S, rpc_request(1, "tools/call", R"({"name":"slow","_meta":{"progressToken":"p"}})"));
  add(kC2S, rpc_request(2, "resources/read", R"({"uri":"file:///a"})"));
  add(kS2C, rpc_notification("notifications/progress", R"({"progressToken":"p","progress":1})"));
  add(kS2C, rpc_request(7, "sampling/createMessage"));
  add(kC2S, rpc_result(7));
  add(kS2C, rpc_error(2, -32002, "not found"));
  add(kC2S, "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":1}");  // does not summarize
  add(kS2C, rpc_result(1, R"({"isError":true,"content":[]})"));
  add(kC2S, rpc_request(3, "tools/list"));
  add(kC2S, rpc_notification("notifications/cancelled", R"({"requestId":3})"));
  add(kS2C, rpc_result(3));  // after the cancellation: an orphan
  add(kS2C, rpc_result(99));
  add(kC2S, rpc_request(4, "ping"));  // never answered
  return events;
}

TEST(SummarizedEvents, PairerPairsSummarizedEventsAsItPairsPlainOnes) {
  for (const bool ordered : {true, false}) {
    PairerOptions options;
    options.ordered = ordered;
    options.keep_payloads = true;
    std::vector<std::string> plain;
    std::vector<std::string> summarized;
    std::vector<std::string> plain_problems;
    std::vector<std::string> summarized_problems;
    Pairer plain_pairer(
        options, [&](Exchange&& e) { plain.push_back(describe_exchange(e)); },
        [&](Problem&& p) { plain_problems.push_back(describe(p)); });
    Pairer summarized_pairer(
        options, [&](Exchange&& e) { summarized.push_back(describe_exchange(e)); },
        [&](Problem&& p) { summarized_problems.push_back(describe(p)); });
    for (auto& event : conversation())
      plain_pairer.on_event(std::move(event));
    for (auto& event : conversation()) {
      if (auto summary = summarize_message(event.message, nullptr)) {
        summarized_pairer.on_summarized_event(std::move(event), std::move(*summary));
      } else {
        summarized_pairer.on_event(std::move(event));
      }
    }
    plain_pairer.finish();
    summarized_pairer.finish();
    EXPECT_EQ(plain.size(), 9u);
    EXPECT_EQ(plain, summarized);
    EXPECT_EQ(plain_problems.size(), 1u);
    EXPECT_EQ(plain_problems, summarized_problems);
    EXPECT_EQ(plain_pairer.messages(), summarized_pairer.messages());
  }
}

// A sink that does not override on_summarized_event gets the event through on_event.
TEST(SummarizedEvents, PlainSinksGetSummarizedEventsAsEvents) {
  CollectingSink sink;
  Sink& as_sink = sink;
  Event event = EventBuilder("s", kC2S, rpc_request(1, "ping"));
  auto summary = summarize_message(event.message, nullptr);
  ASSERT_TRUE(summary);
  as_sink.on_summarized_event(std::move(event), std::move(*summary));
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].message, rpc_request(1, "ping"));
}

}  // namespace
}  // namespace mcpgw::mcp::traffic
