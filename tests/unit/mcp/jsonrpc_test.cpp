#include "mcp/jsonrpc.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace mcpgw::mcp {
namespace {

using nlohmann::json;

Message decode_ok(std::string_view text, const DecodeOptions& options = {}) {
  auto decoded = decode_message(text, options);
  EXPECT_TRUE(decoded.has_value()) << text << " -> " << (decoded ? "" : decoded.error().message);
  if (!decoded) {
    return Message{};
  }
  return std::move(decoded).value();
}

DecodeError decode_fail(std::string_view text, const DecodeOptions& options = {}) {
  auto decoded = decode_message(text, options);
  EXPECT_FALSE(decoded.has_value()) << "expected an error for: " << text;
  if (decoded) {
    return DecodeError{};
  }
  EXPECT_FALSE(decoded.error().message.empty());
  return decoded.error();
}

// The JSON value of a text, for order-independent comparisons.
json value_of(std::string_view text) {
  return json::parse(text);
}

// ---- message kinds ----

TEST(JsonRpcDecode, Request) {
  const Message m =
      decode_ok(R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"c1"}})");
  EXPECT_EQ(m.kind, MessageKind::request);
  EXPECT_TRUE(m.is_request());
  ASSERT_TRUE(m.id.has_value());
  EXPECT_TRUE(m.id->is_integer());
  EXPECT_EQ(m.id->integer(), 1);
  EXPECT_EQ(m.method, "tools/list");
  ASSERT_TRUE(m.params.has_value());
  EXPECT_EQ(*m.params, value_of(R"({"cursor":"c1"})"));
  ASSERT_NE(m.param("cursor"), nullptr);
  EXPECT_EQ(*m.param("cursor"), "c1");
  EXPECT_EQ(m.param("missing"), nullptr);
}

TEST(JsonRpcDecode, RequestWithoutParamsKeepsThemAbsent) {
  const Message m = decode_ok(R"({"jsonrpc":"2.0","id":"a","method":"ping"})");
  EXPECT_EQ(m.kind, MessageKind::request);
  EXPECT_FALSE(m.params.has_value());
  EXPECT_EQ(m.param("x"), nullptr);
  EXPECT_EQ(encode(m), R"({"jsonrpc":"2.0","id":"a","method":"ping"})");
}

TEST(JsonRpcDecode, ParamsMayBeAnArray) {
  const Message m = decode_ok(R"({"jsonrpc":"2.0","id":1,"method":"sum","params":[1,2]})");
  ASSERT_TRUE(m.params.has_value());
  EXPECT_TRUE(m.params->is_array());
  EXPECT_EQ(m.param("0"), nullptr);  // param() looks into objects only
}

TEST(JsonRpcDecode, Notification) {
  const Message m = decode_ok(
      R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":7,"progress":1}})");
  EXPECT_EQ(m.kind, MessageKind::notification);
  EXPECT_TRUE(m.is_notification());
  EXPECT_FALSE(m.id.has_value());
  EXPECT_EQ(m.method, "notifications/progress");
}

TEST(JsonRpcDecode, SuccessResponseWithAnyResultValue) {
  const Message m = decode_ok(R"({"jsonrpc":"2.0","id":3,"result":{"tools":[]}})");
  EXPECT_EQ(m.kind, MessageKind::success_response);
  EXPECT_TRUE(m.is_response());
  EXPECT_EQ(m.id, RequestId(3));
  EXPECT_EQ(m.result, value_of(R"({"tools":[]})"));

  // JSON-RPC lets the result be any value, null included.
  const Message null_result = decode_ok(R"({"jsonrpc":"2.0","id":4,"result":null})");
  EXPECT_EQ(null_result.kind, MessageKind::success_response);
  EXPECT_TRUE(null_result.result.is_null());
  EXPECT_EQ(encode(null_result), R"({"jsonrpc":"2.0","id":4,"result":null})");
}

TEST(JsonRpcDecode, ErrorResponse) {
  const Message m = decode_ok(
      R"({"jsonrpc":"2.0","id":"x","error":{"code":-32601,"message":"Method not found","data":{"method":"nope"}}})");
  EXPECT_EQ(m.kind, MessageKind::error_response);
  EXPECT_EQ(m.id, RequestId("x"));
  EXPECT_EQ(m.error.code, error_code::method_not_found);
  EXPECT_EQ(m.error.message, "Method not found");
  ASSERT_TRUE(m.error.data.has_value());
  EXPECT_EQ(*m.error.data, value_of(R"({"method":"nope"})"));

  const Message no_data =
      decode_ok(R"({"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"boom"}})");
  EXPECT_FALSE(no_data.error.data.has_value());

  // "data": null is present, and stays present.
  const Message null_data =
      decode_ok(R"({"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m","data":null}})");
  ASSERT_TRUE(null_data.error.data.has_value());
  EXPECT_EQ(encode(null_data),
            R"({"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m","data":null}})");
}

TEST(JsonRpcDecode, ErrorResponseWithNullOrAbsentIdKeepsTheForm) {
  const std::string null_id =
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"p"}})";
  const Message with_null = decode_ok(null_id);
  EXPECT_EQ(with_null.kind, MessageKind::error_response);
  EXPECT_FALSE(with_null.id.has_value());
  EXPECT_FALSE(with_null.error_id_absent);
  EXPECT_EQ(encode(with_null), null_id);

  // The MCP schema makes the id optional from 2025-11-25 on.
  const std::string absent_id = R"({"jsonrpc":"2.0","error":{"code":-32700,"message":"p"}})";
  const Message without = decode_ok(absent_id);
  EXPECT_FALSE(without.id.has_value());
  EXPECT_TRUE(without.error_id_absent);
  EXPECT_EQ(encode(without), absent_id);
  EXPECT_FALSE(to_json(without).contains("id"));
  EXPECT_TRUE(to_json(with_null).contains("id"));
}

TEST(JsonRpcDecode, ErrorObjectUnknownMembersArePreserved) {
  const std::string text =
      R"({"jsonrpc":"2.0","id":1,"error":{"code":5,"message":"m","data":[1],"hint":"retry"}})";
  const Message m = decode_ok(text);
  EXPECT_EQ(m.error.extra, value_of(R"({"hint":"retry"})"));
  EXPECT_EQ(value_of(encode(m)), value_of(text));
}

// ---- ids ----

TEST(RequestIdTest, StringAndIntegerAreDistinct) {
  const RequestId number(1);
  const RequestId text("1");
  EXPECT_NE(number, text);
  EXPECT_TRUE(number.is_integer());
  EXPECT_TRUE(text.is_string());
  EXPECT_EQ(number.to_string(), "1");
  EXPECT_EQ(text.to_string(), "\"1\"");
  EXPECT_NE(number.hash(), text.hash());
  EXPECT_EQ(number.to_json(), json(1));
  EXPECT_EQ(text.to_json(), json("1"));
}

TEST(RequestIdTest, UsableAsHashAndOrderedMapKey) {
  std::unordered_map<RequestId, std::string> by_hash;
  by_hash[RequestId(1)] = "integer";
  by_hash[RequestId("1")] = "string";
  by_hash[RequestId(0)] = "zero";
  by_hash[RequestId("")] = "empty";
  EXPECT_EQ(by_hash.size(), 4u);
  EXPECT_EQ(by_hash.at(RequestId(1)), "integer");
  EXPECT_EQ(by_hash.at(RequestId("1")), "string");

  std::unordered_set<RequestId, RequestIdHash> with_functor{RequestId(2), RequestId("2")};
  EXPECT_EQ(with_functor.size(), 2u);

  std::map<RequestId, int> ordered{
      {RequestId("b"), 4}, {RequestId(10), 2}, {RequestId("a"), 3}, {RequestId(-5), 1}};
  std::vector<int> order;
  for (const auto& [id, rank] : ordered) {
    order.push_back(rank);
  }
  // Integers (by value) before strings (lexicographic).
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_LT(RequestId(std::numeric_limits<std::int64_t>::max()), RequestId(""));
}

TEST(RequestIdTest, DistinctionSurvivesDecodeAndEncode) {
  const Message as_int = decode_ok(R"({"jsonrpc":"2.0","id":1,"method":"m"})");
  const Message as_text = decode_ok(R"({"jsonrpc":"2.0","id":"1","method":"m"})");
  EXPECT_NE(as_int.id, as_text.id);
  EXPECT_EQ(encode(as_int), R"({"jsonrpc":"2.0","id":1,"method":"m"})");
  EXPECT_EQ(encode(as_text), R"({"jsonrpc":"2.0","id":"1","method":"m"})");
}

TEST(RequestIdTest, FromJson) {
  EXPECT_EQ(*RequestId::from_json(json(42)), RequestId(42));
  EXPECT_EQ(*RequestId::from_json(json(-42)), RequestId(-42));
  EXPECT_EQ(*RequestId::from_json(json("abc")), RequestId("abc"));
  EXPECT_EQ(*RequestId::from_json(json(std::uint64_t{7})), RequestId(7));
  EXPECT_FALSE(RequestId::from_json(json(1.5)).has_value());
  EXPECT_FALSE(RequestId::from_json(json(true)).has_value());
  EXPECT_FALSE(RequestId::from_json(json(nullptr)).has_value());
  EXPECT_FALSE(RequestId::from_json(json::object()).has_value());
  EXPECT_FALSE(RequestId::from_json(json::array()).has_value());
  const auto too_big = RequestId::from_json(json(std::numeric_limits<std::uint64_t>::max()));
  ASSERT_FALSE(too_big.has_value());
  EXPECT_NE(too_big.error().find("64-bit"), std::string::npos) << too_big.error();
}

TEST(RequestIdTest, ExtremeIntegersArePreservedExactly) {
  const Message max = decode_ok(R"({"jsonrpc":"2.0","id":9223372036854775807,"method":"m"})");
  EXPECT_EQ(max.id, RequestId(std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(encode(max), R"({"jsonrpc":"2.0","id":9223372036854775807,"method":"m"})");
  const Message min = decode_ok(R"({"jsonrpc":"2.0","id":-9223372036854775808,"method":"m"})");
  EXPECT_EQ(min.id, RequestId(std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(encode(min), R"({"jsonrpc":"2.0","id":-9223372036854775808,"method":"m"})");
}

TEST(RequestIdTest, IdsThatCannotBeKeptExactlyAreRejected) {
  struct Case {
    const char* text;
    const char* fragment;  // expected in the message
  };
  const Case cases[] = {
      {R"({"jsonrpc":"2.0","id":9223372036854775808,"method":"m"})", "64-bit"},
      {R"({"jsonrpc":"2.0","id":18446744073709551616,"method":"m"})", "non-integer"},
      {R"({"jsonrpc":"2.0","id":1.5,"method":"m"})", "non-integer"},
      {R"({"jsonrpc":"2.0","id":1.0,"method":"m"})", "non-integer"},
      {R"({"jsonrpc":"2.0","id":1e2,"method":"m"})", "non-integer"},
      {R"({"jsonrpc":"2.0","id":true,"method":"m"})", "boolean"},
      {R"({"jsonrpc":"2.0","id":{},"method":"m"})", "object"},
      {R"({"jsonrpc":"2.0","id":[1],"method":"m"})", "array"},
      {R"({"jsonrpc":"2.0","id":null,"method":"m"})", "null"},
      {R"({"jsonrpc":"2.0","id":null,"result":{}})", "null"},
      {R"({"jsonrpc":"2.0","result":{}})", "needs an \"id\""},
      {R"({"jsonrpc":"2.0","id":2.5,"result":{}})", "non-integer"},
      {R"({"jsonrpc":"2.0","id":false,"error":{"code":1,"message":"m"}})", "boolean"},
  };
  for (const auto& c : cases) {
    const DecodeError error = decode_fail(c.text);
    EXPECT_EQ(error.kind, DecodeErrorKind::bad_id) << c.text;
    EXPECT_EQ(error.code(), error_code::invalid_request) << c.text;
    EXPECT_FALSE(error.id.has_value()) << c.text;
    EXPECT_NE(error.message.find(c.fragment), std::string::npos) << c.text << ": " << error.message;
  }
}

TEST(RequestIdTest, NegativeZeroIsTheIntegerZero) {
  // JSON has no integer negative zero; -0 is the same number as 0 (documented in the header).
  const Message m = decode_ok(R"({"jsonrpc":"2.0","id":-0,"method":"m"})");
  EXPECT_EQ(m.id, RequestId(0));
  EXPECT_EQ(encode(m), R"({"jsonrpc":"2.0","id":0,"method":"m"})");
}

TEST(RequestIdTest, UnusualButValidStringIds) {
  EXPECT_EQ(decode_ok(R"({"jsonrpc":"2.0","id":"","method":"m"})").id, RequestId(""));
  const Message unicode = decode_ok(R"({"jsonrpc":"2.0","id":"\u00e9\ud83d\ude00","method":"m"})");
  EXPECT_EQ(unicode.id, RequestId("\xc3\xa9\xf0\x9f\x98\x80"));
  const Message nul = decode_ok(R"({"jsonrpc":"2.0","id":"a\u0000b","method":"m"})");
  EXPECT_EQ(nul.id->string(), std::string("a\0b", 3));
  EXPECT_EQ(encode(nul), R"({"jsonrpc":"2.0","id":"a\u0000b","method":"m"})");
}

// ---- parse errors (-32700) ----

TEST(JsonRpcDecode, ParseErrors) {
  const std::string raw_nul = std::string(R"({"jsonrpc":"2.0","method":"a)") + '\0' + R"("})";
  const std::string nul_after = std::string(R"({"jsonrpc":"2.0","method":"a"})") + '\0';
  const std::string cases[] = {
      "",
      "   \n\t ",
      "{",
      "[",
      R"({"jsonrpc":"2.0","id":1,"method":"x")",                          // truncated
      R"({"jsonrpc":"2.0","id":1,"method":"x"}x)",                        // trailing garbage
      R"({"jsonrpc":"2.0","method":"x"}{"jsonrpc":"2.0","method":"y"})",  // two documents
      R"({"jsonrpc":"2.0","method":"x"},)",
      "nul",
      "{'jsonrpc':'2.0'}",
      R"({"jsonrpc":"2.0","method":"x" /* comment */})",
      R"({"jsonrpc":"2.0","id":NaN,"method":"x"})",
      R"({"jsonrpc":"2.0","id":Infinity,"method":"x"})",
      R"({"jsonrpc":"2.0","id":01,"method":"x"})",
      R"({"jsonrpc":"2.0","id":1,"method":"x","params":{"n":1e400}})",
      R"({"jsonrpc":"2.0","method":"\ud800"})",             // unpaired surrogate
      R"({"jsonrpc":"2.0","method":"\u12"})",               // short escape
      "{\"jsonrpc\":\"2.0\",\"method\":\"\xff\"}",          // invalid UTF-8 in a string
      "{\"jsonrpc\":\"2.0\",\"method\":\"\xc3\"}",          // truncated UTF-8 sequence
      "{\"jsonrpc\":\"2.0\",\"method\":\"\xed\xa0\x80\"}",  // UTF-8 encoded surrogate
      "{\"jsonrpc\":\"2.0\",\"method\":\"a\nb\"}",          // raw control character
      raw_nul,
      nul_after,
      "\xff{}",
      R"({"jsonrpc":"2.0",})",
      R"({"jsonrpc" "2.0"})",
  };
  for (const auto& text : cases) {
    const DecodeError error = decode_fail(text);
    EXPECT_EQ(error.kind, DecodeErrorKind::invalid_json) << text << ": " << error.message;
    EXPECT_EQ(error.code(), error_code::parse_error) << text;
    EXPECT_FALSE(error.id.has_value());
    EXPECT_EQ(error.message.rfind("invalid JSON", 0), 0u) << error.message;
  }
}

TEST(JsonRpcDecode, ParseErrorMessagesAreShortPrintableAndSayWhere) {
  const DecodeError truncated = decode_fail(R"({"jsonrpc":"2.0","id":1,"method":"x")");
  EXPECT_NE(truncated.message.find("line 1"), std::string::npos) << truncated.message;
  EXPECT_NE(truncated.message.find("end of input"), std::string::npos) << truncated.message;

  const DecodeError garbage = decode_fail(R"({"jsonrpc":"2.0","method":"x"} junk)");
  EXPECT_NE(garbage.message.find("end of input"), std::string::npos) << garbage.message;

  // A huge unterminated string must not be echoed back whole, nor raw bytes.
  std::string hostile = "{\"jsonrpc\":\"2.0\",\"method\":\"";
  hostile += std::string(100000, 'a');
  hostile += "\xff\x01";
  const DecodeError long_error = decode_fail(hostile);
  EXPECT_LT(long_error.message.size(), 300u);
  for (const char c : long_error.message) {
    const auto byte = static_cast<unsigned char>(c);
    EXPECT_TRUE(byte >= 0x20 && byte < 0x7f) << long_error.message;
  }
}

TEST(JsonRpcDecode, DuplicateKeysAreRejectedByDefault) {
  const DecodeError top = decode_fail(R"({"jsonrpc":"2.0","id":1,"id":2,"method":"m"})");
  EXPECT_EQ(top.kind, DecodeErrorKind::duplicate_key);
  EXPECT_EQ(top.code(), error_code::parse_error);
  EXPECT_NE(top.message.find("\"id\""), std::string::npos) << top.message;

  // The smuggling case: two names in tools/call params.
  const DecodeError nested = decode_fail(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"safe","name":"rm_rf"}})");
  EXPECT_EQ(nested.kind, DecodeErrorKind::duplicate_key);

  // The same key in different objects is fine.
  decode_ok(R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"a":{"a":1},"b":{"a":2}}})");
}

TEST(JsonRpcDecode, DuplicateKeysCanBeAllowedLastWins) {
  DecodeOptions options;
  options.allow_duplicate_keys = true;
  const Message m = decode_ok(
      R"({"jsonrpc":"2.0","id":1,"id":"two","method":"m","params":{"k":{"deep":[1]},"k":3}})",
      options);
  EXPECT_EQ(m.id, RequestId("two"));
  EXPECT_EQ(*m.param("k"), json(3));
}

TEST(JsonRpcDecode, LossyIntegers) {
  const std::string text =
      R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"big":123456789012345678901234567890,"max":18446744073709551615}})";
  // By default: like JavaScript, a double; 64-bit unsigned values stay exact.
  const Message m = decode_ok(text);
  EXPECT_TRUE(m.param("big")->is_number_float());
  EXPECT_TRUE(m.param("max")->is_number_unsigned());
  EXPECT_NE(encode(m).find("18446744073709551615"), std::string::npos);

  DecodeOptions strict;
  strict.reject_lossy_integers = true;
  const DecodeError error = decode_fail(text, strict);
  EXPECT_EQ(error.kind, DecodeErrorKind::lossy_integer);
  EXPECT_EQ(error.code(), error_code::parse_error);
  EXPECT_NE(error.message.find("123456789012345678901234567890"), std::string::npos);
  // Ordinary fractions are not "lossy integers".
  decode_ok(R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"x":0.1,"y":-2.5e-3}})", strict);
}

// ---- invalid requests (-32600) ----

TEST(JsonRpcDecode, InvalidRequests) {
  struct Case {
    const char* text;
    DecodeErrorKind kind;
    std::optional<RequestId> id;  // what the error should carry back
    const char* fragment;
  };
  const Case cases[] = {
      {R"("just a string")", DecodeErrorKind::not_an_object, {}, "a string"},
      {"42", DecodeErrorKind::not_an_object, {}, "an integer"},
      {"null", DecodeErrorKind::not_an_object, {}, "null"},
      {"true", DecodeErrorKind::not_an_object, {}, "boolean"},
      {"{}", DecodeErrorKind::bad_version, {}, "jsonrpc"},
      {R"({"id":1,"method":"m"})", DecodeErrorKind::bad_version, RequestId(1), "missing"},
      {R"({"jsonrpc":"1.0","id":"q","method":"m"})", DecodeErrorKind::bad_version, RequestId("q"),
       "1.0"},
      {R"({"jsonrpc":2.0,"id":1,"method":"m"})", DecodeErrorKind::bad_version, RequestId(1),
       "string"},
      {R"({"jsonrpc":"2.0 ","id":1,"method":"m"})", DecodeErrorKind::bad_version, RequestId(1),
       "2.0"},
      {R"({"jsonrpc":"2.0","id":"a","method":7})", DecodeErrorKind::bad_method, RequestId("a"),
       "\"method\" must be a string"},
      {R"({"jsonrpc":"2.0","id":1,"method":null})", DecodeErrorKind::bad_method, RequestId(1),
       "null"},
      {R"({"jsonrpc":"2.0","method":["m"]})", DecodeErrorKind::bad_method, {}, "array"},
      {R"({"jsonrpc":"2.0","id":1,"method":"m","params":"x"})", DecodeErrorKind::bad_params,
       RequestId(1), "object or an array"},
      {R"({"jsonrpc":"2.0","id":1,"method":"m","params":3})", DecodeErrorKind::bad_params,
       RequestId(1), "integer"},
      {R"({"jsonrpc":"2.0","id":1,"method":"m","params":null})", DecodeErrorKind::bad_params,
       RequestId(1), "null"},
      {R"({"jsonrpc":"2.0","method":"m","params":true})",
       DecodeErrorKind::bad_params,
       {},
       "boolean"},
      {R"({"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}})",
       DecodeErrorKind::ambiguous, RequestId(1), "both"},
      {R"({"jsonrpc":"2.0","id":1,"method":"m","result":{}})", DecodeErrorKind::ambiguous,
       RequestId(1), "method"},
      {R"({"jsonrpc":"2.0","id":1,"method":"m","error":{"code":1,"message":"m"}})",
       DecodeErrorKind::ambiguous, RequestId(1), "method"},
      {R"({"jsonrpc":"2.0","id":9})", DecodeErrorKind::incomplete, RequestId(9), "\"method\""},
      {R"({"jsonrpc":"2.0","id":1,"error":"boom"})", DecodeErrorKind::bad_error, RequestId(1),
       "must be an object"},
      {R"({"jsonrpc":"2.0","id":1,"error":{"message":"m"}})", DecodeErrorKind::bad_error,
       RequestId(1), "\"code\" is missing"},
      {R"({"jsonrpc":"2.0","id":1,"error":{"code":"-32600","message":"m"}})",
       DecodeErrorKind::bad_error, RequestId(1), "\"code\" is a string"},
      {R"({"jsonrpc":"2.0","id":1,"error":{"code":-32600.5,"message":"m"}})",
       DecodeErrorKind::bad_error, RequestId(1), "floating-point"},
      {R"({"jsonrpc":"2.0","id":1,"error":{"code":9223372036854775808,"message":"m"}})",
       DecodeErrorKind::bad_error, RequestId(1), "64-bit"},
      {R"({"jsonrpc":"2.0","id":1,"error":{"code":1}})", DecodeErrorKind::bad_error, RequestId(1),
       "\"message\" is missing"},
      {R"({"jsonrpc":"2.0","id":1,"error":{"code":1,"message":null}})", DecodeErrorKind::bad_error,
       RequestId(1), "\"message\" is null"},
      {R"({"jsonrpc":"2.0","id":1,"error":null})", DecodeErrorKind::bad_error, RequestId(1),
       "null"},
  };
  for (const auto& c : cases) {
    const DecodeError error = decode_fail(c.text);
    EXPECT_EQ(error.kind, c.kind) << c.text << " -> " << to_string(error.kind) << ": "
                                  << error.message;
    EXPECT_EQ(error.code(), error_code::invalid_request) << c.text;
    EXPECT_EQ(error.id, c.id) << c.text;
    EXPECT_NE(error.message.find(c.fragment), std::string::npos) << c.text << ": " << error.message;
  }
}

TEST(JsonRpcDecode, EmptyMethodNameIsAValidJsonRpcRequest) {
  // JSON-RPC only asks for a string; an unknown method is answered with -32601 later.
  const Message m = decode_ok(R"({"jsonrpc":"2.0","id":1,"method":""})");
  EXPECT_EQ(m.method, "");
}

TEST(JsonRpcDecode, ErrorResponsesForDecodeErrors) {
  const DecodeError parse = decode_fail("{oops");
  const Message parse_response = parse.to_response();
  EXPECT_EQ(parse_response.kind, MessageKind::error_response);
  EXPECT_FALSE(parse_response.id.has_value());
  EXPECT_EQ(parse_response.error.code, error_code::parse_error);
  const json parse_json_value = value_of(encode(parse_response));
  EXPECT_TRUE(parse_json_value.at("id").is_null());
  EXPECT_EQ(parse_json_value.at("error").at("code"), -32700);
  EXPECT_EQ(parse_json_value.at("error").at("message").get<std::string>().rfind("Parse error: ", 0),
            0u);

  const DecodeError invalid = decode_fail(R"({"jsonrpc":"2.0","id":"r1","method":5})");
  const json invalid_json = value_of(encode(invalid.to_response()));
  EXPECT_EQ(invalid_json.at("id"), "r1");
  EXPECT_EQ(invalid_json.at("error").at("code"), -32600);
}

TEST(JsonRpcDecode, ErrorCodeMappingCoversEveryKind) {
  const DecodeErrorKind parse_kinds[] = {DecodeErrorKind::invalid_json, DecodeErrorKind::too_deep,
                                         DecodeErrorKind::duplicate_key,
                                         DecodeErrorKind::lossy_integer};
  for (const auto kind : parse_kinds) {
    EXPECT_EQ((DecodeError{kind, "x", {}}.code()), error_code::parse_error) << to_string(kind);
  }
  const DecodeErrorKind invalid_kinds[] = {
      DecodeErrorKind::not_an_object,     DecodeErrorKind::empty_batch,
      DecodeErrorKind::batch_not_allowed, DecodeErrorKind::batch_too_large,
      DecodeErrorKind::bad_version,       DecodeErrorKind::bad_id,
      DecodeErrorKind::bad_method,        DecodeErrorKind::bad_params,
      DecodeErrorKind::bad_error,         DecodeErrorKind::ambiguous,
      DecodeErrorKind::incomplete};
  for (const auto kind : invalid_kinds) {
    EXPECT_EQ((DecodeError{kind, "x", {}}.code()), error_code::invalid_request) << to_string(kind);
    EXPECT_NE(to_string(kind), "unknown");
  }
}

TEST(JsonRpcErrorCodes, Values) {
  EXPECT_EQ(error_code::parse_error, -32700);
  EXPECT_EQ(error_code::invalid_request, -32600);
  EXPECT_EQ(error_code::method_not_found, -32601);
  EXPECT_EQ(error_code::invalid_params, -32602);
  EXPECT_EQ(error_code::internal_error, -32603);
  EXPECT_EQ(error_code::resource_not_found, -32002);
  EXPECT_EQ(error_code::url_elicitation_required, -32042);
  EXPECT_EQ(error_code::header_mismatch, -32020);
  EXPECT_EQ(error_code::missing_required_client_capability, -32021);
  EXPECT_EQ(error_code::unsupported_protocol_version, -32022);
}

// ---- batches ----

TEST(JsonRpcBatch, MixedElementsAreValidatedOneByOne) {
  const auto body = decode(R"([
    {"jsonrpc":"2.0","id":1,"method":"tools/list"},
    {"jsonrpc":"2.0","method":"notifications/initialized"},
    {"jsonrpc":"1.0","id":"bad","method":"x"},
    42,
    {"jsonrpc":"2.0","id":2,"method":"ping","params":"nope"},
    [{"jsonrpc":"2.0","id":3,"method":"nested"}],
    {"jsonrpc":"2.0","id":4,"result":{}}
  ])");
  ASSERT_TRUE(body.has_value()) << body.error().message;
  EXPECT_TRUE(body->is_batch);
  ASSERT_EQ(body->items.size(), 7u);
  ASSERT_TRUE(body->items[0].has_value());
  EXPECT_EQ(body->items[0]->kind, MessageKind::request);
  ASSERT_TRUE(body->items[1].has_value());
  EXPECT_EQ(body->items[1]->kind, MessageKind::notification);
  ASSERT_FALSE(body->items[2].has_value());
  EXPECT_EQ(body->items[2].error().kind, DecodeErrorKind::bad_version);
  EXPECT_EQ(body->items[2].error().id, RequestId("bad"));
  ASSERT_FALSE(body->items[3].has_value());
  EXPECT_EQ(body->items[3].error().kind, DecodeErrorKind::not_an_object);
  ASSERT_FALSE(body->items[4].has_value());
  EXPECT_EQ(body->items[4].error().kind, DecodeErrorKind::bad_params);
  EXPECT_EQ(body->items[4].error().id, RequestId(2));
  ASSERT_FALSE(body->items[5].has_value());
  EXPECT_EQ(body->items[5].error().kind, DecodeErrorKind::not_an_object);
  EXPECT_NE(body->items[5].error().message.find("nested"), std::string::npos);
  ASSERT_TRUE(body->items[6].has_value());
  EXPECT_EQ(body->items[6]->kind, MessageKind::success_response);

  // The answer: one error response per invalid element, as JSON-RPC 2.0 asks.
  std::vector<Message> responses;
  for (const auto& item : body->items) {
    if (!item) {
      responses.push_back(item.error().to_response());
    }
  }
  const json answer = value_of(encode_batch(responses));
  ASSERT_EQ(answer.size(), 4u);
  EXPECT_EQ(answer[0].at("id"), "bad");
  EXPECT_TRUE(answer[1].at("id").is_null());
  EXPECT_EQ(answer[2].at("id"), 2);
  for (const auto& response : answer) {
    EXPECT_EQ(response.at("error").at("code"), -32600);
  }
}

TEST(JsonRpcBatch, BatchOfNonObjects) {
  const auto body = decode("[1,2,3]");
  ASSERT_TRUE(body.has_value());
  ASSERT_EQ(body->items.size(), 3u);
  for (const auto& item : body->items) {
    ASSERT_FALSE(item.has_value());
    EXPECT_EQ(item.error().kind, DecodeErrorKind::not_an_object);
    EXPECT_EQ(item.error().code(), error_code::invalid_request);
  }
}

TEST(JsonRpcBatch, EmptyBatchIsOneInvalidRequest) {
  for (const char* text : {"[]", " [ ] ", "[\n]"}) {
    const auto body = decode(text);
    ASSERT_FALSE(body.has_value()) << text;
    EXPECT_EQ(body.error().kind, DecodeErrorKind::empty_batch);
    EXPECT_EQ(body.error().code(), error_code::invalid_request);
  }
}

TEST(JsonRpcBatch, InvalidJsonInABatchIsOneParseError) {
  const auto body = decode(R"([{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","method")");
  ASSERT_FALSE(body.has_value());
  EXPECT_EQ(body.error().code(), error_code::parse_error);
}

TEST(JsonRpcBatch, SizeLimit) {
  DecodeOptions options;
  options.max_batch_size = 2;
  const std::string element = R"({"jsonrpc":"2.0","method":"n"})";
  EXPECT_TRUE(decode("[" + element + "," + element + "]", options).has_value());
  const auto too_many = decode("[" + element + "," + element + "," + element + "]", options);
  ASSERT_FALSE(too_many.has_value());
  EXPECT_EQ(too_many.error().kind, DecodeErrorKind::batch_too_large);
  EXPECT_NE(too_many.error().message.find("3"), std::string::npos);
}

TEST(JsonRpcBatch, SingleMessagesThroughDecode) {
  const auto ok = decode(R"({"jsonrpc":"2.0","id":1,"method":"m"})");
  ASSERT_TRUE(ok.has_value());
  EXPECT_FALSE(ok->is_batch);
  ASSERT_EQ(ok->items.size(), 1u);
  EXPECT_TRUE(ok->items[0].has_value());

  // A single invalid message fails as a whole, keeping its id.
  const auto bad = decode(R"({"jsonrpc":"2.0","id":1,"method":false})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().kind, DecodeErrorKind::bad_method);
  EXPECT_EQ(bad.error().id, RequestId(1));
}

TEST(JsonRpcBatch, DecodeMessageRejectsBatches) {
  const DecodeError error = decode_fail(R"([{"jsonrpc":"2.0","id":1,"method":"m"}])");
  EXPECT_EQ(error.kind, DecodeErrorKind::batch_not_allowed);
  EXPECT_EQ(error.code(), error_code::invalid_request);
}

TEST(JsonRpcBatch, ResponsesBatchAndEncodeBatch) {
  const std::string text =
      R"([{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":"2","error":{"code":-32601,"message":"no"}}])";
  const auto body = decode(text);
  ASSERT_TRUE(body.has_value());
  std::vector<Message> messages;
  for (auto& item : body->items) {
    ASSERT_TRUE(item.has_value());
    messages.push_back(std::move(item).value());
  }
  EXPECT_EQ(encode_batch(messages), text);
  EXPECT_EQ(encode_batch({}), "[]");
}

// ---- round trips ----

TEST(JsonRpcRoundTrip, UnknownMembersSurvive) {
  const std::string texts[] = {
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"deep":{"x":[1,2,{"y":null}]}},"_meta":{"progressToken":"p","com.example/k":true}},"x-trace":"abc","extension":{"a":1}})",
      R"({"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":[1,"two",3.5,false,null]},"z":0})",
      R"({"jsonrpc":"2.0","id":"s","result":{"content":[{"type":"text","text":"hi"}],"isError":false,"custom":{"k":"v"}},"extra":[1]})",
      R"({"jsonrpc":"2.0","id":7,"error":{"code":-32000,"message":"m","data":{"why":"x"},"vendor":1},"top":"level"})",
      R"({"jsonrpc":"2.0","id":1,"result":{},"params":{"odd":"but kept"}})",
  };
  for (const auto& text : texts) {
    const Message m = decode_ok(text);
    EXPECT_EQ(value_of(encode(m)), value_of(text)) << text;
    EXPECT_EQ(to_json(m), value_of(text)) << text;
    // Decoding the encoding gives the same message.
    EXPECT_EQ(decode_ok(encode(m)), m) << text;
  }
}

TEST(JsonRpcRoundTrip, EncodingIsCompactSingleLine) {
  const Message m = decode_ok(
      "{\n  \"jsonrpc\": \"2.0\",\n  \"id\": 1,\n  \"method\": \"m\",\n  \"params\": {\"text\": "
      "\"line1\\nline2\", \"list\": [ 1 , 2 ]}\n}\n");
  const std::string out = encode(m);
  EXPECT_EQ(
      out,
      R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"list":[1,2],"text":"line1\nline2"}})");
  EXPECT_EQ(out.find('\n'), std::string::npos);
  EXPECT_EQ(out.find('\r'), std::string::npos);
}

TEST(JsonRpcRoundTrip, EncodeAppendAppends) {
  std::string out = "data: ";
  encode_append(make_notification("notifications/initialized"), out);
  EXPECT_EQ(out, R"(data: {"jsonrpc":"2.0","method":"notifications/initialized"})");
}

TEST(JsonRpcEncode, Builders) {
  EXPECT_EQ(encode(make_request(5, "tools/list", json{{"cursor", "c"}})),
            R"({"jsonrpc":"2.0","id":5,"method":"tools/list","params":{"cursor":"c"}})");
  EXPECT_EQ(encode(make_request("r", "ping")), R"({"jsonrpc":"2.0","id":"r","method":"ping"})");
  EXPECT_EQ(encode(make_notification("notifications/cancelled", json{{"requestId", 5}})),
            R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}})");
  EXPECT_EQ(encode(make_success_response(RequestId("a"), json::object())),
            R"({"jsonrpc":"2.0","id":"a","result":{}})");
  EXPECT_EQ(encode(make_error_response(RequestId(9), error_code::invalid_params, "bad cursor")),
            R"({"jsonrpc":"2.0","id":9,"error":{"code":-32602,"message":"bad cursor"}})");
  EXPECT_EQ(
      encode(make_error_response(std::nullopt, error_code::unsupported_protocol_version,
                                 "Unsupported protocol version",
                                 json{{"supported", {"2025-11-25"}}, {"requested", "1"}})),
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32022,"message":"Unsupported protocol version","data":{"requested":"1","supported":["2025-11-25"]}}})");
}

TEST(JsonRpcEncode, ExtraMembersNeverDuplicateStandardOnes) {
  Message m = make_request(1, "m");
  m.extra = json{{"id", 99}, {"method", "evil"}, {"jsonrpc", "1.0"}, {"ok", 1}};
  EXPECT_EQ(encode(m), R"({"jsonrpc":"2.0","id":1,"method":"m","ok":1})");
  EXPECT_EQ(to_json(m), value_of(R"({"jsonrpc":"2.0","id":1,"method":"m","ok":1})"));

  Message e = make_error_response(1, 2, "x", json("d"));
  e.error.extra = json{{"code", 5}, {"message", "y"}, {"data", 0}, {"note", "n"}};
  EXPECT_EQ(encode(e),
            R"({"jsonrpc":"2.0","id":1,"error":{"code":2,"message":"x","data":"d","note":"n"}})");
  EXPECT_EQ(to_json(e).at("error"), value_of(R"({"code":2,"message":"x","data":"d","note":"n"})"));
}

TEST(JsonRpcEncode, InvalidUtf8BuiltByTheProgramDoesNotThrow) {
  Message m = make_success_response(1, json{{"text", "ok \xff\xfe bad"}});
  m.extra = json{{"k\xc3", "v"}};
  std::string out;
  EXPECT_NO_THROW(out = encode(m));
  // The output is valid JSON (and thus valid UTF-8) with U+FFFD replacements.
  const auto reparsed = decode_message(out);
  ASSERT_TRUE(reparsed.has_value()) << out;
  EXPECT_NE(reparsed->result.at("text").get<std::string>().find("\xef\xbf\xbd"), std::string::npos);

  const Message bad_method = make_notification("a\xffz");
  EXPECT_TRUE(decode_message(encode(bad_method)).has_value());
  const Message bad_message = make_error_response(1, 1, "\xc0\xaf");
  EXPECT_TRUE(decode_message(encode(bad_message)).has_value());
  EXPECT_TRUE(decode_message(encode(make_request("\xfe", "m"))).has_value());
}

TEST(JsonRpcEncode, ToJsonMatchesEncode) {
  const Message messages[] = {
      make_request(1, "a", json{{"x", 1}}),
      make_notification("b"),
      make_success_response("c", json::array({1, 2})),
      make_error_response(std::nullopt, -1, "d"),
  };
  for (const auto& m : messages) {
    EXPECT_EQ(to_json(m), value_of(encode(m))) << encode(m);
    Message copy = m;
    EXPECT_EQ(to_json(std::move(copy)), value_of(encode(m)));
  }
}

// ---- whitespace, BOM, NUL ----

TEST(JsonRpcDecode, WhitespaceAroundAndInside) {
  const Message m =
      decode_ok(" \t\r\n{ \"jsonrpc\" : \"2.0\" ,\r\n \"id\" : 1 , \"method\" : \"m\" } \n\r\t ");
  EXPECT_EQ(m.method, "m");
}

TEST(JsonRpcDecode, ByteOrderMarkIsTolerated) {
  const Message m = decode_ok("\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}");
  EXPECT_EQ(m.method, "m");
  // Only at the very start, and only the whole mark.
  EXPECT_EQ(decode_fail(" \xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"method\":\"m\"}").kind,
            DecodeErrorKind::invalid_json);
  EXPECT_EQ(decode_fail("\xEF\xBB{\"jsonrpc\":\"2.0\",\"method\":\"m\"}").kind,
            DecodeErrorKind::invalid_json);
  EXPECT_EQ(decode_fail("\xEF\xBB\xBF").kind, DecodeErrorKind::invalid_json);
}

TEST(JsonRpcDecode, RawNulAnywhereIsAParseError) {
  // nlohmann alone would stop at a NUL outside strings and ignore what follows: a smuggling hole.
  const std::string valid = R"({"jsonrpc":"2.0","method":"a"})";
  const std::string with_nul[] = {
      valid + std::string(1, '\0'),
      valid + std::string(1, '\0') + R"({"jsonrpc":"2.0","method":"evil"})",
      std::string(1, '\0') + valid,
      R"({"jsonrpc":"2.0",)" + std::string(1, '\0') + R"("method":"a"})",
  };
  for (const auto& text : with_nul) {
    const DecodeError error = decode_fail(text);
    EXPECT_EQ(error.kind, DecodeErrorKind::invalid_json);
    EXPECT_NE(error.message.find("NUL"), std::string::npos) << error.message;
    EXPECT_FALSE(decode(text).has_value());
  }
}

TEST(JsonRpcDecode, EscapedNulIsData) {
  const Message m = decode_ok(R"({"jsonrpc":"2.0","id":1,"method":"a\u0000b"})");
  EXPECT_EQ(m.method, std::string("a\0b", 3));
  EXPECT_EQ(decode_ok(encode(m)).method, m.method);
}

// ---- nesting ----

TEST(JsonRpcNesting, HugeBracketRunIsAClearParseError) {
  const std::string arrays(100000, '[');
  const DecodeError error = decode_fail(arrays);
  EXPECT_EQ(error.kind, DecodeErrorKind::too_deep);
  EXPECT_EQ(error.code(), error_code::parse_error);
  EXPECT_NE(error.message.find("128"), std::string::npos) << error.message;

  std::string objects;
  for (int i = 0; i < 100000; ++i) {
    objects += "{\"a\":";
  }
  EXPECT_EQ(decode_fail(objects).kind, DecodeErrorKind::too_deep);

  // Balanced and complete, still too deep.
  std::string balanced = R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"x":)";
  balanced += std::string(50000, '[') + std::string(50000, ']') + "}}";
  EXPECT_EQ(decode_fail(balanced).kind, DecodeErrorKind::too_deep);
  const auto as_body = decode(balanced);
  ASSERT_FALSE(as_body.has_value());
  EXPECT_EQ(as_body.error().kind, DecodeErrorKind::too_deep);
}

// A request whose params hold `inner` nested arrays: total depth = 2 + inner.
std::string nested_request(std::size_t inner) {
  return R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"x":)" + std::string(inner, '[') +
         std::string(inner, ']') + "}}";
}

TEST(JsonRpcNesting, LimitIsExactAndConfigurable) {
  // Message object (1) + params (2) + 126 arrays = 128: allowed by default.
  const Message at_limit = decode_ok(nested_request(126));
  EXPECT_EQ(json_depth(*at_limit.params, 1000), 127u);
  EXPECT_NO_THROW((void)encode(at_limit));
  EXPECT_EQ(decode_fail(nested_request(127)).kind, DecodeErrorKind::too_deep);

  DecodeOptions shallow;
  shallow.max_depth = 4;
  decode_ok(nested_request(2), shallow);
  const DecodeError error = decode_fail(nested_request(3), shallow);
  EXPECT_EQ(error.kind, DecodeErrorKind::too_deep);
  EXPECT_NE(error.message.find("4 levels"), std::string::npos) << error.message;

  // In a batch, the array is one more level.
  DecodeOptions three;
  three.max_depth = 3;
  EXPECT_TRUE(decode(R"([{"jsonrpc":"2.0","method":"m","params":{}}])", three).has_value());
  EXPECT_FALSE(decode(R"([{"jsonrpc":"2.0","method":"m","params":{"a":[]}}])", three).has_value());

  // Absurd settings are clamped rather than trusted.
  DecodeOptions zero;
  zero.max_depth = 0;
  EXPECT_EQ(decode_fail(R"({"jsonrpc":"2.0","method":"m","params":{}})", zero).kind,
            DecodeErrorKind::too_deep);
  decode_ok(R"({"jsonrpc":"2.0","method":"m"})", zero);
  DecodeOptions huge;
  huge.max_depth = std::numeric_limits<std::size_t>::max();
  EXPECT_EQ(decode_fail(std::string(5000, '['), huge).kind, DecodeErrorKind::too_deep);
}

TEST(JsonRpcNesting, FromJsonChecksDepthWithoutRecursion) {
  json root = json::object();
  root["jsonrpc"] = "2.0";
  root["method"] = "m";
  root["params"] = json::object();
  json* innermost = &root["params"];
  (*innermost)["x"] = json::array();
  innermost = &(*innermost)["x"];
  for (int i = 0; i < 20000; ++i) {
    innermost->push_back(json::array());
    innermost = &innermost->back();
  }
  EXPECT_EQ(json_depth(root, 100), 101u);
  const auto result = from_json(std::move(root));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, DecodeErrorKind::too_deep);
}

TEST(JsonRpcNesting, JsonDepth) {
  EXPECT_EQ(json_depth(json(1), 10), 0u);
  EXPECT_EQ(json_depth(json::array(), 10), 1u);
  EXPECT_EQ(json_depth(value_of(R"({"a":[[]],"b":{}})"), 10), 3u);
  EXPECT_EQ(json_depth(value_of("[[[[[]]]]]"), 2), 3u);
}

TEST(JsonRpcFromJson, ValidatesAndMoves) {
  json value =
      value_of(R"({"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"t"}})");
  const auto message = from_json(std::move(value));
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->id, RequestId("a"));
  EXPECT_EQ(*message->param("name"), "t");

  const auto batch = from_json(value_of("[]"));
  ASSERT_FALSE(batch.has_value());
  EXPECT_EQ(batch.error().kind, DecodeErrorKind::not_an_object);
}

TEST(JsonRpcParseJson, PlainValues) {
  const auto value = parse_json(R"({"b":[1,2.5,"s",null,true],"a":{}})");
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(*value, value_of(R"({"a":{},"b":[1,2.5,"s",null,true]})"));
  const auto scalar = parse_json(" 7 ");
  ASSERT_TRUE(scalar.has_value());
  EXPECT_EQ(*scalar, json(7));
  EXPECT_FALSE(parse_json("[1,]").has_value());
}

// ---- helpers ----

TEST(JsonRpcHelpers, ProgressToken) {
  const auto integer = progress_token(decode_ok(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":5}}})"));
  ASSERT_TRUE(integer.has_value());
  EXPECT_EQ(*integer, std::optional<ProgressToken>(RequestId(5)));

  const auto text = progress_token(decode_ok(
      R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{"progressToken":"5"}}})"));
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, std::optional<ProgressToken>(RequestId("5")));
  EXPECT_NE(**integer, **text);

  for (const char* absent : {R"({"jsonrpc":"2.0","id":1,"method":"m"})",
                             R"({"jsonrpc":"2.0","id":1,"method":"m","params":[1]})",
                             R"({"jsonrpc":"2.0","id":1,"method":"m","params":{}})",
                             R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{}}})"}) {
    const auto none = progress_token(decode_ok(absent));
    ASSERT_TRUE(none.has_value()) << absent;
    EXPECT_FALSE(none->has_value()) << absent;
  }

  for (const char* wrong :
       {R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{"progressToken":1.5}}})",
        R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{"progressToken":null}}})",
        R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{"progressToken":{}}}})",
        R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":"x"}})"}) {
    const auto bad = progress_token(decode_ok(wrong));
    ASSERT_FALSE(bad.has_value()) << wrong;
    EXPECT_NE(bad.error().find("_meta"), std::string::npos) << bad.error();
  }
}

TEST(JsonRpcHelpers, Classify) {
  EXPECT_EQ(classify(value_of(R"({"jsonrpc":"2.0","id":1,"method":"m"})")), MessageKind::request);
  EXPECT_EQ(classify(value_of(R"({"method":"m"})")), MessageKind::notification);
  EXPECT_EQ(classify(value_of(R"({"id":1,"result":null})")), MessageKind::success_response);
  EXPECT_EQ(classify(value_of(R"({"id":null,"error":{}})")), MessageKind::error_response);
  EXPECT_EQ(classify(value_of(R"({"id":1,"result":1,"error":{}})")), std::nullopt);
  EXPECT_EQ(classify(value_of(R"({"method":"m","result":1})")), std::nullopt);
  EXPECT_EQ(classify(value_of(R"({"id":1})")), std::nullopt);
  EXPECT_EQ(classify(value_of("[]")), std::nullopt);
  EXPECT_EQ(classify(json("x")), std::nullopt);
}

TEST(JsonRpcHelpers, DescribeJsonType) {
  EXPECT_EQ(describe_json_type(json(nullptr)), "null");
  EXPECT_EQ(describe_json_type(json(true)), "a boolean");
  EXPECT_EQ(describe_json_type(json("s")), "a string");
  EXPECT_EQ(describe_json_type(json(-1)), "an integer");
  EXPECT_EQ(describe_json_type(json(1u)), "an integer");
  EXPECT_EQ(describe_json_type(json(1.0)), "a floating-point number");
  EXPECT_EQ(describe_json_type(json::object()), "an object");
  EXPECT_EQ(describe_json_type(json::array()), "an array");
}

TEST(JsonRpcHelpers, KindNames) {
  EXPECT_EQ(to_string(MessageKind::request), "request");
  EXPECT_EQ(to_string(MessageKind::notification), "notification");
  EXPECT_EQ(to_string(MessageKind::success_response), "success response");
  EXPECT_EQ(to_string(MessageKind::error_response), "error response");
}

}  // namespace
}  // namespace mcpgw::mcp

namespace mcpgw::mcp {
namespace {

// The text with the id's value (as read_request_text located it) replaced.
std::string with_id(std::string_view text, const RequestText& head, std::string_view id) {
  std::string out(text.substr(0, head.id_offset));
  out += id;
  out += text.substr(head.id_offset + head.id_length);
  return out;
}

TEST(ReadRequestText, FindsTheIdAndMethodWithoutATree) {
  const std::string text =
      R"({"jsonrpc":"2.0", "id" : 17 ,"method":"tools/call","params":{"id":"inner","x":[1,{"id":2}]}})";
  auto head = read_request_text(text);
  ASSERT_TRUE(head) << head.error();
  EXPECT_EQ(head->id, RequestId(17));
  EXPECT_EQ(head->method, "tools/call");
  EXPECT_EQ(
      with_id(text, *head, "4"),
      R"({"jsonrpc":"2.0", "id" : 4 ,"method":"tools/call","params":{"id":"inner","x":[1,{"id":2}]}})");
}

TEST(ReadRequestText, StringIdsKeepTheirEscapesAndAnEscapedMemberNameCounts) {
  const std::string text = R"({"method":"ping","\u0069d":"a\"b\u00e9","jsonrpc":"2.0"})";
  auto head = read_request_text(text);
  ASSERT_TRUE(head) << head.error();
  EXPECT_EQ(head->id, RequestId("a\"b\xc3\xa9"));
  EXPECT_EQ(with_id(text, *head, "9"), R"({"method":"ping","\u0069d":9,"jsonrpc":"2.0"})");
}

TEST(ReadRequestText, RejectsWhatIsNotOneRequestWithAUsableId) {
  for (const char* text : {
           R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
           R"({"jsonrpc":"2.0","id":1,"result":{}})",
           R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})",
           R"({"jsonrpc":"2.0","id":null,"method":"ping"})",
           R"({"jsonrpc":"2.0","id":1,"id":2,"method":"ping"})",
           R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])",
           R"({"jsonrpc":"2.0","id":1,"method":"ping"} trailing)",
           R"({"jsonrpc":"2.0","id":1,"method":"ping")",
           "",
       }) {
    EXPECT_FALSE(read_request_text(text)) << text;
  }
}

}  // namespace
}  // namespace mcpgw::mcp
