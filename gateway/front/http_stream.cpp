#include "gateway/front/http_stream.hpp"

#include <utility>

#include <spdlog/spdlog.h>

#include "gateway/capture/hooks.hpp"
#include "gateway/front/http_checks.hpp"
#include "mcp/sse.hpp"

namespace mcpgw::front::http {

SseStream::SseStream(std::uint64_t number, StreamOptions options,
                     std::shared_ptr<std::uint64_t> dropped_counter)
    : number_(number), options_(options), dropped_(std::move(dropped_counter)) {}

SseStream::~SseStream() {
  drop_sink();
}

void SseStream::wake_sink() const {
  if (auto sink = sink_.lock()) {
    sink->wake();
  }
}

// Detaches the current sink and wakes it, so that it finds itself detached.
void SseStream::drop_sink() {
  auto sink = sink_.lock();
  sink_.reset();
  sink_id_ = nullptr;
  if (sink) {
    sink->wake();
  }
}

std::string SseStream::next_id() {
  return event_id(number_, next_sequence_);
}

void SseStream::push_message(const mcp::Message& message) {
  if (ended_) {
    return;
  }
  const auto data = mcp::encode(message);
  std::string bytes;
  bytes.reserve(data.size() + 48);
  const auto id = options_.resumable ? std::optional<std::string>(next_id()) : std::nullopt;
  mcp::SseOutgoingEvent event;
  if (id) {
    event.id = *id;
  }
  event.event_type = "message";
  event.data = data;
  // Encoded JSON has no line breaks and ids are digits: the writer cannot refuse these.
  static_cast<void>(mcp::append_sse_event(bytes, event));
  push(std::move(bytes), false);
  if (capture_) {
    auto record = capture_->context;
    record.time_us = capture::now_us();
    record.sse_event_id = id.value_or(std::string());
    record.message = data;
    capture_->recorder->record(std::move(record));
  }
}

void SseStream::push_event(std::string_view type, std::string_view data) {
  if (ended_) {
    return;
  }
  std::string bytes;
  const auto id = options_.resumable ? std::optional<std::string>(next_id()) : std::nullopt;
  mcp::SseOutgoingEvent event;
  if (id) {
    event.id = *id;
  }
  event.event_type = type;
  event.data = data;
  if (!mcp::append_sse_event(bytes, event)) {
    spdlog::error("http front: SSE event of type '{}' could not be framed", type);
    return;
  }
  push(std::move(bytes), false);
}

void SseStream::push_priming() {
  if (ended_ || !options_.resumable) {
    return;
  }
  std::string bytes;
  static_cast<void>(mcp::append_sse_priming_event(bytes, next_id(), options_.retry_milliseconds));
  push(std::move(bytes), true);
}

void SseStream::push(std::string bytes, bool priming) {
  bytes_ += bytes.size();
  events_.push_back(
      {next_sequence_++, std::make_shared<const std::string>(std::move(bytes)), priming});
  trim();
  wake_sink();
}

void SseStream::trim() {
  while (!events_.empty()) {
    const auto& front = events_.front();
    const bool delivered = front.sequence < delivered_below_;
    const bool over_bytes = bytes_ > options_.max_bytes && events_.size() > 1;
    const bool over_count = events_.size() > options_.replay_events && (delivered || !attached());
    if (!over_bytes && !over_count) {
      break;
    }
    if (!delivered && !front.priming) {
      ++*dropped_;
    }
    if (attached() && front.sequence >= cursor_) {
      // The attached connection cannot keep up: it loses this event, so it must stop here.
      spdlog::warn("http front: SSE stream {} queue full ({} bytes); closing its connection",
                   number_, bytes_);
      drop_sink();
    }
    bytes_ -= front.bytes->size();
    if (front.sequence >= delivered_below_) {
      delivered_below_ = front.sequence + 1;
    }
    events_.pop_front();
  }
}

void SseStream::end() {
  if (ended_) {
    return;
  }
  ended_ = true;
  wake_sink();
}

void SseStream::request_disconnect() {
  disconnect_requested_ = true;
  wake_sink();
}

void SseStream::attach(std::shared_ptr<StreamSink> sink,
                       std::optional<std::uint64_t> resume_after) {
  if (!attached_to(sink.get())) {
    drop_sink();
  }
  sink_ = sink;
  sink_id_ = sink.get();
  disconnect_requested_ = false;
  cursor_ = resume_after ? *resume_after + 1 : delivered_below_;
  if (!events_.empty() && cursor_ < events_.front().sequence) {
    spdlog::info(
        "http front: resuming SSE stream {} after event {}: events up to {} are no "
        "longer buffered",
        number_, cursor_ - 1, events_.front().sequence - 1);
    cursor_ = events_.front().sequence;
  }
  if (cursor_ > next_sequence_) {
    cursor_ = next_sequence_;
  }
  if (!has_queued(sink_id_)) {
    push_priming();
  }
  wake_sink();
}

void SseStream::detach(const StreamSink* sink) {
  if (attached_to(sink)) {
    sink_.reset();
    sink_id_ = nullptr;
    trim();
  }
}

bool SseStream::has_queued(const StreamSink* sink) const {
  return attached_to(sink) && !events_.empty() && cursor_ <= events_.back().sequence;
}

std::vector<OutgoingEvent> SseStream::take(const StreamSink* sink, std::size_t max_bytes) {
  std::vector<OutgoingEvent> out;
  if (!has_queued(sink)) {
    return out;
  }
  std::size_t index = cursor_ < events_.front().sequence
                          ? 0
                          : static_cast<std::size_t>(cursor_ - events_.front().sequence);
  std::size_t taken_bytes = 0;
  while (index < events_.size() && (out.empty() || taken_bytes < max_bytes)) {
    const auto& event = events_[index++];
    taken_bytes += event.bytes->size();
    out.push_back({event.sequence, event.bytes, event.priming});
  }
  cursor_ = out.back().sequence + 1;
  if (cursor_ > delivered_below_) {
    delivered_below_ = cursor_;
  }
  trim();
  return out;
}

bool SseStream::complete() const {
  return ended_ && delivered_below_ >= next_sequence_;
}

}  // namespace mcpgw::front::http
