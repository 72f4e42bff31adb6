// Fuzzes the JSON-RPC codec and the catalogue's routing-key extraction. The input is the body
// itself (so the seeds are plain JSON files); a second pass decodes it again with options derived
// from its length and last byte. Checks, beyond "no crash, no leak, no UB, no exception":
//  - every decode error maps to -32700 or -32600, has a short printable message, and its error
//    response encodes to a message that decodes back with the same code and id;
//  - every decoded message encodes to one line that decodes to an equal message, and to_json
//    agrees with encode;
//  - classify() agrees with the decoded kind, and from_json() with decode_message();
//  - routing keys and progress tokens either extract or give an invalid-params error;
//  - read_request_text() agrees with decode_message() on what it accepts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "mcp/catalogue.hpp"
#include "mcp/jsonrpc.hpp"

namespace {

using namespace mcpgw::mcp;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_jsonrpc: invariant violated: %s\n", what);
    std::abort();
  }
}

bool printable_ascii(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f) {
      return false;
    }
  }
  return true;
}

void check_error(const DecodeError& error) {
  const auto code = error.code();
  check(code == error_code::parse_error || code == error_code::invalid_request, "error code");
  check(!error.message.empty() && error.message.size() < 512, "error message length");
  check(printable_ascii(error.message), "error message is printable ASCII");
  if (code == error_code::parse_error) {
    check(!error.id.has_value(), "a parse error carries no id");
  }
  const Message response = error.to_response();
  const std::string encoded = encode(response);
  check(encoded.find('\n') == std::string::npos, "error response on one line");
  auto again = decode_message(encoded);
  check(again.has_value(), "error response decodes");
  check(again->kind == MessageKind::error_response, "error response kind");
  check(again->error.code == code, "error response code");
  check(again->id == error.id, "error response id");
}

void check_message(const Message& message, const DecodeOptions& options) {
  const std::string encoded = encode(message);
  check(encoded.find('\n') == std::string::npos && encoded.find('\r') == std::string::npos,
        "encoding is one line");
  auto again = decode_message(encoded, options);
  check(again.has_value(), "an encoded message decodes");
  check(*again == message, "decode(encode(m)) == m");
  check(to_json(message) == to_json(*again), "to_json agrees");

  auto parsed = parse_json(encoded, options);
  check(parsed.has_value(), "encoding parses");
  check(classify(*parsed) == message.kind, "classify agrees with decode");

  auto key = catalogue::routing_key(message);
  if (!key) {
    check(key.error().code() == error_code::invalid_params, "routing key error code");
    check(!key.error().message.empty(), "routing key error message");
  } else if (key->kind == RoutingKeyKind::progress_token ||
             key->kind == RoutingKeyKind::request_id ||
             key->kind == RoutingKeyKind::subscription_id) {
    check(key->id.has_value() && key->id->to_string() == key->value, "id-like routing key");
  }
  auto token = progress_token(message);
  if (!token) {
    check(!token.error().empty(), "progress token error message");
  }
}

void run(std::string_view input, const DecodeOptions& options) {
  auto body = decode(input, options);
  if (!body) {
    check_error(body.error());
    return;
  }
  check(!body->items.empty(), "a decoded body has items");
  check(body->is_batch || body->items.size() == 1, "a single message is one item");
  check(body->items.size() <= options.max_batch_size, "batch within the limit");
  for (const auto& item : body->items) {
    if (item) {
      check_message(*item, options);
    } else {
      check(body->is_batch, "only batch elements fail one by one");
      check(item.error().code() == error_code::invalid_request, "a batch element is -32600");
      check_error(item.error());
    }
  }

  if (!body->is_batch) {
    auto single = decode_message(input, options);
    check(single.has_value() && *single == *body->items.front(), "decode_message agrees");
    auto parsed = parse_json(input, options);
    check(parsed.has_value(), "parse_json agrees");
    auto from_value = from_json(std::move(*parsed), options);
    check(from_value.has_value() && *from_value == *body->items.front(), "from_json agrees");
  }
}

}  // namespace

// read_request_text() (the tree-free reading Client::call_text relies on) agrees with the
// codec wherever the codec accepts the text: same id and method, and the text with another id
// spliced in decodes to the same request with that id.
void check_request_text(std::string_view input) {
  auto head = read_request_text(input);
  auto decoded = decode_message(input);
  if (!head) {
    // The codec may accept what the tree-free reading refuses only in one way: a BOM.
    check(!decoded || !decoded->is_request() || input.starts_with("\xEF\xBB\xBF"),
          "read_request_text refuses a request the codec accepts");
    return;
  }
  check(head->id_offset + head->id_length <= input.size(), "id span inside the text");
  if (!decoded)
    return;  // the codec is stricter in corners (deep duplicate keys, lossy integers)
  check(decoded->is_request(), "read_request_text accepts only requests");
  check(decoded->id == head->id, "read_request_text id");
  check(decoded->method == head->method, "read_request_text method");
  std::string spliced(input.substr(0, head->id_offset));
  spliced += "\"spliced\"";
  spliced += input.substr(head->id_offset + head->id_length);
  auto again = decode_message(spliced);
  check(again.has_value(), "spliced request decodes");
  check(again->id == RequestId("spliced"), "spliced id");
  check(again->method == decoded->method && again->params == decoded->params,
        "splicing changes only the id");
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  run(input, DecodeOptions{});
  check_request_text(input);

  const std::uint8_t last = size == 0 ? 0 : data[size - 1];
  DecodeOptions options;
  options.max_depth = 1 + size % 9;
  options.max_batch_size = 1 + last % 4;
  options.allow_duplicate_keys = (last & 0x10) != 0;
  options.reject_lossy_integers = (last & 0x20) != 0;
  run(input, options);
  return 0;
}
