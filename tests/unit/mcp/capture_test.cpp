// Capture format version 1, the encoder: fixed key order with `message` last and embedded
// verbatim, empty optional fields left out, and every string escaped so that any input still
// gives one line of valid JSON (control characters, quotes, invalid UTF-8).
#include "mcp/capture.hpp"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace mcpgw::mcp::capture {
namespace {

using traffic::Direction;
using traffic::Leg;
using traffic::Transport;

std::string encode(const Record& record) {
  std::string out;
  encode_record(record, out);
  return out;
}

TEST(CaptureEncode, HeaderLine) {
  EXPECT_EQ(encode_header(1700000000123456, "0.1.0", 3),
            R"({"type":"header","format":"mcpgw-capture","version":1,)"
            R"("started_us":1700000000123456,"gateway":"0.1.0","file_index":3})");
}

TEST(CaptureEncode, DroppedLine) {
  EXPECT_EQ(encode_dropped(42, 12), R"({"type":"dropped","ts_us":42,"count":12})");
}

TEST(CaptureEncode, FullRecordHasEveryFieldInOrderWithTheMessageLastAndVerbatim) {
  Record record;
  record.time_us = 1700000000000001;
  record.leg = Leg::backend;
  record.direction = Direction::server_to_client;
  record.transport = Transport::streamable_http;
  record.session = "s1";
  record.backend = "github";
  record.backend_session = "b-9";
  record.connection = 7;
  record.http_method = "POST";
  record.http_status = 200;
  record.http_headers = {{"content-type", "text/event-stream"}, {"authorization", "[redacted]"}};
  record.sse_event_id = "1-4";
  record.message = R"({"jsonrpc":"2.0","id":1,"result":{"b":1,"a":2}})";
  EXPECT_EQ(encode(record),
            R"({"type":"message","ts_us":1700000000000001,"leg":"backend",)"
            R"("direction":"server->client","transport":"streamable_http","session":"s1",)"
            R"("backend":"github","backend_session":"b-9","connection":7,"http_method":"POST",)"
            R"("http_status":200,"http_headers":{"content-type":"text/event-stream",)"
            R"("authorization":"[redacted]"},"sse_event_id":"1-4",)"
            R"("message":{"jsonrpc":"2.0","id":1,"result":{"b":1,"a":2}}})");
}

TEST(CaptureEncode, EmptyOptionalFieldsAreLeftOut) {
  Record record;
  record.time_us = 5;
  record.leg = Leg::client;
  record.direction = Direction::client_to_server;
  record.transport = Transport::stdio;
  record.message = R"({"jsonrpc":"2.0","method":"notifications/initialized"})";
  EXPECT_EQ(
      encode(record),
      R"({"type":"message","ts_us":5,"leg":"client","direction":"client->server",)"
      R"("transport":"stdio","message":{"jsonrpc":"2.0","method":"notifications/initialized"}})");
}

TEST(CaptureEncode, AppendsToWhatIsThere) {
  Record record;
  record.message = "{}";
  std::string out = "prefix|";
  encode_record(record, out);
  EXPECT_EQ(out.rfind("prefix|{\"type\":\"message\"", 0), 0u);
}

TEST(CaptureEncode, StringsAreEscapedAndInvalidUtf8IsReplaced) {
  Record record;
  std::string nasty = "a\"b\\c\n\r\t\b\f";
  nasty.push_back('\0');
  nasty += "\x01\x1f\x7f";
  record.session = nasty;
  // Invalid UTF-8: a stray continuation byte, a truncated sequence, an overlong '/', a UTF-16
  // surrogate and a code point beyond U+10FFFF; valid multi-byte text passes unchanged.
  record.backend = std::string("\x80|\xE2\x82|\xC0\xAF|\xED\xA0\x80|\xF4\x90\x80\x80|") + "é€😀";
  record.http_headers = {{"x-\"odd\"", "v\n1"}};
  record.sse_event_id = "\xFF";
  record.message = "{}";
  const std::string line = encode(record);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto parsed = nlohmann::json::parse(line);  // throws on invalid JSON or UTF-8
  EXPECT_EQ(parsed["session"], nasty);
  EXPECT_EQ(parsed["backend"],
            "\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD|"
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|"
            "é€😀");
  EXPECT_EQ(parsed["http_headers"]["x-\"odd\""], "v\n1");
  EXPECT_EQ(parsed["sse_event_id"], "\xEF\xBF\xBD");
  EXPECT_NE(line.find(R"(\u0000\u0001\u001f)"), std::string::npos);
}

TEST(CaptureEncode, LineBreaksBetweenTokensOfThePayloadBecomeSpaces) {
  Record record;
  record.message = "\r\n  {\n  \"jsonrpc\": \"2.0\",\r\n  \"method\": \"x\"\n}\n";
  const std::string line = encode(record);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  const auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["message"]["method"], "x");
  EXPECT_EQ(line.substr(line.size() - 2), "}}");
}

TEST(CaptureEncode, NoMessageTextIsNull) {
  Record record;
  record.message = " \n";
  const auto parsed = nlohmann::json::parse(encode(record));
  EXPECT_TRUE(parsed["message"].is_null());
}

TEST(CaptureEncode, RepeatedHeadersAreJoinedIntoOneMember) {
  Record record;
  record.message = "{}";
  record.http_headers = {
      {"accept", "application/json"}, {"x", "1"}, {"accept", "text/event-stream"}};
  const std::string line = encode(record);
  EXPECT_NE(line.find(R"("http_headers":{"accept":"application/json, text/event-stream","x":"1"})"),
            std::string::npos)
      << line;
}

TEST(CaptureEncode, EnumSpellings) {
  Record record;
  record.message = "{}";
  record.leg = Leg::unknown;
  record.transport = Transport::sse;
  auto parsed = nlohmann::json::parse(encode(record));
  EXPECT_EQ(parsed["leg"], "unknown");
  EXPECT_EQ(parsed["transport"], "sse");
  EXPECT_EQ(parsed["direction"], "client->server");
  record.transport = Transport::unknown;
  parsed = nlohmann::json::parse(encode(record));
  EXPECT_EQ(parsed["transport"], "unknown");
}

TEST(CaptureEncode, NegativeAndLargeNumbers) {
  Record record;
  record.message = "{}";
  record.time_us = -1;
  record.connection = 18446744073709551615u;
  record.http_status = 599;
  const std::string line = encode(record);
  EXPECT_NE(line.find(R"("ts_us":-1)"), std::string::npos);
  EXPECT_NE(line.find(R"("connection":18446744073709551615)"), std::string::npos);
  EXPECT_NE(line.find(R"("http_status":599)"), std::string::npos);
}

}  // namespace
}  // namespace mcpgw::mcp::capture
