// Server-sent events (text/event-stream): an incremental parser that follows the WHATWG HTML
// "event stream interpretation" rules, and a writer whose output round-trips through it.
//
// serve relays backend streams event by event through SseParser (it never buffers a whole
// stream), inspect and replay decode captured streams with it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/expected.hpp"

namespace mcpgw::mcp {

enum class SseErrc {
  event_too_large,  // parser: one event block (or one line) exceeded
                    // SseParserOptions::max_event_bytes
  invalid_field,    // writer: an id or event type contains CR, LF or NUL
};

struct SseError {
  SseErrc code = SseErrc::event_too_large;
  std::size_t limit = 0;     // event_too_large: the configured limit in bytes
  std::size_t received = 0;  // event_too_large: bytes of the event seen when the limit was hit
  std::string message;       // one line, for logs and diagnostics
};

// One dispatched event. `data` has its final LF removed; every line break inside it is LF,
// whatever the stream used (CR, LF or CRLF). Bytes are passed through as they are: invalid UTF-8
// and NUL inside data are not altered.
struct SseEvent {
  std::string type = "message";  // the `event` field, or "message" when it was absent or empty
  std::string data;
  std::string last_event_id;  // the last event ID in effect when this event was dispatched
  // An `id` field took effect since the previous dispatched event: in this event's block, or in
  // a block without data before it. A relay re-emits the id exactly then, so its client tracks
  // the same last event ID as if it read the original stream.
  bool id_updated = false;
};

// Receives what the parser finds, in stream order. Only on_event is required.
class SseSink {
 public:
  virtual ~SseSink() = default;
  virtual void on_event(SseEvent&& event) = 0;
  // A comment line; `text` is everything after the ':' (keep-alives are usually empty).
  virtual void on_comment(std::string_view text) { static_cast<void>(text); }
  // A valid `retry` field (reconnection time in milliseconds), when it is parsed.
  virtual void on_retry(std::uint64_t milliseconds) { static_cast<void>(milliseconds); }
};

struct SseParserOptions {
  // Bound on the field lines of one event block (names, values and colons, without line
  // terminators) and on any single line, comments included. Exceeding it is an error.
  std::size_t max_event_bytes = std::size_t{16} << 20;
};

// Incremental parser: feed() arbitrary chunks (down to single bytes); complete events come out
// as soon as their terminating blank line arrives. Work is O(n) in the input: a line split over
// many chunks is appended to, never rescanned.
//
// Oversize events: when an event block or a line exceeds max_event_bytes, feed() reports
// SseErrc::event_too_large and the parser resynchronises. It drops that event (fields parsed
// before the overflow, such as `id` and `retry`, keep their effect; its data is discarded),
// skips input without storing it up to the next blank line, and then parses normally again.
// A relay can therefore report the lost event and keep the stream alive, or stop on the error.
// feed() always consumes the whole chunk: events after the oversize one in the same chunk are
// still delivered, and the error returned is the first one in that chunk.
class SseParser {
 public:
  explicit SseParser(SseParserOptions options = {});

  // Returns the number of events dispatched from this chunk, or the first error in it.
  Expected<std::size_t, SseError> feed(std::string_view chunk, SseSink& sink);
  // Convenience for callers that want events only (comments and retry are still counted).
  Expected<std::size_t, SseError> feed(std::string_view chunk, std::vector<SseEvent>& events);

  // True when input since the last dispatch would form part of an event that has not been
  // dispatched yet: a partial line, or field lines without their terminating blank line.
  bool has_partial_event() const noexcept;

  // End of this connection's stream. Per spec an incomplete event is discarded; returns true
  // when one was (inspect reports it as truncated). The parser is then ready for a new stream
  // (a reconnection): a BOM is skipped again, while last_event_id() and retry_milliseconds()
  // persist as they do for an EventSource.
  bool finish() noexcept;

  // The last event ID string (set at each dispatch, persists across events and finish()).
  const std::string& last_event_id() const noexcept { return last_event_id_; }
  // The reconnection time from the most recent valid `retry` field, if any. Values beyond
  // UINT64_MAX saturate.
  std::optional<std::uint64_t> retry_milliseconds() const noexcept { return retry_; }

  std::uint64_t events_dispatched() const noexcept { return events_dispatched_; }
  std::uint64_t comments_seen() const noexcept { return comments_seen_; }
  std::uint64_t events_dropped() const noexcept { return events_dropped_; }  // oversize
  const SseParserOptions& options() const noexcept { return options_; }

 private:
  void process(std::string_view bytes, SseSink& sink);
  void skip_bytes(std::string_view bytes, std::size_t& pos);
  void process_line(std::string_view line, SseSink& sink);
  void process_field(std::string_view name, std::string_view value, SseSink& sink);
  void dispatch(SseSink& sink);
  void reset_block() noexcept;
  void start_skipping(std::size_t received);
  std::size_t line_budget(char first_byte) const noexcept;

  SseParserOptions options_;
  std::string line_;  // the current line when it spans chunks (never holds a terminator)
  std::string data_;  // data buffer
  std::string event_type_;
  std::string last_event_id_buffer_;
  std::string last_event_id_;
  std::optional<std::uint64_t> retry_;
  std::size_t event_bytes_ = 0;  // field-line bytes in the current block
  std::size_t bom_matched_ = 0;  // bytes of a leading BOM matched so far
  bool bom_done_ = false;
  bool after_cr_ = false;  // last byte was a CR terminator: a following LF belongs to it
  bool block_has_fields_ = false;
  bool block_has_id_ = false;            // an id field in the current block
  bool id_updated_since_event_ = false;  // a dispatched block changed the id since the last event
  bool skipping_ = false;                // resynchronising after an oversize event
  bool skip_line_has_bytes_ = false;
  std::optional<SseError> chunk_error_;
  std::size_t chunk_events_ = 0;
  std::uint64_t events_dispatched_ = 0;
  std::uint64_t comments_seen_ = 0;
  std::uint64_t events_dropped_ = 0;
};

// An event to write. Fields left empty/unset are not written; an empty event_type means the
// default "message". Data is always written (possibly as one empty `data:` line), so every
// written event is dispatched by a conforming parser.
struct SseOutgoingEvent {
  std::optional<std::string_view> id;
  std::string_view event_type;
  std::optional<std::uint64_t> retry_milliseconds;
  std::string_view data;
};

// What a relay writes to re-emit a parsed event: the id only when it was updated (clients keep
// the previous id otherwise), and no `event` line for the default "message".
// The views point into `event`, which must outlive the result.
SseOutgoingEvent outgoing_from(const SseEvent& event) noexcept;

// Appends the event (terminated by its blank line) to `out`. Data containing CR, LF or CRLF is
// split into one `data:` line per line, so a parser yields the same data with LF line breaks.
// An id or event type containing CR, LF or NUL would break framing (or be ignored by readers):
// it is refused with SseErrc::invalid_field and nothing is appended. Returns bytes appended.
Expected<std::size_t, SseError> append_sse_event(std::string& out, const SseOutgoingEvent& event);

// The priming event of the 2025-11-25 Streamable HTTP transport: an id and an empty data field
// (optionally with `retry`), sent first on a resumable stream so the client learns an id.
Expected<std::size_t, SseError> append_sse_priming_event(
    std::string& out, std::string_view id, std::optional<std::uint64_t> retry_milliseconds = {});

// Appends a comment (e.g. an empty keep-alive ":\n"). A comment cannot carry a line break, so
// text with CR/LF is written as one comment line per line. Returns bytes appended.
std::size_t append_sse_comment(std::string& out, std::string_view text = {});

}  // namespace mcpgw::mcp
