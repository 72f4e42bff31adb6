#include "mcp/message_summary.hpp"

#include <string_view>

#include "mcp/json_scan.hpp"

namespace mcpgw::mcp {
namespace {

using json_scan::Scanner;
using json_scan::ValueType;

// A member the summary looks at: where its value is and its raw text (scalars only; containers
// are scanned in place and keep an empty text).
struct Member {
  bool present = false;
  ValueType type = ValueType::none;
  std::size_t offset = 0;
  std::string_view text;
};

// The members of interest of params, params._meta, result and error: taken as raw text in the
// one pass and interpreted once the method is known (it may come after params).
struct Fields {
  Member jsonrpc, id, method, params, result, error;
  Member params_name, params_uri, params_progress_token, params_request_id, params_protocol_version,
      meta_progress_token;
  Member result_protocol_version, result_is_error;
  Member error_code, error_message;
};

bool fail(SummaryError* error, std::size_t offset, std::string message) {
  if (error != nullptr) {
    error->offset = offset;
    error->message = std::move(message);
  }
  return false;
}

class SummaryScan {
 public:
  explicit SummaryScan(std::string_view text) : scanner_(text, kMaxSummaryDepth) {}

  Scanner& scanner() { return scanner_; }
  Fields& fields() { return fields_; }
  std::string_view duplicate() const { return duplicate_; }

  // Takes a member's value: its raw text for scalars, nested members for the objects listed.
  bool take(Member& member, std::string_view name, std::size_t level) {
    if (member.present) {
      duplicate_ = name;
      return scanner_.fail(scanner_.position(), "duplicate member");
    }
    member.present = true;
    member.offset = scanner_.position();
    member.type = json_scan::type_of(scanner_.peek());
    member.text = scanner_.value_text(level);
    return !scanner_.failed();
  }

  bool scan_message() {
    return scanner_.scan_object(0, [this](std::string_view name, std::size_t level) {
      if (name == "jsonrpc") {
        return take(fields_.jsonrpc, "jsonrpc", level);
      }
      if (name == "id") {
        return take(fields_.id, "id", level);
      }
      if (name == "method") {
        return take(fields_.method, "method", level);
      }
      if (name == "params") {
        return nested(fields_.params, "params", level, [this](std::string_view key, std::size_t l) {
          if (key == "name") {
            return take(fields_.params_name, "params.name", l);
          }
          if (key == "uri") {
            return take(fields_.params_uri, "params.uri", l);
          }
          if (key == "progressToken") {
            return take(fields_.params_progress_token, "params.progressToken", l);
          }
          if (key == "requestId") {
            return take(fields_.params_request_id, "params.requestId", l);
          }
          if (key == "protocolVersion") {
            return take(fields_.params_protocol_version, "params.protocolVersion", l);
          }
          if (key == "_meta") {
            return nested(
                meta_, "params._meta", l, [this](std::string_view meta_key, std::size_t ml) {
                  if (meta_key == "progressToken") {
                    return take(fields_.meta_progress_token, "params._meta.progressToken", ml);
                  }
                  return scanner_.skip_value(ml);
                });
          }
          return scanner_.skip_value(l);
        });
      }
      if (name == "result") {
        return nested(fields_.result, "result", level, [this](std::string_view key, std::size_t l) {
          if (key == "protocolVersion") {
            return take(fields_.result_protocol_version, "result.protocolVersion", l);
          }
          if (key == "isError") {
            return take(fields_.result_is_error, "result.isError", l);
          }
          return scanner_.skip_value(l);
        });
      }
      if (name == "error") {
        return nested(fields_.error, "error", level, [this](std::string_view key, std::size_t l) {
          if (key == "code") {
            return take(fields_.error_code, "error.code", l);
          }
          if (key == "message") {
            return take(fields_.error_message, "error.message", l);
          }
          return scanner_.skip_value(l);
        });
      }
      return scanner_.skip_value(level);
    });
  }

 private:
  // An object value is scanned member by member; any other value is taken whole.
  template <typename OnMember>
  bool nested(Member& member, std::string_view name, std::size_t level, OnMember&& on_member) {
    if (member.present) {
      duplicate_ = name;
      return scanner_.fail(scanner_.position(), "duplicate member");
    }
    if (scanner_.peek() != '{') {
      return take(member, name, level);
    }
    member.present = true;
    member.offset = scanner_.position();
    member.type = ValueType::object;
    return scanner_.scan_object(level, on_member);
  }

  Scanner scanner_;
  Fields fields_;
  Member meta_;
  std::string_view duplicate_;
};

std::string unescaped(const Member& member) {
  std::string out;
  json_scan::unescape_token(member.text, out);
  return out;
}

bool string_equals(const Member& member, std::string_view expected) {
  if (member.type != ValueType::string) {
    return false;
  }
  if (member.text.find('\\') == std::string_view::npos) {
    return member.text.substr(1, member.text.size() - 2) == expected;
  }
  return unescaped(member) == expected;
}

bool is_int64(const Member& member) {
  return member.type == ValueType::number &&
         member.text.find_first_of(".eE") == std::string_view::npos &&
         json_scan::parse_int64(member.text).has_value();
}

// Why an id is unusable, or "" when it is a string or an int64 integer (or null / absent,
// which the caller judges by kind).
std::string id_problem(const Member& id) {
  if (!id.present || id.type == ValueType::null || id.type == ValueType::string || is_int64(id)) {
    return {};
  }
  if (id.type == ValueType::number) {
    return "id must be a string or an integer, got the number " +
           std::string(id.text.substr(0, 40)) +
           " (fractions, exponents and integers beyond 64 bits are not accepted)";
  }
  return "id must be a string or an integer, got " + std::string(json_scan::describe(id.type));
}

// Checks the JSON-RPC 2.0 rules of the codec (mcp/jsonrpc.cpp message_from_value) in its order.
bool classify(const Fields& f, MessageSummary& summary, SummaryError* error) {
  if (!f.jsonrpc.present) {
    return fail(error, 0, "missing \"jsonrpc\": \"2.0\"");
  }
  if (f.jsonrpc.type != ValueType::string) {
    return fail(error, f.jsonrpc.offset,
                "\"jsonrpc\" must be the string \"2.0\", got " +
                    std::string(json_scan::describe(f.jsonrpc.type)));
  }
  if (!string_equals(f.jsonrpc, "2.0")) {
    return fail(error, f.jsonrpc.offset, "\"jsonrpc\" must be \"2.0\"");
  }
  const std::string bad_id = id_problem(f.id);
  if (f.method.present) {
    if (f.result.present || f.error.present) {
      return fail(error, f.method.offset,
                  "a message cannot have \"method\" together with \"result\" or \"error\"");
    }
    if (!bad_id.empty()) {
      return fail(error, f.id.offset, bad_id);
    }
    if (f.id.present && f.id.type == ValueType::null) {
      return fail(error, f.id.offset, "a request id must be a string or an integer, not null");
    }
    if (f.method.type != ValueType::string) {
      return fail(
          error, f.method.offset,
          "\"method\" must be a string, got " + std::string(json_scan::describe(f.method.type)));
    }
    if (f.params.present && f.params.type != ValueType::object &&
        f.params.type != ValueType::array) {
      return fail(error, f.params.offset,
                  "\"params\" must be an object or an array, got " +
                      std::string(json_scan::describe(f.params.type)));
    }
    summary.kind = f.id.present ? SummaryKind::request : SummaryKind::notification;
    json_scan::unescape_token(f.method.text, summary.method);
    if (f.id.present) {
      summary.id = json_scan::canonical_id_text(f.id.text);
    }
    return true;
  }
  if (f.result.present && f.error.present) {
    return fail(error, f.result.offset, "a response cannot have both \"result\" and \"error\"");
  }
  if (!f.result.present && !f.error.present) {
    return fail(error, 0,
                "a message needs \"method\" (request or notification) or \"result\" or \"error\" "
                "(response)");
  }
  if (!bad_id.empty()) {
    return fail(error, f.id.offset, bad_id);
  }
  if (f.result.present) {
    if (!f.id.present || f.id.type == ValueType::null) {
      return fail(error, f.id.offset,
                  !f.id.present ? "a success response needs an \"id\""
                                : "a success response needs a string or integer id, not null");
    }
    summary.kind = SummaryKind::response;
    summary.id = json_scan::canonical_id_text(f.id.text);
    return true;
  }
  constexpr std::string_view kShape =
      "\"error\" must be an object with an integer \"code\" and a string \"message\"";
  if (f.error.type != ValueType::object) {
    return fail(error, f.error.offset,
                std::string(kShape) + ", got " + std::string(json_scan::describe(f.error.type)));
  }
  if (!f.error_code.present) {
    return fail(error, f.error.offset, std::string(kShape) + "; \"code\" is missing");
  }
  if (!is_int64(f.error_code)) {
    return fail(error, f.error_code.offset,
                std::string(kShape) + "; \"code\" is not a 64-bit integer");
  }
  if (!f.error_message.present) {
    return fail(error, f.error.offset, std::string(kShape) + "; \"message\" is missing");
  }
  if (f.error_message.type != ValueType::string) {
    return fail(error, f.error_message.offset,
                std::string(kShape) + "; \"message\" is " +
                    std::string(json_scan::describe(f.error_message.type)));
  }
  summary.kind = SummaryKind::error_response;
  if (f.id.present && f.id.type != ValueType::null) {
    summary.id = json_scan::canonical_id_text(f.id.text);
  }
  summary.error_code = json_scan::parse_int64(f.error_code.text);
  json_scan::unescape_token(f.error_message.text, summary.error_message);
  return true;
}

void take_string(const Member& member, std::string& out) {
  if (member.present && member.type == ValueType::string) {
    json_scan::unescape_token(member.text, out);
  }
}

// The optional details, once the kind and method are known. Values of an unexpected type are
// left out rather than failing the message: the codec does not check them either.
void fill_details(const Fields& f, MessageSummary& summary) {
  const std::string& method = summary.method;
  switch (summary.kind) {
    case SummaryKind::request:
      if (method == "tools/call" || method == "prompts/get") {
        take_string(f.params_name, summary.target);
      } else if (method == "resources/read" || method == "resources/subscribe" ||
                 method == "resources/unsubscribe") {
        take_string(f.params_uri, summary.target);
      } else if (method == "initialize") {
        take_string(f.params_protocol_version, summary.protocol_version);
      }
      if (f.meta_progress_token.present) {
        summary.progress_token = json_scan::canonical_id_text(f.meta_progress_token.text);
      }
      break;
    case SummaryKind::notification:
      if (method == "notifications/progress" && f.params_progress_token.present) {
        summary.progress_token = json_scan::canonical_id_text(f.params_progress_token.text);
      } else if (method == "notifications/cancelled" && f.params_request_id.present) {
        summary.cancelled_id = json_scan::canonical_id_text(f.params_request_id.text);
      }
      break;
    case SummaryKind::response:
      take_string(f.result_protocol_version, summary.protocol_version);
      summary.tool_error = f.result_is_error.present && f.result_is_error.text == "true";
      break;
    case SummaryKind::error_response:
      break;
  }
}

}  // namespace

std::optional<MessageSummary> summarize_message(std::string_view text, SummaryError* error) {
  SummaryScan scan(text);
  Scanner& scanner = scan.scanner();
  scanner.skip_bom();
  const char first = scanner.peek();
  if (first != '{') {
    // Say what it is when it is valid JSON of another type, else where the JSON breaks.
    const std::size_t start = scanner.position();
    if (scanner.skip_value(0) && scanner.expect_end()) {
      if (first == '[') {
        fail(error, start,
             "a JSON-RPC batch (array) is not a single message; split it with split_batch");
      } else {
        fail(error, start,
             "a JSON-RPC message must be a JSON object, got " +
                 std::string(json_scan::describe(json_scan::type_of(first))));
      }
      return std::nullopt;
    }
    fail(error, scanner.error_offset(), "invalid JSON: " + std::string(scanner.error()));
    return std::nullopt;
  }
  if (!scan.scan_message() || !scanner.expect_end()) {
    if (!scan.duplicate().empty()) {
      fail(error, scanner.error_offset(),
           "duplicate member \"" + std::string(scan.duplicate()) + "\" in the message");
    } else {
      fail(error, scanner.error_offset(), "invalid JSON: " + std::string(scanner.error()));
    }
    return std::nullopt;
  }
  MessageSummary summary;
  if (!classify(scan.fields(), summary, error)) {
    return std::nullopt;
  }
  fill_details(scan.fields(), summary);
  if (!summary.id.empty()) {
    const std::string_view id_text = scan.fields().id.text;
    summary.id_offset = static_cast<std::size_t>(id_text.data() - text.data());
    summary.id_length = id_text.size();
  }
  return summary;
}

bool split_batch(std::string_view text, std::vector<std::string_view>& members,
                 SummaryError* error) {
  members.clear();
  Scanner scanner(text, kMaxSummaryDepth);
  scanner.skip_bom();
  const char first = scanner.peek();
  bool ok = false;
  if (first == '[') {
    ok = scanner.scan_array(0, [&](std::size_t level) {
      const std::string_view member = scanner.value_text(level);
      if (!scanner.failed()) {
        members.push_back(member);
      }
      return !scanner.failed();
    });
  } else if (first == '{') {
    const std::string_view whole = scanner.value_text(0);
    ok = !scanner.failed();
    if (ok) {
      members.push_back(whole);
    }
  } else if (first != '\0' && scanner.skip_value(0) && scanner.expect_end()) {
    members.clear();
    return fail(error, 0,
                "a JSON-RPC body must be an object or a batch array, got " +
                    std::string(json_scan::describe(json_scan::type_of(first))));
  }
  if (ok) {
    ok = scanner.expect_end();
  }
  if (!ok) {
    members.clear();
    if (first == '\0' && !scanner.failed()) {
      return fail(error, text.size(), "invalid JSON: empty text");
    }
    return fail(error, scanner.error_offset(), "invalid JSON: " + std::string(scanner.error()));
  }
  return true;
}

}  // namespace mcpgw::mcp
