// The human timeline: one line per exchange, payloads below it, linked notifications indented
// under their request. Everything taken from the traffic goes through terminal_safe().
#include <optional>
#include <ostream>
#include <string>

#include "inspect/render.hpp"
#include "inspect/text.hpp"

namespace mcpgw::inspect {
namespace {

using mcp::traffic::Direction;

constexpr std::string_view kReset = "\x1b[0m";
constexpr std::string_view kRed = "\x1b[1;31m";
constexpr std::string_view kYellow = "\x1b[33m";
constexpr std::string_view kGreen = "\x1b[32m";
constexpr std::string_view kDim = "\x1b[2m";
constexpr std::string_view kBold = "\x1b[1m";
constexpr std::string_view kCyan = "\x1b[36m";

constexpr std::size_t kIndent = 15;  // under the method column
constexpr std::size_t kLabelWidth = 44;

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
      ++width;
  }
  return width;
}

class TimelineRenderer final : public Renderer {
 public:
  TimelineRenderer(std::ostream& out, TimelineOptions options) : out_(out), options_(options) {}

  void on_exchange(Exchange&& exchange) override {
    line_.clear();
    // An orphan response has only its own time.
    const auto time_us = exchange.started_us ? exchange.started_us : exchange.ended_us;
    if (time_us) {
      const std::string date = format_date(*time_us);
      if (date != date_) {
        date_ = date;
        paint(kDim, "-- " + date + " (UTC) --");
        line_ += '\n';
      }
    }
    write_head(exchange, time_us);
    if (exchange.kind == ExchangeKind::request) {
      write_payload('>', exchange.request_message, true);
      write_payload('<', exchange.response_message, false);
    } else {
      write_payload(' ', exchange.request_message, true);
    }
    for (const auto& linked : exchange.linked)
      write_linked(exchange, linked);
    if (exchange.linked_omitted > 0) {
      line_.append(kIndent, ' ');
      paint(kDim, "  ... " + std::to_string(exchange.linked_omitted) +
                      " more linked notifications not kept");
      line_ += '\n';
    }
    out_ << line_;
    if (options_.flush_each)
      out_.flush();
  }

  bool finish(const RunTotals&) override {
    out_.flush();
    return static_cast<bool>(out_);
  }

 private:
  void paint(std::string_view color, std::string_view text) {
    if (options_.color && !color.empty()) {
      line_ += color;
      line_ += text;
      line_ += kReset;
    } else {
      line_ += text;
    }
  }

  void write_head(const Exchange& exchange, std::optional<std::int64_t> time_us) {
    paint(kDim, time_us ? format_time_of_day(*time_us) : std::string("--:--:--.---"));
    line_ += "  ";
    line_ += exchange.direction == Direction::client_to_server ? "\xE2\x86\x92" : "\xE2\x86\x90";
    line_ += ' ';
    const std::string session =
        exchange.session.empty() ? std::string("-") : terminal_safe(shorten(exchange.session, 8));
    line_ += session;
    const std::size_t session_width = display_width(session);
    line_.append(session_width < 8 ? 8 - session_width : 0, ' ');
    line_ += "  ";

    std::string label;
    if (exchange.leg == mcp::traffic::Leg::backend)
      label += "[" + terminal_safe(exchange.backend.empty() ? "backend" : exchange.backend) + "] ";
    std::string method = exchange.orphan ? std::string("(response without request)")
                                         : terminal_safe(exchange.method);
    const std::size_t label_start = display_width(label);
    label += method;
    if (!exchange.target.empty())
      label += " " + terminal_safe(shorten(exchange.target, 60));
    if (!exchange.protocol_version.empty() && exchange.method == "initialize")
      label += " " + terminal_safe(exchange.protocol_version);
    if (!exchange.id.empty())
      label += " #" + terminal_safe(shorten(exchange.id, 24));
    std::string_view method_color;
    if (exchange.failed())
      method_color = kRed;
    else if (exchange.kind == ExchangeKind::notification)
      method_color = kCyan;
    else
      method_color = kBold;
    // The method (and what follows) painted, the backend prefix plain.
    line_ += label.substr(0, label_start);
    paint(method_color, std::string_view(label).substr(label_start));
    const std::size_t width = display_width(label);
    line_.append(width < kLabelWidth ? kLabelWidth - width : 1, ' ');
    line_ += ' ';

    write_status(exchange);
    if (const auto duration = exchange.duration_us()) {
      line_ += "  ";
      line_ += format_duration(*duration);
    }
    if (exchange.server_request())
      paint(kDim, "  (server request)");
    if (exchange.kind == ExchangeKind::notification) {
      if (!exchange.related_id.empty())
        paint(kDim, "  (request " + terminal_safe(shorten(exchange.related_id, 24)) + " not open)");
      else if (!exchange.progress_token.empty())
        paint(kDim,
              "  (token " + terminal_safe(shorten(exchange.progress_token, 24)) + " not open)");
    }
    line_ += '\n';
  }

  void write_status(const Exchange& exchange) {
    if (exchange.kind == ExchangeKind::notification) {
      paint(kDim, "notification");
      return;
    }
    switch (exchange.status) {
      case Status::ok:
        if (exchange.tool_error) {
          paint(kRed, "tool error");
        } else {
          paint(kGreen, "ok");
        }
        break;
      case Status::error: {
        std::string text = "ERROR";
        if (exchange.error_code)
          text += " " + std::to_string(*exchange.error_code);
        if (!exchange.error_message.empty())
          text += " " + terminal_safe(shorten(exchange.error_message, 80));
        paint(kRed, text);
        break;
      }
      case Status::pending:
        paint(kYellow, "pending");
        break;
      case Status::cancelled:
        paint(kYellow, "cancelled");
        break;
    }
    if (exchange.http_status >= 400)
      paint(kRed, " (HTTP " + std::to_string(exchange.http_status) + ")");
  }

  // Empty params say nothing; an empty result is still worth seeing.
  void write_payload(char marker, const std::string& message, bool skip_empty_object) {
    if (message.empty())
      return;
    const auto text = payload_text(message, options_.full ? 2 : -1);
    if (!text || text->empty() || (skip_empty_object && *text == "{}"))
      return;
    if (!options_.full) {
      line_.append(kIndent, ' ');
      line_ += marker;
      line_ += ' ';
      paint(kDim, terminal_safe(shorten(*text, options_.max_chars)));
      line_ += '\n';
      return;
    }
    std::size_t start = 0;
    bool first = true;
    while (start <= text->size()) {
      auto end = text->find('\n', start);
      if (end == std::string::npos)
        end = text->size();
      line_.append(kIndent, ' ');
      line_ += first ? marker : ' ';
      line_ += ' ';
      paint(kDim, terminal_safe(std::string_view(*text).substr(start, end - start)));
      line_ += '\n';
      first = false;
      start = end + 1;
    }
  }

  void write_linked(const Exchange& parent, const LinkedNotification& linked) {
    line_.append(kIndent, ' ');
    line_ += "\xE2\x86\xB3 ";
    paint(kCyan, terminal_safe(linked.method));
    if (linked.time_us && parent.started_us) {
      line_ += "  +";
      line_ += format_duration(*linked.time_us - *parent.started_us);
    }
    if (!linked.message.empty()) {
      if (const auto text = payload_text(linked.message, -1); text && !text->empty()) {
        line_ += "  ";
        paint(kDim, terminal_safe(
                        shorten(*text, options_.full ? std::string::npos : options_.max_chars)));
      }
    }
    line_ += '\n';
  }

  std::ostream& out_;
  TimelineOptions options_;
  std::string line_;
  std::string date_;
};

}  // namespace

std::unique_ptr<Renderer> make_timeline_renderer(std::ostream& out, TimelineOptions options) {
  return std::make_unique<TimelineRenderer>(out, options);
}

}  // namespace mcpgw::inspect
