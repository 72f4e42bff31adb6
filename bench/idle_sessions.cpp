// idle_sessions: how much resident memory an idle MCP session costs a server.
//
// Opens --warmup sessions (so one-time allocations are out of the way), waits --settle seconds
// and reads VmRSS of --pid from /proc; then opens --sessions more sessions (initialize +
// notifications/initialized each, on --connections keep-alive connections in parallel), leaves
// them open and idle, waits again and reads VmRSS once more. The difference divided by the
// number of sessions is the cost of one idle session. Prints one JSON object on stdout, with
// the resident size after every tenth of the sessions to show that the growth is linear.
// With --call PARAMS, every session also makes one tools/call with those params before going
// idle, so a gateway has opened its upstream sessions too (they are created on first use).
//
// Usage: idle_sessions --url http://127.0.0.1:PORT/mcp --pid PID [--sessions 10000]
//                      [--warmup 100] [--connections 4] [--settle 2] [--call PARAMS_JSON]
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_http.hpp"

namespace mcpgw::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string url;
  long pid = 0;
  std::uint64_t sessions = 10000;
  std::uint64_t warmup = 100;
  std::uint64_t connections = 4;
  double settle_s = 2;
  std::string call_params;  // empty: no call
};

constexpr std::string_view kUsage =
    "usage: idle_sessions --url http://HOST:PORT/mcp --pid PID [--sessions N] [--warmup N]\n"
    "                     [--connections N] [--settle S] [--call PARAMS_JSON]\n";

// One tools/call in `session`; false with `error` unless it succeeds.
bool call(BlockingConnection& connection, const Endpoint& endpoint, const std::string& session,
          const std::string& params, std::string& error) {
  auto request =
      mcp_post(endpoint, session,
               R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":)" + params + "}");
  http::response<http::string_body> response;
  if (!connection.exchange(request, response, error))
    return false;
  if (response.result_int() != 200 || response.body().find(R"("result")") == std::string::npos) {
    error = "tools/call: HTTP " + std::to_string(response.result_int()) + ": " +
            response.body().substr(0, 200);
    return false;
  }
  return true;
}

// Opens `count` sessions on `connections` threads, each with its own blocking connection.
// Returns false (and the first error) when any session could not be opened.
bool open_sessions(const Endpoint& endpoint, std::uint64_t count, std::uint64_t connections,
                   const std::string& call_params, std::string& first_error) {
  std::atomic<std::uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::vector<std::thread> workers;
  for (std::uint64_t worker = 0; worker < connections; ++worker) {
    workers.emplace_back([&] {
      asio::io_context context;
      BlockingConnection connection(context, endpoint);
      std::string error;
      if (connection.connect(error)) {
        while (!failed.load() && next.fetch_add(1) < count) {
          const auto session = connection.open_session("idle_sessions", error);
          if (session.empty() ||
              (!call_params.empty() && !call(connection, endpoint, session, call_params, error)))
            break;
        }
      }
      if (!error.empty()) {
        failed = true;
        const std::lock_guard lock(error_mutex);
        if (first_error.empty())
          first_error = error;
      }
    });
  }
  for (auto& worker : workers)
    worker.join();
  return !failed.load();
}

void settle(double seconds) {
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000)));
}

std::optional<std::uint64_t> whole_number(std::string_view text, std::uint64_t max) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value > max)
    return std::nullopt;
  return value;
}

int run(int argc, char** argv) {
  Options options;
  for (int index = 1; index < argc; ++index) {
    const std::string_view name = argv[index];
    if (name == "-h" || name == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (index + 1 >= argc) {
      std::cerr << "idle_sessions: " << name << " needs a value\n" << kUsage;
      return 2;
    }
    const std::string_view value = argv[++index];
    std::optional<std::uint64_t> number;
    if (name == "--url") {
      options.url = value;
      continue;
    }
    if (name == "--call") {
      if (!nlohmann::json::accept(value)) {
        std::cerr << "idle_sessions: --call wants the JSON params of a tools/call\n";
        return 2;
      }
      options.call_params = value;
      continue;
    }
    if (name == "--pid") {
      number = whole_number(value, 1u << 30);
      options.pid = number ? static_cast<long>(*number) : 0;
    } else if (name == "--sessions") {
      number = whole_number(value, 10000000);
      options.sessions = number.value_or(0);
    } else if (name == "--warmup") {
      number = whole_number(value, 1000000);
      options.warmup = number.value_or(0);
    } else if (name == "--connections") {
      number = whole_number(value, 256);
      options.connections = number.value_or(0);
    } else if (name == "--settle") {
      number = whole_number(value, 600);
      options.settle_s = static_cast<double>(number.value_or(0));
    } else {
      std::cerr << "idle_sessions: unknown option " << name << "\n" << kUsage;
      return 2;
    }
    if (!number) {
      std::cerr << "idle_sessions: bad value for " << name << ": " << value << "\n";
      return 2;
    }
  }
  const auto endpoint = parse_endpoint(options.url);
  if (!endpoint || options.pid <= 0 || options.sessions == 0 || options.connections == 0) {
    std::cerr << "idle_sessions: --url http://HOST:PORT/PATH, --pid, --sessions >= 1 and "
                 "--connections >= 1 are required\n"
              << kUsage;
    return 2;
  }
  if (!resident_kib(options.pid)) {
    std::cerr << "idle_sessions: cannot read /proc/" << options.pid << "/status\n";
    return 1;
  }

  std::string error;
  if (options.warmup > 0 &&
      !open_sessions(*endpoint, options.warmup, options.connections, options.call_params, error)) {
    std::cerr << "idle_sessions: warm-up: " << error << "\n";
    return 1;
  }
  settle(options.settle_s);
  const auto before = resident_kib(options.pid).value_or(0);

  const auto started = Clock::now();
  nlohmann::json checkpoints = nlohmann::json::array();
  const std::uint64_t step = std::max<std::uint64_t>(1, options.sessions / 10);
  std::uint64_t opened = 0;
  while (opened < options.sessions) {
    const auto batch = std::min(step, options.sessions - opened);
    if (!open_sessions(*endpoint, batch, options.connections, options.call_params, error)) {
      std::cerr << "idle_sessions: after " << opened << " sessions: " << error << "\n";
      return 1;
    }
    opened += batch;
    checkpoints.push_back(
        {{"sessions", opened}, {"rss_kib", resident_kib(options.pid).value_or(0)}});
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  settle(options.settle_s);
  const auto after = resident_kib(options.pid).value_or(0);

  const double bytes_per_session = (static_cast<double>(after) - static_cast<double>(before)) *
                                   1024.0 / static_cast<double>(options.sessions);
  nlohmann::json out{
      {"sessions", options.sessions},
      {"call", options.call_params.empty() ? nlohmann::json(nullptr)
                                           : nlohmann::json::parse(options.call_params)},
      {"warmup_sessions", options.warmup},
      {"rss_before_kib", before},
      {"rss_after_kib", after},
      {"bytes_per_session", std::round(bytes_per_session)},
      {"kib_per_session", std::round(bytes_per_session / 1024.0 * 100) / 100},
      {"open_seconds", std::round(seconds * 100) / 100},
      {"checkpoints", std::move(checkpoints)}};
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace
}  // namespace mcpgw::bench

int main(int argc, char** argv) {
  return mcpgw::bench::run(argc, argv);
}
