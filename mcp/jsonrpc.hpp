// JSON-RPC 2.0 message model and codec: the gateway's hot path, also used by inspect, replay and
// lint. Nothing here throws except std::bad_alloc: decoding returns mcp::Expected with a typed
// DecodeError that maps to -32700 or -32600, and encoding never fails.
//
// Decisions (documented here because callers depend on them):
// - Ids are strings or integers in the signed 64-bit range; `1` and `"1"` are different ids.
//   Fractional numbers (`1.5`, `1.0`, `1e2`), integers outside int64 and booleans, objects or
//   arrays are rejected as invalid requests with a message saying why; an id is never rounded or
//   converted. (`-0` is the integer 0, as JSON has no integer negative zero.)
// - A null id is accepted only in error responses, as is an absent one (the MCP schema from
//   2025-11-25 makes it optional); which of the two was received is kept and re-encoded.
// - Nesting is limited (DecodeOptions::max_depth): deeper input is a parse error before any
//   recursive code sees it. Parsing and destruction are iterative in nlohmann 3.11; dumping and
//   copying are recursive, which the limit keeps shallow.
// - Duplicate object keys anywhere in the document are a parse error by default, because a
//   gateway and a backend that pick different duplicates would disagree on what was asked
//   (e.g. two "name" members in tools/call). DecodeOptions::allow_duplicate_keys keeps the last
//   one, like JavaScript's JSON.parse.
// - Invalid UTF-8, unpaired surrogate escapes, raw control characters inside strings, a raw NUL
//   byte anywhere (nlohmann alone would stop reading there and ignore the rest), trailing
//   garbage and non-finite numbers (`1e400`) are parse errors. A UTF-8 byte
//   order mark before the document is tolerated (RFC 8259 allows ignoring it).
// - Integers too large for 64 bits elsewhere (params, results) become doubles, as in JavaScript;
//   DecodeOptions::reject_lossy_integers turns them into a parse error instead.
// - Unknown top-level members and unknown members of the error object are preserved, and
//   params/result/error.data are kept as parsed, so encode(decode(x)) keeps every member. Member
//   order is not kept: objects are re-encoded with their keys sorted.
// - Encoding replaces invalid UTF-8 in strings built by the program (never produced by decoding)
//   with U+FFFD instead of failing.
#pragma once

#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcp/expected.hpp"

namespace mcpgw::mcp {

// Error codes of JSON-RPC 2.0 and of MCP.
namespace error_code {
inline constexpr std::int64_t parse_error = -32700;
inline constexpr std::int64_t invalid_request = -32600;
inline constexpr std::int64_t method_not_found = -32601;
inline constexpr std::int64_t invalid_params = -32602;
inline constexpr std::int64_t internal_error = -32603;
// Resource not found, protocol versions 2024-11-05 to 2025-11-25 (docs/specification/<v>/server/
// resources.mdx). 2026-07-28 uses invalid_params instead; clients should accept both.
inline constexpr std::int64_t resource_not_found = -32002;
// 2025-11-25 schema.ts URL_ELICITATION_REQUIRED.
inline constexpr std::int64_t url_elicitation_required = -32042;
// 2026-07-28 schema.ts: -32000..-32019 implementation-defined, -32020..-32099 reserved by MCP.
inline constexpr std::int64_t header_mismatch = -32020;
inline constexpr std::int64_t missing_required_client_capability = -32021;
inline constexpr std::int64_t unsupported_protocol_version = -32022;
}  // namespace error_code

// A JSON-RPC request id (also used for progress tokens): a string or a 64-bit integer.
class RequestId {
 public:
  // Any signed integer type (a template so that RequestId(0) is not ambiguous with const char*).
  template <std::signed_integral Integer>
  RequestId(Integer value) : value_(static_cast<std::int64_t>(value)) {}
  RequestId(std::string value) : value_(std::move(value)) {}
  RequestId(std::string_view value) : value_(std::string(value)) {}
  RequestId(const char* value) : value_(std::string(value)) {}

  // Accepts a JSON string or an integer that fits in int64; otherwise says what is wrong, as a
  // predicate for the caller to prefix with the member name ("must be a string or ...").
  static Expected<RequestId, std::string> from_json(const nlohmann::json& value);

  bool is_integer() const noexcept { return value_.index() == 0; }
  bool is_string() const noexcept { return value_.index() == 1; }
  // Preconditions: is_integer() / is_string().
  std::int64_t integer() const { return std::get<0>(value_); }
  const std::string& string() const { return std::get<1>(value_); }

  nlohmann::json to_json() const;
  // The id as JSON text: 7 or "7" (quotes and escapes included), for logs and diagnostics.
  std::string to_string() const;
  std::size_t hash() const noexcept;

  // Integers order before strings; each kind orders by value.
  friend bool operator==(const RequestId&, const RequestId&) = default;
  friend std::strong_ordering operator<=>(const RequestId& a, const RequestId& b) {
    return a.value_ <=> b.value_;
  }

 private:
  std::variant<std::int64_t, std::string> value_;
};

using ProgressToken = RequestId;

struct RequestIdHash {
  std::size_t operator()(const RequestId& id) const noexcept { return id.hash(); }
};

enum class MessageKind : std::uint8_t { request, notification, success_response, error_response };

std::string_view to_string(MessageKind kind);

struct ErrorObject {
  std::int64_t code = 0;
  std::string message;
  std::optional<nlohmann::json> data;
  nlohmann::json extra;  // unknown members of the error object (an object, or null if none)

  friend bool operator==(const ErrorObject&, const ErrorObject&) = default;
};

// One decoded JSON-RPC message. Which members are meaningful depends on `kind`; the make_*
// functions build consistent messages, and decode() only produces consistent ones.
struct Message {
  MessageKind kind = MessageKind::notification;
  // Requests and success responses always have one; error responses may lack it (null or
  // absent id, see error_id_absent); notifications never have one.
  std::optional<RequestId> id;
  std::string method;                    // requests and notifications
  std::optional<nlohmann::json> params;  // an object or array, as sent; empty when absent
  nlohmann::json result;                 // success responses: any JSON value
  ErrorObject error;                     // error responses
  nlohmann::json extra;                  // unknown top-level members (an object, or null if none)
  // Error response without an id: true when the id member was absent, false when it was null.
  bool error_id_absent = false;

  bool is_request() const noexcept { return kind == MessageKind::request; }
  bool is_notification() const noexcept { return kind == MessageKind::notification; }
  bool is_response() const noexcept {
    return kind == MessageKind::success_response || kind == MessageKind::error_response;
  }
  // params[key] when params is an object that has it; nullptr otherwise.
  const nlohmann::json* param(std::string_view key) const;

  friend bool operator==(const Message&, const Message&) = default;
};

Message make_request(RequestId id, std::string method,
                     std::optional<nlohmann::json> params = std::nullopt);
Message make_notification(std::string method, std::optional<nlohmann::json> params = std::nullopt);
Message make_success_response(RequestId id, nlohmann::json result);
// An error response; without an id it is encoded with "id": null as JSON-RPC 2.0 requires.
Message make_error_response(std::optional<RequestId> id, std::int64_t code, std::string message,
                            std::optional<nlohmann::json> data = std::nullopt);

// Why an input is not a valid message. The first group maps to -32700, the rest to -32600.
enum class DecodeErrorKind : std::uint8_t {
  invalid_json,       // not JSON, truncated, trailing garbage, bad UTF-8, number overflow
  too_deep,           // nesting deeper than DecodeOptions::max_depth
  duplicate_key,      // the same member twice in one object
  lossy_integer,      // integer beyond 64 bits while reject_lossy_integers is set
  not_an_object,      // a message (or batch element) that is not a JSON object
  empty_batch,        // []
  batch_not_allowed,  // an array where a single message is required
  batch_too_large,    // more elements than DecodeOptions::max_batch_size
  bad_version,        // "jsonrpc" missing or not "2.0"
  bad_id,             // id of a wrong type, out of range, or null/absent where one is required
  bad_method,         // method not a string
  bad_params,         // params neither object nor array
  bad_error,          // error not an object with integer code and string message
  ambiguous,          // both result and error, or method together with result/error
  incomplete,         // none of method, result, error
};

std::string_view to_string(DecodeErrorKind kind);

struct DecodeError {
  DecodeErrorKind kind = DecodeErrorKind::invalid_json;
  std::string message;          // says what was wrong, in one line
  std::optional<RequestId> id;  // recovered from an invalid message when its id was usable

  // error_code::parse_error or error_code::invalid_request.
  std::int64_t code() const noexcept;
  // The error response to send back (carrying the recovered id, or a null id).
  Message to_response() const;

  friend bool operator==(const DecodeError&, const DecodeError&) = default;
};

inline constexpr std::size_t kDefaultMaxDepth = 128;
inline constexpr std::size_t kMaxDepthCeiling = 1024;  // larger max_depth values are clamped

struct DecodeOptions {
  // Nesting levels allowed in the whole document; the message object itself is level 1 (a
  // batch array adds one). Clamped to [1, kMaxDepthCeiling].
  std::size_t max_depth = kDefaultMaxDepth;
  std::size_t max_batch_size = 1024;  // elements per batch
  bool allow_duplicate_keys = false;  // true: the last duplicate wins
  bool reject_lossy_integers = false;
};

// A decoded body: one message, or a batch whose elements were validated one by one.
struct DecodedBody {
  bool is_batch = false;
  // One element when !is_batch (and then always a message: a single invalid message makes
  // decode() itself fail); for a batch, one per element, in order.
  std::vector<Expected<Message, DecodeError>> items;
};

// Parses JSON text with the limits above and without exceptions. Errors: invalid_json,
// too_deep, duplicate_key, lossy_integer.
Expected<nlohmann::json, DecodeError> parse_json(std::string_view text,
                                                 const DecodeOptions& options = {});

// One message; a batch is rejected with batch_not_allowed (the id-less -32600 answer).
Expected<Message, DecodeError> decode_message(std::string_view text,
                                              const DecodeOptions& options = {});

// A request written as JSON text, read without building a tree (mcp/message_summary.hpp):
// its id, its method, and where the id's value is, so the text can go to a backend with
// another id spliced in (Client::call_text). Fails when the text is not one JSON-RPC request
// whose id is a string or a 64-bit integer; the message says why, for logs.
struct RequestText {
  RequestId id;
  std::string method;
  std::size_t id_offset = 0;  // of the id's value in the text
  std::size_t id_length = 0;
};
Expected<RequestText, std::string> read_request_text(std::string_view text);
// A message or a batch (JSON-RPC batches are part of MCP 2025-03-26 only; callers check the
// negotiated version). Fails as a whole for invalid JSON, an empty or oversized batch, or a
// single invalid message; a batch element that is invalid gets its own error in items.
Expected<DecodedBody, DecodeError> decode(std::string_view text, const DecodeOptions& options = {});
// Validates an already parsed value, moving its members into the message. The nesting limit
// is checked (iteratively) here too; duplicate keys cannot exist in a parsed value.
Expected<Message, DecodeError> from_json(nlohmann::json&& value, const DecodeOptions& options = {});

// Compact JSON text (no newline), suitable for NDJSON lines and SSE data.
std::string encode(const Message& message);
void encode_append(const Message& message, std::string& out);
std::string encode_batch(std::span<const Message> messages);
nlohmann::json to_json(const Message& message);
nlohmann::json to_json(Message&& message);

// The requester's progress token, params._meta.progressToken: empty when absent; an error
// when present but not a string or 64-bit integer. (notifications/progress carries its token
// in params.progressToken: see catalogue::routing_key.)
Expected<std::optional<ProgressToken>, std::string> progress_token(const Message& message);

// Classifies a parsed value without decoding it fully, e.g. to route raw captured traffic:
// a request or notification by "method" and "id", a response by "result" or "error". Empty when
// it is none of these (not an object, or a shape decode() would reject as ambiguous/incomplete).
std::optional<MessageKind> classify(const nlohmann::json& value);

// "a string", "an integer", "null", ...: the JSON type of a value, for diagnostics.
std::string_view describe_json_type(const nlohmann::json& value);

// Nesting depth of a value (scalars 0, [] 1, [[]] 2), computed iteratively; stops counting
// once `limit` is exceeded and returns limit + 1.
std::size_t json_depth(const nlohmann::json& value, std::size_t limit);

}  // namespace mcpgw::mcp

template <>
struct std::hash<mcpgw::mcp::RequestId> {
  std::size_t operator()(const mcpgw::mcp::RequestId& id) const noexcept { return id.hash(); }
};
