// mcp_load: an open-loop load generator for one MCP Streamable HTTP endpoint.
//
// It opens an MCP session (initialize + notifications/initialized), then sends one request
// every 1/rate seconds on a pool of keep-alive connections, whatever the answers do: a request
// that finds no idle connection waits in a queue, and its latency counts from the moment it was
// due, not from when it went out (no coordinated omission). Latencies go into a histogram with
// 1 µs buckets below 100 ms (100 µs buckets up to 10 s). Requests due during the warm-up are
// sent but not counted. Prints one JSON object on stdout:
//   {"latency_us": {"p50": ..., "p90": ..., "p99": ..., "p999": ..., "max": ...}, "ok": ..., ...}
//
// Usage: mcp_load --url http://127.0.0.1:PORT/mcp [--rate 1000] [--duration 10] [--warmup 2]
//                 [--connections 16] [--method tools/call]
//                 [--params '{"name":"echo","arguments":{"text":"hello"}}'] [--session ID]
//                 [--label TEXT] [--drain 5]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "bench/bench_http.hpp"

namespace mcpgw::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::nanoseconds;

struct Options {
  std::string url;
  double rate = 1000;
  double duration_s = 10;
  double warmup_s = 2;
  std::size_t connections = 16;
  std::string method = "tools/call";
  std::string params = R"({"name":"echo","arguments":{"text":"hello"}})";
  std::string session;
  std::string label;
  double drain_s = 5;
};

constexpr std::string_view kUsage =
    "usage: mcp_load --url http://HOST:PORT/mcp [--rate RPS] [--duration S] [--warmup S]\n"
    "                [--connections N] [--method M] [--params JSON] [--session ID]\n"
    "                [--label TEXT] [--drain S]\n";

// Latencies with 1 µs resolution below 100 ms and 100 µs resolution up to 10 s; anything
// slower lands in one overflow bucket (the exact maximum is kept apart).
class LatencyHistogram {
 public:
  LatencyHistogram()
      : buckets_(kFineLimitUs + (kCoarseLimitUs - kFineLimitUs) / kCoarseStepUs + 1) {}

  void record(nanoseconds latency) {
    const auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(latency.count(), 0));
    const std::uint64_t us = ns / 1000;
    std::size_t index = buckets_.size() - 1;
    if (us < kFineLimitUs)
      index = static_cast<std::size_t>(us);
    else if (us < kCoarseLimitUs)
      index = static_cast<std::size_t>(kFineLimitUs + (us - kFineLimitUs) / kCoarseStepUs);
    ++buckets_[index];
    ++count_;
    sum_ns_ += ns;
    max_ns_ = std::max(max_ns_, ns);
    min_ns_ = std::min(min_ns_, ns);
  }

  std::uint64_t count() const { return count_; }
  double max_us() const { return static_cast<double>(max_ns_) / 1000.0; }
  double min_us() const { return count_ == 0 ? 0.0 : static_cast<double>(min_ns_) / 1000.0; }
  double mean_us() const {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_ns_) / static_cast<double>(count_) / 1000.0;
  }

  // The smallest bucket value that at least `percent` % of the samples do not exceed.
  double percentile_us(double percent) const {
    if (count_ == 0)
      return 0.0;
    const auto rank = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_))));
    std::uint64_t seen = 0;
    for (std::size_t index = 0; index < buckets_.size(); ++index) {
      seen += buckets_[index];
      if (seen < rank)
        continue;
      double value = 0;
      if (index < kFineLimitUs)
        value = static_cast<double>(index);
      else if (index + 1 < buckets_.size())
        value = static_cast<double>(kFineLimitUs + (index - kFineLimitUs) * kCoarseStepUs);
      else
        value = max_us();
      return std::min(value, max_us());
    }
    return max_us();
  }

 private:
  static constexpr std::uint64_t kFineLimitUs = 100000;
  static constexpr std::uint64_t kCoarseStepUs = 100;
  static constexpr std::uint64_t kCoarseLimitUs = 10000000;
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t sum_ns_ = 0;
  std::uint64_t max_ns_ = 0;
  std::uint64_t min_ns_ = UINT64_MAX;
};

struct Job {
  std::uint64_t index = 0;
  Clock::time_point due;
  bool measured = false;
};

class Generator;

// One keep-alive connection: one request at a time (no pipelining, as MCP clients do).
class Connection {
 public:
  Connection(Generator& generator, asio::io_context& context)
      : generator_(generator), socket_(context) {}
  void start(const Job& job);
  tcp::socket& socket() { return socket_; }
  bool alive = false;

 private:
  void on_written(const boost::system::error_code& error);
  void on_read(const boost::system::error_code& error);
  void fail(const std::string& what);

  Generator& generator_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  Job job_;
};

class Generator {
 public:
  Generator(asio::io_context& context, Options options, Endpoint endpoint, std::string session)
      : context_(context),
        options_(std::move(options)),
        endpoint_(std::move(endpoint)),
        session_(std::move(session)),
        timer_(context),
        drain_timer_(context) {
    interval_ = nanoseconds(static_cast<std::int64_t>(1e9 / options_.rate));
    total_ = static_cast<std::uint64_t>(
        std::llround(options_.rate * (options_.warmup_s + options_.duration_s)));
    warmup_jobs_ = static_cast<std::uint64_t>(std::llround(options_.rate * options_.warmup_s));
    body_prefix_ = R"({"jsonrpc":"2.0","id":)";
    body_suffix_ = R"(,"method":")" + options_.method + R"(","params":)" + options_.params + "}";
  }

  bool connect_all(std::string& error) {
    tcp::resolver resolver(context_);
    boost::system::error_code code;
    endpoints_ = resolver.resolve(endpoint_.host, endpoint_.port, code);
    if (code) {
      error = "resolve " + endpoint_.host + ": " + code.message();
      return false;
    }
    for (std::size_t index = 0; index < options_.connections; ++index) {
      auto connection = std::make_unique<Connection>(*this, context_);
      asio::connect(connection->socket(), endpoints_, code);
      if (!code)
        connection->socket().set_option(tcp::no_delay(true), code);
      if (code) {
        error = "connect to " + endpoint_.host_header + ": " + code.message();
        return false;
      }
      connection->alive = true;
      idle_.push_back(connection.get());
      connections_.push_back(std::move(connection));
    }
    return true;
  }

  void run() {
    start_ = Clock::now();
    schedule_next();
    context_.run();
  }

  http::request<http::string_body> make_request(std::uint64_t index) {
    return mcp_post(endpoint_, session_, body_prefix_ + std::to_string(index) + body_suffix_);
  }

  // A response arrived; `reusable` is false when the server closes the connection after it.
  void completed(Connection& connection, const Job& job, Clock::time_point done, bool ok,
                 const std::string& error_text, bool reusable) {
    --outstanding_;
    if (job.measured) {
      if (ok) {
        histogram_.record(done - job.due);
      } else {
        ++errors_;
        if (first_error_.empty())
          first_error_ = error_text;
      }
    }
    if (reusable)
      became_idle(connection);
    else
      reconnect(connection);
  }

  void transport_failed(Connection& connection, const Job& job, const std::string& what) {
    --outstanding_;
    if (job.measured) {
      ++transport_errors_;
      if (first_error_.empty())
        first_error_ = what;
    }
    reconnect(connection);
  }

  nlohmann::json report() const {
    const double measured_seconds = options_.duration_s;
    nlohmann::json latency{
        {"min", histogram_.min_us()},          {"mean", std::round(histogram_.mean_us() * 10) / 10},
        {"p50", histogram_.percentile_us(50)}, {"p90", histogram_.percentile_us(90)},
        {"p99", histogram_.percentile_us(99)}, {"p999", histogram_.percentile_us(99.9)},
        {"max", histogram_.max_us()}};
    nlohmann::json out{
        {"label", options_.label},
        {"url", options_.url},
        {"method", options_.method},
        {"rate", options_.rate},
        {"duration_s", options_.duration_s},
        {"warmup_s", options_.warmup_s},
        {"connections", options_.connections},
        {"sent", total_ - warmup_jobs_},
        {"ok", histogram_.count()},
        {"errors", errors_},
        {"transport_errors", transport_errors_},
        {"unanswered", unanswered_},
        {"achieved_rps", std::round(static_cast<double>(histogram_.count()) / measured_seconds)},
        {"max_queue", max_queue_},
        {"max_send_lag_us", static_cast<double>(max_send_lag_.count()) / 1000.0},
        {"latency_us", std::move(latency)}};
    if (!first_error_.empty())
      out["first_error"] = first_error_;
    return out;
  }

  bool clean() const {
    return errors_ == 0 && transport_errors_ == 0 && unanswered_ == 0 && histogram_.count() > 0;
  }

 private:
  void schedule_next() {
    if (next_ >= total_) {
      sending_done_ = true;
      drain_timer_.expires_after(
          std::chrono::milliseconds(static_cast<std::int64_t>(options_.drain_s * 1000)));
      drain_timer_.async_wait([this](const boost::system::error_code& error) {
        if (error)
          return;
        unanswered_ = outstanding_ + backlog_.size();
        context_.stop();
      });
      check_done();
      return;
    }
    timer_.expires_at(due(next_));
    timer_.async_wait([this](const boost::system::error_code& error) {
      if (error)
        return;
      const auto now = Clock::now();
      max_send_lag_ =
          std::max(max_send_lag_, std::chrono::duration_cast<nanoseconds>(now - due(next_)));
      // Everything due by now goes out (or queues), so a late timer never lowers the rate.
      while (next_ < total_ && due(next_) <= now) {
        dispatch(Job{next_, due(next_), next_ >= warmup_jobs_});
        ++next_;
      }
      schedule_next();
    });
  }

  Clock::time_point due(std::uint64_t index) const {
    return start_ + interval_ * static_cast<std::int64_t>(index);
  }

  void dispatch(const Job& job) {
    ++outstanding_;
    if (idle_.empty()) {
      backlog_.push_back(job);
      max_queue_ = std::max<std::uint64_t>(max_queue_, backlog_.size());
      return;
    }
    Connection* connection = idle_.back();
    idle_.pop_back();
    connection->start(job);
  }

  // One attempt; a connection that cannot reconnect stays out of the pool.
  void reconnect(Connection& connection) {
    boost::system::error_code ignored;
    connection.socket().close(ignored);
    connection.alive = false;
    asio::async_connect(
        connection.socket(), endpoints_,
        [this, &connection](const boost::system::error_code& error, const tcp::endpoint&) {
          if (error) {
            if (++dead_connections_ == connections_.size()) {
              first_error_ = "every connection failed: " + error.message();
              unanswered_ = outstanding_;
              context_.stop();
            }
            check_done();
            return;
          }
          boost::system::error_code ignored_option;
          connection.socket().set_option(tcp::no_delay(true), ignored_option);
          connection.alive = true;
          became_idle(connection);
        });
    check_done();
  }

  void became_idle(Connection& connection) {
    if (!backlog_.empty()) {
      const Job job = backlog_.front();
      backlog_.pop_front();
      connection.start(job);
      return;
    }
    idle_.push_back(&connection);
    check_done();
  }

  void check_done() {
    if (sending_done_ && outstanding_ == 0) {
      drain_timer_.cancel();
      timer_.cancel();
      context_.stop();
    }
  }

  asio::io_context& context_;
  Options options_;
  Endpoint endpoint_;
  std::string session_;
  tcp::resolver::results_type endpoints_;
  asio::steady_timer timer_;
  asio::steady_timer drain_timer_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> idle_;
  std::deque<Job> backlog_;
  std::string body_prefix_;
  std::string body_suffix_;
  nanoseconds interval_{0};
  Clock::time_point start_;
  std::uint64_t total_ = 0;
  std::uint64_t warmup_jobs_ = 0;
  std::uint64_t next_ = 0;
  std::uint64_t outstanding_ = 0;  // dispatched (sent or queued), not yet answered
  bool sending_done_ = false;
  LatencyHistogram histogram_;
  std::uint64_t errors_ = 0;
  std::uint64_t transport_errors_ = 0;
  std::uint64_t unanswered_ = 0;
  std::size_t dead_connections_ = 0;
  std::uint64_t max_queue_ = 0;
  nanoseconds max_send_lag_{0};
  std::string first_error_;
};

void Connection::start(const Job& job) {
  job_ = job;
  request_ = generator_.make_request(job.index);
  http::async_write(socket_, request_, [this](const boost::system::error_code& error, std::size_t) {
    on_written(error);
  });
}

void Connection::on_written(const boost::system::error_code& error) {
  if (error) {
    fail("write: " + error.message());
    return;
  }
  parser_.emplace();
  parser_->body_limit(kMaxResponseBytes);
  http::async_read(
      socket_, buffer_, *parser_,
      [this](const boost::system::error_code& read_error, std::size_t) { on_read(read_error); });
}

void Connection::on_read(const boost::system::error_code& error) {
  const auto done = Clock::now();
  if (error) {
    fail("read: " + error.message());
    return;
  }
  const auto& response = parser_->get();
  // A JSON body or an SSE stream carrying the response; either way a success has "result".
  const bool ok = response.result_int() == 200 &&
                  response.body().find(R"("result")") != std::string::npos &&
                  response.body().find(R"("isError":true)") == std::string::npos;
  std::string error_text;
  if (!ok)
    error_text =
        "HTTP " + std::to_string(response.result_int()) + ": " + response.body().substr(0, 300);
  generator_.completed(*this, job_, done, ok, error_text, response.keep_alive());
}

void Connection::fail(const std::string& what) {
  generator_.transport_failed(*this, job_, what);
}

std::optional<double> positive_number(std::string_view text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !(value >= 0) || value > 1e9)
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
      std::cerr << "mcp_load: " << name << " needs a value\n" << kUsage;
      return 2;
    }
    const std::string_view value = argv[++index];
    const auto number = [&](double& out) {
      const auto parsed = positive_number(value);
      if (!parsed)
        return false;
      out = *parsed;
      return true;
    };
    bool good = true;
    double parsed = 0;
    if (name == "--url") {
      options.url = value;
    } else if (name == "--rate") {
      good = number(options.rate) && options.rate > 0 && options.rate <= 1e6;
    } else if (name == "--duration") {
      good = number(options.duration_s) && options.duration_s > 0 && options.duration_s <= 3600;
    } else if (name == "--warmup") {
      good = number(options.warmup_s) && options.warmup_s <= 3600;
    } else if (name == "--drain") {
      good = number(options.drain_s) && options.drain_s <= 600;
    } else if (name == "--connections") {
      good = number(parsed) && parsed >= 1 && parsed <= 1024;
      options.connections = static_cast<std::size_t>(parsed);
    } else if (name == "--method") {
      options.method = value;
    } else if (name == "--params") {
      good = nlohmann::json::accept(value);
      options.params = value;
    } else if (name == "--session") {
      options.session = value;
    } else if (name == "--label") {
      options.label = value;
    } else {
      std::cerr << "mcp_load: unknown option " << name << "\n" << kUsage;
      return 2;
    }
    if (!good) {
      std::cerr << "mcp_load: bad value for " << name << ": " << value << "\n";
      return 2;
    }
  }
  if (options.rate * (options.duration_s + options.warmup_s) > 1e8) {
    std::cerr << "mcp_load: more than 100 million requests asked for\n";
    return 2;
  }
  const auto endpoint = parse_endpoint(options.url);
  if (!endpoint) {
    std::cerr << "mcp_load: --url must be http://HOST:PORT/PATH\n" << kUsage;
    return 2;
  }
  asio::io_context context;
  std::string error;
  std::string session = options.session;
  if (session.empty()) {
    BlockingConnection setup(context, *endpoint);
    if (!setup.connect(error) || (session = setup.open_session("mcp_load", error)).empty()) {
      std::cerr << "mcp_load: " << error << "\n";
      return 1;
    }
  }
  Generator generator(context, options, *endpoint, session);
  if (!generator.connect_all(error)) {
    std::cerr << "mcp_load: " << error << "\n";
    return 1;
  }
  generator.run();
  std::cout << generator.report().dump() << std::endl;
  return generator.clean() ? 0 : 3;
}

}  // namespace
}  // namespace mcpgw::bench

int main(int argc, char** argv) {
  return mcpgw::bench::run(argc, argv);
}
