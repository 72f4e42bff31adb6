// Line framing for the line-based traffic decoders (capture JSONL, stdio NDJSON), private to
// mcp/decode. It follows mcp/ndjson.hpp's rules (lines end at LF, one CR before it is dropped,
// an oversize line is refused and skipped up to its LF without being stored) but also reports
// each line's 1-based number and byte offset, which problems must carry and which the NDJSON
// framer, built for live streams, does not track. Blank lines are delivered too (callers skip
// them) so that numbering stays exact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace mcpgw::mcp::decode {

struct LinePosition {
  std::uint64_t line = 0;    // 1-based
  std::uint64_t offset = 0;  // of the line's first byte
};

class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  // on_line(std::string_view line, LinePosition) for each complete line;
  // on_oversize(LinePosition, std::size_t bytes_seen) once per refused line, as soon as it is.
  template <typename OnLine, typename OnOversize>
  void feed(std::string_view bytes, OnLine&& on_line, OnOversize&& on_oversize) {
    std::size_t pos = 0;
    while (pos < bytes.size()) {
      const void* hit = std::memchr(bytes.data() + pos, '\n', bytes.size() - pos);
      const std::size_t end =
          hit == nullptr ? bytes.size()
                         : static_cast<std::size_t>(static_cast<const char*>(hit) - bytes.data());
      const std::string_view piece = bytes.substr(pos, end - pos);
      if (discarding_) {
        current_bytes_ += piece.size();
      } else if (partial_.size() + piece.size() > max_line_bytes_) {
        current_bytes_ = partial_.size() + piece.size();
        discarding_ = true;
        release_partial();
        on_oversize(current_, current_bytes_);
      } else if (hit != nullptr && partial_.empty()) {
        on_line(trim_cr(piece), current_);  // straight from the chunk, no copy
      } else {
        partial_.append(piece);
        if (hit != nullptr) {
          on_line(trim_cr(partial_), current_);
          release_partial();
        }
      }
      if (hit == nullptr) {
        consumed_ += piece.size();
        return;
      }
      // The line ends here: the next one starts after the LF.
      consumed_ += piece.size() + 1;
      ++current_.line;
      current_.offset = consumed_;
      discarding_ = false;
      current_bytes_ = 0;
      pos = end + 1;
    }
  }

  // End of input: calls on_final(line, position) with an unterminated last line, if there is
  // one (not when it was being discarded), and returns whether there was any unterminated data.
  template <typename OnFinal>
  bool finish(OnFinal&& on_final) {
    const bool pending = discarding_ || !partial_.empty();
    if (!discarding_ && !partial_.empty()) {
      on_final(std::string_view(partial_), current_);
    }
    release_partial();
    discarding_ = false;
    return pending;
  }

  // Bytes of an unterminated line currently held.
  std::size_t pending_bytes() const noexcept { return partial_.size(); }
  std::uint64_t bytes_consumed() const noexcept { return consumed_; }

 private:
  static std::string_view trim_cr(std::string_view line) {
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    return line;
  }

  void release_partial() {
    // One huge record should not pin its memory for the rest of the input.
    if (partial_.capacity() > (std::size_t{1} << 20)) {
      std::string().swap(partial_);
    } else {
      partial_.clear();
    }
  }

  std::size_t max_line_bytes_;
  std::string partial_;
  bool discarding_ = false;
  std::size_t current_bytes_ = 0;
  LinePosition current_{1, 0};
  std::uint64_t consumed_ = 0;
};

inline bool is_blank_line(std::string_view line) noexcept {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace mcpgw::mcp::decode
