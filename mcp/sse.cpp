#include "mcp/sse.hpp"

#include <limits>
#include <utility>

namespace mcpgw::mcp {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
// Line and data buffers above this capacity are released after use, so one huge event does not
// pin its memory for the rest of a long-lived stream.
constexpr std::size_t kRetainedCapacity = std::size_t{64} << 10;

bool is_line_break(char c) noexcept {
  return c == '\n' || c == '\r';
}

std::size_t find_line_break(std::string_view bytes, std::size_t from) noexcept {
  std::size_t end = from;
  while (end < bytes.size() && !is_line_break(bytes[end])) {
    ++end;
  }
  return end;
}

void release_if_large(std::string& buffer) {
  if (buffer.capacity() > kRetainedCapacity) {
    std::string().swap(buffer);
  } else {
    buffer.clear();
  }
}

// Returns nullopt unless `value` is one or more ASCII digits; saturates at UINT64_MAX.
std::optional<std::uint64_t> parse_retry(std::string_view value) noexcept {
  if (value.empty()) {
    return std::nullopt;
  }
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t result = 0;
  for (char c : value) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    const auto digit = static_cast<std::uint64_t>(c - '0');
    result = result > (kMax - digit) / 10 ? kMax : result * 10 + digit;
  }
  return result;
}

class VectorSink final : public SseSink {
 public:
  explicit VectorSink(std::vector<SseEvent>& events) : events_(events) {}
  void on_event(SseEvent&& event) override { events_.push_back(std::move(event)); }

 private:
  std::vector<SseEvent>& events_;
};

// Calls `emit` for each line of `text`, splitting on CR, LF and CRLF; always at least one line.
template <class Emit>
void for_each_line(std::string_view text, Emit&& emit) {
  std::size_t pos = 0;
  while (true) {
    const std::size_t end = find_line_break(text, pos);
    emit(text.substr(pos, end - pos));
    if (end == text.size()) {
      return;
    }
    pos = end + 1;
    if (text[end] == '\r' && pos < text.size() && text[pos] == '\n') {
      ++pos;
    }
  }
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.push_back(':');
  if (!value.empty()) {
    // Always one space: a parser strips exactly one, so values starting with a space survive.
    out.push_back(' ');
    out.append(value);
  }
  out.push_back('\n');
}

std::optional<SseError> check_single_line(std::string_view what, std::string_view value) {
  constexpr std::string_view kForbidden{"\r\n\0", 3};
  if (value.find_first_of(kForbidden) == std::string_view::npos) {
    return std::nullopt;
  }
  SseError error;
  error.code = SseErrc::invalid_field;
  error.message = "SSE " + std::string(what) +
                  " contains a CR, LF or NUL byte, which would break event framing";
  return error;
}

}  // namespace

SseParser::SseParser(SseParserOptions options) : options_(options) {}

Expected<std::size_t, SseError> SseParser::feed(std::string_view chunk, SseSink& sink) {
  chunk_error_.reset();
  chunk_events_ = 0;
  std::size_t pos = 0;
  // A BOM is only skipped at the very start of the stream; it may arrive split over chunks.
  while (!bom_done_ && pos < chunk.size()) {
    if (chunk[pos] == kBom[bom_matched_]) {
      ++pos;
      if (++bom_matched_ == kBom.size()) {
        bom_done_ = true;
        bom_matched_ = 0;
      }
    } else {
      bom_done_ = true;
      const std::size_t matched = std::exchange(bom_matched_, 0);
      process(kBom.substr(0, matched), sink);  // not a BOM after all: ordinary bytes
    }
  }
  process(chunk.substr(pos), sink);
  if (chunk_error_) {
    SseError error = std::move(*chunk_error_);
    chunk_error_.reset();
    return unexpected(std::move(error));
  }
  return chunk_events_;
}

Expected<std::size_t, SseError> SseParser::feed(std::string_view chunk,
                                                std::vector<SseEvent>& events) {
  VectorSink sink(events);
  return feed(chunk, sink);
}

bool SseParser::has_partial_event() const noexcept {
  return !line_.empty() || block_has_fields_ || skipping_ || (!bom_done_ && bom_matched_ > 0);
}

bool SseParser::finish() noexcept {
  const bool truncated = has_partial_event();
  line_.clear();
  data_.clear();
  event_type_.clear();
  reset_block();
  // The next connection starts from the last dispatched id, not from an id in a lost block.
  last_event_id_buffer_ = last_event_id_;
  bom_matched_ = 0;
  bom_done_ = false;
  after_cr_ = false;
  skipping_ = false;
  skip_line_has_bytes_ = false;
  return truncated;
}

void SseParser::process(std::string_view bytes, SseSink& sink) {
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    if (after_cr_) {
      after_cr_ = false;
      if (bytes[pos] == '\n') {  // the LF of a CRLF, possibly in the next chunk
        ++pos;
        continue;
      }
    }
    if (skipping_) {
      skip_bytes(bytes, pos);
      continue;
    }
    const std::size_t end = find_line_break(bytes, pos);
    const std::string_view segment = bytes.substr(pos, end - pos);
    const std::size_t line_length = line_.size() + segment.size();
    if (line_length > 0) {
      const char first = line_.empty() ? segment.front() : line_.front();
      if (line_length > line_budget(first)) {
        start_skipping(first == ':' ? line_length : event_bytes_ + line_length);
        pos = end;  // skip_bytes() takes it from here, terminator included
        continue;
      }
    }
    if (end == bytes.size()) {
      line_.append(segment);
      return;
    }
    if (line_.empty()) {
      process_line(segment, sink);
    } else {
      line_.append(segment);
      process_line(line_, sink);
      release_if_large(line_);
    }
    after_cr_ = bytes[end] == '\r';
    pos = end + 1;
  }
}

void SseParser::skip_bytes(std::string_view bytes, std::size_t& pos) {
  const std::size_t end = find_line_break(bytes, pos);
  if (end > pos) {
    skip_line_has_bytes_ = true;
  }
  if (end == bytes.size()) {
    pos = end;
    return;
  }
  after_cr_ = bytes[end] == '\r';
  pos = end + 1;
  if (skip_line_has_bytes_) {
    skip_line_has_bytes_ = false;
    return;
  }
  // The blank line that ends the dropped event: it dispatches nothing, but an id seen before
  // the overflow takes effect as it would for an event without data.
  skipping_ = false;
  last_event_id_ = last_event_id_buffer_;
  id_updated_since_event_ = id_updated_since_event_ || block_has_id_;
  reset_block();
}

std::size_t SseParser::line_budget(char first_byte) const noexcept {
  if (first_byte == ':') {
    return options_.max_event_bytes;  // comments are not part of the event, only the line cap
  }
  return options_.max_event_bytes - event_bytes_;
}

void SseParser::start_skipping(std::size_t received) {
  if (!chunk_error_) {
    SseError error;
    error.code = SseErrc::event_too_large;
    error.limit = options_.max_event_bytes;
    error.received = received;
    error.message = "SSE event exceeds the " + std::to_string(options_.max_event_bytes) +
                    "-byte limit (" + std::to_string(received) +
                    " bytes received); dropping it up to the next blank line";
    chunk_error_ = std::move(error);
  }
  ++events_dropped_;
  skipping_ = true;
  skip_line_has_bytes_ = true;
  release_if_large(line_);
  release_if_large(data_);
  event_type_.clear();
  event_bytes_ = 0;
}

void SseParser::process_line(std::string_view line, SseSink& sink) {
  if (line.empty()) {
    dispatch(sink);
    return;
  }
  if (line.front() == ':') {
    ++comments_seen_;
    sink.on_comment(line.substr(1));
    return;
  }
  block_has_fields_ = true;
  event_bytes_ += line.size();
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    process_field(line, {}, sink);
    return;
  }
  std::string_view value = line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  process_field(line.substr(0, colon), value, sink);
}

void SseParser::process_field(std::string_view name, std::string_view value, SseSink& sink) {
  if (name == "data") {
    data_.append(value);
    data_.push_back('\n');
  } else if (name == "event") {
    event_type_.assign(value);
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) {
      last_event_id_buffer_.assign(value);
      block_has_id_ = true;
    }
  } else if (name == "retry") {
    if (const auto milliseconds = parse_retry(value)) {
      retry_ = milliseconds;
      sink.on_retry(*milliseconds);
    }
  }
  // Any other field name is ignored, as the spec requires.
}

void SseParser::dispatch(SseSink& sink) {
  last_event_id_ = last_event_id_buffer_;
  id_updated_since_event_ = id_updated_since_event_ || block_has_id_;
  if (data_.empty()) {
    reset_block();
    return;
  }
  data_.pop_back();  // the LF appended after the last data line
  SseEvent event;
  if (!event_type_.empty()) {
    event.type = event_type_;
  }
  event.data = std::move(data_);
  event.last_event_id = last_event_id_;
  event.id_updated = id_updated_since_event_;
  id_updated_since_event_ = false;
  data_.clear();  // moved-from: make the state explicit
  reset_block();
  ++events_dispatched_;
  ++chunk_events_;
  sink.on_event(std::move(event));
}

void SseParser::reset_block() noexcept {
  data_.clear();
  event_type_.clear();
  event_bytes_ = 0;
  block_has_fields_ = false;
  block_has_id_ = false;
}

SseOutgoingEvent outgoing_from(const SseEvent& event) noexcept {
  SseOutgoingEvent outgoing;
  if (event.id_updated) {
    outgoing.id = event.last_event_id;
  }
  if (event.type != "message") {
    outgoing.event_type = event.type;
  }
  outgoing.data = event.data;
  return outgoing;
}

Expected<std::size_t, SseError> append_sse_event(std::string& out, const SseOutgoingEvent& event) {
  if (event.id) {
    if (auto error = check_single_line("event id", *event.id)) {
      return unexpected(std::move(*error));
    }
  }
  if (auto error = check_single_line("event type", event.event_type)) {
    return unexpected(std::move(*error));
  }
  const std::size_t before = out.size();
  if (event.id) {
    append_field(out, "id", *event.id);
  }
  if (!event.event_type.empty()) {
    append_field(out, "event", event.event_type);
  }
  if (event.retry_milliseconds) {
    append_field(out, "retry", std::to_string(*event.retry_milliseconds));
  }
  for_each_line(event.data, [&out](std::string_view line) { append_field(out, "data", line); });
  out.push_back('\n');
  return out.size() - before;
}

Expected<std::size_t, SseError> append_sse_priming_event(
    std::string& out, std::string_view id, std::optional<std::uint64_t> retry_milliseconds) {
  SseOutgoingEvent event;
  event.id = id;
  event.retry_milliseconds = retry_milliseconds;
  return append_sse_event(out, event);
}

std::size_t append_sse_comment(std::string& out, std::string_view text) {
  const std::size_t before = out.size();
  for_each_line(text, [&out](std::string_view line) {
    out.push_back(':');
    out.append(line);
    out.push_back('\n');
  });
  return out.size() - before;
}

}  // namespace mcpgw::mcp
