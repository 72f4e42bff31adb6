// The stable JSON Lines output (schema in docs/inspect.md). Written by hand with a fixed key
// order: no JSON tree per exchange, and arbitrary bytes from the traffic still give valid JSON.
#include <ostream>
#include <string>

#include "inspect/render.hpp"
#include "inspect/text.hpp"

namespace mcpgw::inspect {
namespace {

void key(std::string& out, std::string_view name) {
  out += ",\"";
  out += name;
  out += "\":";
}

void string_or_null(std::string& out, std::string_view name, std::string_view value) {
  key(out, name);
  if (value.empty())
    out += "null";
  else
    append_json_string(out, value);
}

void number_or_null(std::string& out, std::string_view name, std::optional<std::int64_t> value) {
  key(out, name);
  if (value)
    out += std::to_string(*value);
  else
    out += "null";
}

void boolean(std::string& out, std::string_view name, bool value) {
  key(out, name);
  out += value ? "true" : "false";
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_json_string_literal(std::string_view text) {
  if (text.size() < 2 || text.front() != '"' || text.back() != '"')
    return false;
  for (std::size_t i = 1; i + 1 < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == '"')
      return false;
    if (c != '\\')
      continue;
    if (i + 2 >= text.size())
      return false;
    const char escaped = text[++i];
    if (escaped == 'u') {
      if (i + 5 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2]) ||
          !is_hex(text[i + 3]) || !is_hex(text[i + 4]))
        return false;
      i += 4;
    } else if (std::string_view("\"\\/bfnrt").find(escaped) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// RFC 8259 number grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
bool is_json_number(std::string_view text) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9')
      ++i;
    return i > start;
  };
  if (i < text.size() && text[i] == '-')
    ++i;
  if (i < text.size() && text[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!digits())
      return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-'))
      ++i;
    if (!digits())
      return false;
  }
  return i == text.size();
}

// An id is canonical JSON text (a number or a string literal) from summarize_message; anything
// else is written as a string so the line stays valid JSON whatever the summary holds.
void id_value(std::string& out, std::string_view id) {
  key(out, "id");
  if (id.empty()) {
    out += "null";
    return;
  }
  if (is_json_number(id) || is_json_string_literal(id))
    out += id;
  else
    append_json_string(out, id);
}

void message_value(std::string& out, std::string_view name, const std::string& message) {
  key(out, name);
  const auto compact = message.empty() ? std::nullopt : compact_json(message);
  if (compact)
    out += *compact;
  else
    out += "null";
}

class JsonlRenderer final : public Renderer {
 public:
  JsonlRenderer(std::ostream& out, bool full, bool array, bool flush_each)
      : out_(out), full_(full), array_(array), flush_each_(flush_each) {}

  void on_exchange(Exchange&& exchange) override {
    line_.clear();
    if (array_)
      line_ += first_ ? "[\n" : ",\n";
    first_ = false;
    write(exchange);
    if (!array_)
      line_ += '\n';
    out_ << line_;
    if (flush_each_)
      out_.flush();
  }

  bool finish(const RunTotals&) override {
    if (array_)
      out_ << (first_ ? "[]\n" : "\n]\n");
    out_.flush();
    return static_cast<bool>(out_);
  }

 private:
  void write(const Exchange& exchange) {
    std::string& out = line_;
    out += "{\"v\":";
    out += std::to_string(kJsonlSchemaVersion);
    key(out, "kind");
    append_json_string(out, to_string(exchange.kind));
    string_or_null(out, "method", exchange.method);
    id_value(out, exchange.id);
    string_or_null(out, "session", exchange.session);
    key(out, "direction");
    append_json_string(out, mcp::traffic::to_string(exchange.direction));
    key(out, "status");
    append_json_string(out, to_string(exchange.status));
    number_or_null(out, "error_code", exchange.error_code);
    string_or_null(out, "error_message", exchange.error_message);
    key(out, "duration_ms");
    const auto duration = exchange.duration_us();
    out += duration ? format_ms_number(*duration) : std::string("null");
    string_or_null(out, "tool", exchange.tool());
    string_or_null(out, "target", exchange.target);
    boolean(out, "tool_error", exchange.tool_error);
    boolean(out, "server_request", exchange.server_request());
    boolean(out, "orphan", exchange.orphan);
    string_or_null(out, "protocol_version", exchange.protocol_version);
    string_or_null(out, "backend", exchange.backend);
    key(out, "leg");
    append_json_string(out, mcp::traffic::to_string(exchange.leg));
    key(out, "transport");
    append_json_string(out, mcp::traffic::to_string(exchange.transport));
    number_or_null(out, "http_status",
                   exchange.http_status != 0 ? std::optional<std::int64_t>(exchange.http_status)
                                             : std::nullopt);
    number_or_null(out, "started_us", exchange.started_us);
    number_or_null(out, "ended_us", exchange.ended_us);
    string_or_null(out, "scope", exchange.scope);
    string_or_null(out, "progress_token", exchange.progress_token);
    string_or_null(out, "related_id", exchange.related_id);
    key(out, "source");
    append_json_string(out, mcp::traffic::describe(exchange.request_where));
    key(out, "response_source");
    if (exchange.response_where)
      append_json_string(out, mcp::traffic::describe(*exchange.response_where));
    else
      out += "null";
    key(out, "notifications");
    out += '[';
    bool first = true;
    for (const auto& linked : exchange.linked) {
      out += first ? "{" : ",{";
      first = false;
      out += "\"method\":";
      append_json_string(out, linked.method);
      key(out, "direction");
      append_json_string(out, mcp::traffic::to_string(linked.direction));
      number_or_null(out, "time_us", linked.time_us);
      key(out, "source");
      append_json_string(out, mcp::traffic::describe(linked.where));
      if (full_)
        message_value(out, "message", linked.message);
      out += '}';
    }
    out += ']';
    key(out, "notifications_omitted");
    out += std::to_string(exchange.linked_omitted);
    if (full_) {
      message_value(out, "request", exchange.request_message);
      message_value(out, "response", exchange.response_message);
    }
    out += '}';
  }

  std::ostream& out_;
  bool full_;
  bool array_;
  bool flush_each_;
  bool first_ = true;
  std::string line_;
};

}  // namespace

std::unique_ptr<Renderer> make_jsonl_renderer(std::ostream& out, bool full, bool array,
                                              bool flush_each) {
  return std::make_unique<JsonlRenderer>(out, full, array, flush_each);
}

}  // namespace mcpgw::inspect
