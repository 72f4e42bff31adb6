#include "mcp/decode/http_conversation.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <utility>
#include <vector>

#include "mcp/ascii.hpp"
#include "mcp/decode/http_jsonrpc_body.hpp"
#include "mcp/sse.hpp"

namespace mcpgw::mcp::decode {

using traffic::Direction;
using traffic::Event;
using traffic::Header;
using traffic::Problem;
using traffic::Sink;
using traffic::Where;

namespace {

constexpr std::size_t kMaxChunkLineBytes = 4096;
constexpr std::size_t kMaxSkipLineBytes = 8192;

bool is_space(char c) {
  return c == ' ' || c == '\t';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || is_upper(c) || is_digit(c)) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// "HTTP/1.1", "HTTP/1.0", "HTTP/2", "HTTP/3".
bool is_http_version(std::string_view text) {
  if (text.substr(0, 5) != "HTTP/" || text.size() < 6 || !is_digit(text[5])) {
    return false;
  }
  if (text.size() == 6) {
    return true;
  }
  return text.size() == 8 && text[6] == '.' && is_digit(text[7]);
}

struct StartLine {
  Direction direction = Direction::client_to_server;
  std::string method;
  std::string target;
  int status = 0;
};

std::optional<StartLine> parse_start_line(std::string_view line) {
  StartLine start;
  if (line.substr(0, 5) == "HTTP/") {
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos || !is_http_version(line.substr(0, space))) {
      return std::nullopt;
    }
    const std::string_view rest = line.substr(space + 1);
    if (rest.size() < 3 || !is_digit(rest[0]) || !is_digit(rest[1]) || !is_digit(rest[2]) ||
        (rest.size() > 3 && rest[3] != ' ')) {
      return std::nullopt;
    }
    start.direction = Direction::server_to_client;
    start.status = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
    return start;
  }
  // METHOD SP target SP HTTP/x.y, with an upper-case method as every real client sends.
  const std::size_t first = line.find(' ');
  if (first == std::string_view::npos || first == 0 || first > 24) {
    return std::nullopt;
  }
  const std::string_view method = line.substr(0, first);
  if (!std::all_of(method.begin(), method.end(), [](char c) { return is_upper(c) || c == '-'; })) {
    return std::nullopt;
  }
  const std::size_t second = line.find(' ', first + 1);
  if (second == std::string_view::npos || second == first + 1) {
    return std::nullopt;
  }
  const std::string_view version = line.substr(second + 1);
  if (!is_http_version(version) || version.size() != 8) {
    return std::nullopt;
  }
  start.direction = Direction::client_to_server;
  start.method = std::string(method);
  start.target = std::string(line.substr(first + 1, second - first - 1));
  return start;
}

const std::string* find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const auto& header : headers) {
    if (header.name == name) {
      return &header.value;
    }
  }
  return nullptr;
}

// All values of a header that may be repeated, joined by commas as RFC 9110 allows.
std::optional<std::string> joined_header(const std::vector<Header>& headers,
                                         std::string_view name) {
  std::optional<std::string> joined;
  for (const auto& header : headers) {
    if (header.name == name) {
      if (joined) {
        joined->append(",");
        joined->append(header.value);
      } else {
        joined = header.value;
      }
    }
  }
  return joined;
}

// Content-Length: one value, or a list of identical values. nullopt when invalid.
std::optional<std::uint64_t> parse_content_length(std::string_view text) {
  std::optional<std::uint64_t> value;
  while (true) {
    const std::size_t comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    if (item.empty() || item.size() > 18 ||
        !std::all_of(item.begin(), item.end(), [](char c) { return is_digit(c); })) {
      return std::nullopt;
    }
    std::uint64_t number = 0;
    for (char c : item) {
      number = number * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (value && *value != number) {
      return std::nullopt;
    }
    value = number;
    if (comma == std::string_view::npos) {
      return value;
    }
    text.remove_prefix(comma + 1);
  }
}

// True when the last transfer coding is chunked.
bool ends_with_chunked(std::string_view codings) {
  const std::size_t comma = codings.rfind(',');
  const std::string_view last =
      trim(comma == std::string_view::npos ? codings : codings.substr(comma + 1));
  return ascii_lower(last) == "chunked";
}

// The media type of a Content-Type value, lower-case, without parameters.
std::string media_type(const std::vector<Header>& headers) {
  const std::string* value = find_header(headers, "content-type");
  if (value == nullptr) {
    return {};
  }
  const std::string_view text(*value);
  return ascii_lower(trim(text.substr(0, text.find(';'))));
}

std::optional<std::uint64_t> parse_chunk_size(std::string_view line) {
  std::size_t digits = 0;
  std::uint64_t size = 0;
  while (digits < line.size()) {
    const char c = line[digits];
    int value = -1;
    if (is_digit(c)) {
      value = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      value = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      value = c - 'A' + 10;
    } else {
      break;
    }
    if (digits == 15) {
      return std::nullopt;  // beyond 2^60: nobody sends that
    }
    size = size * 16 + static_cast<std::uint64_t>(value);
    ++digits;
  }
  if (digits == 0) {
    return std::nullopt;
  }
  const std::string_view rest = trim(line.substr(digits));
  if (!rest.empty() && rest.front() != ';') {
    return std::nullopt;
  }
  return size;
}

// `sessionId=` (or `session_id=`) in a legacy HTTP+SSE message endpoint's query.
std::string query_session(std::string_view target) {
  const std::size_t query = target.find('?');
  if (query == std::string_view::npos) {
    return {};
  }
  std::string_view rest = target.substr(query + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    for (std::string_view key : {std::string_view("sessionId="), std::string_view("session_id=")}) {
      if (pair.substr(0, key.size()) == key && pair.size() > key.size()) {
        return std::string(pair.substr(key.size()));
      }
    }
    if (amp == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(amp + 1);
  }
  return {};
}

bool looks_like_json(std::string_view body) {
  for (char c : body) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      continue;
    }
    return c == '{' || c == '[';
  }
  return false;
}

std::string_view trim_json(std::string_view text) {
  while (!text.empty() &&
         std::string_view(" \t\r\n").find(text.front()) != std::string_view::npos) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::string_view(" \t\r\n").find(text.back()) != std::string_view::npos) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

std::optional<Direction> classify_start_line(std::string_view line) {
  auto start = parse_start_line(line);
  if (!start) {
    return std::nullopt;
  }
  return start->direction;
}

namespace {

// One HTTP exchange: a request and its response, as far as each has been seen.
struct Exchange {
  std::string method;
  std::string target;
  std::vector<Header> request_headers;
  std::string session;  // the request's, then (when it had none) the response's
  traffic::Transport transport = traffic::Transport::streamable_http;
  bool response_started = false;
  int status = 0;
  std::vector<Header> response_headers;
  std::vector<Event> held;  // request messages waiting for the response head's session
  std::size_t held_bytes = 0;
};
using ExchangePtr = std::shared_ptr<Exchange>;

enum class Phase : std::uint8_t { idle, head, body, skipping, closed };
enum class Framing : std::uint8_t { length, chunked, until_close };
enum class ChunkPhase : std::uint8_t { size_line, data, data_end, trailers };
enum class BodyKind : std::uint8_t { ignore, json, sniff, sse };

struct Side {
  Direction direction = Direction::client_to_server;
  Phase phase = Phase::idle;
  std::string buffer;          // head bytes, a chunk-size or trailer line, or a line while skipping
  std::size_t line_start = 0;  // head: start of the line being completed in `buffer`
  bool skip_mid_line = false;  // skipping: discard up to the next LF before looking again
  Framing framing = Framing::length;
  std::uint64_t remaining = 0;
  ChunkPhase chunk_phase = ChunkPhase::size_line;
  bool first_chunk = true;
  bool saw_cr = false;
  std::size_t trailer_bytes = 0;
  BodyKind kind = BodyKind::ignore;
  std::string body;
  bool body_overflow = false;
  bool body_damaged = false;
  std::uint64_t body_bytes = 0;
  std::unique_ptr<SseParser> sse;
  Where sse_block_where;
  ExchangePtr exchange;
  Where message_where;
  Where body_where;
  std::uint64_t consumed = 0;  // bytes of this side's stream processed so far
  ChunkOrigin origin;
  std::uint64_t origin_pos = 0;  // `consumed` at the first byte of `origin`'s chunk
};

}  // namespace

struct HttpConversation::Impl {
  explicit Impl(HttpConversationOptions opts) : options(std::move(opts)) {
    client.direction = Direction::client_to_server;
    server.direction = Direction::server_to_client;
  }

  HttpConversationOptions options;
  Side client;
  Side server;
  std::deque<ExchangePtr> awaiting;  // requests whose response head has not arrived
  std::size_t held_bytes = 0;
  bool stop = false;  // feed(stop_at_boundary): a boundary was reached

  Side& side_of(Direction direction) {
    return direction == Direction::client_to_server ? client : server;
  }

  Where where_at(const Side& side, std::uint64_t pos) const {
    Where where;
    where.source = options.source;
    where.offset = side.origin.offset;
    if (side.origin.per_byte && pos >= side.origin_pos) {
      where.offset += pos - side.origin_pos;
    }
    return where;
  }

  void problem(Sink& sink, Where where, std::string message) {
    sink.on_problem(Problem{std::move(where), std::move(message)});
  }

  std::string scope_for(const std::string& session) const {
    return session.empty() ? options.connection : "session:" + session;
  }

  // ---- events ----

  Event make_event(const Side& side, const Exchange& exchange, std::string message,
                   std::string sse_id, Where where) const {
    Event event;
    event.time_us = side.origin.time_us;
    event.direction = side.direction;
    event.transport = exchange.transport;
    event.session = exchange.session;
    event.scope = scope_for(event.session);
    traffic::HttpContext http;
    http.method = exchange.method;
    http.target = exchange.target;
    if (side.direction == Direction::server_to_client) {
      http.status = exchange.status;
      http.headers = exchange.response_headers;
    } else {
      http.headers = exchange.request_headers;
    }
    event.http = std::move(http);
    event.sse_event_id = std::move(sse_id);
    event.message = std::move(message);
    event.where = std::move(where);
    return event;
  }

  void release(Exchange& exchange, Sink& sink) {
    for (auto& event : exchange.held) {
      if (event.session.empty()) {
        event.session = exchange.session;
        event.scope = scope_for(event.session);
      }
      event.transport = exchange.transport;
      sink.on_event(std::move(event));
    }
    held_bytes -= std::min(held_bytes, exchange.held_bytes);
    exchange.held.clear();
    exchange.held_bytes = 0;
  }

  void release_all(Sink& sink) {
    for (auto& exchange : awaiting) {
      release(*exchange, sink);
    }
  }

  void emit(Side& side, Exchange& exchange, std::string message, std::string sse_id, Where where,
            Sink& sink) {
    Event event =
        make_event(side, exchange, std::move(message), std::move(sse_id), std::move(where));
    // A request without a session header learns it from its response (initialize): hold it
    // until the response head arrives, within bounds.
    if (side.direction == Direction::client_to_server && exchange.session.empty() &&
        !exchange.response_started) {
      const std::size_t size = event.message.size() + 256;
      exchange.held.push_back(std::move(event));
      exchange.held_bytes += size;
      held_bytes += size;
      if (held_bytes > options.limits.max_held_bytes) {
        release_all(sink);
      }
      return;
    }
    sink.on_event(std::move(event));
  }

  // Emits every JSON-RPC message of a JSON text (a message or a batch).
  void emit_json(Side& side, Exchange& exchange, std::string_view text, const std::string& sse_id,
                 const Where& where, Sink& sink) {
    std::vector<JsonRpcBodyItem> items;
    std::string error;
    if (!split_jsonrpc_body(text, items, error)) {
      problem(sink, where, "not a JSON-RPC message: " + error);
      return;
    }
    std::size_t index = 0;
    for (auto& item : items) {
      if (item.ok) {
        emit(side, exchange, std::move(item.text), sse_id, where, sink);
      } else {
        problem(
            sink, where,
            "batch element " + std::to_string(index) + " is not a JSON-RPC message: " + item.text);
      }
      ++index;
    }
  }

  // ---- bodies ----

  void start_body(Side& side, BodyKind kind) {
    side.kind = kind;
    side.body.clear();
    side.body_overflow = false;
    side.body_damaged = false;
    side.body_bytes = 0;
    side.first_chunk = true;
    side.chunk_phase = ChunkPhase::size_line;
    side.saw_cr = false;
    side.trailer_bytes = 0;
    side.buffer.clear();
    side.body_where = where_at(side, side.consumed);
    if (kind == BodyKind::sse) {
      SseParserOptions sse_options;
      sse_options.max_event_bytes = options.limits.max_sse_event_bytes;
      side.sse = std::make_unique<SseParser>(sse_options);
    } else {
      side.sse.reset();
    }
    side.phase = Phase::body;
  }

  // Body bytes (de-chunked) starting at stream position `pos`.
  void body_data(Side& side, std::string_view data, std::uint64_t pos, Sink& sink) {
    side.body_bytes += data.size();
    switch (side.kind) {
      case BodyKind::ignore:
        return;
      case BodyKind::json:
      case BodyKind::sniff:
        if (side.body_overflow || side.body_damaged) {
          return;
        }
        if (side.body.size() + data.size() > options.limits.max_body_bytes) {
          side.body_overflow = true;
          side.body.clear();
          side.body.shrink_to_fit();
          problem(sink, side.body_where,
                  "body larger than " + std::to_string(options.limits.max_body_bytes) +
                      " bytes; not decoded");
          return;
        }
        side.body.append(data);
        return;
      case BodyKind::sse:
        sse_data(side, data, pos, sink);
        return;
    }
  }

  void sse_data(Side& side, std::string_view data, std::uint64_t pos, Sink& sink) {
    // Fed line by line so each event's position is known.
    std::vector<SseEvent> events;
    while (!data.empty()) {
      const std::size_t lf = data.find('\n');
      const std::size_t take = lf == std::string_view::npos ? data.size() : lf + 1;
      if (!side.sse->has_partial_event()) {
        side.sse_block_where = where_at(side, pos);
      }
      events.clear();
      auto fed = side.sse->feed(data.substr(0, take), events);
      if (!fed) {
        problem(sink, side.sse_block_where, "SSE event dropped: " + fed.error().message);
      }
      for (auto& event : events) {
        sse_event(side, std::move(event), sink);
      }
      data.remove_prefix(take);
      pos += take;
    }
  }

  void sse_event(Side& side, SseEvent&& event, Sink& sink) {
    Exchange& exchange = *side.exchange;
    if (event.type == "endpoint") {
      // Legacy HTTP+SSE: the stream names the endpoint the client POSTs to.
      exchange.transport = traffic::Transport::sse;
      if (exchange.session.empty()) {
        exchange.session = query_session(event.data);
      }
      return;
    }
    if (trim_json(event.data).empty()) {
      return;  // priming event or keep-alive
    }
    const std::string sse_id = event.id_updated ? event.last_event_id : std::string();
    emit_json(side, exchange, event.data, sse_id, side.sse_block_where, sink);
  }

  // The body is complete (or abandoned with `complete` false).
  void end_body(Side& side, bool complete, Sink& sink) {
    if (side.exchange) {
      switch (side.kind) {
        case BodyKind::ignore:
          break;
        case BodyKind::json:
        case BodyKind::sniff:
          if (side.body_overflow) {
            break;
          }
          if (!complete || side.body_damaged) {
            if (!side.body.empty() || side.body_damaged) {
              problem(sink, side.body_where, "body incomplete; not decoded");
            }
            break;
          }
          if (side.kind == BodyKind::sniff && !looks_like_json(side.body)) {
            break;
          }
          if (!trim_json(side.body).empty()) {
            emit_json(side, *side.exchange, side.body, std::string(), side.body_where, sink);
          }
          break;
        case BodyKind::sse:
          if (side.sse && side.sse->finish()) {
            problem(sink, side.sse_block_where, "SSE stream ended inside an event");
          }
          break;
      }
    }
    side.body.clear();
    side.sse.reset();
    side.kind = BodyKind::ignore;
    side.buffer.clear();
    side.phase = Phase::idle;
    if (side.direction == Direction::server_to_client) {
      side.exchange.reset();
    } else {
      side.exchange.reset();  // the exchange stays in `awaiting` for its response
    }
    stop = true;
  }

  // ---- heads ----

  void start_skipping(Side& side, bool mid_line) {
    side.phase = Phase::skipping;
    side.buffer.clear();
    side.skip_mid_line = mid_line;
    side.sse.reset();
    side.body.clear();
    if (side.direction == Direction::server_to_client) {
      side.exchange.reset();
    }
  }

  bool parse_head(Side& side, std::string_view head, StartLine& start, std::vector<Header>& headers,
                  Sink& sink) {
    std::size_t pos = head.find('\n');
    auto first = parse_start_line(without_line_terminator(head.substr(0, pos)));
    if (!first || first->direction != side.direction) {
      return false;
    }
    start = std::move(*first);
    std::size_t count = 0;
    while (pos != std::string_view::npos && pos + 1 < head.size()) {
      const std::size_t next = head.find('\n', pos + 1);
      const std::string_view line = without_line_terminator(head.substr(pos + 1, next - pos));
      pos = next;
      if (line.empty()) {
        break;
      }
      if (is_space(line.front()) && !headers.empty()) {
        headers.back().value += ' ';  // obsolete line folding
        headers.back().value += trim(line);
        continue;
      }
      const std::size_t colon = line.find(':');
      const std::string_view name = line.substr(0, colon);
      if (colon == std::string_view::npos || name.empty() ||
          !std::all_of(name.begin(), name.end(), is_token_char)) {
        problem(sink, side.message_where,
                "malformed header line ignored: " + std::string(line.substr(0, 80)));
        continue;
      }
      if (++count > 1000) {
        problem(sink, side.message_where, "more than 1000 header lines; the rest ignored");
        break;
      }
      headers.push_back(Header{ascii_lower(name), std::string(trim(line.substr(colon + 1)))});
    }
    return true;
  }

  void head_complete(Side& side, Sink& sink) {
    StartLine start;
    std::vector<Header> headers;
    const std::string head = std::move(side.buffer);
    side.buffer.clear();
    if (!parse_head(side, head, start, headers, sink)) {
      problem(sink, side.message_where,
              side.direction == Direction::client_to_server ? "expected an HTTP request line"
                                                            : "expected an HTTP status line");
      start_skipping(side, false);
      return;
    }
    if (side.direction == Direction::client_to_server) {
      request_head(side, std::move(start), std::move(headers), sink);
    } else {
      response_head(side, std::move(start), std::move(headers), sink);
    }
  }

  void request_head(Side& side, StartLine start, std::vector<Header> headers, Sink& sink) {
    auto exchange = std::make_shared<Exchange>();
    exchange->method = std::move(start.method);
    exchange->target = std::move(start.target);
    if (const std::string* session = find_header(headers, "mcp-session-id")) {
      exchange->session = *session;
    } else if (std::string legacy = query_session(exchange->target); !legacy.empty()) {
      exchange->session = std::move(legacy);
      exchange->transport = traffic::Transport::sse;
    }
    exchange->request_headers = std::move(headers);
    if (awaiting.size() >= options.limits.max_pending_requests) {
      problem(sink, side.message_where,
              "more than " + std::to_string(options.limits.max_pending_requests) +
                  " requests without a response; the oldest is no longer paired");
      release(*awaiting.front(), sink);
      awaiting.pop_front();
    }
    awaiting.push_back(exchange);
    side.exchange = exchange;

    const auto& request_headers = exchange->request_headers;
    const std::string type = media_type(request_headers);
    const BodyKind kind = type.empty() ? BodyKind::sniff
                          : (type == "application/json" || type.ends_with("+json"))
                              ? BodyKind::json
                              : BodyKind::ignore;
    if (auto codings = joined_header(request_headers, "transfer-encoding")) {
      if (!ends_with_chunked(*codings)) {
        problem(sink, side.message_where,
                "request with a transfer coding other than chunked; its body cannot be framed");
        start_skipping(side, false);
        side.exchange.reset();
        return;
      }
      start_body(side, kind);
      side.framing = Framing::chunked;
      return;
    }
    if (auto length_text = joined_header(request_headers, "content-length")) {
      auto length = parse_content_length(*length_text);
      if (!length) {
        problem(sink, side.message_where, "invalid Content-Length: " + length_text->substr(0, 40));
        start_skipping(side, false);
        side.exchange.reset();
        return;
      }
      if (*length > 0) {
        start_body(side, kind);
        side.framing = Framing::length;
        side.remaining = *length;
        return;
      }
    }
    side.kind = BodyKind::ignore;
    end_body(side, true, sink);
  }

  void response_head(Side& side, StartLine start, std::vector<Header> headers, Sink& sink) {
    if (start.status >= 100 && start.status < 200) {
      if (start.status == 101) {
        client.phase = Phase::closed;  // another protocol follows: not ours to decode
        server.phase = Phase::closed;
        stop = true;
        return;
      }
      side.phase = Phase::idle;  // interim response: the final one follows
      stop = true;
      return;
    }
    ExchangePtr exchange;
    if (!awaiting.empty()) {
      exchange = awaiting.front();
      awaiting.pop_front();
    } else {
      exchange = std::make_shared<Exchange>();  // a response whose request was not seen
    }
    exchange->response_started = true;
    exchange->status = start.status;
    exchange->response_headers = std::move(headers);
    if (exchange->session.empty()) {
      if (const std::string* session = find_header(exchange->response_headers, "mcp-session-id")) {
        exchange->session = *session;
      }
    }
    release(*exchange, sink);
    side.exchange = exchange;
    if (exchange->method == "CONNECT" && start.status < 300) {
      client.phase = Phase::closed;
      server.phase = Phase::closed;
      stop = true;
      return;
    }
    const auto& response_headers = exchange->response_headers;
    const std::string type = media_type(response_headers);
    const BodyKind kind = type == "text/event-stream" ? BodyKind::sse
                          : type.empty()              ? BodyKind::sniff
                          : (type == "application/json" || type.ends_with("+json"))
                              ? BodyKind::json
                              : BodyKind::ignore;
    if (exchange->method == "HEAD" || start.status == 204 || start.status == 304) {
      side.kind = BodyKind::ignore;
      end_body(side, true, sink);
      return;
    }
    if (auto codings = joined_header(response_headers, "transfer-encoding")) {
      start_body(side, kind);
      side.framing = ends_with_chunked(*codings) ? Framing::chunked : Framing::until_close;
      if (side.framing == Framing::until_close) {
        stop = true;
      }
      return;
    }
    if (auto length_text = joined_header(response_headers, "content-length")) {
      auto length = parse_content_length(*length_text);
      if (!length) {
        problem(sink, side.message_where,
                "invalid Content-Length: " + length_text->substr(0, 40) +
                    "; reading the body until the connection closes");
      } else if (*length == 0) {
        side.kind = BodyKind::ignore;
        end_body(side, true, sink);
        return;
      } else {
        start_body(side, kind);
        side.framing = Framing::length;
        side.remaining = *length;
        return;
      }
    }
    start_body(side, kind);
    side.framing = Framing::until_close;
    stop = true;
  }

  // ---- the byte loop ----

  // Each step consumes a prefix of `bytes` (possibly none when only the phase changed).
  std::size_t step(Side& side, std::string_view bytes, Sink& sink) {
    switch (side.phase) {
      case Phase::idle:
        return step_idle(side, bytes);
      case Phase::head:
        return step_head(side, bytes, sink);
      case Phase::body:
        return step_body(side, bytes, sink);
      case Phase::skipping:
        return step_skip(side, bytes, sink);
      case Phase::closed:
        return bytes.size();
    }
    return bytes.size();
  }

  std::size_t step_idle(Side& side, std::string_view bytes) {
    std::size_t n = 0;
    while (n < bytes.size() && (bytes[n] == '\r' || bytes[n] == '\n')) {
      ++n;  // blank lines between messages
    }
    if (n < bytes.size()) {
      side.phase = Phase::head;
      side.buffer.clear();
      side.line_start = 0;
      side.message_where = where_at(side, side.consumed + n);
    }
    return n;
  }

  std::size_t step_head(Side& side, std::string_view bytes, Sink& sink) {
    const std::size_t lf = bytes.find('\n');
    const std::size_t take = lf == std::string_view::npos ? bytes.size() : lf + 1;
    if (side.buffer.size() + take > options.limits.max_head_bytes) {
      problem(sink, side.message_where,
              "HTTP head longer than " + std::to_string(options.limits.max_head_bytes) + " bytes");
      start_skipping(side, lf == std::string_view::npos);
      return take;
    }
    side.buffer.append(bytes.substr(0, take));
    if (lf == std::string_view::npos) {
      return take;
    }
    const std::string_view line =
        without_line_terminator(std::string_view(side.buffer).substr(side.line_start));
    if (side.line_start == 0) {
      // The start line decides at once whether this is HTTP at all.
      auto start = parse_start_line(line);
      if (!start || start->direction != side.direction) {
        problem(sink, side.message_where,
                std::string(side.direction == Direction::client_to_server
                                ? "not an HTTP request line: "
                                : "not an HTTP status line: ") +
                    printable(line.substr(0, 60)));
        start_skipping(side, false);
        return take;
      }
    } else if (line.empty()) {
      // Positions taken while completing the head (the body's start) are after this line.
      side.consumed += take;
      head_complete(side, sink);
      side.consumed -= take;
      return take;
    }
    side.line_start = side.buffer.size();
    return take;
  }

  static std::string printable(std::string_view text) {
    std::string out;
    for (char c : text) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 || byte >= 0x7f) {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\x";
        out += kHex[byte >> 4];
        out += kHex[byte & 15];
      } else {
        out += c;
      }
    }
    return out;
  }

  std::size_t step_skip(Side& side, std::string_view bytes, Sink& sink) {
    static_cast<void>(sink);
    const std::size_t lf = bytes.find('\n');
    const std::size_t take = lf == std::string_view::npos ? bytes.size() : lf + 1;
    if (side.skip_mid_line) {
      if (lf != std::string_view::npos) {
        side.skip_mid_line = false;
      }
      return take;
    }
    if (side.buffer.size() + take > kMaxSkipLineBytes) {
      side.buffer.clear();
      side.skip_mid_line = lf == std::string_view::npos;
      return take;
    }
    if (side.buffer.empty()) {
      side.message_where = where_at(side, side.consumed);
    }
    side.buffer.append(bytes.substr(0, take));
    if (lf == std::string_view::npos) {
      return take;
    }
    auto direction = classify_start_line(without_line_terminator(side.buffer));
    if (direction && *direction == side.direction) {
      side.phase = Phase::head;  // resynchronised: this line starts the next message
      side.line_start = side.buffer.size();
    } else {
      side.buffer.clear();
    }
    return take;
  }

  std::size_t step_body(Side& side, std::string_view bytes, Sink& sink) {
    switch (side.framing) {
      case Framing::until_close:
        body_data(side, bytes, side.consumed, sink);
        return bytes.size();
      case Framing::length: {
        const std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(side.remaining, bytes.size()));
        body_data(side, bytes.substr(0, take), side.consumed, sink);
        side.remaining -= take;
        if (side.remaining == 0) {
          end_body(side, true, sink);
        }
        return take;
      }
      case Framing::chunked:
        return step_chunked(side, bytes, sink);
    }
    return bytes.size();
  }

  std::size_t step_chunked(Side& side, std::string_view bytes, Sink& sink) {
    switch (side.chunk_phase) {
      case ChunkPhase::size_line:
      case ChunkPhase::trailers: {
        const std::size_t lf = bytes.find('\n');
        const std::size_t take = lf == std::string_view::npos ? bytes.size() : lf + 1;
        const std::size_t limit = side.chunk_phase == ChunkPhase::size_line
                                      ? kMaxChunkLineBytes
                                      : options.limits.max_head_bytes;
        if (side.buffer.size() + take > limit ||
            (side.chunk_phase == ChunkPhase::trailers &&
             side.trailer_bytes + take > options.limits.max_head_bytes)) {
          if (side.chunk_phase == ChunkPhase::size_line && side.first_chunk && options.transcript) {
            return not_chunked(side, bytes.substr(0, take), sink);
          }
          problem(sink, where_at(side, side.consumed),
                  side.chunk_phase == ChunkPhase::size_line ? "chunk-size line too long"
                                                            : "chunked trailers too long");
          abandon_body(side, lf == std::string_view::npos, sink);
          return take;
        }
        side.buffer.append(bytes.substr(0, take));
        if (lf == std::string_view::npos) {
          return take;
        }
        std::string raw_line = std::move(side.buffer);
        side.buffer.clear();
        const std::string line(without_line_terminator(raw_line));
        if (side.chunk_phase == ChunkPhase::trailers) {
          side.trailer_bytes += take;
          if (line.empty()) {
            end_body(side, true, sink);
          }
          return take;
        }
        auto size = parse_chunk_size(line);
        if (!size) {
          if (side.first_chunk && options.transcript) {
            // curl printed the body already de-chunked: the line is body data.
            return not_chunked(side, std::move(raw_line), sink, take);
          }
          problem(sink, where_at(side, side.consumed),
                  "invalid chunk-size line: " + printable(std::string_view(line).substr(0, 40)));
          abandon_body(side, false, sink);
          return take;
        }
        side.first_chunk = false;
        if (*size == 0) {
          side.chunk_phase = ChunkPhase::trailers;
          side.trailer_bytes = 0;
        } else {
          side.chunk_phase = ChunkPhase::data;
          side.remaining = *size;
        }
        return take;
      }
      case ChunkPhase::data: {
        const std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(side.remaining, bytes.size()));
        body_data(side, bytes.substr(0, take), side.consumed, sink);
        side.remaining -= take;
        if (side.remaining == 0) {
          side.chunk_phase = ChunkPhase::data_end;
          side.saw_cr = false;
        }
        return take;
      }
      case ChunkPhase::data_end:
        if (bytes.front() == '\r' && !side.saw_cr) {
          side.saw_cr = true;
          return 1;
        }
        if (bytes.front() == '\n') {
          side.chunk_phase = ChunkPhase::size_line;
          return 1;
        }
        problem(sink, where_at(side, side.consumed), "chunk data not followed by CRLF");
        abandon_body(side, true, sink);
        return 0;
    }
    return bytes.size();
  }

  // The first "chunk-size line" of a transcript body is not one: the body was de-chunked by
  // the tool that printed it. What was read becomes body data and the body runs until the
  // next message (the transcript decides where that is).
  std::size_t not_chunked(Side& side, std::string data, Sink& sink, std::size_t consumed_now) {
    side.framing = Framing::until_close;
    body_data(side, data, side.consumed, sink);
    stop = true;
    return consumed_now;
  }
  std::size_t not_chunked(Side& side, std::string_view bytes, Sink& sink) {
    std::string data = side.buffer;
    data.append(bytes);
    side.buffer.clear();
    return not_chunked(side, std::move(data), sink, bytes.size());
  }

  // The body cannot be framed any further: drop it and resynchronise.
  void abandon_body(Side& side, bool mid_line, Sink& sink) {
    end_body(side, false, sink);
    start_skipping(side, mid_line);
  }

  std::size_t feed(Direction direction, std::string_view bytes, const ChunkOrigin& origin,
                   Sink& sink, bool stop_at_boundary) {
    Side& side = side_of(direction);
    side.origin = origin;
    side.origin_pos = side.consumed;
    stop = false;
    std::size_t done = 0;
    // Every step either consumes bytes or changes the phase; a phase change without
    // consumption cannot repeat more than a few times in a row.
    std::size_t idle_steps = 0;
    while (done < bytes.size()) {
      const Phase before = side.phase;
      const std::size_t n = step(side, bytes.substr(done), sink);
      done += n;
      side.consumed += n;
      if (n == 0) {
        if (side.phase == before || ++idle_steps > 8) {
          // Defensive: no progress would loop forever; drop the byte and resynchronise.
          start_skipping(side, true);
          done += 1;
          side.consumed += 1;
          idle_steps = 0;
        }
      } else {
        idle_steps = 0;
      }
      if (stop_at_boundary && stop) {
        break;
      }
    }
    return done;
  }

  void end_side(Side& side, bool at_close, Sink& sink) {
    switch (side.phase) {
      case Phase::head: {
        const std::string_view partial = trim_json(side.buffer);
        if (!partial.empty()) {
          problem(sink, side.message_where, "input ended inside an HTTP head");
        }
        side.buffer.clear();
        side.phase = Phase::idle;
        break;
      }
      case Phase::body:
        if (side.framing == Framing::until_close) {
          end_body(side, true, sink);
        } else {
          const bool quiet = side.kind == BodyKind::sse || side.kind == BodyKind::ignore;
          if (!quiet && side.body_bytes == 0 && !side.body_damaged) {
            problem(sink, side.body_where, "input ended before the body");
          }
          end_body(side, false, sink);
        }
        break;
      case Phase::skipping:
        side.buffer.clear();
        side.phase = Phase::idle;
        break;
      case Phase::idle:
      case Phase::closed:
        break;
    }
    if (at_close) {
      side.phase = Phase::closed;
    }
  }

  void gap(Direction direction, std::uint64_t bytes, const ChunkOrigin& origin, Sink& sink) {
    Side& side = side_of(direction);
    side.origin = origin;
    side.origin_pos = side.consumed;
    const bool in_chunk_data =
        side.framing == Framing::chunked && side.chunk_phase == ChunkPhase::data;
    if (side.phase == Phase::body &&
        (side.framing == Framing::until_close ||
         ((side.framing == Framing::length || in_chunk_data) && bytes < side.remaining))) {
      // The framing survives: only this body's content is damaged.
      if (side.framing != Framing::until_close) {
        side.remaining -= bytes;
      }
      side.body_damaged = side.kind == BodyKind::json || side.kind == BodyKind::sniff;
      if (side.sse) {
        side.sse->finish();
      }
      side.consumed += bytes;
      return;
    }
    if (side.phase == Phase::body) {
      side.body_damaged = true;
      end_body(side, false, sink);
    }
    if (side.phase != Phase::closed) {
      start_skipping(side, true);
    }
    side.consumed += bytes;
  }
};

HttpConversation::HttpConversation(HttpConversationOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpConversation::~HttpConversation() = default;

std::size_t HttpConversation::feed(Direction side, std::string_view bytes,
                                   const ChunkOrigin& origin, Sink& sink, bool stop_at_boundary) {
  return impl_->feed(side, bytes, origin, sink, stop_at_boundary);
}

HttpSideState HttpConversation::state(Direction direction) const {
  const Side& side = direction == Direction::client_to_server ? impl_->client : impl_->server;
  switch (side.phase) {
    case Phase::idle:
      return HttpSideState::idle;
    case Phase::head:
      return HttpSideState::head;
    case Phase::body:
      return side.framing == Framing::until_close ? HttpSideState::body_until_close
                                                  : HttpSideState::body;
    case Phase::skipping:
      return HttpSideState::skipping;
    case Phase::closed:
      return HttpSideState::closed;
  }
  return HttpSideState::idle;
}

void HttpConversation::end_message(Direction direction, const ChunkOrigin& origin, Sink& sink) {
  Side& side = impl_->side_of(direction);
  side.origin = origin;
  side.origin_pos = side.consumed;
  impl_->end_side(side, false, sink);
}

void HttpConversation::omit_body(Direction direction) {
  Side& side = impl_->side_of(direction);
  if (side.phase == Phase::body) {
    side.kind = BodyKind::ignore;
    side.body.clear();
    side.sse.reset();
    side.buffer.clear();
    side.phase = Phase::idle;
    side.exchange.reset();
  }
}

void HttpConversation::gap(Direction direction, std::uint64_t bytes, const ChunkOrigin& origin,
                           Sink& sink) {
  impl_->gap(direction, bytes, origin, sink);
}

void HttpConversation::finish(const ChunkOrigin& origin, Sink& sink) {
  for (Side* side : {&impl_->client, &impl_->server}) {
    side->origin = origin;
    side->origin_pos = side->consumed;
    impl_->end_side(*side, true, sink);
  }
  impl_->release_all(sink);
  impl_->awaiting.clear();
}

}  // namespace mcpgw::mcp::decode
