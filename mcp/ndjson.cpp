#include "mcp/ndjson.hpp"

#include <cstring>
#include <utility>

namespace mcpgw::mcp {
namespace {

// A carried-over line buffer above this capacity is released after use, so one huge message
// does not pin its memory for the rest of the session.
constexpr std::size_t kRetainedCapacity = std::size_t{64} << 10;

void release_if_large(std::string& buffer) {
  if (buffer.capacity() > kRetainedCapacity) {
    std::string().swap(buffer);
  } else {
    buffer.clear();
  }
}

bool is_blank(std::string_view line) noexcept {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// Position of the next LF at or after `from`, or bytes.size().
std::size_t find_newline(std::string_view bytes, std::size_t from) noexcept {
  const void* hit = std::memchr(bytes.data() + from, '\n', bytes.size() - from);
  if (hit == nullptr) {
    return bytes.size();
  }
  return static_cast<std::size_t>(static_cast<const char*>(hit) - bytes.data());
}

class VectorLineSink final : public NdjsonLineSink {
 public:
  explicit VectorLineSink(std::vector<std::string>& lines) : lines_(lines) {}
  void on_line(std::string_view line) override { lines_.emplace_back(line); }

 private:
  std::vector<std::string>& lines_;
};

NdjsonError writer_error(NdjsonErrc code, const char* message) {
  NdjsonError error;
  error.code = code;
  error.message = message;
  return error;
}

}  // namespace

NdjsonFramer::NdjsonFramer(NdjsonFramerOptions options) : options_(options) {}

Expected<std::size_t, NdjsonError> NdjsonFramer::feed(std::string_view chunk,
                                                      NdjsonLineSink& sink) {
  chunk_error_.reset();
  chunk_lines_ = 0;
  std::size_t pos = 0;
  while (pos < chunk.size()) {
    const std::size_t end = find_newline(chunk, pos);
    const bool terminated = end < chunk.size();
    if (discarding_) {
      if (!terminated) {
        break;
      }
      discarding_ = false;
      pos = end + 1;
      continue;
    }
    const std::string_view segment = chunk.substr(pos, end - pos);
    const std::size_t line_length = partial_.size() + segment.size();
    if (line_length > options_.max_line_bytes) {
      refuse(line_length);
      discarding_ = !terminated;
      pos = terminated ? end + 1 : end;
      continue;
    }
    if (!terminated) {
      partial_.append(segment);
      break;
    }
    if (partial_.empty()) {
      deliver(segment, sink);  // zero-copy: the line is wholly inside this chunk
    } else {
      partial_.append(segment);
      deliver(partial_, sink);
      release_if_large(partial_);
    }
    pos = end + 1;
  }
  if (chunk_error_) {
    NdjsonError error = std::move(*chunk_error_);
    chunk_error_.reset();
    return unexpected(std::move(error));
  }
  return chunk_lines_;
}

Expected<std::size_t, NdjsonError> NdjsonFramer::feed(std::string_view chunk,
                                                      std::vector<std::string>& lines) {
  VectorLineSink sink(lines);
  return feed(chunk, sink);
}

std::size_t NdjsonFramer::finish(NdjsonLineSink& sink) {
  chunk_lines_ = 0;
  if (!discarding_ && !partial_.empty()) {
    deliver(partial_, sink);
  }
  release_if_large(partial_);
  discarding_ = false;
  return chunk_lines_;
}

std::size_t NdjsonFramer::finish(std::vector<std::string>& lines) {
  VectorLineSink sink(lines);
  return finish(sink);
}

void NdjsonFramer::deliver(std::string_view line, NdjsonLineSink& sink) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (is_blank(line)) {
    return;
  }
  ++chunk_lines_;
  ++lines_delivered_;
  sink.on_line(line);
}

void NdjsonFramer::refuse(std::size_t bytes_seen) {
  ++lines_dropped_;
  release_if_large(partial_);
  if (chunk_error_) {
    return;
  }
  NdjsonError error;
  error.code = NdjsonErrc::line_too_long;
  error.limit = options_.max_line_bytes;
  error.bytes_seen = bytes_seen;
  error.message = "stdio message line exceeds the " + std::to_string(options_.max_line_bytes) +
                  "-byte limit (" + std::to_string(bytes_seen) +
                  " bytes seen); discarding it up to the next newline";
  chunk_error_ = std::move(error);
}

Expected<std::size_t, NdjsonError> append_ndjson_line(std::string& out, std::string_view message) {
  if (message.find_first_of("\r\n") != std::string_view::npos) {
    return unexpected(writer_error(NdjsonErrc::embedded_newline,
                                   "stdio message contains a raw newline (LF or CR); "
                                   "serialise it on one line"));
  }
  if (is_blank(message)) {
    return unexpected(writer_error(NdjsonErrc::empty_message,
                                   "stdio message is empty or only whitespace; "
                                   "a reader would skip it"));
  }
  out.append(message);
  out.push_back('\n');
  return message.size() + 1;
}

}  // namespace mcpgw::mcp
