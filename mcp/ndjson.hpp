// Newline-delimited JSON framing for the stdio transport: each JSON-RPC message is one line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/expected.hpp"

namespace mcpgw::mcp {

enum class NdjsonErrc {
  line_too_long,     // framer: a line exceeded NdjsonFramerOptions::max_line_bytes
  embedded_newline,  // writer: the message contains a raw LF or CR
  empty_message,     // writer: the message is empty or whitespace only (readers skip such lines)
};

struct NdjsonError {
  NdjsonErrc code = NdjsonErrc::line_too_long;
  std::size_t limit = 0;       // line_too_long: the configured limit in bytes
  std::size_t bytes_seen = 0;  // line_too_long: bytes of that line seen when it was refused
  std::string message;         // one line, for logs and diagnostics
};

// Receives each complete line (without its LF and without one trailing CR). The view is valid
// only during the call; it often points straight into the chunk passed to feed().
class NdjsonLineSink {
 public:
  virtual ~NdjsonLineSink() = default;
  virtual void on_line(std::string_view line) = 0;
};

struct NdjsonFramerOptions {
  // Longest accepted line in bytes, not counting its LF (a CR before the LF counts: the limit is
  // checked as bytes arrive, before the line's end is known). Real servers send multi-MB lines.
  std::size_t max_line_bytes = std::size_t{16} << 20;
};

// Incremental line framer for a byte stream such as a child process's stdout.
//
// - Lines end at LF; one CR right before the LF is removed (CRLF streams work).
// - Lines that are empty or only JSON whitespace (space, tab, CR) are skipped: they carry no
//   message, and servers emit them between messages.
// - A line wholly inside one chunk is handed to the sink without copying; only a line spanning
//   chunks is assembled, and the scan never revisits bytes already seen (O(n) overall).
// - A line longer than max_line_bytes is refused: feed() reports NdjsonErrc::line_too_long as
//   soon as the limit is crossed, then discards the rest of that line without storing it and
//   resynchronises at the next LF, so later lines are not lost. feed() always consumes the
//   whole chunk; lines after the refused one are still delivered, and the error returned is the
//   first one in that chunk.
// - At end of stream call finish(): a final line without LF is delivered then.
class NdjsonFramer {
 public:
  explicit NdjsonFramer(NdjsonFramerOptions options = {});

  // Returns the number of lines delivered from this chunk, or the first error in it.
  Expected<std::size_t, NdjsonError> feed(std::string_view chunk, NdjsonLineSink& sink);
  // Convenience: appends copies of the lines to `lines`.
  Expected<std::size_t, NdjsonError> feed(std::string_view chunk, std::vector<std::string>& lines);

  // End of stream: delivers a pending last line that had no LF (returns 1) and resets the
  // framer for reuse. A line being discarded as oversize is dropped (its error was reported).
  std::size_t finish(NdjsonLineSink& sink);
  std::size_t finish(std::vector<std::string>& lines);

  // Bytes of an unterminated line currently held (0 while discarding an oversize line).
  std::size_t pending_bytes() const noexcept { return partial_.size(); }
  std::uint64_t lines_delivered() const noexcept { return lines_delivered_; }
  std::uint64_t lines_dropped() const noexcept { return lines_dropped_; }  // oversize
  const NdjsonFramerOptions& options() const noexcept { return options_; }

 private:
  void deliver(std::string_view line, NdjsonLineSink& sink);
  void refuse(std::size_t bytes_seen);

  NdjsonFramerOptions options_;
  std::string partial_;  // an unterminated line carried over from earlier chunks
  bool discarding_ = false;
  std::optional<NdjsonError> chunk_error_;
  std::size_t chunk_lines_ = 0;
  std::uint64_t lines_delivered_ = 0;
  std::uint64_t lines_dropped_ = 0;
};

// Appends `message` and a LF to `out`. Refuses a message with a raw LF or CR, which would split
// it (NdjsonErrc::embedded_newline), and an empty or whitespace-only one, which a reader skips
// (NdjsonErrc::empty_message); nothing is appended then. Returns bytes appended.
Expected<std::size_t, NdjsonError> append_ndjson_line(std::string& out, std::string_view message);

}  // namespace mcpgw::mcp
