// stdio NDJSON transcripts: one JSON-RPC message (or batch) per line, either one file per
// direction or one labelled combined file ("> " client->server, "< " server->client, each
// optionally after an RFC 3339 timestamp and a space). See docs/inspect-inputs.md.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/decode/decoders.hpp"
#include "mcp/decode/line_splitter.hpp"
#include "mcp/decode/stdio_labels.hpp"
#include "mcp/decode/timestamp.hpp"
#include "mcp/message_summary.hpp"

namespace mcpgw::mcp::decode {

std::optional<LabelledLine> parse_labelled_line(std::string_view line) {
  LabelledLine out;
  std::string_view rest = line;
  // An optional timestamp: everything up to the first space, when it is a date-time.
  if (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
    const auto space = rest.find(' ');
    if (space == std::string_view::npos) {
      return std::nullopt;
    }
    // "2024-05-01 10:20:30Z" style timestamps contain a space too: try the longer form first.
    // Only a date alone ("2024-05-01", 10 characters) can begin one; any other first word is
    // the whole timestamp, and the message after it need not be searched for a space.
    constexpr std::size_t kDateLength = 10;
    const auto second_space =
        space == kDateLength ? rest.find(' ', space + 1) : std::string_view::npos;
    if (second_space != std::string_view::npos) {
      if (auto time = parse_iso8601_us(rest.substr(0, second_space))) {
        out.time_us = time;
        rest.remove_prefix(second_space + 1);
      }
    }
    if (!out.time_us) {
      out.time_us = parse_iso8601_us(rest.substr(0, space));
      if (!out.time_us) {
        return std::nullopt;
      }
      rest.remove_prefix(space + 1);
    }
  }
  if (rest.size() < 2 || (rest[0] != '>' && rest[0] != '<') ||
      (rest[1] != ' ' && rest[1] != '\t')) {
    return std::nullopt;
  }
  out.direction =
      rest[0] == '>' ? traffic::Direction::client_to_server : traffic::Direction::server_to_client;
  out.message = rest.substr(2);
  return out;
}

std::optional<traffic::Direction> direction_of_first_message(const MessageSummary& summary) {
  switch (summary.kind) {
    case SummaryKind::response:
    case SummaryKind::error_response:
      return traffic::Direction::server_to_client;
    case SummaryKind::request:
    case SummaryKind::notification:
      break;
  }
  // What only a server sends; everything else (initialize first of all) is the client's.
  static constexpr std::string_view kServerMethods[] = {
      "sampling/createMessage",
      "elicitation/create",
      "roots/list",
      "notifications/message",
      "notifications/resources/updated",
      "notifications/resources/list_changed",
      "notifications/tools/list_changed",
      "notifications/prompts/list_changed",
      "notifications/elicitation/complete",
  };
  for (const auto method : kServerMethods) {
    if (summary.method == method) {
      return traffic::Direction::server_to_client;
    }
  }
  return traffic::Direction::client_to_server;
}

namespace {

constexpr std::size_t kMaxLineBytes = std::size_t{64} << 20;

class StdioDecoder final : public traffic::Decoder {
 public:
  explicit StdioDecoder(const traffic::DecoderOptions& options)
      : options_(options), lines_(kMaxLineBytes), direction_(options.stdio_direction) {}

  void feed(std::string_view bytes, traffic::Sink& sink) override {
    lines_.feed(
        bytes, [&](std::string_view line, LinePosition at) { on_line(line, at, sink); },
        [&](LinePosition at, std::size_t bytes_seen) {
          report(sink, at,
                 "line longer than " + std::to_string(kMaxLineBytes >> 20) + " MiB (at least " +
                     std::to_string(bytes_seen) + " bytes), skipped");
        });
  }

  void finish(traffic::Sink& sink) override {
    lines_.finish([&](std::string_view line, LinePosition at) {
      if (is_blank_line(line)) {
        return;
      }
      // Without its newline the last line may be cut short: decode it when it is whole.
      std::vector<std::string_view> members;
      const auto labelled = parse_labelled_line(line);
      if (!split_batch(labelled ? labelled->message : line, members, nullptr)) {
        report(sink, at, "truncated final line (no newline at the end of the input)");
        return;
      }
      on_line(line, at, sink);
    });
  }

 private:
  void report(traffic::Sink& sink, LinePosition at, std::string message) {
    traffic::Problem problem;
    problem.where.source = options_.source;
    problem.where.line = at.line;
    problem.where.offset = at.offset;
    problem.message = std::move(message);
    sink.on_problem(std::move(problem));
  }

  void on_line(std::string_view line, LinePosition at, traffic::Sink& sink) {
    if (is_blank_line(line)) {
      return;
    }
    std::optional<std::int64_t> time_us;
    std::optional<traffic::Direction> direction;
    std::string_view text = line;
    if (const auto labelled = parse_labelled_line(line)) {
      time_us = labelled->time_us;
      direction = labelled->direction;
      text = labelled->message;
    }
    // Nearly every line is one object and nothing else. summarize_message validates the whole
    // text as JSON with the same rules and depth limit as split_batch, so when it succeeds the
    // line is that one batch member: the text is scanned once instead of twice. Anything else
    // (batches, padding, invalid lines) takes the general path, which reports the problem.
    if (text.size() >= 2 && text.front() == '{' && text.back() == '}') {
      if (auto summary = summarize_message(text, nullptr)) {
        emit(text, std::move(*summary), time_us, direction, at, sink);
        return;
      }
    }
    SummaryError error;
    if (!split_batch(text, members_, &error)) {
      report(sink, at, error.message + " (at byte " + std::to_string(error.offset) + ")");
      return;
    }
    if (members_.empty()) {
      report(sink, at, "an empty JSON-RPC batch");
      return;
    }
    for (std::size_t i = 0; i < members_.size(); ++i) {
      auto summary = summarize_message(members_[i], &error);
      if (!summary) {
        report(sink, at,
               (members_.size() > 1 ? "batch element " + std::to_string(i) + ": " : "") +
                   "not a JSON-RPC message: " + error.message);
        continue;
      }
      emit(members_[i], std::move(*summary), time_us, direction, at, sink);
    }
  }

  // One message; `direction` is the line's label, once known the stream's for the next members.
  void emit(std::string_view message, MessageSummary&& summary, std::optional<std::int64_t> time_us,
            std::optional<traffic::Direction>& direction, LinePosition at, traffic::Sink& sink) {
    if (!direction) {
      if (!direction_) {
        direction_ = direction_of_first_message(summary);
      }
      direction = direction_;
    }
    traffic::Event event;
    event.time_us = time_us;
    event.direction = *direction;
    event.transport = traffic::Transport::stdio;
    event.scope = options_.stdio_scope.empty() ? "stdio:" + options_.source : options_.stdio_scope;
    event.message.assign(message);
    event.where.source = options_.source;
    event.where.line = at.line;
    event.where.offset = at.offset;
    // The summary goes along: the Pairer need not scan the message again.
    sink.on_summarized_event(std::move(event), std::move(summary));
  }

  traffic::DecoderOptions options_;
  LineSplitter lines_;
  std::optional<traffic::Direction> direction_;
  std::vector<std::string_view> members_;
};

}  // namespace

std::unique_ptr<traffic::Decoder> make_stdio_decoder(const traffic::DecoderOptions& options) {
  return std::make_unique<StdioDecoder>(options);
}

}  // namespace mcpgw::mcp::decode
