// The mcpgw capture JSONL decoder (format version 1, mcp/capture.hpp). Each line is read with
// the tree-free scanner: metadata members are taken as they come, the `message` value is
// validated and kept as its exact text, never parsed into a tree. This is the fast path of
// `inspect --stats` on gateway captures.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "mcp/capture.hpp"
#include "mcp/decode/decoders.hpp"
#include "mcp/decode/line_splitter.hpp"
#include "mcp/json_scan.hpp"
#include "mcp/message_summary.hpp"

namespace mcpgw::mcp::decode {
namespace {

using json_scan::Scanner;
using json_scan::ValueType;
using traffic::Event;
using traffic::Problem;
using traffic::Sink;

// Longest record line; a longer one is reported and skipped without being stored.
constexpr std::size_t kMaxRecordBytes = std::size_t{64} << 20;
// Connections remembered as "seen without a session yet" (see scope_for); beyond it the
// oldest knowledge is dropped, which only affects pairing of initialize on those connections.
constexpr std::size_t kMaxSessionlessConnections = 1 << 16;

enum class RecordType : std::uint8_t { unknown, header, message, dropped };

// One record line's members, as read.
struct Record {
  RecordType type = RecordType::unknown;
  bool has_type = false;
  Event event;
  std::uint64_t connection = 0;
  std::string_view message;  // exact text, into the line
  // header
  std::string format;
  std::optional<std::int64_t> version;
  // dropped
  std::optional<std::int64_t> count;
  bool has_direction = false;
  std::string problem;  // a member of the wrong type: the record is skipped with this
};

class CaptureDecoder final : public traffic::Decoder {
 public:
  explicit CaptureDecoder(const traffic::DecoderOptions& options)
      : options_(options), lines_(kMaxRecordBytes) {}

  void feed(std::string_view bytes, Sink& sink) override {
    lines_.feed(
        bytes, [&](std::string_view line, LinePosition at) { on_line(line, at, sink); },
        [&](LinePosition at, std::size_t bytes_seen) {
          report(sink, at,
                 "record longer than " + std::to_string(kMaxRecordBytes >> 20) + " MiB (at least " +
                     std::to_string(bytes_seen) + " bytes), skipped");
        });
  }

  void finish(Sink& sink) override {
    lines_.finish([&](std::string_view line, LinePosition at) {
      if (is_blank_line(line)) {
        return;
      }
      // A writer always ends a record with a newline: a last line without one is what a crash
      // (or a copy in progress) leaves. It is decoded when it is complete anyway.
      Record record;
      std::string why;
      if (!read_record(line, record, why)) {
        report(sink, at, "truncated final record (no newline at the end of the input)");
        return;
      }
      handle(record, line, at, sink);
    });
  }

 private:
  void report(Sink& sink, LinePosition at, std::string message) {
    Problem problem;
    problem.where.source = options_.source;
    problem.where.line = at.line;
    problem.where.offset = at.offset;
    problem.message = std::move(message);
    sink.on_problem(std::move(problem));
  }

  void on_line(std::string_view line, LinePosition at, Sink& sink) {
    if (is_blank_line(line)) {
      return;
    }
    Record record;
    std::string why;
    if (!read_record(line, record, why)) {
      report(sink, at, std::move(why));
      return;
    }
    handle(record, line, at, sink);
  }

  // Reads a line into `record`; false with the reason when it is not a readable record.
  bool read_record(std::string_view line, Record& record, std::string& why) {
    // The message may nest kMaxSummaryDepth levels inside the record object.
    Scanner scanner(line, kMaxSummaryDepth + 1);
    scanner.skip_bom();
    if (scanner.peek() != '{') {
      why = "not a capture record (a JSON object per line expected)";
      return false;
    }
    Event& event = record.event;
    const bool ok = scanner.scan_object(0, [&](std::string_view name, std::size_t level) {
      if (name == "message") {
        const char first = scanner.peek();
        record.message = scanner.value_text(level);
        if (!scanner.failed() && first != '{' && first != '[') {
          set_problem(record, "\"message\" is " +
                                  std::string(json_scan::describe(json_scan::type_of(first))) +
                                  ", not a JSON-RPC message");
        }
        return !scanner.failed();
      }
      if (name == "type") {
        std::string type;
        if (!read_text(scanner, record, name, type)) {
          return !scanner.failed();
        }
        record.has_type = true;
        record.type = type == "message"   ? RecordType::message
                      : type == "header"  ? RecordType::header
                      : type == "dropped" ? RecordType::dropped
                                          : RecordType::unknown;
        return true;
      }
      if (name == "ts_us") {
        if (auto value = read_integer(scanner, record, name)) {
          traffic::time_in_range(*value)
              ? void(event.time_us = *value)
              : set_problem(record, "ts_us " + std::to_string(*value) + " is out of range");
        }
        return !scanner.failed();
      }
      if (name == "leg" || name == "direction" || name == "transport") {
        std::string text;
        if (!read_text(scanner, record, name, text)) {
          return !scanner.failed();
        }
        if (name == "leg") {
          const auto leg = traffic::parse_leg(text);
          leg ? void(event.leg = *leg) : set_problem(record, "unknown leg \"" + text + "\"");
        } else if (name == "direction") {
          const auto direction = traffic::parse_direction(text);
          direction ? void(event.direction = *direction)
                    : set_problem(record, "unknown direction \"" + text + "\"");
          record.has_direction = direction.has_value();
        } else {
          // A transport this reader does not know yet is not worth losing the message over.
          event.transport = traffic::parse_transport(text).value_or(traffic::Transport::unknown);
        }
        return true;
      }
      if (name == "session") {
        read_text(scanner, record, name, event.session);
        return !scanner.failed();
      }
      if (name == "backend") {
        read_text(scanner, record, name, event.backend);
        return !scanner.failed();
      }
      if (name == "backend_session") {
        read_text(scanner, record, name, event.backend_session);
        return !scanner.failed();
      }
      if (name == "sse_event_id") {
        read_text(scanner, record, name, event.sse_event_id);
        return !scanner.failed();
      }
      if (name == "connection") {
        if (auto value = read_integer(scanner, record, name)) {
          record.connection = *value < 0 ? 0 : static_cast<std::uint64_t>(*value);
        }
        return !scanner.failed();
      }
      if (name == "http_method") {
        read_text(scanner, record, name, http(event).method);
        return !scanner.failed();
      }
      if (name == "http_status") {
        if (auto value = read_integer(scanner, record, name)) {
          http(event).status = (*value >= 0 && *value <= 999) ? static_cast<int>(*value) : 0;
        }
        return !scanner.failed();
      }
      if (name == "http_headers") {
        return read_headers(scanner, record, level);
      }
      if (name == "format") {
        read_text(scanner, record, name, record.format);
        return !scanner.failed();
      }
      if (name == "version") {
        record.version = read_integer(scanner, record, name);
        return !scanner.failed();
      }
      if (name == "count") {
        record.count = read_integer(scanner, record, name);
        return !scanner.failed();
      }
      return scanner.skip_value(level);  // unknown members are ignored (additive changes)
    });
    if (!ok || !scanner.expect_end()) {
      why = "invalid JSON at byte " + std::to_string(scanner.error_offset()) +
            " of the record: " + std::string(scanner.error());
      return false;
    }
    if (!record.problem.empty()) {
      why = std::move(record.problem);
      return false;
    }
    if (!record.has_type) {
      why = "a capture record needs a \"type\"";
      return false;
    }
    return true;
  }

  static traffic::HttpContext& http(Event& event) {
    if (!event.http) {
      event.http.emplace();
    }
    return *event.http;
  }

  static void set_problem(Record& record, std::string problem) {
    if (record.problem.empty()) {
      record.problem = std::move(problem);
    }
  }

  // A string member into `out`; any other type is a problem of the record.
  static bool read_text(Scanner& scanner, Record& record, std::string_view name, std::string& out) {
    if (scanner.peek() != '"') {
      const char first = scanner.peek();
      if (scanner.skip_value(1)) {
        set_problem(record, "\"" + std::string(name) + "\" must be a string, got " +
                                std::string(json_scan::describe(json_scan::type_of(first))));
      }
      return false;
    }
    std::string_view token;
    bool escaped = false;
    if (!scanner.scan_string(token, escaped)) {
      return false;
    }
    out.clear();
    if (escaped) {
      json_scan::unescape_token(token, out);
    } else {
      out.assign(token.substr(1, token.size() - 2));
    }
    return true;
  }

  static std::optional<std::int64_t> read_integer(Scanner& scanner, Record& record,
                                                  std::string_view name) {
    const char first = scanner.peek();
    if (json_scan::type_of(first) == ValueType::number) {
      json_scan::NumberToken number;
      if (!scanner.scan_number(number)) {
        return std::nullopt;
      }
      if (number.is_integer) {
        if (auto value = json_scan::parse_int64(number.text)) {
          return value;
        }
      }
    } else if (!scanner.skip_value(1)) {
      return std::nullopt;
    }
    set_problem(record, "\"" + std::string(name) + "\" must be an integer");
    return std::nullopt;
  }

  static bool read_headers(Scanner& scanner, Record& record, std::size_t level) {
    if (scanner.peek() != '{') {
      if (scanner.skip_value(level)) {
        set_problem(record, "\"http_headers\" must be an object");
      }
      return !scanner.failed();
    }
    auto& headers = http(record.event).headers;
    return scanner.scan_object(level, [&](std::string_view name, std::size_t inner) {
      traffic::Header header;
      header.name.assign(name);
      for (auto& c : header.name) {
        if (c >= 'A' && c <= 'Z') {
          c = static_cast<char>(c - 'A' + 'a');
        }
      }
      if (scanner.peek() != '"') {
        if (scanner.skip_value(inner)) {
          set_problem(record, "header values in \"http_headers\" must be strings");
        }
        return !scanner.failed();
      }
      std::string_view value;
      std::string scratch;
      if (!scanner.read_string(value, scratch)) {
        return false;
      }
      header.value.assign(value);
      if (headers.size() < 256) {
        headers.push_back(std::move(header));
      }
      return true;
    });
  }

  void handle(Record& record, std::string_view line, LinePosition at, Sink& sink) {
    static_cast<void>(line);
    switch (record.type) {
      case RecordType::header:
        check_header(record, at, sink);
        return;
      case RecordType::dropped: {
        const std::int64_t count = record.count.value_or(0);
        report(sink, at,
               "the capture dropped " + std::to_string(count) +
                   (count == 1 ? " record" : " records") +
                   " here (the writer's queue was full): messages are missing");
        return;
      }
      case RecordType::unknown:
        return;  // a record type from a later writer: ignored like an unknown member
      case RecordType::message:
        break;
    }
    if (record.message.empty()) {
      report(sink, at, "message record without a \"message\"");
      return;
    }
    if (!record.has_direction) {
      report(sink, at, "message record without a \"direction\"");
      return;
    }
    Event& event = record.event;
    event.where.source = options_.source;
    event.where.line = at.line;
    event.where.offset = at.offset;
    event.scope = scope_for(record);
    if (record.message.front() == '{') {
      event.message.assign(record.message);
      sink.on_event(std::move(event));
      return;
    }
    // A batch: one event per member, each with the batch's context.
    if (!split_batch(record.message, members_, nullptr) || members_.empty()) {
      report(sink, at, "the message is an empty batch");
      return;
    }
    for (std::size_t i = 0; i < members_.size(); ++i) {
      Event member = i + 1 == members_.size() ? std::move(event) : event;
      member.message.assign(members_[i]);
      sink.on_event(std::move(member));
    }
  }

  void check_header(const Record& record, LinePosition at, Sink& sink) {
    if (record.format != capture::kFormatName) {
      report(sink, at,
             "header of format \"" + record.format + "\", not \"" +
                 std::string(capture::kFormatName) + "\"; reading it as a capture anyway");
      return;
    }
    const std::int64_t version = record.version.value_or(0);
    if (version > capture::kFormatVersion && !newer_version_reported_) {
      newer_version_reported_ = true;
      report(sink, at,
             "capture format version " + std::to_string(version) + " is newer than " +
                 std::to_string(capture::kFormatVersion) +
                 ", which this mcpgw reads; decoding what it understands");
    }
  }

  // Request ids pair within one scope: on the client leg the client session, on a backend leg
  // the backend's own session. Before a session exists (initialize and its answer) the front
  // or backend connection stands in; an initialize answer that already carries the new session
  // keeps the connection scope of its request, so that the two still pair.
  std::string scope_for(const Record& record) {
    const Event& event = record.event;
    const bool backend_leg = event.leg == traffic::Leg::backend;
    const std::string& session = backend_leg ? event.backend_session : event.session;
    std::string suffix;
    if (backend_leg) {
      suffix = "/backend:" + event.backend;
    } else if (event.leg == traffic::Leg::client) {
      suffix = "/client";
    }
    const bool connection_known = record.connection != 0;
    if (!session.empty()) {
      if (connection_known && event.direction == traffic::Direction::server_to_client &&
          sessionless_.count(connection_key(record)) != 0 && is_initialize_answer(record.message)) {
        sessionless_.erase(connection_key(record));
        return "conn:" + std::to_string(record.connection) + suffix;
      }
      return "session:" + session + suffix;
    }
    if (!connection_known) {
      return "capture:" + options_.source + suffix;
    }
    if (event.direction == traffic::Direction::client_to_server) {
      if (sessionless_.size() >= kMaxSessionlessConnections) {
        sessionless_.clear();
      }
      sessionless_.insert(connection_key(record));
    }
    return "conn:" + std::to_string(record.connection) + suffix;
  }

  static std::string connection_key(const Record& record) {
    return (record.event.leg == traffic::Leg::backend ? "b:" + record.event.backend : "c:") + "/" +
           std::to_string(record.connection);
  }

  static bool is_initialize_answer(std::string_view message) {
    const auto summary = summarize_message(message, nullptr);
    return summary && summary->kind == SummaryKind::response && !summary->protocol_version.empty();
  }

  traffic::DecoderOptions options_;
  LineSplitter lines_;
  std::vector<std::string_view> members_;
  std::unordered_set<std::string> sessionless_;
  bool newer_version_reported_ = false;
};

}  // namespace

std::unique_ptr<traffic::Decoder> make_capture_decoder(const traffic::DecoderOptions& options) {
  return std::make_unique<CaptureDecoder>(options);
}

}  // namespace mcpgw::mcp::decode
