#include "mcp/decode/tcp_reassembly.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

namespace mcpgw::mcp::decode {

using traffic::Direction;
using traffic::Problem;
using traffic::Sink;

IpAddress IpAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddress address;
  address.bytes[0] = a;
  address.bytes[1] = b;
  address.bytes[2] = c;
  address.bytes[3] = d;
  return address;
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof text) == nullptr) {
    return "?";
  }
  return text;
}

namespace {

struct Endpoint {
  IpAddress address;
  std::uint16_t port = 0;
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
  std::string to_string() const {
    const std::string host = address.v6 ? "[" + address.to_string() + "]" : address.to_string();
    return host + ":" + std::to_string(port);
  }
};

struct FlowKey {
  Endpoint low;
  Endpoint high;
  friend auto operator<=>(const FlowKey&, const FlowKey&) = default;
};

// What a buffered piece costs beyond its bytes (map node, string), so that many tiny segments
// are bounded as well as a few large ones.
constexpr std::size_t kPieceOverhead = 96;

struct Piece {
  std::string data;
  ChunkOrigin origin;
};

// One direction of a connection.
struct HalfStream {
  bool started = false;
  std::uint32_t next_seq = 0;              // sequence number of the byte at `delivered`
  std::uint64_t delivered = 0;             // stream offset of the next byte to deliver
  std::map<std::uint64_t, Piece> pending;  // out of order, non-overlapping, by stream offset
  std::size_t buffered = 0;
  std::optional<std::uint64_t> fin_at;

  // The stream offset of a sequence number, relative to what was delivered (wraparound safe).
  std::int64_t offset_of(std::uint32_t seq) const {
    const auto diff = static_cast<std::int32_t>(seq - next_seq);
    return static_cast<std::int64_t>(delivered) + diff;
  }
  bool complete() const { return fin_at && delivered >= *fin_at; }
};

struct Connection {
  Endpoint client;
  Endpoint server;
  bool roles_from_syn = false;
  bool any_payload = false;
  HalfStream to_server;
  HalfStream to_client;
  std::unique_ptr<HttpConversation> http;
  std::string name;
  ChunkOrigin last_origin;

  HalfStream& half(Direction direction) {
    return direction == Direction::client_to_server ? to_server : to_client;
  }
};

bool looks_like_request(std::string_view payload) {
  std::size_t n = 0;
  while (n < payload.size() && n < 16 && payload[n] >= 'A' && payload[n] <= 'Z') {
    ++n;
  }
  return n >= 3 && n < payload.size() && payload[n] == ' ';
}

}  // namespace

struct TcpReassembler::Impl {
  explicit Impl(TcpReassemblyOptions opts) : options(std::move(opts)) {}

  TcpReassemblyOptions options;
  std::map<FlowKey, std::unique_ptr<Connection>> connections;
  std::size_t total_buffered = 0;
  std::uint64_t refused_connections = 0;

  static FlowKey key_of(const Endpoint& a, const Endpoint& b) {
    return a < b ? FlowKey{a, b} : FlowKey{b, a};
  }

  Connection& create(const TcpSegment& segment, const Endpoint& source,
                     const Endpoint& destination) {
    auto connection = std::make_unique<Connection>();
    if (segment.syn) {
      connection->roles_from_syn = true;
      // SYN alone comes from the client; SYN+ACK from the server.
      connection->client = segment.ack ? destination : source;
      connection->server = segment.ack ? source : destination;
    } else if (source.port >= destination.port) {
      connection->client = source;
      connection->server = destination;
    } else {
      connection->client = destination;
      connection->server = source;
    }
    name(*connection);
    Connection& result = *connection;
    connections[key_of(source, destination)] = std::move(connection);
    return result;
  }

  void name(Connection& connection) {
    connection.name = "tcp:" + connection.client.to_string() + ">" + connection.server.to_string();
    HttpConversationOptions http;
    http.source = options.source;
    http.connection = connection.name;
    http.limits = options.http;
    connection.http = std::make_unique<HttpConversation>(std::move(http));
  }

  void problem(Sink& sink, const ChunkOrigin& origin, std::string message) {
    traffic::Where where;
    where.source = options.source;
    where.offset = origin.offset;
    sink.on_problem(Problem{std::move(where), std::move(message)});
  }

  void deliver(Connection& connection, Direction direction, std::string_view data,
               const ChunkOrigin& origin, Sink& sink) {
    HalfStream& half = connection.half(direction);
    half.delivered += data.size();
    half.next_seq += static_cast<std::uint32_t>(data.size());
    connection.http->feed(direction, data, origin, sink);
  }

  // Skips the bytes up to stream offset `until`, which the capture does not have.
  void skip_gap(Connection& connection, Direction direction, std::uint64_t until,
                const ChunkOrigin& origin, Sink& sink) {
    HalfStream& half = connection.half(direction);
    if (until <= half.delivered) {
      return;
    }
    const std::uint64_t missing = until - half.delivered;
    problem(sink, origin,
            std::to_string(missing) + " bytes missing at seq " + std::to_string(half.next_seq) +
                " (" +
                std::string(traffic::Direction::client_to_server == direction ? "client->server"
                                                                              : "server->client") +
                " of " + connection.name + ")");
    half.delivered = until;
    half.next_seq += static_cast<std::uint32_t>(missing);
    connection.http->gap(direction, missing, origin, sink);
  }

  // Delivers buffered pieces that are now in order.
  void drain(Connection& connection, Direction direction, Sink& sink) {
    HalfStream& half = connection.half(direction);
    while (!half.pending.empty() && half.pending.begin()->first <= half.delivered) {
      auto node = half.pending.extract(half.pending.begin());
      const std::uint64_t start = node.key();
      Piece& piece = node.mapped();
      half.buffered -= piece.data.size() + kPieceOverhead;
      total_buffered -= piece.data.size() + kPieceOverhead;
      const std::uint64_t end = start + piece.data.size();
      if (end <= half.delivered) {
        continue;
      }
      const auto skip = static_cast<std::size_t>(half.delivered - start);
      deliver(connection, direction, std::string_view(piece.data).substr(skip), piece.origin, sink);
    }
  }

  // Buffers [start, start + data.size()) where no earlier copy is buffered (first copy wins).
  void buffer(HalfStream& half, std::uint64_t start, std::string_view data,
              const ChunkOrigin& origin) {
    std::uint64_t pos = start;
    const std::uint64_t end = start + data.size();
    auto it = half.pending.upper_bound(pos);
    if (it != half.pending.begin()) {
      auto previous = std::prev(it);
      pos = std::max(pos, previous->first + previous->second.data.size());
    }
    while (pos < end) {
      const std::uint64_t next = it == half.pending.end() ? end : std::min(end, it->first);
      if (next > pos) {
        Piece piece;
        piece.data = std::string(data.substr(static_cast<std::size_t>(pos - start),
                                             static_cast<std::size_t>(next - pos)));
        piece.origin = origin;
        half.buffered += piece.data.size() + kPieceOverhead;
        total_buffered += piece.data.size() + kPieceOverhead;
        half.pending.emplace(pos, std::move(piece));
      }
      if (it == half.pending.end()) {
        break;
      }
      pos = std::max(pos, it->first + it->second.data.size());
      ++it;
    }
  }

  void close(std::map<FlowKey, std::unique_ptr<Connection>>::iterator it, const ChunkOrigin& origin,
             Sink& sink) {
    Connection& connection = *it->second;
    for (Direction direction : {Direction::client_to_server, Direction::server_to_client}) {
      HalfStream& half = connection.half(direction);
      while (!half.pending.empty()) {
        skip_gap(connection, direction, half.pending.begin()->first, origin, sink);
        drain(connection, direction, sink);
      }
      if (half.fin_at && half.delivered < *half.fin_at) {
        skip_gap(connection, direction, *half.fin_at, origin, sink);
      }
    }
    connection.http->finish(origin, sink);
    connections.erase(it);
  }

  void add(const TcpSegment& segment, Sink& sink) {
    const Endpoint source{segment.source, segment.source_port};
    const Endpoint destination{segment.destination, segment.destination_port};
    const FlowKey key = key_of(source, destination);
    auto it = connections.find(key);
    if (it != connections.end() && segment.syn && !segment.ack) {
      // A new SYN on a known connection after data: the port pair was reused.
      Connection& old = *it->second;
      if (old.any_payload || old.to_server.fin_at || old.to_client.fin_at) {
        close(it, segment.origin, sink);
        it = connections.end();
      }
    }
    if (it == connections.end()) {
      if (!segment.syn && segment.payload.empty()) {
        return;  // a bare ACK or FIN of a connection we do not track
      }
      if (connections.size() >= options.max_connections) {
        if (refused_connections++ == 0) {
          problem(sink, segment.origin,
                  "more than " + std::to_string(options.max_connections) +
                      " concurrent TCP connections; further ones are not decoded");
        }
        return;
      }
      create(segment, source, destination);
      it = connections.find(key);
    }
    Connection& connection = *it->second;
    connection.last_origin = segment.origin;
    Direction direction =
        source == connection.client ? Direction::client_to_server : Direction::server_to_client;

    if (segment.ack) {
      acknowledge(connection, direction, segment.ack_number, segment.origin, sink);
    }
    HalfStream& half = connection.half(direction);
    std::uint32_t data_seq = segment.seq;
    if (segment.syn) {
      data_seq = segment.seq + 1;
      if (!half.started || half.delivered == 0) {
        half.started = true;
        half.next_seq = data_seq;
      }
    }
    if (!segment.payload.empty()) {
      if (!connection.any_payload && !connection.roles_from_syn) {
        // Without a SYN the port guess may be wrong: who speaks HTTP first decides.
        const bool request = looks_like_request(segment.payload);
        const bool response = segment.payload.substr(0, 5) == "HTTP/";
        if ((direction == Direction::client_to_server && response) ||
            (direction == Direction::server_to_client && request)) {
          std::swap(connection.client, connection.server);
          std::swap(connection.to_server, connection.to_client);
          name(connection);
          direction = direction == Direction::client_to_server ? Direction::server_to_client
                                                               : Direction::client_to_server;
        }
      }
      connection.any_payload = true;
    }
    HalfStream& data_half = connection.half(direction);
    if (!data_half.started) {
      data_half.started = true;
      data_half.next_seq = data_seq;
    }
    const std::int64_t start = data_half.offset_of(data_seq);
    const auto length = static_cast<std::int64_t>(segment.payload.size());
    if (!segment.payload.empty() &&
        start + length > static_cast<std::int64_t>(data_half.delivered)) {
      const std::int64_t from = std::max<std::int64_t>(start, 0);
      const std::string_view data = segment.payload.substr(static_cast<std::size_t>(from - start));
      const auto position = static_cast<std::uint64_t>(from);
      if (position <= data_half.delivered) {
        const auto skip = static_cast<std::size_t>(data_half.delivered - position);
        deliver(connection, direction, data.substr(skip), segment.origin, sink);
        drain(connection, direction, sink);
      } else {
        buffer(data_half, position, data, segment.origin);
        enforce_bounds(connection, direction, segment.origin, sink);
      }
    }
    if (segment.fin && start + length >= 0) {
      const auto fin_at = static_cast<std::uint64_t>(start + length);
      if (!data_half.fin_at) {
        data_half.fin_at = fin_at;
      }
    }
    if (segment.rst) {
      close(connections.find(key), segment.origin, sink);
      return;
    }
    if (connection.to_server.complete() && connection.to_client.complete()) {
      close(connections.find(key), segment.origin, sink);
    }
  }

  // The peer of `direction`'s sender acknowledged up to `ack_number`: bytes before that which
  // the capture lacks will never come.
  void acknowledge(Connection& connection, Direction sender, std::uint32_t ack_number,
                   const ChunkOrigin& origin, Sink& sink) {
    const Direction other = sender == Direction::client_to_server ? Direction::server_to_client
                                                                  : Direction::client_to_server;
    HalfStream& half = connection.half(other);
    if (!half.started || half.pending.empty()) {
      return;
    }
    const std::int64_t acked = half.offset_of(ack_number);
    const std::uint64_t first_pending = half.pending.begin()->first;
    if (acked <= static_cast<std::int64_t>(half.delivered)) {
      return;
    }
    skip_gap(connection, other, std::min(static_cast<std::uint64_t>(acked), first_pending), origin,
             sink);
    drain(connection, other, sink);
  }

  void enforce_bounds(Connection& connection, Direction direction, const ChunkOrigin& origin,
                      Sink& sink) {
    HalfStream& half = connection.half(direction);
    while (!half.pending.empty() && (half.buffered > options.max_buffered_per_direction ||
                                     total_buffered > options.max_buffered_total)) {
      skip_gap(connection, direction, half.pending.begin()->first, origin, sink);
      drain(connection, direction, sink);
    }
  }

  void finish(const ChunkOrigin& origin, Sink& sink) {
    while (!connections.empty()) {
      auto it = connections.begin();
      const ChunkOrigin last = it->second->last_origin;
      close(it, last, sink);
    }
    if (refused_connections > 1) {
      problem(sink, origin,
              std::to_string(refused_connections) +
                  " TCP connections were not decoded (too many at once)");
    }
  }
};

TcpReassembler::TcpReassembler(TcpReassemblyOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

TcpReassembler::~TcpReassembler() = default;

void TcpReassembler::add(const TcpSegment& segment, Sink& sink) {
  impl_->add(segment, sink);
}

void TcpReassembler::finish(const ChunkOrigin& origin, Sink& sink) {
  impl_->finish(origin, sink);
}

std::size_t TcpReassembler::open_connections() const {
  return impl_->connections.size();
}

std::size_t TcpReassembler::buffered_bytes() const {
  return impl_->total_buffered;
}

}  // namespace mcpgw::mcp::decode
