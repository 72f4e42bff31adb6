// One logical SSE stream of a client session (a POST response stream, the standalone GET
// stream, or the legacy transport's only stream) and the connection currently writing it.
// Private to gateway/front/; no Asio here: connections implement StreamSink.
//
// Events are kept in one ring that is both the queue towards the attached connection and the
// replay buffer for Last-Event-ID. Every event of a resumable stream carries the id
// "<stream>-<sequence>" (priming events too), sequences are contiguous, so a resume is an
// index into the ring. Bounds:
// - bytes: everything kept is at most max_bytes (the newest event is always kept); the oldest
//   event goes first, whether delivered or not;
// - events: delivered events beyond replay_events are dropped; while no connection is attached
//   undelivered ones are bounded by replay_events as well (a client that never reads cannot
//   grow the buffer), while one is attached only the byte bound applies.
// An undelivered event that is dropped is counted (FrontStats::events_dropped); if it was
// queued for the attached connection, that connection is detached (it closes, and the client
// learns of the gap when it resumes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/capture.hpp"
#include "mcp/jsonrpc.hpp"

namespace mcpgw::capture {
class Recorder;
}

namespace mcpgw::front::http {

// The connection writing a stream. wake() is called whenever the writer has something new to
// look at: events, the end of the stream, a disconnect request, being detached. Streams and
// exchanges hold sinks weakly.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual void wake() = 0;
};

struct StreamOptions {
  bool resumable = true;  // event ids and priming events (false: the legacy transport)
  std::uint32_t replay_events = 256;
  std::uint64_t max_bytes = 32u << 20;
  std::optional<std::uint64_t> retry_milliseconds;  // in priming events
};

// Where a stream's messages are recorded (serve --capture): the recorder and the metadata every
// record of the stream shares; each record adds its time, event id and message.
struct StreamCapture {
  capture::Recorder* recorder = nullptr;
  mcp::capture::Record context;
};

struct OutgoingEvent {
  std::uint64_t sequence = 0;
  std::shared_ptr<const std::string> bytes;  // framed SSE text
  bool priming = false;
};

class SseStream {
 public:
  SseStream(std::uint64_t number, StreamOptions options,
            std::shared_ptr<std::uint64_t> dropped_counter);
  ~SseStream();
  SseStream(const SseStream&) = delete;
  SseStream& operator=(const SseStream&) = delete;

  std::uint64_t number() const { return number_; }
  bool resumable() const { return options_.resumable; }

  // Producer side. Nothing is accepted after end().
  void push_message(const mcp::Message& message);
  // Every message pushed from now on is recorded.
  void set_capture(std::shared_ptr<const StreamCapture> capture) { capture_ = std::move(capture); }
  // An event of another type (the legacy `endpoint` event).
  void push_event(std::string_view type, std::string_view data);
  void push_priming();
  void end();
  bool ended() const { return ended_; }
  // SEP-1699: the attached connection finishes writing what is queued, then ends its response
  // while the stream stays open for a resume. Cleared when a connection attaches.
  void request_disconnect();
  bool disconnect_requested() const { return disconnect_requested_; }

  // Consumer side. attach() replaces any attached sink (which is woken and finds itself
  // detached). `resume_after`: the sequence of the client's Last-Event-ID; without it the
  // connection gets every event not yet delivered. When nothing is queued for it, a priming
  // event is added, so that the first event of every response carries an id.
  void attach(std::shared_ptr<StreamSink> sink, std::optional<std::uint64_t> resume_after);
  void detach(const StreamSink* sink);
  bool attached() const { return !sink_.expired(); }
  bool attached_to(const StreamSink* sink) const {
    return sink != nullptr && sink == sink_id_ && !sink_.expired();
  }
  // The next events for `sink` (at least one if any is queued, then up to max_bytes).
  std::vector<OutgoingEvent> take(const StreamSink* sink, std::size_t max_bytes);
  bool has_queued(const StreamSink* sink) const;

  // Everything pushed was taken by some connection and no more will come.
  bool complete() const;
  // The last sequence written (0 before any event).
  std::uint64_t last_sequence() const { return next_sequence_ - 1; }
  // Whether `sequence` was issued by this stream.
  bool issued(std::uint64_t sequence) const { return sequence < next_sequence_; }
  std::size_t buffered_events() const { return events_.size(); }
  std::uint64_t buffered_bytes() const { return bytes_; }

 private:
  struct Event {
    std::uint64_t sequence = 0;
    std::shared_ptr<const std::string> bytes;
    bool priming = false;
  };
  void push(std::string bytes, bool priming);
  void trim();
  void wake_sink() const;
  void drop_sink();
  std::string next_id();

  std::uint64_t number_;
  StreamOptions options_;
  std::shared_ptr<std::uint64_t> dropped_;
  std::deque<Event> events_;
  std::uint64_t bytes_ = 0;
  std::uint64_t next_sequence_ = 1;
  std::uint64_t delivered_below_ = 1;  // every sequence below was taken by some connection
  std::uint64_t cursor_ = 1;           // the attached sink's next sequence
  // The connection writing the stream; it detaches itself when it is done, and the stream never
  // keeps a connection alive.
  std::weak_ptr<StreamSink> sink_;
  const StreamSink* sink_id_ = nullptr;
  bool ended_ = false;
  bool disconnect_requested_ = false;
  std::shared_ptr<const StreamCapture> capture_;
};

}  // namespace mcpgw::front::http
