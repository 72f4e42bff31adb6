// Traffic capture in serve: the front ends and upstream transports hand every JSON-RPC message
// they send or receive to a Recorder; the CaptureWriter writes them off the event loop.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/config/config.hpp"
#include "mcp/capture.hpp"

namespace mcpgw::capture {

// What the data plane calls. record() never blocks and never throws: it moves the record into
// a bounded queue or, when the queue is full, counts it as dropped.
class Recorder {
 public:
  virtual ~Recorder() = default;
  virtual void record(mcp::capture::Record&& record) noexcept = 0;
  // Whether a header (lower-case name) goes into Record::http_headers: the informational
  // headers (content-type, accept, mcp-session-id, mcp-protocol-version, last-event-id) and
  // every credential-like header (is_credential_header), which the writer shows as
  // "[redacted]". Writers add the names they were configured to redact.
  virtual bool wants_header(std::string_view lower_name) const noexcept;
};

// Headers whose value a capture never shows: authorization, proxy-authorization, cookie,
// set-cookie, x-api-key, and every other name containing "auth", "cookie", "token", "secret",
// "password", "api-key", "api_key" or "apikey".
bool is_credential_header(std::string_view lower_name) noexcept;

struct CaptureCounters {
  std::uint64_t written = 0;  // message records written
  std::uint64_t dropped = 0;  // message records dropped because the queue was full
  std::uint64_t rotated = 0;  // files rotated
  std::uint64_t write_errors = 0;
  // Messages written as "[unparseable: N bytes]" because redact_paths could not be applied.
  std::uint64_t unredactable = 0;
};

// Writes records as capture format version 1 from a thread of its own. Redaction (headers and
// configured JSON paths) happens on that thread, so the event loop only copies and queues.
// Files rotate at `max_file_bytes`: PATH is renamed to PATH.1 (PATH.1 to PATH.2, ...), keeping
// `max_files`, and a new PATH starts with its own header line. Dropped records are logged (at
// most once per second) and leave a `dropped` line in the file.
class CaptureWriter final : public Recorder {
 public:
  // Opens (creates, mode 0600; appends to an existing file) config.path. Null with `error` set
  // when it cannot.
  static std::unique_ptr<CaptureWriter> open(const config::CaptureConfig& config,
                                             std::string_view gateway_version, std::string& error);
  ~CaptureWriter() override;  // flush_and_close()

  void record(mcp::capture::Record&& record) noexcept override;
  // Recorder's headers plus the configured redact_headers.
  bool wants_header(std::string_view lower_name) const noexcept override;
  // Writes out everything queued, fsyncs and stops the thread (SIGTERM/SIGINT shutdown).
  void flush_and_close() noexcept;
  CaptureCounters counters() const noexcept;

 private:
  friend struct CaptureWriterTestAccess;  // capture_writer_testing.hpp
  CaptureWriter() = default;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace mcpgw::capture
