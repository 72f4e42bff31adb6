#include "mcp/message_summary.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/json_scan.hpp"
#include "mcp/jsonrpc.hpp"

namespace mcpgw::mcp {
namespace {

MessageSummary summarize_ok(std::string_view text) {
  SummaryError error;
  auto summary = summarize_message(text, &error);
  EXPECT_TRUE(summary.has_value()) << text << " -> " << error.message;
  return summary.value_or(MessageSummary{});
}

std::string summarize_error(std::string_view text) {
  SummaryError error;
  auto summary = summarize_message(text, &error);
  EXPECT_FALSE(summary.has_value()) << text;
  return error.message;
}

TEST(MessageSummary, Request) {
  const auto summary = summarize_ok(
      R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo",)"
      R"("arguments":{"name":"not this","x":[1,2,{"uri":"u"}]},"_meta":{"progressToken":"p1"}}})");
  EXPECT_EQ(summary.kind, SummaryKind::request);
  EXPECT_EQ(summary.method, "tools/call");
  EXPECT_EQ(summary.id, "7");
  EXPECT_EQ(summary.target, "echo");
  EXPECT_EQ(summary.progress_token, "\"p1\"");
  EXPECT_TRUE(summary.cancelled_id.empty());
  EXPECT_FALSE(summary.error_code.has_value());
}

TEST(MessageSummary, MemberOrderDoesNotMatter) {
  const auto summary = summarize_ok(
      R"({"params":{"uri":"file:///a b","_meta":{"progressToken":-3}},"method":"resources/read",)"
      R"( "id" : "x" , "jsonrpc" : "2.0" })");
  EXPECT_EQ(summary.kind, SummaryKind::request);
  EXPECT_EQ(summary.target, "file:///a b");
  EXPECT_EQ(summary.id, "\"x\"");
  EXPECT_EQ(summary.progress_token, "-3");
}

TEST(MessageSummary, NamesAreComparedUnescaped) {
  const auto summary = summarize_ok(
      R"({"jsonr\u0070c":"2\u002e0","\u0069d":1,"method":"prompts\/get","params":{"n\u0061me":"gr\u00e9et"}})");
  EXPECT_EQ(summary.method, "prompts/get");
  EXPECT_EQ(summary.target,
            "gr\xC3\xA9"
            "et");
}

TEST(MessageSummary, CanonicalIds) {
  EXPECT_EQ(summarize_ok(R"({"jsonrpc":"2.0","id":-0,"result":{}})").id, "0");
  EXPECT_EQ(summarize_ok(R"({"jsonrpc":"2.0","id":"a\u0041\/\u0001\n","result":{}})").id,
            "\"aA/\\u0001\\n\"");
  EXPECT_EQ(summarize_ok(R"({"jsonrpc":"2.0","id":"\ud83d\ude00","result":1})").id,
            "\"\xF0\x9F\x98\x80\"");
  // The same text as the codec's RequestId::to_string.
  const std::string text = R"({"jsonrpc":"2.0","id":"q\"\\\t\u007f\u00ff","result":null})";
  auto decoded = decode_message(text);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(summarize_ok(text).id, decoded->id->to_string());
  EXPECT_EQ(summarize_ok(R"({"jsonrpc":"2.0","id":9223372036854775807,"result":1})").id,
            "9223372036854775807");
}

TEST(MessageSummary, SaysWhereTheIdIs) {
  const std::string request = R"({ "method":"ping", "id" :  "a\"b" , "jsonrpc":"2.0"})";
  const auto summary = summarize_ok(request);
  EXPECT_EQ(request.substr(summary.id_offset, summary.id_length), R"("a\"b")");
  const std::string response = "\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"result\":{\"id\":1},\"id\":-12}";
  const auto answered = summarize_ok(response);
  EXPECT_EQ(response.substr(answered.id_offset, answered.id_length), "-12");
  const std::string error = R"({"jsonrpc":"2.0","id":4,"error":{"code":1,"message":"m"}})";
  const auto failed = summarize_ok(error);
  EXPECT_EQ(error.substr(failed.id_offset, failed.id_length), "4");
}

TEST(MessageSummary, Notifications) {
  auto progress = summarize_ok(
      R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":5,"progress":1}})");
  EXPECT_EQ(progress.kind, SummaryKind::notification);
  EXPECT_EQ(progress.progress_token, "5");
  EXPECT_TRUE(progress.id.empty());
  auto cancelled = summarize_ok(
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"r-1","reason":"x"}})");
  EXPECT_EQ(cancelled.cancelled_id, "\"r-1\"");
  // A progress token of a wrong type is left out, not an error.
  auto odd = summarize_ok(
      R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1.5}})");
  EXPECT_TRUE(odd.progress_token.empty());
}

TEST(MessageSummary, Responses) {
  auto init = summarize_ok(
      R"({"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25","capabilities":{}}})");
  EXPECT_EQ(init.kind, SummaryKind::response);
  EXPECT_EQ(init.protocol_version, "2025-11-25");
  auto tool = summarize_ok(R"({"jsonrpc":"2.0","id":3,"result":{"content":[],"isError":true}})");
  EXPECT_TRUE(tool.tool_error);
  EXPECT_FALSE(summarize_ok(R"({"jsonrpc":"2.0","id":3,"result":{"isError":false}})").tool_error);
  auto error = summarize_ok(
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32601,"message":"Method not found: \"x\"","data":{}}})");
  EXPECT_EQ(error.kind, SummaryKind::error_response);
  EXPECT_TRUE(error.id.empty());
  EXPECT_EQ(error.error_code, -32601);
  EXPECT_EQ(error.error_message, "Method not found: \"x\"");
  auto absent = summarize_ok(R"({"jsonrpc":"2.0","error":{"message":"m","code":1}})");
  EXPECT_EQ(absent.kind, SummaryKind::error_response);
}

TEST(MessageSummary, InitializeRequest) {
  auto init = summarize_ok(
      R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18",)"
      R"("capabilities":{},"clientInfo":{"name":"c","version":"1"}}})");
  EXPECT_EQ(init.protocol_version, "2025-06-18");
  EXPECT_TRUE(init.target.empty());
}

TEST(MessageSummary, RejectsNonMessages) {
  EXPECT_NE(summarize_error(R"([{"jsonrpc":"2.0","method":"a"}])").find("batch"),
            std::string::npos);
  EXPECT_NE(summarize_error("42").find("object"), std::string::npos);
  EXPECT_NE(summarize_error(R"({"id":1,"method":"a"})").find("jsonrpc"), std::string::npos);
  EXPECT_NE(summarize_error(R"({"jsonrpc":"1.0","id":1,"method":"a"})").find("2.0"),
            std::string::npos);
  EXPECT_NE(summarize_error(R"({"jsonrpc":"2.0","id":1.5,"method":"a"})").find("id"),
            std::string::npos);
  EXPECT_NE(summarize_error(R"({"jsonrpc":"2.0","id":null,"method":"a"})").find("null"),
            std::string::npos);
  EXPECT_NE(summarize_error(R"({"jsonrpc":"2.0","method":1})").find("method"), std::string::npos);
  EXPECT_NE(summarize_error(R"({"jsonrpc":"2.0","method":"a","params":3})").find("params"),
            std::string::npos);
  EXPECT_NE(summarize_error(R"({"jsonrpc":"2.0","id":1,"result":1,"error":{}})").find("both"),
            std::string::npos);
  EXPECT_NE(summarize_error(R"({"jsonrpc":"2.0","id":1})").find("needs"), std::string::npos);
  EXPECT_NE(summarize_error(R"({"jsonrpc":"2.0","result":1})").find("id"), std::string::npos);
  EXPECT_NE(summarize_error(R"({"jsonrpc":"2.0","id":1,"error":{"code":1.0,"message":"m"}})")
                .find("code"),
            std::string::npos);
  EXPECT_NE(summarize_error(R"({"jsonrpc":"2.0","id":1,"error":{"code":1}})").find("message"),
            std::string::npos);
  EXPECT_NE(summarize_error(R"({"jsonrpc":"2.0","id":1,"id":2,"result":1})").find("duplicate"),
            std::string::npos);
  EXPECT_NE(summarize_error(R"({"jsonrpc":"2.0","id":1,"method":"tools/call",)"
                            R"("params":{"name":"a","name":"b"}})")
                .find("params.name"),
            std::string::npos);
}

TEST(MessageSummary, ReportsWhereTheJsonBreaks) {
  SummaryError error;
  EXPECT_FALSE(summarize_message(R"({"jsonrpc":"2.0","id":1,"result":[1,]})", &error));
  EXPECT_EQ(error.offset, 36u);
  EXPECT_NE(error.message.find("invalid JSON"), std::string::npos);
  EXPECT_FALSE(summarize_message(R"({"jsonrpc":"2.0","id":1,"result":1} x)", &error));
  EXPECT_NE(error.message.find("after"), std::string::npos);
  EXPECT_FALSE(summarize_message("", &error));
  EXPECT_FALSE(summarize_message({}, nullptr));
}

TEST(MessageSummary, DepthIsBounded) {
  auto nested = [](std::size_t levels) {
    std::string text = R"({"jsonrpc":"2.0","id":1,"result":)";
    text += std::string(levels - 1, '[');
    text += std::string(levels - 1, ']');
    text += "}";
    return text;
  };
  EXPECT_TRUE(summarize_message(nested(kMaxSummaryDepth), nullptr).has_value());
  SummaryError error;
  EXPECT_FALSE(summarize_message(nested(kMaxSummaryDepth + 1), &error).has_value());
  EXPECT_NE(error.message.find("deeper"), std::string::npos);
  // Far beyond the limit: no recursion, no crash.
  EXPECT_FALSE(summarize_message(nested(100000), nullptr).has_value());
}

TEST(SplitBatch, SplitsIntoExactMemberText) {
  std::vector<std::string_view> members;
  const std::string text =
      R"( [ {"jsonrpc":"2.0","method":"a"} ,{"jsonrpc":"2.0","id":1,"result":{ }}, 3 ] )";
  ASSERT_TRUE(split_batch(text, members, nullptr));
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0], R"({"jsonrpc":"2.0","method":"a"})");
  EXPECT_EQ(members[1], R"({"jsonrpc":"2.0","id":1,"result":{ }})");
  EXPECT_EQ(members[2], "3");
  ASSERT_TRUE(split_batch(" {\"a\":1}\n", members, nullptr));
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0], "{\"a\":1}");
  ASSERT_TRUE(split_batch("[]", members, nullptr));
  EXPECT_TRUE(members.empty());
  SummaryError error;
  EXPECT_FALSE(split_batch("\"x\"", members, &error));
  EXPECT_NE(error.message.find("object or a batch"), std::string::npos);
  EXPECT_FALSE(split_batch("[{},", members, &error));
  EXPECT_TRUE(members.empty());
  EXPECT_FALSE(split_batch("", members, &error));
  EXPECT_FALSE(split_batch("{} {}", members, &error));
}

// ---- randomized cross-checks against the codec ----

class RandomJson {
 public:
  explicit RandomJson(std::uint32_t seed) : rng_(seed) {}

  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  bool chance(std::size_t percent) { return below(100) < percent; }

  std::string string_token() {
    static const std::vector<std::string> kPieces = {
        "a", "method", "id", " ", "\\\"", "\\\\", "\\/", "\\n", "\\u0041", "\\u00e9",
        "\\ud83d\\ude00", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\\u0000", "\x7f",
        // invalid ones
        "\\ud83d", "\\ude00", "\\x", "\x01", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
        "\xE2\x82", "\xFF", "\\u12G4"};
    std::string out = "\"";
    const std::size_t count = below(4);
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t pick = below(kPieces.size());
      // Mostly valid pieces.
      out += kPieces[chance(90) ? pick % 16 : pick];
    }
    out += '"';
    return out;
  }

  std::string number_token() {
    static const std::vector<std::string> kNumbers = {"0",
                                                      "-0",
                                                      "7",
                                                      "-12",
                                                      "1.5",
                                                      "1e3",
                                                      "2E-2",
                                                      "9223372036854775807",
                                                      "9223372036854775808",
                                                      "-9223372036854775808",
                                                      "-9223372036854775809",
                                                      "123456789012345678901234567890",
                                                      "1e308",
                                                      "1.7976931348623157e308",
                                                      "1.8e308",
                                                      "1e400",
                                                      "-1e400",
                                                      "0.0001e312",
                                                      "1e-400",
                                                      "01",
                                                      "1.",
                                                      ".5",
                                                      "-",
                                                      "1e",
                                                      "+1",
                                                      "1.e3",
                                                      "0x10"};
    const std::size_t pick = below(kNumbers.size());
    return kNumbers[chance(90) ? pick % 19 : pick];
  }

  std::string value(std::size_t depth) {
    switch (below(depth > 4 ? 5 : 7)) {
      case 0:
        return string_token();
      case 1:
        return number_token();
      case 2:
        return chance(50) ? "true" : "false";
      case 3:
        return "null";
      case 4:
        return chance(95) ? "null" : "nul";
      case 5: {
        std::string out = "[";
        const std::size_t count = below(4);
        for (std::size_t i = 0; i < count; ++i) {
          out += i ? "," : "";
          out += ws() + value(depth + 1) + ws();
        }
        return out + "]";
      }
      default: {
        std::string out = "{";
        const std::size_t count = below(4);
        for (std::size_t i = 0; i < count; ++i) {
          out += i ? "," : "";
          out += ws() + "\"k" + std::to_string(i) + "\"" + ws() + ":" + ws() + value(depth + 1);
        }
        return out + "}";
      }
    }
  }

  std::string ws() {
    static const char* kWs[] = {"", "", "", " ", "\n", "\t", "\r\n "};
    return kWs[below(7)];
  }

  // A JSON-RPC-shaped object from random member choices, without duplicate members.
  std::string message() {
    std::vector<std::string> members;
    auto maybe = [&](std::size_t percent, const std::string& name, const std::string& value) {
      if (chance(percent)) {
        members.push_back("\"" + name + "\":" + ws() + value);
      }
    };
    static const std::vector<std::string> kVersions = {
        "\"2.0\"", "\"2.0\"", "\"2.0\"", "\"1.0\"", "2", "null", "\"2\\u002e0\""};
    maybe(90, "jsonrpc", kVersions[below(kVersions.size())]);
    static const std::vector<std::string> kIds = {"1",    "\"a\"",       "-0",
                                                  "null", "1.5",         "true",
                                                  "[]",   "{}",          "9223372036854775808",
                                                  "1e2",  "\"\\u0031\"", "-9223372036854775808"};
    maybe(70, "id", kIds[below(kIds.size())]);
    static const std::vector<std::string> kMethods = {"\"tools/call\"",
                                                      "\"initialize\"",
                                                      "\"notifications/progress\"",
                                                      "\"resources/read\"",
                                                      "\"notifications/cancelled\"",
                                                      "3",
                                                      "null"};
    const bool method = chance(55);
    if (method) {
      maybe(100, "method", kMethods[below(kMethods.size())]);
    }
    static const std::vector<std::string> kParams = {
        R"({"name":"t","uri":"u","_meta":{"progressToken":"p"},"progressToken":1,"requestId":"r"})",
        R"({"protocolVersion":"2025-06-18"})",
        "[1,2]",
        "\"s\"",
        "{}",
        "null"};
    maybe(50, "params", kParams[below(kParams.size())]);
    if (!method || chance(10)) {
      maybe(60, "result", chance(50) ? value(1) : R"({"protocolVersion":"v","isError":true})");
      static const std::vector<std::string> kErrors = {
          R"({"code":-32600,"message":"bad"})",
          R"({"message":"m","code":1,"data":[1]})",
          R"({"code":1.0,"message":"m"})",
          R"({"code":1})",
          R"({"message":"m"})",
          R"({"code":"1","message":"m"})",
          R"({"code":1,"message":2})",
          "[]",
          "null",
          R"({"code":9223372036854775808,"message":"m"})"};
      maybe(40, "error", kErrors[below(kErrors.size())]);
    }
    maybe(20, "extra", value(1));
    std::shuffle(members.begin(), members.end(), rng_);
    std::string out = "{";
    for (std::size_t i = 0; i < members.size(); ++i) {
      out += i ? "," : "";
      out += ws() + members[i] + ws();
    }
    return out + "}";
  }

  // Byte-level damage: truncate, flip, insert or delete.
  std::string mutate(std::string text) {
    static const std::string kAlphabet = "{}[],:\"\\ 0123456789.eE-+tfnul\x01\x80\xFF";
    const std::size_t edits = 1 + below(3);
    for (std::size_t i = 0; i < edits && !text.empty(); ++i) {
      const std::size_t at = below(text.size());
      switch (below(4)) {
        case 0:
          text.resize(at);
          break;
        case 1:
          text[at] = kAlphabet[below(kAlphabet.size())];
          break;
        case 2:
          text.insert(at, 1, kAlphabet[below(kAlphabet.size())]);
          break;
        default:
          text.erase(at, 1);
      }
    }
    return text;
  }

 private:
  std::mt19937 rng_;
};

bool scanner_accepts(std::string_view text) {
  json_scan::Scanner scanner(text, kMaxSummaryDepth);
  scanner.skip_bom();
  return scanner.skip_value(0) && scanner.expect_end();
}

bool codec_accepts(std::string_view text) {
  DecodeOptions options;
  options.max_depth = kMaxSummaryDepth;
  options.allow_duplicate_keys = true;
  return parse_json(text, options).has_value();
}

TEST(MessageSummaryRandom, JsonValidityAgreesWithTheCodec) {
  RandomJson random(12345);
  std::size_t valid = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = random.value(0);
    if (random.chance(50)) {
      text = random.mutate(std::move(text));
    }
    const bool expected = codec_accepts(text);
    ASSERT_EQ(scanner_accepts(text), expected) << "text: " << text;
    valid += expected ? 1 : 0;
  }
  EXPECT_GT(valid, 2000u);
  EXPECT_LT(valid, 18000u);
}

TEST(MessageSummaryRandom, ClassificationAgreesWithDecodeMessage) {
  RandomJson random(777);
  std::size_t kinds[4] = {};
  for (int i = 0; i < 20000; ++i) {
    std::string text = random.message();
    if (random.chance(20)) {
      text = random.mutate(std::move(text));
    }
    DecodeOptions options;
    options.max_depth = kMaxSummaryDepth;
    const auto decoded = decode_message(text, options);
    SummaryError error;
    const auto summary = summarize_message(text, &error);
    if (!decoded) {
      // The codec rejects duplicates anywhere; the summary only among members it reads.
      if (decoded.error().kind == DecodeErrorKind::duplicate_key) {
        continue;
      }
      ASSERT_FALSE(summary.has_value())
          << "text: " << text << "\ncodec: " << decoded.error().message;
      continue;
    }
    ASSERT_TRUE(summary.has_value()) << "text: " << text << "\nsummary: " << error.message;
    ++kinds[static_cast<int>(summary->kind)];
    switch (decoded->kind) {
      case MessageKind::request:
        EXPECT_EQ(summary->kind, SummaryKind::request) << text;
        break;
      case MessageKind::notification:
        EXPECT_EQ(summary->kind, SummaryKind::notification) << text;
        break;
      case MessageKind::success_response:
        EXPECT_EQ(summary->kind, SummaryKind::response) << text;
        break;
      case MessageKind::error_response:
        EXPECT_EQ(summary->kind, SummaryKind::error_response) << text;
        EXPECT_EQ(summary->error_code, decoded->error.code) << text;
        EXPECT_EQ(summary->error_message, decoded->error.message) << text;
        break;
    }
    EXPECT_EQ(summary->method, decoded->method) << text;
    EXPECT_EQ(summary->id, decoded->id ? decoded->id->to_string() : "") << text;
    if (!summary->id.empty()) {
      ASSERT_LE(summary->id_offset + summary->id_length, text.size()) << text;
      EXPECT_EQ(json_scan::canonical_id_text(text.substr(summary->id_offset, summary->id_length)),
                summary->id)
          << text;
    }
    if (decoded->kind == MessageKind::request) {
      auto token = progress_token(*decoded);
      if (token && *token) {
        EXPECT_EQ(summary->progress_token, (*token)->to_string()) << text;
      }
    }
  }
  for (const auto count : kinds) {
    EXPECT_GT(count, 50u);
  }
}

TEST(MessageSummaryRandom, BatchesSplitLikeTheCodec) {
  RandomJson random(99);
  for (int i = 0; i < 3000; ++i) {
    std::string text = "[" + random.message();
    const std::size_t more = random.below(3);
    for (std::size_t j = 0; j < more; ++j) {
      text += "," + random.ws() + random.message();
    }
    text += "]";
    if (random.chance(30)) {
      text = random.mutate(std::move(text));
    }
    std::vector<std::string_view> members;
    const bool split = split_batch(text, members, nullptr);
    const bool valid_json = codec_accepts(text);
    const auto first = text.find_first_not_of(" \t\r\n");
    const bool container = first != std::string::npos && (text[first] == '[' || text[first] == '{');
    ASSERT_EQ(split, valid_json && container) << text;
    if (split && text[first] == '[') {
      const auto body =
          decode(text, DecodeOptions{.max_depth = kMaxSummaryDepth, .allow_duplicate_keys = true});
      if (body && body->is_batch) {
        ASSERT_EQ(members.size(), body->items.size()) << text;
        for (std::size_t j = 0; j < members.size(); ++j) {
          EXPECT_TRUE(codec_accepts(members[j]));
        }
      }
    }
  }
}

}  // namespace
}  // namespace mcpgw::mcp
