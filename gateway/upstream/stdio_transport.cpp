// The stdio transport: one child process per transport, NDJSON on its stdin/stdout, stderr to
// the log.
//
// Exit detection: a pidfd (pidfd_open, Linux 5.3+) watched by an Asio descriptor, so each
// transport waits for its own child and nothing process-wide (SIGCHLD handlers, waitpid(-1))
// is involved; several transports and other code that spawns processes coexist. Where
// pidfd_open is unavailable (old kernel, seccomp) the transport polls waitpid(pid, WNOHANG)
// every 100 ms instead. Only this transport reaps its pid, and it signals the child's process
// group only before reaping, while the pid cannot have been reused.
//
// A transport dies for one of these reasons, reported once through on_closed after the child
// is reaped (the handler never sees a zombie): the process exited (its remaining stdout is read
// first, for at most shutdown_grace), its stdout or stdin closed while it kept running, or the
// write queue overflowed (the child stopped reading). The last two start the same termination
// sequence as close(): stdin closed, shutdown_grace, SIGTERM, shutdown_grace, SIGKILL.
#include <sys/types.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <csignal>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "gateway/capture/hooks.hpp"
#include "gateway/upstream/process.hpp"
#include "gateway/upstream/transport.hpp"
#include "mcp/message_summary.hpp"
#include "mcp/ndjson.hpp"

namespace mcpgw::upstream {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

constexpr std::size_t kReadChunkBytes = std::size_t{64} << 10;
// stderr is for humans: longer lines are cut (and marked) before they reach the log.
constexpr std::size_t kMaxStderrLineBytes = 4096;
constexpr std::chrono::milliseconds kExitPollInterval{100};

struct BackendSpec {
  std::string name;
  process::SpawnRequest spawn;
  TransportLimits limits;
};

// Control characters would let a backend forge log lines or terminal escapes.
std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(byte < 0x20 && c != '\t' ? '?' : (byte == 0x7f ? '?' : c));
  }
  return out;
}

class StdioCore final : public std::enable_shared_from_this<StdioCore>, mcp::NdjsonLineSink {
 public:
  StdioCore(asio::io_context& context, std::shared_ptr<const BackendSpec> spec)
      : context_(context),
        spec_(std::move(spec)),
        stdin_(context),
        stdout_(context),
        stderr_(context),
        pidfd_(context),
        exit_poll_(context),
        grace_(context),
        drain_(context),
        framer_(mcp::NdjsonFramerOptions{static_cast<std::size_t>(spec_->limits.max_line_bytes)}),
        stdout_buffer_(kReadChunkBytes),
        stderr_buffer_(kReadChunkBytes) {}

  void start(TransportHandler& handler) {
    if (started_ || closing_)
      return;
    started_ = true;
    handler_ = &handler;
    auto spawned = process::spawn(spec_->spawn);
    if (!spawned) {
      spdlog::error("backend '{}': {}", spec_->name, spawned.error());
      failure_ = TransportError{TransportError::Kind::spawn_failed, spawned.error(), 0};
      asio::post(context_, [self = shared_from_this()] { self->report_closed(); });
      return;
    }
    pid_ = spawned->pid;
    spdlog::info("backend '{}': started process {}", spec_->name, pid_);
    error_code ignored;
    stdin_.assign(spawned->stdin_fd.release(), ignored);
    stdin_.non_blocking(true, ignored);  // write_directly() must never block the loop
    stdout_.assign(spawned->stdout_fd.release(), ignored);
    stderr_.assign(spawned->stderr_fd.release(), ignored);
    watch_exit();
    read_stdout();
    read_stderr();
    write_next();
  }

  void send(const mcp::Message& message) { send_text(mcp::encode(message)); }

  // One message as compact JSON text (encode() output, or a request given as text).
  void send_text(const std::string& text) {
    if (closing_ || terminating_ || exit_ || (started_ && (pid_ <= 0 || !stdin_.is_open()))) {
      spdlog::debug("backend '{}': dropping a message sent after the process ended", spec_->name);
      return;
    }
    if (spec_->limits.recorder != nullptr)
      capture::record_text(*spec_->limits.recorder,
                           capture_context(mcp::traffic::Direction::client_to_server), text);
    const std::size_t queued = pending_output_.size() + writing_.size();
    if (queued + text.size() + 1 > write_queue_limit()) {
      spdlog::error(
          "backend '{}': more than {} bytes waiting to be written; the process is not "
          "reading its stdin",
          spec_->name, write_queue_limit());
      fail(TransportError::Kind::disconnected, "write queue overflow (backend not reading stdin)",
           /*discard_output=*/true);
      return;
    }
    auto appended = mcp::append_ndjson_line(pending_output_, text);
    if (!appended) {
      // encode() escapes newlines, so this means an empty message: nothing a backend can use.
      spdlog::warn("backend '{}': not sending a message: {}", spec_->name,
                   appended.error().message);
      return;
    }
    write_next();
  }

  void close(std::function<void()> done) {
    handler_ = nullptr;
    if (closing_) {
      // A second close: run `done` once the first finishes.
      auto first = std::move(close_done_);
      close_done_ = [first = std::move(first), done = std::move(done)] {
        if (first)
          first();
        if (done)
          done();
      };
      return;
    }
    closing_ = true;
    close_done_ = std::move(done);
    if (pid_ <= 0 || exit_) {
      finish_close();
      return;
    }
    terminate(/*discard_output=*/false);
  }

  // The Transport object is gone: nothing may outlive it, so a child still running is killed
  // and reaped right here (SIGKILL cannot be ignored; the wait is short).
  void destroy() {
    handler_ = nullptr;
    close_done_ = nullptr;
    closing_ = true;
    if (pid_ > 0 && !exit_) {
      process::signal_group(pid_, SIGKILL);
      exit_ = process::reap_blocking(pid_);
      spdlog::info("backend '{}': process {} {}", spec_->name, pid_, exit_->describe());
    }
    release_io();
  }

  // The client session this transport serves, for capture records ("" when shared).
  void set_capture_session(std::string client_session) {
    capture_session_ = std::move(client_session);
  }

 private:
  std::size_t write_queue_limit() const {
    // Queued output beyond this means the child stopped reading: the backend is treated as
    // failed rather than buffering without bound. One line of the largest size always fits.
    return static_cast<std::size_t>(
        std::max(spec_->limits.max_write_queue_bytes, spec_->limits.max_line_bytes + 1));
  }

  // ---- exit detection ----

  void watch_exit() {
    process::UniqueFd pidfd = process::open_pidfd(pid_);
    if (pidfd.valid()) {
      error_code ignored;
      pidfd_.assign(pidfd.release(), ignored);
      pidfd_.async_wait(asio::posix::descriptor_base::wait_read,
                        [self = shared_from_this()](const error_code& error) {
                          if (!error)
                            self->check_exit();
                        });
      return;
    }
    poll_exit();
  }

  void poll_exit() {
    exit_poll_.expires_after(kExitPollInterval);
    exit_poll_.async_wait([self = shared_from_this()](const error_code& error) {
      if (error || self->exit_)
        return;
      self->check_exit();
      if (!self->exit_)
        self->poll_exit();
    });
  }

  void check_exit() {
    if (exit_ || pid_ <= 0)
      return;
    auto status = process::try_reap(pid_);
    if (!status) {
      // A pidfd is readable only once the child ended; anything else is a spurious wakeup.
      if (pidfd_.is_open())
        pidfd_.async_wait(asio::posix::descriptor_base::wait_read,
                          [self = shared_from_this()](const error_code& error) {
                            if (!error)
                              self->check_exit();
                          });
      return;
    }
    exit_ = *status;
    spdlog::log(closing_ || terminating_ ? spdlog::level::info : spdlog::level::warn,
                "backend '{}': process {} {}", spec_->name, pid_, exit_->describe());
    grace_.cancel();
    error_code ignored;
    pidfd_.close(ignored);
    exit_poll_.cancel();
    if (closing_) {
      finish_close();
      return;
    }
    drain_.cancel();
    if (stdout_eof_) {
      report_closed();
      return;
    }
    // What the process wrote before it ended is still in the pipe: read it first, but do not
    // wait forever for a grandchild that inherited the pipe.
    drain_.expires_after(spec_->limits.shutdown_grace);
    drain_.async_wait([self = shared_from_this()](const error_code& error) {
      if (!error)
        self->report_closed();
    });
  }

  // ---- stdout ----

  void read_stdout() {
    stdout_.async_read_some(
        asio::buffer(stdout_buffer_),
        [self = shared_from_this()](const error_code& error, std::size_t bytes) {
          self->on_stdout(error, bytes);
        });
  }

  void on_stdout(const error_code& error, std::size_t bytes) {
    if (bytes > 0) {
      auto fed = framer_.feed(std::string_view(stdout_buffer_.data(), bytes), *this);
      if (!fed)
        spdlog::warn("backend '{}': skipped an oversize stdout line ({}): too_large", spec_->name,
                     fed.error().message);
    }
    if (error == asio::error::operation_aborted || reported_)
      return;
    if (!error) {
      read_stdout();
      return;
    }
    framer_.finish(*this);
    stdout_eof_ = true;
    if (error != asio::error::eof)
      spdlog::warn("backend '{}': reading stdout failed: {}", spec_->name, error.message());
    if (exit_) {
      drain_.cancel();
      report_closed();
      return;
    }
    expect_exit("stdout closed");
  }

  // A pipe end closed: usually the process is exiting and its exit is about to be seen (it is
  // then reported as an exit). A process that closed a pipe and keeps running is useless and
  // gets stopped after shutdown_grace.
  void expect_exit(const std::string& what) {
    if (closing_ || terminating_ || exit_ || expecting_exit_)
      return;
    expecting_exit_ = true;
    drain_.expires_after(spec_->limits.shutdown_grace);
    drain_.async_wait([self = shared_from_this(), what](const error_code& wait_error) {
      if (wait_error || self->exit_ || self->closing_)
        return;
      spdlog::warn("backend '{}': {} while the process is running; stopping it", self->spec_->name,
                   what);
      self->fail(TransportError::Kind::disconnected, what, /*discard_output=*/true);
    });
  }

  void on_line(std::string_view line) override {
    if (handler_ == nullptr || closing_)
      return;  // draining only, so the child never blocks on a full pipe
    if (handler_->prefers_text()) {
      mcp::SummaryError error;
      const auto summary = mcp::summarize_message(line, &error);
      if (!summary) {
        skip_line(error.message);
        return;
      }
      record_received(line);
      handler_->on_message_text(line, *summary, std::nullopt);
      return;
    }
    auto message = mcp::decode_message(line);
    if (!message) {
      skip_line(message.error().message);
      return;
    }
    record_received(line);
    handler_->on_message(std::move(*message), std::nullopt);
  }

  void skip_line(const std::string& why) {
    spdlog::warn(
        "backend '{}': skipped a stdout line that is not a JSON-RPC message (bad_message): {}",
        spec_->name, why);
  }

  void record_received(std::string_view line) {
    if (spec_->limits.recorder != nullptr)
      capture::record_text(*spec_->limits.recorder,
                           capture_context(mcp::traffic::Direction::server_to_client), line);
  }

  mcp::capture::Record capture_context(mcp::traffic::Direction direction) {
    if (connection_number_ == 0)
      connection_number_ = capture::next_connection_number();
    mcp::capture::Record context;
    context.leg = mcp::traffic::Leg::backend;
    context.direction = direction;
    context.transport = mcp::traffic::Transport::stdio;
    context.session = capture_session_;
    context.backend = spec_->name;
    context.connection = connection_number_;
    return context;
  }

  // ---- stderr ----

  void read_stderr() {
    stderr_.async_read_some(
        asio::buffer(stderr_buffer_),
        [self = shared_from_this()](const error_code& error, std::size_t bytes) {
          self->on_stderr(error, bytes);
        });
  }

  void on_stderr(const error_code& error, std::size_t bytes) {
    std::string_view chunk(stderr_buffer_.data(), bytes);
    while (!chunk.empty()) {
      const std::size_t newline = chunk.find('\n');
      const std::string_view piece = chunk.substr(0, newline);
      const std::size_t room =
          kMaxStderrLineBytes - std::min(kMaxStderrLineBytes, stderr_line_.size());
      stderr_line_.append(piece.substr(0, room));
      stderr_line_cut_ = stderr_line_cut_ || piece.size() > room;
      if (newline == std::string_view::npos)
        break;
      log_stderr_line();
      chunk.remove_prefix(newline + 1);
    }
    if (error == asio::error::operation_aborted)
      return;
    if (error) {
      if (!stderr_line_.empty())
        log_stderr_line();
      return;
    }
    read_stderr();
  }

  void log_stderr_line() {
    if (!stderr_line_.empty() && stderr_line_.back() == '\r')
      stderr_line_.pop_back();
    spdlog::info("[{}] {}{}", spec_->name, printable(stderr_line_),
                 stderr_line_cut_ ? " [line cut]" : "");
    stderr_line_.clear();
    stderr_line_cut_ = false;
  }

  // ---- stdin ----

  void write_next() {
    if (writing_in_flight_ || pid_ <= 0 || !stdin_.is_open())
      return;
    if (!pending_output_.empty())
      write_directly();
    if (pending_output_.empty()) {
      writing_.clear();
      if (terminating_)
        close_stdin();
      return;
    }
    writing_.swap(pending_output_);
    pending_output_.clear();
    writing_in_flight_ = true;
    asio::async_write(stdin_, asio::buffer(writing_),
                      [self = shared_from_this()](const error_code& error, std::size_t) {
                        self->on_written(error);
                      });
  }

  // Output usually fits in the pipe at once: written here, it costs no completion handler and
  // no extra reactor pass. What the pipe does not take, and any error, goes the asynchronous
  // way, which reports errors from a handler of its own (never from inside send()).
  void write_directly() {
    error_code error;
    const std::size_t written = stdin_.write_some(asio::buffer(pending_output_), error);
    if (!error)
      pending_output_.erase(0, written);
  }

  void on_written(const error_code& error) {
    writing_in_flight_ = false;
    if (error == asio::error::operation_aborted)
      return;
    if (error) {
      pending_output_.clear();
      writing_.clear();
      close_stdin();
      if (!closing_ && !terminating_ && !exit_) {
        spdlog::debug("backend '{}': writing to stdin failed: {}", spec_->name, error.message());
        expect_exit("stdin closed");
      }
      return;
    }
    write_next();
  }

  void close_stdin() {
    error_code ignored;
    stdin_.close(ignored);
  }

  // ---- ending ----

  // Something made the pipe unusable while the process still runs: stop it, then report.
  void fail(TransportError::Kind kind, std::string message, bool discard_output) {
    if (!failure_)
      failure_ = TransportError{kind, std::move(message), 0};
    terminate(discard_output);
  }

  // stdin closed (after the queued output, unless discarded), then TERM and KILL, each after
  // shutdown_grace. check_exit() ends the sequence.
  void terminate(bool discard_output) {
    if (terminating_)
      return;
    terminating_ = true;
    if (discard_output) {
      pending_output_.clear();
      close_stdin();
    } else if (!writing_in_flight_) {
      close_stdin();
    }
    grace_.expires_after(spec_->limits.shutdown_grace);
    grace_.async_wait([self = shared_from_this()](const error_code& error) {
      if (error || self->exit_)
        return;
      spdlog::info("backend '{}': sending SIGTERM to process {}", self->spec_->name, self->pid_);
      process::signal_group(self->pid_, SIGTERM);
      self->grace_.expires_after(self->spec_->limits.shutdown_grace);
      self->grace_.async_wait([self](const error_code& second_error) {
        if (second_error || self->exit_)
          return;
        spdlog::warn("backend '{}': process {} ignored SIGTERM; sending SIGKILL", self->spec_->name,
                     self->pid_);
        process::signal_group(self->pid_, SIGKILL);
      });
    });
  }

  void report_closed() {
    if (reported_)
      return;
    reported_ = true;
    TransportError error;
    if (failure_) {
      error = *failure_;
      if (exit_)
        error.message += "; process " + exit_->describe();
    } else {
      error.kind = TransportError::Kind::exited;
      error.message = exit_ ? "process " + exit_->describe() : "process ended";
    }
    release_io();
    TransportHandler* handler = std::exchange(handler_, nullptr);
    if (handler != nullptr && !closing_)
      handler->on_closed(error);
  }

  void finish_close() {
    reported_ = true;
    release_io();
    if (auto done = std::move(close_done_)) {
      close_done_ = nullptr;
      asio::post(context_, std::move(done));
    }
  }

  void release_io() {
    error_code ignored;
    stdin_.close(ignored);
    stdout_.close(ignored);
    stderr_.close(ignored);
    pidfd_.close(ignored);
    exit_poll_.cancel();
    grace_.cancel();
    drain_.cancel();
    std::string().swap(pending_output_);
    std::string().swap(writing_);
  }

  asio::io_context& context_;
  std::shared_ptr<const BackendSpec> spec_;
  TransportHandler* handler_ = nullptr;
  pid_t pid_ = -1;
  std::optional<process::ExitStatus> exit_;
  std::optional<TransportError> failure_;
  std::function<void()> close_done_;

  asio::posix::stream_descriptor stdin_;
  asio::posix::stream_descriptor stdout_;
  asio::posix::stream_descriptor stderr_;
  asio::posix::stream_descriptor pidfd_;
  asio::steady_timer exit_poll_;
  asio::steady_timer grace_;
  asio::steady_timer drain_;

  mcp::NdjsonFramer framer_;
  std::vector<char> stdout_buffer_;
  std::vector<char> stderr_buffer_;
  std::string stderr_line_;
  bool stderr_line_cut_ = false;

  std::string pending_output_;           // encoded lines not yet handed to the kernel
  std::uint64_t connection_number_ = 0;  // for capture records, drawn on first use
  std::string capture_session_;          // the client session served, "" when shared
  std::string writing_;                  // the batch being written
  bool writing_in_flight_ = false;

  bool started_ = false;
  bool closing_ = false;      // close() was called: no handler calls any more
  bool terminating_ = false;  // stdin closed / TERM / KILL sequence running
  bool stdout_eof_ = false;
  bool expecting_exit_ = false;  // a pipe closed; waiting for the exit to be seen
  bool reported_ = false;        // on_closed delivered (or close finished)
};

class StdioTransport final : public Transport {
 public:
  StdioTransport(asio::io_context& context, std::shared_ptr<const BackendSpec> spec)
      : core_(std::make_shared<StdioCore>(context, std::move(spec))) {}
  ~StdioTransport() override { core_->destroy(); }

  void start(TransportHandler& handler) override { core_->start(handler); }
  void send(mcp::Message message) override { core_->send(message); }
  bool accepts_text() const override { return true; }
  void send_text(const mcp::Message&, std::string text) override {
    // A raw line break in valid JSON text can only be whitespace between tokens (inside strings
    // it is escaped), so a pretty-printed request becomes one line without changing its meaning.
    std::replace_if(
        text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    core_->send_text(text);
  }
  void on_initialized(const std::string&) override {}
  void reset_session() override {}
  std::string session_id() const override { return {}; }
  bool sessions_can_expire() const override { return false; }
  void set_capture_session(std::string client_session) override {
    core_->set_capture_session(std::move(client_session));
  }
  void close(std::function<void()> done) override { core_->close(std::move(done)); }

 private:
  std::shared_ptr<StdioCore> core_;
};

class StdioTransportFactory final : public TransportFactory {
 public:
  StdioTransportFactory(asio::io_context& context, std::shared_ptr<const BackendSpec> spec)
      : context_(context), spec_(std::move(spec)) {}

  std::unique_ptr<Transport> create() override {
    return std::make_unique<StdioTransport>(context_, spec_);
  }
  void shutdown() override {}  // nothing pooled: each transport owns its process

 private:
  asio::io_context& context_;
  std::shared_ptr<const BackendSpec> spec_;
};

}  // namespace

std::unique_ptr<TransportFactory> make_stdio_transport_factory(asio::io_context& context,
                                                               const config::BackendConfig& backend,
                                                               const TransportLimits& limits) {
  process::ignore_sigpipe();
  auto spec = std::make_shared<BackendSpec>();
  spec->name = backend.name;
  spec->spawn.argv = backend.command;
  spec->spawn.env = backend.env;
  spec->spawn.cwd = backend.cwd;
  spec->limits = limits;
  return std::make_unique<StdioTransportFactory>(context, std::move(spec));
}

}  // namespace mcpgw::upstream
