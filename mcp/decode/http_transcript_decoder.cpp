// Raw HTTP/1.1 transcripts: a proxy-style dump (requests and responses interleaved, a request
// line starting client bytes and a status line server bytes), `curl -i -N` output (responses
// only, bodies already de-chunked by curl, several runs one after another) and
// `curl -v -i -N ... 2>&1` (`* ` info, `> ` request head, `< ` response head lines around the
// response as curl printed it). One HttpConversation decodes both sides; this decoder only
// decides which side each line belongs to.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "mcp/ascii.hpp"
#include "mcp/decode/decoders.hpp"
#include "mcp/decode/http_conversation.hpp"

namespace mcpgw::mcp::decode {
namespace {

using traffic::Direction;
using traffic::Sink;

constexpr std::size_t kMaxLineLookahead = std::size_t{64} << 10;
constexpr std::size_t kMaxExpectedDuplicates = 8;

// curl -v's "{ [5 bytes data]" / "} [98 bytes data]" markers.
bool is_data_marker(std::string_view line) {
  if (line.size() < 4 || (line[0] != '{' && line[0] != '}') || line.substr(1, 2) != " [") {
    return false;
  }
  std::string_view rest = line.substr(3);
  std::size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
    ++digits;
  }
  return digits > 0 && rest.substr(digits).starts_with(" bytes data]");
}

class HttpTranscriptDecoder final : public traffic::Decoder {
 public:
  explicit HttpTranscriptDecoder(const traffic::DecoderOptions& options)
      : conversation_(conversation_options(options)) {}

  void feed(std::string_view bytes, Sink& sink) override {
    pending_.append(bytes);
    process(false, sink);
  }

  void finish(Sink& sink) override {
    process(true, sink);
    conversation_.finish(origin_at(pos_), sink);
  }

 private:
  static HttpConversationOptions conversation_options(const traffic::DecoderOptions& options) {
    HttpConversationOptions conversation;
    conversation.source = options.source;
    conversation.connection = "transcript:" + options.source;
    conversation.transcript = true;
    return conversation;
  }

  ChunkOrigin origin_at(std::size_t pos) const {
    ChunkOrigin origin;
    origin.offset = base_offset_ + pos;
    origin.per_byte = true;
    return origin;
  }

  // Feeds `bytes` (at pending_[pos]) to a side; returns the count it took.
  std::size_t give(Direction side, std::string_view bytes, std::size_t pos, Sink& sink) {
    return conversation_.feed(side, bytes, origin_at(pos), sink, true);
  }

  void end_server_body(std::size_t pos, Sink& sink) {
    if (conversation_.state(Direction::server_to_client) == HttpSideState::body_until_close ||
        (verbose_ && conversation_.state(Direction::server_to_client) == HttpSideState::body)) {
      conversation_.end_message(Direction::server_to_client, origin_at(pos), sink);
    }
  }

  void process(bool at_eof, Sink& sink) {
    // Each pass consumes at least one byte or waits for more input.
    while (pos_ < pending_.size()) {
      const std::string_view rest = std::string_view(pending_).substr(pos_);
      const HttpSideState state = conversation_.state(active_);
      if (!verbose_ && state == HttpSideState::body) {
        // A framed body: the conversation knows where it ends, lines do not matter.
        const std::size_t n = give(active_, rest, pos_, sink);
        pos_ += n;
        if (conversation_.state(active_) != HttpSideState::body) {
          at_line_start_ = true;
        }
        if (n == 0) {
          break;  // cannot happen: a framed body takes at least one byte
        }
        continue;
      }
      const std::size_t lf = rest.find('\n');
      if (!at_line_start_) {
        const std::size_t take = lf == std::string_view::npos ? rest.size() : lf + 1;
        data(rest.substr(0, take), sink);
        continue;
      }
      if (lf == std::string_view::npos && !at_eof && rest.size() < kMaxLineLookahead) {
        break;  // wait for the whole line to classify it
      }
      const std::size_t take =
          lf == std::string_view::npos ? std::min(rest.size(), kMaxLineLookahead) : lf + 1;
      line(rest.substr(0, take), sink);
    }
    if (pos_ > 0 && (pos_ == pending_.size() || pos_ > (std::size_t{1} << 16))) {
      pending_.erase(0, pos_);
      base_offset_ += pos_;
      pos_ = 0;
    }
  }

  // Bytes that are not a classified line: the active side's data (a body in verbose mode).
  void data(std::string_view bytes, Sink& sink) {
    const Direction side = verbose_ ? Direction::server_to_client : active_;
    const std::size_t n = give(side, bytes, pos_, sink);
    pos_ += n;
    at_line_start_ = n < bytes.size() || bytes.back() == '\n';
  }

  void line(std::string_view bytes, Sink& sink) {
    const std::string_view text = without_line_terminator(bytes);
    const HttpSideState state = conversation_.state(active_);
    const bool between = state != HttpSideState::body && state != HttpSideState::head;

    if (duplicate_head_ && !verbose_prefixed(text)) {
      // `curl -v -i`: the head printed on stdout repeats the `< ` head already read.
      pos_ += bytes.size();
      if (text.empty()) {
        duplicate_head_ = false;
      }
      return;
    }
    if (verbose_ || between) {
      if (text.starts_with("* ") || text == "*") {
        verbose_ = true;
        pos_ += bytes.size();
        return;
      }
      if (is_data_marker(text)) {
        pos_ += bytes.size();
        return;
      }
      if (text.starts_with("> ") || text == ">" || text.starts_with("< ") || text == "<") {
        verbose_ = true;
        prefixed_head_line(bytes, sink);
        return;
      }
      if (verbose_ && !expected_duplicates_.empty() && text == expected_duplicates_.front()) {
        expected_duplicates_.pop_front();
        duplicate_head_ = true;
        pos_ += bytes.size();
        return;
      }
    }
    if (verbose_) {
      expected_duplicates_.clear();
      data(bytes, sink);
      return;
    }
    if (state != HttpSideState::head) {
      if (auto direction = classify_start_line(text)) {
        end_server_body(pos_, sink);
        active_ = *direction;
      }
    }
    data(bytes, sink);
  }

  bool verbose_prefixed(std::string_view text) const {
    return text.starts_with("* ") || text.starts_with("> ") || text.starts_with("< ") ||
           text == "*" || text == ">" || text == "<";
  }

  void prefixed_head_line(std::string_view bytes, Sink& sink) {
    const Direction side =
        bytes.front() == '>' ? Direction::client_to_server : Direction::server_to_client;
    const std::size_t prefix = bytes.size() >= 2 && bytes[1] == ' ' ? 2 : 1;
    const std::string_view head_line = bytes.substr(prefix);
    const std::string_view text = without_line_terminator(head_line);
    if (side == Direction::server_to_client && classify_start_line(text)) {
      end_server_body(pos_, sink);
      if (expected_duplicates_.size() >= kMaxExpectedDuplicates) {
        expected_duplicates_.pop_front();
      }
      expected_duplicates_.emplace_back(text);
    }
    if (side == Direction::client_to_server && classify_start_line(text)) {
      end_server_body(pos_, sink);
      expected_duplicates_.clear();
    }
    active_ = side;
    pos_ += prefix;
    std::size_t done = 0;
    while (done < head_line.size()) {
      const std::size_t n = give(side, head_line.substr(done), pos_, sink);
      done += n;
      pos_ += n;
      if (n == 0) {
        break;
      }
    }
    pos_ += head_line.size() - done;
    // curl -v never prints a request body ("} [98 bytes data]"): the request ends at its head.
    if (side == Direction::client_to_server && conversation_.state(side) == HttpSideState::body) {
      conversation_.omit_body(side);
    }
    at_line_start_ = true;
  }

  HttpConversation conversation_;
  std::string pending_;
  std::size_t pos_ = 0;            // first unprocessed byte of pending_
  std::uint64_t base_offset_ = 0;  // input offset of pending_[0]
  Direction active_ = Direction::server_to_client;
  bool at_line_start_ = true;
  bool verbose_ = false;                         // curl -v output: `* `, `> `, `< ` lines seen
  bool duplicate_head_ = false;                  // skipping a head curl -i printed again
  std::deque<std::string> expected_duplicates_;  // status lines of `< ` heads
};

}  // namespace

std::unique_ptr<traffic::Decoder> make_http_transcript_decoder(
    const traffic::DecoderOptions& options) {
  return std::make_unique<HttpTranscriptDecoder>(options);
}

}  // namespace mcpgw::mcp::decode
