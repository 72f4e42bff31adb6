#include "mcp/jsonrpc.hpp"

#include "mcp/message_summary.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace mcpgw::mcp {

using nlohmann::json;

namespace {

constexpr std::string_view kVersion = "2.0";
constexpr std::size_t kMaxDiagnosticBytes = 200;

DecodeError make_decode_error(DecodeErrorKind kind, std::string message,
                              std::optional<RequestId> id = std::nullopt) {
  return DecodeError{kind, std::move(message), std::move(id)};
}

// Diagnostics may quote hostile input: keep them printable ASCII and short, so they are safe in
// logs, terminals and JSON error responses alike.
std::string sanitize_diagnostic(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(text.size(), kMaxDiagnosticBytes) + 8);
  for (const char c : text) {
    if (out.size() >= kMaxDiagnosticBytes) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    }
  }
  return out;
}

}  // namespace

std::string_view describe_json_type(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a floating-point number";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::binary:
      return "binary data";
    case json::value_t::discarded:
      break;
  }
  return "an invalid value";
}

namespace {

// An integer literal (no fraction or exponent) that the lexer could only store as a double.
bool is_integer_literal(std::string_view text) {
  return !text.empty() && text.find_first_of(".eE") == std::string_view::npos;
}

// "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..." becomes
// "invalid JSON at line 1, column 2: syntax error ...".
std::string describe_parse_failure(std::string_view what) {
  if (!what.empty() && what.front() == '[') {
    const auto close = what.find("] ");
    if (close != std::string_view::npos) {
      what.remove_prefix(close + 2);
    }
  }
  constexpr std::string_view kParseError = "parse error ";
  if (what.substr(0, kParseError.size()) == kParseError) {
    what.remove_prefix(kParseError.size());
    return "invalid JSON " + sanitize_diagnostic(what);
  }
  return "invalid JSON: " + sanitize_diagnostic(what);
}

// Builds the DOM from SAX events, enforcing the nesting limit and the duplicate-key rule before
// a too-deep or ambiguous value exists. Mirrors nlohmann's own DOM builder: a stack of open
// containers; pointers stay valid because only the innermost container ever grows.
class BoundedDomBuilder {
 public:
  BoundedDomBuilder(json& root, const DecodeOptions& options, std::size_t max_depth)
      : root_(root), options_(options), max_depth_(max_depth) {}

  bool null() { return put(json(nullptr)) != nullptr; }
  bool boolean(bool value) { return put(json(value)) != nullptr; }
  bool number_integer(json::number_integer_t value) { return put(json(value)) != nullptr; }
  bool number_unsigned(json::number_unsigned_t value) { return put(json(value)) != nullptr; }
  bool number_float(json::number_float_t value, const json::string_t& text) {
    if (options_.reject_lossy_integers && is_integer_literal(text)) {
      fail(DecodeErrorKind::lossy_integer,
           "integer " + sanitize_diagnostic(text) + " does not fit in 64 bits");
      return false;
    }
    return put(json(value)) != nullptr;
  }
  bool string(json::string_t& value) { return put(json(std::move(value))) != nullptr; }
  bool binary(json::binary_t& value) { return put(json::binary(std::move(value))) != nullptr; }

  bool start_object(std::size_t /*elements*/) { return open(json::value_t::object); }
  bool start_array(std::size_t /*elements*/) { return open(json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& name) {
    auto* object = open_.back()->get_ptr<json::object_t*>();
    auto found = object->find(name);
    if (found != object->end()) {
      if (!options_.allow_duplicate_keys) {
        fail(DecodeErrorKind::duplicate_key,
             "duplicate member \"" + sanitize_diagnostic(name) + "\" in a JSON object");
        return false;
      }
      found->second = json();  // the last duplicate wins
      pending_member_ = &found->second;
      return true;
    }
    pending_member_ = &object->emplace(std::move(name), json()).first->second;
    return true;
  }

  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const json::exception& error) {
    fail(DecodeErrorKind::invalid_json, describe_parse_failure(error.what()));
    return false;
  }

  std::optional<DecodeError>& error() { return error_; }

 private:
  json* put(json&& value) {
    if (open_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json* container = open_.back();
    if (auto* array = container->get_ptr<json::array_t*>()) {
      array->push_back(std::move(value));
      return &array->back();
    }
    *pending_member_ = std::move(value);
    return pending_member_;
  }

  bool open(json::value_t type) {
    if (open_.size() >= max_depth_) {
      fail(DecodeErrorKind::too_deep,
           "JSON nesting is deeper than the limit of " + std::to_string(max_depth_) + " levels");
      return false;
    }
    json* value = put(json(type));
    open_.push_back(value);
    return true;
  }

  bool close() {
    open_.pop_back();
    return true;
  }

  void fail(DecodeErrorKind kind, std::string message) {
    if (!error_) {
      error_ = make_decode_error(kind, std::move(message));
    }
  }

  json& root_;
  const DecodeOptions& options_;
  std::size_t max_depth_;
  std::vector<json*> open_;
  json* pending_member_ = nullptr;
  std::optional<DecodeError> error_;
};

std::size_t effective_max_depth(const DecodeOptions& options) {
  return std::clamp<std::size_t>(options.max_depth, 1, kMaxDepthCeiling);
}

// Members an extra may not supply because the message writes them itself (or because they would
// change what kind of message it decodes as). "params" on a response is not one: decoding keeps
// it as an unknown member, so encoding gives it back.
bool is_reserved_member(MessageKind kind, std::string_view key) {
  if (key == "jsonrpc" || key == "id" || key == "method" || key == "result" || key == "error") {
    return true;
  }
  return key == "params" && (kind == MessageKind::request || kind == MessageKind::notification);
}

Expected<ErrorObject, std::string> error_object_from(json&& value) {
  constexpr std::string_view kShape =
      "\"error\" must be an object with an integer \"code\" and a string \"message\"";
  auto* object = value.get_ptr<json::object_t*>();
  if (object == nullptr) {
    return unexpected(std::string(kShape) + ", got " + std::string(describe_json_type(value)));
  }
  ErrorObject error;
  bool has_code = false;
  bool has_message = false;
  for (auto& [key, member] : *object) {
    if (key == "code") {
      if (member.is_number_unsigned() &&
          member.get<json::number_unsigned_t>() >
              static_cast<json::number_unsigned_t>(std::numeric_limits<std::int64_t>::max())) {
        return unexpected(std::string("\"error.code\" is outside the 64-bit integer range"));
      }
      if (!member.is_number_integer()) {
        return unexpected(std::string(kShape) + "; \"code\" is " +
                          std::string(describe_json_type(member)));
      }
      error.code = member.get<std::int64_t>();
      has_code = true;
    } else if (key == "message") {
      auto* text = member.get_ptr<json::string_t*>();
      if (text == nullptr) {
        return unexpected(std::string(kShape) + "; \"message\" is " +
                          std::string(describe_json_type(member)));
      }
      error.message = std::move(*text);
      has_message = true;
    } else if (key == "data") {
      error.data = std::move(member);
    } else {
      error.extra[key] = std::move(member);
    }
  }
  if (!has_code) {
    return unexpected(std::string(kShape) + "; \"code\" is missing");
  }
  if (!has_message) {
    return unexpected(std::string(kShape) + "; \"message\" is missing");
  }
  return error;
}

Expected<Message, DecodeError> message_from_value(json&& value, bool in_batch) {
  auto* object = value.get_ptr<json::object_t*>();
  if (object == nullptr) {
    if (in_batch) {
      return unexpected(make_decode_error(
          DecodeErrorKind::not_an_object,
          value.is_array()
              ? std::string("a batch element must be a JSON object; nested batches are not allowed")
              : "a batch element must be a JSON object, got " +
                    std::string(describe_json_type(value))));
    }
    return unexpected(
        make_decode_error(DecodeErrorKind::not_an_object,
                          "a JSON-RPC message must be a JSON object (or a batch array), got " +
                              std::string(describe_json_type(value))));
  }

  json* jsonrpc = nullptr;
  json* id = nullptr;
  json* method = nullptr;
  json* params = nullptr;
  json* result = nullptr;
  json* error = nullptr;
  Message message;
  for (auto& [key, member] : *object) {
    if (key == "jsonrpc") {
      jsonrpc = &member;
    } else if (key == "id") {
      id = &member;
    } else if (key == "method") {
      method = &member;
    } else if (key == "params") {
      params = &member;
    } else if (key == "result") {
      result = &member;
    } else if (key == "error") {
      error = &member;
    } else {
      message.extra[key] = std::move(member);
    }
  }

  // The id first, so that every later error can carry it back to the sender.
  std::optional<RequestId> recovered_id;
  std::string id_problem;
  if (id != nullptr && !id->is_null()) {
    auto parsed = RequestId::from_json(*id);
    if (parsed) {
      recovered_id = std::move(*parsed);
    } else {
      id_problem = "id " + parsed.error();
    }
  }
  auto fail = [&](DecodeErrorKind kind, std::string text) -> Expected<Message, DecodeError> {
    return unexpected(make_decode_error(kind, std::move(text), recovered_id));
  };

  if (jsonrpc == nullptr) {
    return fail(DecodeErrorKind::bad_version, "missing \"jsonrpc\": \"2.0\"");
  }
  if (const auto* text = jsonrpc->get_ptr<const json::string_t*>(); text == nullptr) {
    return fail(DecodeErrorKind::bad_version, "\"jsonrpc\" must be the string \"2.0\", got " +
                                                  std::string(describe_json_type(*jsonrpc)));
  } else if (*text != kVersion) {
    return fail(DecodeErrorKind::bad_version,
                "\"jsonrpc\" must be \"2.0\", got \"" + sanitize_diagnostic(*text) + "\"");
  }

  if (method != nullptr) {
    if (result != nullptr || error != nullptr) {
      return fail(DecodeErrorKind::ambiguous,
                  "a message cannot have \"method\" together with \"result\" or \"error\"");
    }
    if (!id_problem.empty()) {
      return fail(DecodeErrorKind::bad_id, id_problem);
    }
    if (id != nullptr && id->is_null()) {
      return fail(DecodeErrorKind::bad_id, "a request id must be a string or an integer, not null");
    }
    auto* name = method->get_ptr<json::string_t*>();
    if (name == nullptr) {
      return fail(DecodeErrorKind::bad_method,
                  "\"method\" must be a string, got " + std::string(describe_json_type(*method)));
    }
    if (params != nullptr && !params->is_object() && !params->is_array()) {
      return fail(DecodeErrorKind::bad_params, "\"params\" must be an object or an array, got " +
                                                   std::string(describe_json_type(*params)));
    }
    message.kind = id != nullptr ? MessageKind::request : MessageKind::notification;
    message.id = std::move(recovered_id);
    message.method = std::move(*name);
    if (params != nullptr) {
      message.params = std::move(*params);
    }
    return message;
  }

  if (result != nullptr && error != nullptr) {
    return fail(DecodeErrorKind::ambiguous, "a response cannot have both \"result\" and \"error\"");
  }
  if (result == nullptr && error == nullptr) {
    return fail(DecodeErrorKind::incomplete,
                "a message needs \"method\" (request or notification) or \"result\" or \"error\" "
                "(response)");
  }
  if (params != nullptr) {
    // Not forbidden by JSON-RPC for responses, but meaningless: keep it as an unknown member.
    message.extra["params"] = std::move(*params);
  }
  if (!id_problem.empty()) {
    return fail(DecodeErrorKind::bad_id, id_problem);
  }
  if (result != nullptr) {
    if (!recovered_id) {
      return fail(DecodeErrorKind::bad_id,
                  id == nullptr ? "a success response needs an \"id\""
                                : "a success response needs a string or integer id, not null");
    }
    message.kind = MessageKind::success_response;
    message.id = std::move(recovered_id);
    message.result = std::move(*result);
    return message;
  }
  auto parsed_error = error_object_from(std::move(*error));
  if (!parsed_error) {
    return fail(DecodeErrorKind::bad_error, std::move(parsed_error.error()));
  }
  message.kind = MessageKind::error_response;
  message.id = std::move(recovered_id);
  message.error_id_absent = id == nullptr;
  message.error = std::move(*parsed_error);
  return message;
}

// Serialises straight into one output string with one serializer per message: the hot path
// should not build a temporary string (or serializer) per member. Invalid UTF-8 in strings the
// program built is replaced with U+FFFD instead of failing. Uses nlohmann::detail::serializer (what
// json::dump uses internally; stable across 3.11.x): if it ever moves, fall back to dump().
static_assert(NLOHMANN_JSON_VERSION_MAJOR == 3 && NLOHMANN_JSON_VERSION_MINOR == 11,
              "JsonWriter relies on nlohmann::detail::serializer as in 3.11; re-check it");
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out)
      : out_(out),
        serializer_(nlohmann::detail::output_adapter<char>(out), ' ',
                    json::error_handler_t::replace) {}

  void raw(std::string_view text) { out_ += text; }
  void value(const json& value) { serializer_.dump(value, false, false, 0); }
  void string(std::string_view text) {
    // Fast path for the usual method names, keys and ids: nothing to escape or validate.
    const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
      const auto byte = static_cast<unsigned char>(c);
      return byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\';
    });
    if (plain) {
      out_ += '"';
      out_ += text;
      out_ += '"';
    } else {
      value(json(text));
    }
  }
  void integer(std::int64_t number) { out_ += std::to_string(number); }

 private:
  std::string& out_;
  nlohmann::detail::serializer<json> serializer_;
};

void write_extra_members(JsonWriter& writer, MessageKind kind, const json& extra) {
  const auto* members = extra.get_ptr<const json::object_t*>();
  if (members == nullptr) {
    return;
  }
  for (const auto& [key, value] : *members) {
    if (is_reserved_member(kind, key)) {
      continue;  // never emit a member twice
    }
    writer.raw(",");
    writer.string(key);
    writer.raw(":");
    writer.value(value);
  }
}

void write_error_object(JsonWriter& writer, const ErrorObject& error) {
  writer.raw("{\"code\":");
  writer.integer(error.code);
  writer.raw(",\"message\":");
  writer.string(error.message);
  if (error.data) {
    writer.raw(",\"data\":");
    writer.value(*error.data);
  }
  if (const auto* members = error.extra.get_ptr<const json::object_t*>()) {
    for (const auto& [key, value] : *members) {
      if (key == "code" || key == "message" || key == "data") {
        continue;
      }
      writer.raw(",");
      writer.string(key);
      writer.raw(":");
      writer.value(value);
    }
  }
  writer.raw("}");
}

void merge_extra(json& object, MessageKind kind, json&& extra) {
  if (auto* members = extra.get_ptr<json::object_t*>()) {
    for (auto& [key, value] : *members) {
      if (!is_reserved_member(kind, key)) {
        object[key] = std::move(value);
      }
    }
  }
}

json error_to_json(ErrorObject&& error) {
  json object = json::object();
  if (auto* members = error.extra.get_ptr<json::object_t*>()) {
    for (auto& [key, value] : *members) {
      if (key != "code" && key != "message" && key != "data") {
        object[key] = std::move(value);
      }
    }
  }
  object["code"] = error.code;
  object["message"] = std::move(error.message);
  if (error.data) {
    object["data"] = std::move(*error.data);
  }
  return object;
}

}  // namespace

// ---- RequestId ----

Expected<RequestId, std::string> RequestId::from_json(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return RequestId(value.get_ref<const json::string_t&>());
    case json::value_t::number_integer:
      return RequestId(value.get<std::int64_t>());
    case json::value_t::number_unsigned: {
      const auto number = value.get<std::uint64_t>();
      if (number > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return unexpected(std::to_string(number) + " is outside the signed 64-bit integer range");
      }
      return RequestId(static_cast<std::int64_t>(number));
    }
    case json::value_t::number_float:
      return unexpected("must be a string or an integer, got the non-integer number " +
                        sanitize_diagnostic(value.dump()) +
                        " (fractions, exponents and integers beyond 64 bits are not accepted)");
    default:
      return unexpected("must be a string or an integer, got " +
                        std::string(describe_json_type(value)));
  }
}

json RequestId::to_json() const {
  if (is_integer()) {
    return json(integer());
  }
  return json(string());
}

std::string RequestId::to_string() const {
  if (is_integer()) {
    return std::to_string(integer());
  }
  std::string out;
  JsonWriter(out).string(string());
  return out;
}

std::size_t RequestId::hash() const noexcept {
  // Mix in the kind so that 1 and "1" land in different buckets.
  if (is_integer()) {
    return std::hash<std::int64_t>{}(integer()) ^ 0x9e3779b97f4a7c15ULL;
  }
  return std::hash<std::string>{}(string());
}

// ---- Message ----

std::string_view to_string(MessageKind kind) {
  switch (kind) {
    case MessageKind::request:
      return "request";
    case MessageKind::notification:
      return "notification";
    case MessageKind::success_response:
      return "success response";
    case MessageKind::error_response:
      return "error response";
  }
  return "unknown";
}

const json* Message::param(std::string_view key) const {
  if (!params || !params->is_object()) {
    return nullptr;
  }
  const auto found = params->find(key);
  return found == params->end() ? nullptr : &*found;
}

Message make_request(RequestId id, std::string method, std::optional<json> params) {
  Message message;
  message.kind = MessageKind::request;
  message.id = std::move(id);
  message.method = std::move(method);
  message.params = std::move(params);
  return message;
}

Message make_notification(std::string method, std::optional<json> params) {
  Message message;
  message.kind = MessageKind::notification;
  message.method = std::move(method);
  message.params = std::move(params);
  return message;
}

Message make_success_response(RequestId id, json result) {
  Message message;
  message.kind = MessageKind::success_response;
  message.id = std::move(id);
  message.result = std::move(result);
  return message;
}

Message make_error_response(std::optional<RequestId> id, std::int64_t code, std::string text,
                            std::optional<json> data) {
  Message message;
  message.kind = MessageKind::error_response;
  message.id = std::move(id);
  message.error.code = code;
  message.error.message = std::move(text);
  message.error.data = std::move(data);
  return message;
}

// ---- DecodeError ----

std::string_view to_string(DecodeErrorKind kind) {
  switch (kind) {
    case DecodeErrorKind::invalid_json:
      return "invalid_json";
    case DecodeErrorKind::too_deep:
      return "too_deep";
    case DecodeErrorKind::duplicate_key:
      return "duplicate_key";
    case DecodeErrorKind::lossy_integer:
      return "lossy_integer";
    case DecodeErrorKind::not_an_object:
      return "not_an_object";
    case DecodeErrorKind::empty_batch:
      return "empty_batch";
    case DecodeErrorKind::batch_not_allowed:
      return "batch_not_allowed";
    case DecodeErrorKind::batch_too_large:
      return "batch_too_large";
    case DecodeErrorKind::bad_version:
      return "bad_version";
    case DecodeErrorKind::bad_id:
      return "bad_id";
    case DecodeErrorKind::bad_method:
      return "bad_method";
    case DecodeErrorKind::bad_params:
      return "bad_params";
    case DecodeErrorKind::bad_error:
      return "bad_error";
    case DecodeErrorKind::ambiguous:
      return "ambiguous";
    case DecodeErrorKind::incomplete:
      return "incomplete";
  }
  return "unknown";
}

std::int64_t DecodeError::code() const noexcept {
  switch (kind) {
    case DecodeErrorKind::invalid_json:
    case DecodeErrorKind::too_deep:
    case DecodeErrorKind::duplicate_key:
    case DecodeErrorKind::lossy_integer:
      return error_code::parse_error;
    default:
      return error_code::invalid_request;
  }
}

Message DecodeError::to_response() const {
  return make_error_response(id, code(),
                             code() == error_code::parse_error ? "Parse error: " + message
                                                               : "Invalid Request: " + message);
}

// ---- decoding ----

Expected<json, DecodeError> parse_json(std::string_view text, const DecodeOptions& options) {
  // nlohmann's lexer takes a raw NUL byte for the end of input, so `{...}\0junk` would parse as
  // `{...}`. A raw NUL is never valid JSON (strings must escape it as \u0000): reject it first.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    return unexpected(make_decode_error(DecodeErrorKind::invalid_json,
                                        "invalid JSON: raw NUL byte at offset " +
                                            std::to_string(nul) + " (use \\u0000 in strings)"));
  }
  json root;
  BoundedDomBuilder builder(root, options, effective_max_depth(options));
  const bool ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json,
                                  /*strict=*/true, /*ignore_comments=*/false);
  if (!ok || builder.error()) {
    if (builder.error()) {
      return unexpected(std::move(*builder.error()));
    }
    return unexpected(make_decode_error(DecodeErrorKind::invalid_json, "invalid JSON"));
  }
  return root;
}

Expected<Message, DecodeError> from_json(json&& value, const DecodeOptions& options) {
  const std::size_t limit = effective_max_depth(options);
  if (json_depth(value, limit) > limit) {
    return unexpected(make_decode_error(
        DecodeErrorKind::too_deep,
        "JSON nesting is deeper than the limit of " + std::to_string(limit) + " levels"));
  }
  return message_from_value(std::move(value), false);
}

Expected<Message, DecodeError> decode_message(std::string_view text, const DecodeOptions& options) {
  auto parsed = parse_json(text, options);
  if (!parsed) {
    return unexpected(std::move(parsed.error()));
  }
  if (parsed->is_array()) {
    return unexpected(make_decode_error(DecodeErrorKind::batch_not_allowed,
                                        "a JSON-RPC batch (array) is not accepted here; send "
                                        "one message per request"));
  }
  return message_from_value(std::move(*parsed), false);
}

Expected<DecodedBody, DecodeError> decode(std::string_view text, const DecodeOptions& options) {
  auto parsed = parse_json(text, options);
  if (!parsed) {
    return unexpected(std::move(parsed.error()));
  }
  DecodedBody body;
  if (auto* elements = parsed->get_ptr<json::array_t*>()) {
    if (elements->empty()) {
      return unexpected(make_decode_error(DecodeErrorKind::empty_batch,
                                          "an empty batch ([]) is not a valid request"));
    }
    if (elements->size() > options.max_batch_size) {
      return unexpected(make_decode_error(DecodeErrorKind::batch_too_large,
                                          "the batch has " + std::to_string(elements->size()) +
                                              " elements, more than the limit of " +
                                              std::to_string(options.max_batch_size)));
    }
    body.is_batch = true;
    body.items.reserve(elements->size());
    for (auto& element : *elements) {
      body.items.push_back(message_from_value(std::move(element), true));
    }
    return body;
  }
  auto message = message_from_value(std::move(*parsed), false);
  if (!message) {
    return unexpected(std::move(message.error()));
  }
  body.items.push_back(std::move(message));
  return body;
}

// ---- encoding ----

void encode_append(const Message& message, std::string& out) {
  JsonWriter writer(out);
  writer.raw("{\"jsonrpc\":\"2.0\"");
  const bool write_id =
      message.kind != MessageKind::notification &&
      !(message.kind == MessageKind::error_response && !message.id && message.error_id_absent);
  if (write_id) {
    writer.raw(",\"id\":");
    if (!message.id) {
      writer.raw("null");
    } else if (message.id->is_integer()) {
      writer.integer(message.id->integer());
    } else {
      writer.string(message.id->string());
    }
  }
  switch (message.kind) {
    case MessageKind::request:
    case MessageKind::notification:
      writer.raw(",\"method\":");
      writer.string(message.method);
      if (message.params) {
        writer.raw(",\"params\":");
        writer.value(*message.params);
      }
      break;
    case MessageKind::success_response:
      writer.raw(",\"result\":");
      writer.value(message.result);
      break;
    case MessageKind::error_response:
      writer.raw(",\"error\":");
      write_error_object(writer, message.error);
      break;
  }
  write_extra_members(writer, message.kind, message.extra);
  writer.raw("}");
}

std::string encode(const Message& message) {
  std::string out;
  encode_append(message, out);
  return out;
}

std::string encode_batch(std::span<const Message> messages) {
  std::string out = "[";
  bool first = true;
  for (const auto& message : messages) {
    if (!first) {
      out += ',';
    }
    first = false;
    encode_append(message, out);
  }
  out += ']';
  return out;
}

json to_json(const Message& message) {
  Message copy = message;
  return to_json(std::move(copy));
}

json to_json(Message&& message) {
  json object = json::object();
  merge_extra(object, message.kind, std::move(message.extra));
  object["jsonrpc"] = kVersion;
  switch (message.kind) {
    case MessageKind::request:
    case MessageKind::notification:
      if (message.kind == MessageKind::request && message.id) {
        object["id"] = message.id->to_json();
      }
      object["method"] = std::move(message.method);
      if (message.params) {
        object["params"] = std::move(*message.params);
      }
      break;
    case MessageKind::success_response:
      object["id"] = message.id ? message.id->to_json() : json(nullptr);
      object["result"] = std::move(message.result);
      break;
    case MessageKind::error_response:
      if (message.id) {
        object["id"] = message.id->to_json();
      } else if (!message.error_id_absent) {
        object["id"] = nullptr;
      }
      object["error"] = error_to_json(std::move(message.error));
      break;
  }
  return object;
}

// ---- helpers ----

Expected<std::optional<ProgressToken>, std::string> progress_token(const Message& message) {
  const json* meta = message.param("_meta");
  if (meta == nullptr) {
    return std::optional<ProgressToken>{};
  }
  if (!meta->is_object()) {
    return unexpected("params._meta must be an object, got " +
                      std::string(describe_json_type(*meta)));
  }
  const auto found = meta->find("progressToken");
  if (found == meta->end()) {
    return std::optional<ProgressToken>{};
  }
  auto token = RequestId::from_json(*found);
  if (!token) {
    return unexpected("params._meta.progressToken " + token.error());
  }
  return std::optional<ProgressToken>(std::move(*token));
}

std::optional<MessageKind> classify(const json& value) {
  if (!value.is_object()) {
    return std::nullopt;
  }
  const bool has_method = value.contains("method");
  const bool has_result = value.contains("result");
  const bool has_error = value.contains("error");
  if (has_method) {
    if (has_result || has_error) {
      return std::nullopt;
    }
    return value.contains("id") ? MessageKind::request : MessageKind::notification;
  }
  if (has_result == has_error) {
    return std::nullopt;
  }
  return has_result ? MessageKind::success_response : MessageKind::error_response;
}

std::size_t json_depth(const json& value, std::size_t limit) {
  std::size_t deepest = 0;
  std::vector<std::pair<const json*, std::size_t>> pending;
  if (value.is_structured()) {
    pending.emplace_back(&value, 1);
  }
  while (!pending.empty()) {
    const auto [node, depth] = pending.back();
    pending.pop_back();
    deepest = std::max(deepest, depth);
    if (deepest > limit) {
      return limit + 1;
    }
    for (const auto& child : *node) {
      if (child.is_structured()) {
        pending.emplace_back(&child, depth + 1);
      }
    }
  }
  return deepest;
}

Expected<RequestText, std::string> read_request_text(std::string_view text) {
  SummaryError error;
  auto summary = summarize_message(text, &error);
  if (!summary)
    return unexpected(std::move(error.message));
  if (summary->kind != SummaryKind::request)
    return unexpected(std::string("not a request"));
  auto id = RequestId::from_json(nlohmann::json::parse(summary->id, nullptr, false));
  if (!id)
    return unexpected("id " + id.error());
  return RequestText{std::move(*id), std::move(summary->method), summary->id_offset,
                     summary->id_length};
}

}  // namespace mcpgw::mcp
