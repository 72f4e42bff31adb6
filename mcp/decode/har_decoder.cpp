// HAR 1.2 (Chromium devtools, Playwright recordHar, mitmproxy): one JSON document, parsed at
// finish() with nlohmann's non-throwing parse. Each entry's request body and response body
// (JSON, a JSON-RPC batch, or an SSE stream) become events; see docs/inspect-inputs.md.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcp/ascii.hpp"
#include "mcp/base64url.hpp"
#include "mcp/decode/decoders.hpp"
#include "mcp/decode/timestamp.hpp"
#include "mcp/message_summary.hpp"
#include "mcp/sse.hpp"

namespace mcpgw::mcp::decode {
namespace {

using nlohmann::json;
using traffic::Direction;
using traffic::Event;
using traffic::Sink;

// A HAR is read whole; beyond this the rest is not stored and the document is reported.
constexpr std::size_t kMaxHarBytes = std::size_t{512} << 20;

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) {
    return nullptr;
  }
  const auto found = object.find(key);
  return found == object.end() ? nullptr : &*found;
}

std::string_view string_member(const json& object, std::string_view key) {
  const json* value = member(object, key);
  if (value == nullptr || !value->is_string()) {
    return {};
  }
  return value->get_ref<const std::string&>();
}

double number_member(const json& object, std::string_view key) {
  const json* value = member(object, key);
  return value != nullptr && value->is_number() ? value->get<double>() : -1.0;
}

std::vector<traffic::Header> headers_of(const json& side) {
  std::vector<traffic::Header> headers;
  const json* list = member(side, "headers");
  if (list == nullptr || !list->is_array()) {
    return headers;
  }
  for (const auto& item : *list) {
    const std::string_view name = string_member(item, "name");
    if (name.empty() || name.front() == ':') {
      continue;  // HTTP/2 pseudo-headers (Chromium lists them) are not headers of the message
    }
    headers.push_back({ascii_lower(name), std::string(string_member(item, "value"))});
    if (headers.size() >= 256) {
      break;
    }
  }
  return headers;
}

std::string header_value(const std::vector<traffic::Header>& headers, std::string_view name) {
  for (const auto& header : headers) {
    if (header.name == name) {
      return header.value;
    }
  }
  return {};
}

int digits(std::string_view text, std::size_t at, std::size_t count) {
  int value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (at + i >= text.size() || text[at + i] < '0' || text[at + i] > '9') {
      return -1;
    }
    value = value * 10 + (text[at + i] - '0');
  }
  return value;
}

}  // namespace

std::optional<std::int64_t> parse_iso8601_us(std::string_view text) {
  const int year = digits(text, 0, 4);
  const int month = digits(text, 5, 2);
  const int day = digits(text, 8, 2);
  const int hour = digits(text, 11, 2);
  const int minute = digits(text, 14, 2);
  const int second = digits(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 60 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) {
    return std::nullopt;
  }
  std::int64_t us = std::chrono::sys_days(date).time_since_epoch().count() * 86'400'000'000LL +
                    ((hour * 60LL + minute) * 60LL + second) * 1'000'000LL;
  std::size_t pos = 19;
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    ++pos;
    std::int64_t scale = 100'000;
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      us += scale * (text[pos] - '0');
      scale /= 10;
      ++pos;
    }
    if (pos == start) {
      return std::nullopt;
    }
  }
  if (pos == text.size()) {
    return us;  // no offset: taken as UTC
  }
  if ((text[pos] == 'Z' || text[pos] == 'z') && pos + 1 == text.size()) {
    return us;
  }
  if (text[pos] != '+' && text[pos] != '-') {
    return std::nullopt;
  }
  const int sign = text[pos] == '-' ? -1 : 1;
  const int offset_hours = digits(text, pos + 1, 2);
  std::size_t minutes_at = pos + 3;
  if (minutes_at < text.size() && text[minutes_at] == ':') {
    ++minutes_at;
  }
  const int offset_minutes = digits(text, minutes_at, 2);
  if (offset_hours < 0 || offset_hours > 23 || offset_minutes < 0 || offset_minutes > 59 ||
      minutes_at + 2 != text.size()) {
    return std::nullopt;
  }
  return us - sign * (offset_hours * 60LL + offset_minutes) * 60'000'000LL;
}

namespace {

// Standard base64 (with padding, maybe with line breaks), through the project's strict
// base64url decoder.
std::optional<std::string> decode_base64(std::string_view text) {
  std::string url;
  url.reserve(text.size());
  for (const char c : text) {
    if (c == '+') {
      url += '-';
    } else if (c == '/') {
      url += '_';
    } else if (c == '=' || c == '\r' || c == '\n') {
      continue;
    } else {
      url += c;
    }
  }
  return base64url_decode(url);
}

bool is_json_mime(std::string_view mime) {
  const std::string type = ascii_lower(mime.substr(0, mime.find(';')));
  return type == "application/json" || (type.size() > 5 && type.ends_with("+json"));
}

bool is_event_stream(std::string_view mime) {
  return ascii_lower(mime.substr(0, mime.find(';'))).starts_with("text/event-stream");
}

// The path and query of a URL ("/mcp?x=1"), or the text itself when it has no scheme.
std::string target_of(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    return std::string(url);
  }
  const auto path = url.find('/', scheme + 3);
  return path == std::string_view::npos ? std::string("/") : std::string(url.substr(path));
}

// The value of `name` in the query of a target, "" when absent.
std::string query_parameter(std::string_view target, std::string_view name) {
  const auto query = target.find('?');
  if (query == std::string_view::npos) {
    return {};
  }
  std::string_view rest = target.substr(query + 1);
  while (!rest.empty()) {
    const auto end = rest.find('&');
    const std::string_view pair = rest.substr(0, end);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
    if (end == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(end + 1);
  }
  return {};
}

class EventCollector final : public SseSink {
 public:
  void on_event(SseEvent&& event) override {
    if (events.size() < 100000) {
      events.push_back(std::move(event));
    }
  }
  std::vector<SseEvent> events;
};

class HarDecoder final : public traffic::Decoder {
 public:
  explicit HarDecoder(const traffic::DecoderOptions& options) : options_(options) {}

  void feed(std::string_view bytes, Sink& sink) override {
    static_cast<void>(sink);
    received_ += bytes.size();
    if (text_.size() + bytes.size() > kMaxHarBytes) {
      too_large_ = true;
      std::string().swap(text_);
      return;
    }
    if (!too_large_) {
      text_.append(bytes);
    }
  }

  void finish(Sink& sink) override {
    if (too_large_) {
      report(sink, "HAR document of " + std::to_string(received_) + " bytes is larger than " +
                       std::to_string(kMaxHarBytes >> 20) + " MiB, not decoded");
      return;
    }
    const json root = json::parse(text_, nullptr, /*allow_exceptions=*/false);
    std::string().swap(text_);
    if (root.is_discarded()) {
      report(sink, "not a valid JSON document (truncated HAR?)");
      return;
    }
    const json* log = member(root, "log");
    const json* entries = log != nullptr ? member(*log, "entries") : nullptr;
    if (entries == nullptr || !entries->is_array()) {
      report(sink, "not a HAR document: no log.entries array");
      return;
    }
    for (std::size_t index = 0; index < entries->size(); ++index) {
      entry_index_ = index;
      decode_entry((*entries)[index], sink);
    }
  }

 private:
  void report(Sink& sink, std::string message) {
    traffic::Problem problem;
    problem.where.source = options_.source;
    problem.where.offset = entry_index_;
    problem.message = std::move(message);
    sink.on_problem(std::move(problem));
  }

  void decode_entry(const json& entry, Sink& sink) {
    const std::string label = "entry " + std::to_string(entry_index_);
    const json* request = member(entry, "request");
    const json* response = member(entry, "response");
    if (request == nullptr || !request->is_object()) {
      report(sink, label + ": no request object");
      return;
    }
    static const json kEmpty = json::object();
    if (response == nullptr || !response->is_object()) {
      response = &kEmpty;
    }
    const std::string method(string_member(*request, "method"));
    const std::string target = target_of(string_member(*request, "url"));
    const auto request_headers = headers_of(*request);
    const auto response_headers = headers_of(*response);
    const int status = static_cast<int>(number_member(*response, "status"));

    const std::optional<std::int64_t> request_us =
        parse_iso8601_us(string_member(entry, "startedDateTime"));
    std::optional<std::int64_t> response_us;
    if (request_us) {
      // blocked + dns + connect (ssl is part of connect) + send + wait; -1 means not applicable.
      double ms = 0;
      if (const json* timings = member(entry, "timings")) {
        for (const char* phase : {"blocked", "dns", "connect", "send", "wait"}) {
          const double value = number_member(*timings, phase);
          if (value > 0 && value < 1e12) {
            ms += value;
          }
        }
      }
      response_us = *request_us + static_cast<std::int64_t>(ms * 1000.0);
    }

    // The session: Mcp-Session-Id of the request, else of the response (initialize); for the
    // legacy HTTP+SSE transport, the sessionId query parameter of its POST endpoint.
    std::string session = header_value(request_headers, "mcp-session-id");
    if (session.empty()) {
      session = header_value(response_headers, "mcp-session-id");
    }
    bool legacy = false;
    if (session.empty()) {
      session = query_parameter(target, "sessionId");
      legacy = !session.empty();
    }

    const json* content = member(*response, "content");
    const std::string_view mime =
        content != nullptr ? string_member(*content, "mimeType") : std::string_view();
    const bool stream =
        is_event_stream(mime) || is_event_stream(header_value(response_headers, "content-type"));
    std::string response_body;
    if (content != nullptr) {
      response_body = string_member(*content, "text");
      if (ascii_lower(string_member(*content, "encoding")) == "base64") {
        auto decoded = decode_base64(response_body);
        if (!decoded) {
          report(sink, label + ": response content is not valid base64");
          response_body.clear();
        } else {
          response_body = std::move(*decoded);
        }
      }
    }

    std::vector<SseEvent> sse_events;
    if (stream && !response_body.empty()) {
      EventCollector collector;
      SseParser parser;
      if (!parser.feed(response_body, collector)) {
        report(sink, label + ": an SSE event in the response is too large, skipped");
      }
      if (parser.finish()) {
        report(sink, label + ": the SSE response ends inside an event (truncated)");
      }
      sse_events = std::move(collector.events);
      // The legacy transport's stream announces its POST endpoint (with the session) first.
      for (const auto& event : sse_events) {
        if (event.type == "endpoint") {
          legacy = true;
          if (session.empty()) {
            session = query_parameter(event.data, "sessionId");
          }
          break;
        }
      }
    }
    if (method == "GET" && stream && target.ends_with("/sse")) {
      legacy = true;
    }

    Event base;
    base.transport = legacy ? traffic::Transport::sse : traffic::Transport::streamable_http;
    base.session = session;
    base.scope = session.empty() ? "har:" + options_.source : "session:" + session;
    base.where.source = options_.source;
    base.where.offset = entry_index_;  // entries have no line of their own

    // The request body.
    const json* post = member(*request, "postData");
    const std::string_view request_body =
        post != nullptr ? string_member(*post, "text") : std::string_view();
    if (!request_body.empty()) {
      Event event = base;
      event.time_us = request_us;
      event.direction = Direction::client_to_server;
      event.http = traffic::HttpContext{method, target, 0, request_headers};
      emit_body(request_body, string_member(*post, "mimeType"), event, label + ": request body",
                sink);
    }

    // The response body.
    Event answer = base;
    answer.time_us = response_us;
    answer.direction = Direction::server_to_client;
    answer.http = traffic::HttpContext{method, target, status, response_headers};
    if (stream) {
      for (std::size_t i = 0; i < sse_events.size(); ++i) {
        const SseEvent& sse = sse_events[i];
        if (sse.type != "message" || sse.data.find_first_not_of(" \t\r\n") == std::string::npos) {
          continue;  // the endpoint event, priming events (empty data), other event types
        }
        Event event = answer;
        event.sse_event_id = sse.id_updated ? sse.last_event_id : std::string();
        emit_body(sse.data, "application/json", event,
                  label + ": SSE event " + std::to_string(i) + " of the response", sink);
      }
    } else if (!response_body.empty()) {
      emit_body(response_body, mime, answer, label + ": response body", sink);
    }
  }

  // A body that holds JSON-RPC: one event per message. A body that clearly is something else
  // (HTML, an image, plain text) is not MCP and is skipped quietly; JSON that is not JSON-RPC
  // is a problem.
  void emit_body(std::string_view body, std::string_view mime, const Event& context,
                 const std::string& label, Sink& sink) {
    const auto first = body.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
      return;
    }
    const bool looks_json = body[first] == '{' || body[first] == '[';
    if (!looks_json && !is_json_mime(mime)) {
      return;
    }
    SummaryError error;
    if (!split_batch(body, members_, &error)) {
      report(sink,
             label + ": " + error.message + " (at byte " + std::to_string(error.offset) + ")");
      return;
    }
    if (members_.empty()) {
      report(sink, label + ": an empty JSON-RPC batch");
      return;
    }
    for (std::size_t i = 0; i < members_.size(); ++i) {
      if (!summarize_message(members_[i], &error)) {
        report(sink, label + (members_.size() > 1 ? ", batch element " + std::to_string(i) : "") +
                         ": not a JSON-RPC message: " + error.message);
        continue;
      }
      Event event = context;
      event.message.assign(members_[i]);
      sink.on_event(std::move(event));
    }
  }

  traffic::DecoderOptions options_;
  std::string text_;
  std::size_t received_ = 0;
  std::size_t entry_index_ = 0;  // the entry being decoded: the location of its events and problems
  bool too_large_ = false;
  std::vector<std::string_view> members_;
};

}  // namespace

std::unique_ptr<traffic::Decoder> make_har_decoder(const traffic::DecoderOptions& options) {
  return std::make_unique<HarDecoder>(options);
}

}  // namespace mcpgw::mcp::decode
