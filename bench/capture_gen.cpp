// Writes a large synthetic mcpgw capture (format of mcp/capture.hpp) for the inspect benchmark:
// sessions through a gateway with two backends, each message recorded on the client leg and on
// the backend leg, with a realistic mix (initialize, lists with long tool arrays, tool calls
// with small and large results, progress notifications, tool errors, protocol errors and
// server->client sampling). Deterministic for a given seed.
//   capture_gen OUT.jsonl [--megabytes N] [--seed S]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "mcp/capture.hpp"

namespace {

using mcpgw::mcp::capture::Record;
using mcpgw::mcp::traffic::Direction;
using mcpgw::mcp::traffic::Leg;
using mcpgw::mcp::traffic::Transport;

struct Generator {
  std::FILE* out = nullptr;
  std::mt19937_64 random;
  std::int64_t now_us = 1'795'000'000'000'000;
  std::uint64_t bytes = 0;
  std::string line;

  void emit(Record record) {
    line.clear();
    mcpgw::mcp::capture::encode_record(record, line);
    line.push_back('\n');
    bytes += std::fwrite(line.data(), 1, line.size(), out);
  }

  // One message on the client leg and, routed, on the backend leg.
  void both_legs(const std::string& session, const std::string& backend, Direction direction,
                 const std::string& client_message, const std::string& backend_message) {
    Record record;
    record.time_us = now_us;
    record.leg = Leg::client;
    record.direction = direction;
    record.transport = Transport::streamable_http;
    record.session = session;
    record.backend = backend;
    record.connection = 1;
    record.http_method = "POST";
    record.http_status = direction == Direction::server_to_client ? 200 : 0;
    record.http_headers = {{"content-type", "application/json"}, {"mcp-session-id", session}};
    record.message = client_message;
    Record upstream = record;
    upstream.leg = Leg::backend;
    upstream.transport = backend == "files" ? Transport::stdio : Transport::streamable_http;
    upstream.backend_session = backend == "files" ? "" : session + "-b";
    upstream.connection = 2;
    upstream.message = backend_message;
    upstream.time_us = now_us + 40;
    if (direction == Direction::server_to_client)
      std::swap(record.time_us, upstream.time_us);
    emit(direction == Direction::client_to_server ? record : upstream);
    emit(direction == Direction::client_to_server ? upstream : record);
    now_us += 60 + static_cast<std::int64_t>(random() % 400);
  }

  void session(std::uint64_t number) {
    const std::string session = "s" + std::to_string(number) + "-6f1c2a9e";
    const auto request = [](int id, const std::string& method, const std::string& params) {
      return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + method +
             R"(","params":)" + params + "}";
    };
    const auto result = [](int id, const std::string& value) {
      return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"result":)" + value + "}";
    };
    int id = 0;
    both_legs(session, "", Direction::client_to_server,
              request(id, "initialize",
                      R"({"protocolVersion":"2025-06-18","capabilities":{"sampling":{}},)"
                      R"("clientInfo":{"name":"bench","version":"1.0"}})"),
              request(id, "initialize",
                      R"({"protocolVersion":"2025-06-18","capabilities":{"sampling":{}},)"
                      R"("clientInfo":{"name":"mcpgw","version":"0.1.0"}})"));
    both_legs(
        session, "", Direction::server_to_client,
        result(id, R"({"protocolVersion":"2025-06-18","capabilities":{"tools":)"
                   R"({"listChanged":true}},"serverInfo":{"name":"mcpgw","version":"0.1.0"}})"),
        result(id, R"({"protocolVersion":"2025-06-18","capabilities":{"tools":{}},)"
                   R"("serverInfo":{"name":"files","version":"2.0"}})"));
    ++id;
    std::string tools = R"({"tools":[)";
    for (int index = 0; index < 24; ++index) {
      tools +=
          (index ? "," : "") + std::string(R"({"name":"files__tool_)") + std::to_string(index) +
          R"(","description":"Reads and writes files of the workspace with care","inputSchema":{"type":"object","properties":{"path":{"type":"string"}}}})";
    }
    tools += "]}";
    both_legs(session, "files", Direction::client_to_server, request(id, "tools/list", "{}"),
              request(id, "tools/list", "{}"));
    both_legs(session, "files", Direction::server_to_client, result(id, tools), result(id, tools));
    for (int call = 0; call < 12; ++call) {
      ++id;
      const bool web = random() % 3 == 0;
      const std::string backend = web ? "web" : "files";
      const std::string tool = "tool_" + std::to_string(random() % 24);
      const std::string arguments =
          R"({"name":")" + backend + "__" + tool +
          R"(","arguments":{"path":"/srv/data/report.txt"},"_meta":{"progressToken":)" +
          std::to_string(id) + "}}";
      both_legs(session, backend, Direction::client_to_server, request(id, "tools/call", arguments),
                request(id, "tools/call", arguments));
      if (random() % 4 == 0) {
        const std::string progress =
            R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":)" +
            std::to_string(id) + R"(,"progress":50,"total":100}})";
        both_legs(session, backend, Direction::server_to_client, progress, progress);
      }
      if (random() % 10 == 0) {
        const std::string sampling = request(
            1000 + id, "sampling/createMessage",
            R"({"messages":[{"role":"user","content":{"type":"text","text":"Summarize"}}],"maxTokens":100})");
        both_legs(session, backend, Direction::server_to_client, sampling, sampling);
        const std::string answer =
            result(1000 + id,
                   R"({"role":"assistant","content":{"type":"text","text":"Short."},"model":"m"})");
        both_legs(session, backend, Direction::client_to_server, answer, answer);
      }
      const auto roll = random() % 20;
      std::string answer;
      if (roll == 0) {
        answer = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
                 R"(,"error":{"code":-32602,"message":"Unknown tool: )" + tool + R"("}})";
      } else if (roll == 1) {
        answer = result(
            id, R"({"content":[{"type":"text","text":"permission denied"}],"isError":true})");
      } else {
        const std::size_t size = roll == 2 ? 16384 : 200 + random() % 1200;
        answer = result(
            id, R"({"content":[{"type":"text","text":")" + std::string(size, 'x') + R"("}]})");
      }
      both_legs(session, backend, Direction::server_to_client, answer, answer);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: capture_gen OUT.jsonl [--megabytes N] [--seed S]\n");
    return 2;
  }
  std::uint64_t megabytes = 256;
  std::uint64_t seed = 1;
  for (int index = 2; index + 1 < argc; index += 2) {
    if (std::strcmp(argv[index], "--megabytes") == 0)
      megabytes = std::strtoull(argv[index + 1], nullptr, 10);
    else if (std::strcmp(argv[index], "--seed") == 0)
      seed = std::strtoull(argv[index + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "capture_gen: unknown option %s\n", argv[index]);
      return 2;
    }
  }
  if (megabytes == 0) {
    std::fprintf(stderr, "capture_gen: --megabytes must be a positive number\n");
    return 2;
  }
  Generator generator;
  generator.out = std::fopen(argv[1], "wb");
  if (!generator.out) {
    std::perror(argv[1]);
    return 1;
  }
  generator.random.seed(seed);
  const std::string header = mcpgw::mcp::capture::encode_header(generator.now_us, "bench", 0);
  generator.bytes += std::fwrite(header.data(), 1, header.size(), generator.out);
  generator.bytes += std::fwrite("\n", 1, 1, generator.out);
  std::uint64_t sessions = 0;
  while (generator.bytes < megabytes << 20)
    generator.session(sessions++);
  if (std::fclose(generator.out) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  std::printf("%llu sessions, %llu bytes\n", static_cast<unsigned long long>(sessions),
              static_cast<unsigned long long>(generator.bytes));
  return 0;
}
