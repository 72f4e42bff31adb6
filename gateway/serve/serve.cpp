#include "gateway/serve/serve.hpp"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "gateway/auth/authenticator.hpp"
#include "gateway/capture/recorder.hpp"
#include "gateway/config/config.hpp"
#include "gateway/config/values.hpp"
#include "gateway/front/http_front.hpp"
#include "gateway/front/stdio_front.hpp"
#include "gateway/lint/render.hpp"
#include "gateway/mux/gateway.hpp"
#include "gateway/runtime/asio_loop.hpp"
#include "gateway/serve/audit_sink.hpp"
#include "gateway/serve/logging.hpp"
#include "gateway/upstream/client.hpp"
#include "gateway/upstream/transport.hpp"

namespace mcpgw::serve {
namespace {

constexpr std::string_view kEmbeddedConfig =
    R"toml(# The built-in demo: `mcpgw serve` without --config.
# Two mcpgw-fixture backends behind one endpoint on 127.0.0.1:8080: "local" runs as a child
# process over stdio, "remote" is reached over Streamable HTTP (start it first with
# `mcpgw-fixture http --listen 127.0.0.1:8931`). Tools appear as local__echo, remote__echo, ...
[server]
listen = "127.0.0.1:8080"

[policy]
default = "allow"

[auth]
allow_anonymous = true

[[backend]]
name = "local"
command = ["${MCPGW_FIXTURE}", "stdio", "--name", "local"]

[[backend]]
name = "remote"
url = "http://127.0.0.1:${MCPGW_DEMO_BACKEND_PORT:-8931}/mcp"
)toml";

constexpr std::string_view kEmbeddedConfigName = "<built-in demo config>";

// Where mcpgw-fixture is: beside mcpgw when installed, ../fixture/ in a build tree.
std::string fixture_beside_executable() {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error)
    return "mcpgw-fixture";
  for (const auto& candidate : {self.parent_path() / "mcpgw-fixture",
                                self.parent_path() / ".." / "fixture" / "mcpgw-fixture"}) {
    if (std::filesystem::is_regular_file(candidate, error)) {
      return std::filesystem::weakly_canonical(candidate, error).string();
    }
  }
  return "mcpgw-fixture";  // found through PATH, if at all
}

std::string url_host(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// One log line per diagnostic: "file:line:column: message [rule]" at its severity.
void log_diagnostics(const config::LoadResult& result, std::string_view prefix) {
  for (const auto& item : result.diagnostics.items()) {
    const auto level = item.severity == config::Severity::error     ? spdlog::level::err
                       : item.severity == config::Severity::warning ? spdlog::level::warn
                                                                    : spdlog::level::info;
    spdlog::log(level, "{}{}:{}:{}: {} [{}]", prefix, item.where.file, item.where.line,
                item.where.column, item.message, item.rule);
  }
}

// Owns everything that runs on the loop, and the order in which it stops.
class Server {
 public:
  Server(std::shared_ptr<const config::Config> config, const ServeOptions& options,
         std::function<config::LoadResult()> reload)
      : config_(std::move(config)),
        options_(options),
        reload_(std::move(reload)),
        loop_(context_),
        signals_(context_),
        reload_signal_(context_) {}

  int run(std::ostream& out, std::ostream& err) {
    // Before anything is announced: a SIGTERM sent right after the "listening on" line must
    // be a clean shutdown, not the default action (asio queues it until wait_for_signal).
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    reload_signal_.add(SIGHUP);
    if (config_->audit.enabled) {
      std::string error;
      audit_ = make_audit_sink(config_->audit, error);
      if (!audit_) {
        err << "mcpgw serve: [audit] sink " << config_->audit.sink << ": " << error << "\n";
        return 1;
      }
    }
    if (config_->capture.enabled) {
      auto capture_config = config_->capture;
      // Clients send API keys in this header: it never shows in a capture.
      capture_config.redact_headers.push_back(config_->auth.api_key_header);
      std::string error;
      capture_ = capture::CaptureWriter::open(capture_config, options_.version, error);
      if (!capture_) {
        err << "mcpgw serve: capture: " << error << "\n";
        return 1;
      }
      spdlog::info("capturing traffic to {}", capture_config.path);
    }
    upstream::TransportLimits limits;
    limits.recorder = capture_.get();
    limits.max_line_bytes = config_->server.max_line_bytes;
    limits.max_sse_event_bytes = config_->server.max_sse_event_bytes;
    for (const auto& backend : config_->backends) {
      auto backend_limits = limits;
      backend_limits.connect_timeout = backend.connect_timeout;
      backend_limits.shutdown_grace = backend.shutdown_grace;
      factories_.push_back(upstream::make_transport_factory(context_, backend, backend_limits));
    }
    mux::GatewayOptions gateway_options;
    gateway_options.audit = audit_.get();
    gateway_ = mux::make_gateway(
        loop_, config_,
        [this](std::size_t index, upstream::ClientOptions client_options,
               upstream::ClientEvents& events) {
          return upstream::make_client(loop_, *factories_.at(index), std::move(client_options),
                                       events);
        },
        gateway_options);

    if (options_.stdio) {
      front::StdioFrontOptions stdio_options;
      stdio_options.max_line_bytes = config_->server.max_line_bytes;
      stdio_options.recorder = capture_.get();
      stdio_front_ = front::make_stdio_front(context_, *gateway_, stdio_options);
    } else {
      auto http_options = front::http_front_options(*config_);
      auth::AuthenticatorOptions auth_options;
      auth_options.scheme = config_->server.tls ? "https" : "http";
      auth_options.path = http_options.path;
      authenticator_ = auth::make_authenticator(context_, loop_, config_->auth, auth_options);
      http_options.authenticator = authenticator_.get();
      http_options.recorder = capture_.get();
      const bool client_certificates =
          config_->server.tls && !config_->server.tls->client_ca_file.empty();
      if (config_->auth.jwt.empty() && config_->auth.api_keys.empty() &&
          !config_->auth.allow_anonymous && !client_certificates) {
        spdlog::warn(
            "[auth] configures no [[auth.jwt]] or [[auth.api_key]], no client certificates are "
            "verified and anonymous access is off: every request will be refused with 401");
      }
      http_front_ = front::make_http_front(context_, *gateway_, http_options);
      const auto port = http_front_->listen();
      if (!port) {
        err << "mcpgw serve: cannot listen on " << config_->server.listen << ": " << port.error()
            << "\n";
        return 1;
      }
      const std::string base = std::string(config_->server.tls ? "https://" : "http://") +
                               url_host(http_options.host) + ":" + std::to_string(*port);
      out << "mcpgw serve: listening on " << base << http_options.path;
      if (!http_options.sse_path.empty())
        out << " (legacy SSE: " << base << http_options.sse_path << ")";
      out << std::endl;
    }

    if (authenticator_)
      authenticator_->start();
    gateway_->start();
    if (stdio_front_) {
      stdio_front_->start([this] { begin_shutdown("stdin closed"); });
    }
    spdlog::info("serving {} backend(s)", config_->backends.size());

    wait_for_signal();
    wait_for_reload();
    context_.run();
    if (audit_)
      audit_->flush();
    if (capture_) {
      // Everything has stopped: nothing records any more, so this is the whole capture.
      capture_->flush_and_close();
      const auto counters = capture_->counters();
      spdlog::info(
          "capture: {} message(s) written, {} dropped, {} file rotation(s), {} write error(s), "
          "{} unredactable",
          counters.written, counters.dropped, counters.rotated, counters.write_errors,
          counters.unredactable);
    }
    spdlog::info("stopped");
    return 0;
  }

 private:
  // SIGHUP: the policy ([policy], [[rule]], [[rate_limit]]) and the API keys are loaded again
  // through the same loader as lint and swapped in whole (JWKS files are read again); a file
  // with errors leaves everything as it was.
  void wait_for_reload() {
    reload_signal_.async_wait([this](const boost::system::error_code& error, int) {
      if (error || shutting_down_)
        return;
      reload_policy();
      wait_for_reload();
    });
  }

  void reload_policy() {
    auto result = reload_();
    log_diagnostics(result, "SIGHUP: ");
    if (!result.config || result.config->is_fragment) {
      spdlog::error("SIGHUP: the configuration has errors; the policy in force stays unchanged");
      return;
    }
    if (authenticator_)
      authenticator_->reload(result.config->auth);
    auto snapshot = std::make_shared<mux::PolicySnapshot>();
    snapshot->policy = result.config->policy;
    snapshot->rate_limits = result.config->rate_limits;
    snapshot->generation = ++policy_generation_;
    gateway_->set_policy(std::move(snapshot));
    spdlog::info(
        "SIGHUP: policy reloaded (generation {}): {} rule(s), {} rate limit(s), default {}; API "
        "keys replaced; other sections take effect on restart",
        policy_generation_, result.config->policy_spec.rules.size(),
        result.config->policy_spec.rate_limits.size(),
        policy::to_string(result.config->policy_spec.default_effect));
  }

  void wait_for_signal() {
    signals_.async_wait([this](const boost::system::error_code& error, int number) {
      if (error)
        return;
      if (shutting_down_) {
        spdlog::warn("second signal: stopping now");
        context_.stop();
        return;
      }
      begin_shutdown(number == SIGINT ? "SIGINT" : "SIGTERM");
      wait_for_signal();
    });
  }

  // Stop accepting, let requests in flight finish (up to drain_timeout), then close sessions
  // and backends. A hard deadline bounds the whole sequence.
  void begin_shutdown(const std::string& why) {
    if (shutting_down_)
      return;
    shutting_down_ = true;
    spdlog::info("{}: draining (up to {} ms)", why, config_->server.drain_timeout.count());
    if (http_front_)
      http_front_->stop_accepting();
    drain_deadline_ = runtime::Clock::now() + config_->server.drain_timeout;
    // Backends may take two shutdown_grace periods (stdin closed, then SIGTERM) to stop.
    auto longest_grace = std::chrono::milliseconds(0);
    for (const auto& backend : config_->backends)
      longest_grace = std::max(longest_grace, backend.shutdown_grace);
    const auto hard_limit =
        config_->server.drain_timeout + 2 * longest_grace + std::chrono::seconds(5);
    hard_stop_ = loop_.schedule(hard_limit, [this] {
      spdlog::warn("shutdown did not finish in time; stopping");
      context_.stop();
    });
    poll_drain();
  }

  std::size_t in_flight() const {
    return (http_front_ ? http_front_->requests_in_flight() : 0) +
           (stdio_front_ ? stdio_front_->requests_in_flight() : 0);
  }

  void poll_drain() {
    if (in_flight() == 0 || runtime::Clock::now() >= drain_deadline_) {
      if (in_flight() != 0)
        spdlog::warn("{} request(s) still in flight; closing", in_flight());
      close_everything();
      return;
    }
    drain_timer_ = loop_.schedule(std::chrono::milliseconds(20), [this] { poll_drain(); });
  }

  void close_everything() {
    auto after_front = [this] {
      gateway_->shutdown([this] {
        for (auto& factory : factories_)
          factory->shutdown();
        if (authenticator_)
          authenticator_->stop();
        signals_.cancel();
        reload_signal_.cancel();
        hard_stop_.reset();
        drain_timer_.reset();
      });
    };
    if (http_front_) {
      http_front_->shutdown(after_front);
    } else if (stdio_front_) {
      stdio_front_->shutdown(after_front);
    } else {
      after_front();
    }
  }

  std::shared_ptr<const config::Config> config_;
  ServeOptions options_;
  std::function<config::LoadResult()> reload_;
  boost::asio::io_context context_{1};
  runtime::AsioEventLoop loop_;
  boost::asio::signal_set signals_;
  boost::asio::signal_set reload_signal_;
  std::unique_ptr<policy::AuditSink> audit_;  // outlives the gateway (declared before it)
  // Outlives everything that records into it (declared before the factories and fronts).
  std::unique_ptr<capture::CaptureWriter> capture_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::uint64_t policy_generation_ = 0;
  std::vector<std::unique_ptr<upstream::TransportFactory>> factories_;
  std::shared_ptr<mux::Gateway> gateway_;
  std::unique_ptr<front::HttpFront> http_front_;
  std::unique_ptr<front::StdioFront> stdio_front_;
  bool shutting_down_ = false;
  runtime::Clock::time_point drain_deadline_{};
  runtime::TimerHandle drain_timer_;
  runtime::TimerHandle hard_stop_;
};

// A configuration with errors is reported exactly as lint reports it (nothing starts). Warnings
// of a configuration that starts go to the log, one line each, so --log-format json stays JSON.
void report_diagnostics(const config::LoadResult& result, std::ostream& err) {
  if (result.diagnostics.items().empty())
    return;
  if (!result.config) {
    lint::Report report;
    report.diagnostics = result.diagnostics.items();
    report.files_checked = result.sources.contents.size();
    lint::render_text(report, result.sources, false, err);
    return;
  }
  log_diagnostics(result, "");
}

}  // namespace

std::string_view embedded_config() {
  return kEmbeddedConfig;
}

int run(const ServeOptions& options, std::ostream& out, std::ostream& err) {
  if (auto logging = configure_logging(options.log_level, options.log_format); !logging) {
    err << "mcpgw serve: " << logging.error() << "\n";
    return 2;
  }
  // A peer that goes away must not kill the gateway; writes report EPIPE instead.
  ::signal(SIGPIPE, SIG_IGN);

  config::LoadOptions load_options;
  if (options.config_path.empty()) {
    // Only the built-in demo gets MCPGW_FIXTURE filled in, so lint and serve read every
    // user-written file the same way.
    load_options.env = [fixture = fixture_beside_executable(),
                        environment = config::process_environment()](const std::string& name) {
      auto value = environment(name);
      if (!value && name == "MCPGW_FIXTURE")
        return std::optional<std::string>(fixture);
      return value;
    };
  }
  auto load = [path = options.config_path, load_options] {
    return path.empty() ? config::load_config_text(std::string(kEmbeddedConfigName),
                                                   std::string(kEmbeddedConfig), load_options)
                        : config::load_config(path, load_options);
  };
  auto result = load();
  report_diagnostics(result, err);
  if (!result.config) {
    err << "mcpgw serve: the configuration has errors; nothing was started\n";
    return 1;
  }
  if (result.config->is_fragment || result.config->backends.empty()) {
    err << "mcpgw serve: "
        << (options.config_path.empty() ? std::string(kEmbeddedConfigName) : options.config_path)
        << " configures no [[backend]]; there is nothing to serve\n";
    return 1;
  }
  auto config = result.config;
  if (options.listen) {
    const auto address = config::parse_listen(*options.listen);
    if (!address) {
      err << "mcpgw serve: --listen " << *options.listen << ": " << address.error() << "\n";
      return 2;
    }
    auto changed = std::make_shared<config::Config>(*config);
    changed->server.listen = *options.listen;
    changed->server.host = address->host;
    changed->server.port = address->port;
    config = std::move(changed);
  }
  if (options.capture_path) {
    if (options.capture_path->empty()) {
      err << "mcpgw serve: --capture needs a file path\n";
      return 2;
    }
    auto changed = std::make_shared<config::Config>(*config);
    changed->capture.enabled = true;
    changed->capture.path = *options.capture_path;
    config = std::move(changed);
  }
  if (options.config_path.empty()) {
    spdlog::info(
        "no --config: serving the built-in demo configuration (mcpgw serve --print-demo-config "
        "shows it)");
  }
  if (options.stdio && (!config->auth.jwt.empty() || !config->auth.api_keys.empty())) {
    spdlog::info(
        "--stdio: the local client is the anonymous principal; [auth] applies to HTTP only");
  }
  Server server(std::move(config), options, load);
  return server.run(out, err);
}

}  // namespace mcpgw::serve
