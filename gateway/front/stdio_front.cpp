// The stdio front end (stdio_front.hpp): NDJSON JSON-RPC on two descriptors, one session.
//
// Output: every line (responses, notifications, server-to-client requests, errors) goes
// through one queue and is written in order; ResponseStream::send and ClientChannel::send are
// the same thing on stdio. The queue is bounded: reading pauses while more than half of
// max_output_queue_bytes waits (a client that sends faster than it reads gets backpressure),
// and a queue that still overflows (a client that stopped reading while notifications pile up)
// ends the front end.
//
// Batches: JSON-RPC batches exist only in protocol 2025-03-26. The negotiated version is read
// from the initialize response as it passes through finish(); until then, and for every other
// version, a batch is answered with -32600. An accepted batch is answered with one batch line
// holding the responses of its requests once all of them are finished or abandoned.
#include "gateway/front/stdio_front.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/capture/hooks.hpp"
#include "mcp/catalogue.hpp"
#include "mcp/ndjson.hpp"

namespace mcpgw::front {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

constexpr std::size_t kReadChunkBytes = std::size_t{64} << 10;

// A client that goes away must give EPIPE on the next write, not a SIGPIPE that kills the
// gateway. Only the default disposition is changed; a handler somebody installed stays.
void ignore_sigpipe() {
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) != 0 || current.sa_handler != SIG_DFL)
    return;
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGPIPE, &ignore, nullptr);
}

class FrontCore;

// Collects the responses of one accepted batch and writes them as one line at the end.
class BatchReply {
 public:
  BatchReply(std::weak_ptr<FrontCore> core, std::vector<mcp::Message> early_errors)
      : core_(std::move(core)), responses_(std::move(early_errors)) {}
  void expect() { ++outstanding_; }
  void add(std::optional<mcp::Message> response);
  // Called once every element has been dispatched.
  void sealed() {
    sealed_ = true;
    flush_if_complete();
  }

 private:
  void flush_if_complete();

  std::weak_ptr<FrontCore> core_;
  std::vector<mcp::Message> responses_;
  std::size_t outstanding_ = 0;
  bool sealed_ = false;
  bool flushed_ = false;
};

class FrontCore final : public std::enable_shared_from_this<FrontCore>, mcp::NdjsonLineSink {
 public:
  FrontCore(asio::io_context& context, server::Service& service, StdioFrontOptions options)
      : context_(context),
        service_(service),
        options_(options),
        input_(context),
        output_(context),
        framer_(mcp::NdjsonFramerOptions{static_cast<std::size_t>(options.max_line_bytes)}),
        read_buffer_(kReadChunkBytes) {}

  void start(std::function<void()> on_end) {
    if (started_)
      return;
    started_ = true;
    on_end_ = std::move(on_end);
    ignore_sigpipe();
    if (!open_descriptor(options_.input_fd, input_, input_flags_) ||
        !open_descriptor(options_.output_fd, output_, output_flags_)) {
      asio::post(context_,
                 [self = shared_from_this()] { self->end("cannot use the descriptors"); });
      return;
    }
    read_next();
  }

  void shutdown(std::function<void()> done) {
    shut_down_ = true;
    on_end_ = nullptr;
    stop_input();
    close_session();
    when_flushed(std::move(done));
  }

  std::size_t requests_in_flight() const { return in_flight_; }

  void destroy() {
    on_end_ = nullptr;
    flush_waiters_.clear();
    close_session();
    error_code ignored;
    input_.close(ignored);
    output_.close(ignored);
    restore_flags();
  }

  // ---- output ----

  void write(const mcp::Message& message) { write_text(mcp::encode(message)); }

  void write_batch(const std::vector<mcp::Message>& messages) {
    write_text(mcp::encode_batch(messages));
  }

  void note_initialize_response(const mcp::Message& response) {
    if (response.kind != mcp::MessageKind::success_response || !response.result.is_object())
      return;
    auto it = response.result.find("protocolVersion");
    if (it == response.result.end() || !it->is_string())
      return;
    auto version = mcp::parse_protocol_version(it->get<std::string>());
    if (version)
      negotiated_version_ = *version;
  }

  void request_done() {
    if (in_flight_ > 0)
      --in_flight_;
  }

 private:
  // ---- descriptors ----

  // A duplicate, so that the front end never closes the process's own stdin/stdout, set to
  // non-blocking (the flags are shared with the original and restored at the end).
  bool open_descriptor(int fd, asio::posix::stream_descriptor& descriptor,
                       std::optional<int>& saved_flags) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) {
      spdlog::error("stdio: descriptor {} is not usable: {}", fd, std::strerror(errno));
      return false;
    }
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (copy < 0) {
      spdlog::error("stdio: cannot duplicate descriptor {}: {}", fd, std::strerror(errno));
      return false;
    }
    if ((flags & O_NONBLOCK) == 0 && ::fcntl(copy, F_SETFL, flags | O_NONBLOCK) == 0)
      saved_flags = flags;
    error_code error;
    descriptor.assign(copy, error);
    if (error) {
      ::close(copy);
      spdlog::error("stdio: cannot watch descriptor {}: {}", fd, error.message());
      return false;
    }
    return true;
  }

  void restore_flags() {
    if (input_flags_)
      ::fcntl(options_.input_fd, F_SETFL, *input_flags_);
    if (output_flags_)
      ::fcntl(options_.output_fd, F_SETFL, *output_flags_);
    input_flags_.reset();
    output_flags_.reset();
  }

  // ---- input ----

  void read_next() {
    if (input_done_ || reading_)
      return;
    if (queued_bytes() > options_.max_output_queue_bytes / 2) {
      paused_ = true;  // resumed by on_written once the client has caught up
      return;
    }
    paused_ = false;
    reading_ = true;
    input_.async_read_some(asio::buffer(read_buffer_),
                           [self = shared_from_this()](const error_code& error, std::size_t bytes) {
                             self->on_read(error, bytes);
                           });
  }

  void on_read(const error_code& error, std::size_t bytes) {
    reading_ = false;
    if (input_done_)
      return;
    if (bytes > 0) {
      auto fed = framer_.feed(std::string_view(read_buffer_.data(), bytes), *this);
      if (!fed)
        spdlog::warn("stdio: refused an input line: {}", fed.error().message);
      answer_refused_lines();
    }
    if (input_done_)
      return;
    if (!error) {
      read_next();
      return;
    }
    framer_.finish(*this);
    if (error != asio::error::eof)
      spdlog::warn("stdio: reading input failed: {}", error.message());
    else
      spdlog::info("stdio: input closed");
    // A client that pipes requests and then closes stdin still gets every answer: the
    // session stays open for the caller's drain.
    end("input ended", /*keep_session=*/error == asio::error::eof);
  }

  // An oversize line cannot be parsed, so its id is unknown: the answer has a null id. It is
  // written in input order, before the answers to the lines after it.
  void answer_refused_lines() {
    while (refused_answered_ < framer_.lines_dropped() && !input_done_) {
      ++refused_answered_;
      write(mcp::make_error_response(
          std::nullopt, mcp::error_code::invalid_request,
          "Message too large: the limit is " + std::to_string(options_.max_line_bytes) + " bytes"));
    }
  }

  void on_line(std::string_view line) override {
    if (input_done_)
      return;
    answer_refused_lines();
    auto decoded = mcp::decode(line);
    if (!decoded) {
      spdlog::debug("stdio: invalid input: {}", decoded.error().message);
      write(decoded.error().to_response());
      return;
    }
    capture(mcp::traffic::Direction::client_to_server, line);
    if (!decoded->is_batch) {
      dispatch(std::move(decoded->items.front().value()), nullptr);
      return;
    }
    if (negotiated_version_ != mcp::ProtocolVersion::v2025_03_26) {
      write(mcp::make_error_response(std::nullopt, mcp::error_code::invalid_request,
                                     "Invalid Request: JSON-RPC batches are only part of "
                                     "protocol version 2025-03-26"));
      return;
    }
    std::vector<mcp::Message> errors;
    std::vector<mcp::Message> messages;
    for (auto& item : decoded->items) {
      if (item)
        messages.push_back(std::move(item.value()));
      else
        errors.push_back(item.error().to_response());
    }
    auto batch = std::make_shared<BatchReply>(weak_from_this(), std::move(errors));
    for (auto& message : messages)
      dispatch(std::move(message), batch);
    batch->sealed();
  }

  void dispatch(mcp::Message message, const std::shared_ptr<BatchReply>& batch);

  // ---- output queue ----

  std::size_t queued_bytes() const { return pending_.size() + writing_.size(); }

  // Only JSON text reaches here (decoded input, encoded output).
  void capture(mcp::traffic::Direction direction, std::string_view text) {
    if (options_.recorder == nullptr)
      return;
    mcp::capture::Record context;
    context.leg = mcp::traffic::Leg::client;
    context.direction = direction;
    context.transport = mcp::traffic::Transport::stdio;
    capture::record_text(*options_.recorder, context, text);
  }

  void write_text(const std::string& text) {
    if (output_done_)
      return;
    capture(mcp::traffic::Direction::server_to_client, text);
    if (queued_bytes() + text.size() + 1 > options_.max_output_queue_bytes) {
      spdlog::error("stdio: more than {} bytes of output waiting; the client is not reading",
                    options_.max_output_queue_bytes);
      output_failed("output queue overflow");
      return;
    }
    auto appended = mcp::append_ndjson_line(pending_, text);
    if (!appended) {
      spdlog::error("stdio: not writing a message: {}", appended.error().message);
      return;
    }
    write_next();
  }

  void write_next() {
    if (writing_in_flight_ || output_done_ || !output_.is_open())
      return;
    if (pending_.empty()) {
      writing_.clear();
      notify_flushed();
      return;
    }
    writing_.swap(pending_);
    pending_.clear();
    writing_in_flight_ = true;
    asio::async_write(output_, asio::buffer(writing_),
                      [self = shared_from_this()](const error_code& error, std::size_t) {
                        self->on_written(error);
                      });
  }

  void on_written(const error_code& error) {
    writing_in_flight_ = false;
    if (output_done_)
      return;
    if (error) {
      spdlog::warn("stdio: writing output failed: {}", error.message());
      output_failed("output failed");
      return;
    }
    writing_.clear();
    if (paused_ && queued_bytes() <= options_.max_output_queue_bytes / 4)
      read_next();
    write_next();
  }

  // The output cannot be written any more: nothing queued will ever leave.
  void output_failed(const std::string& reason) {
    output_done_ = true;
    std::string().swap(pending_);
    error_code ignored;
    output_.close(ignored);
    end(reason);
    notify_flushed();
  }

  void when_flushed(std::function<void()> done) {
    if (!done)
      return;
    flush_waiters_.push_back(std::move(done));
    if (output_done_ || (!writing_in_flight_ && pending_.empty()))
      asio::post(context_, [self = shared_from_this()] { self->notify_flushed(); });
  }

  void notify_flushed() {
    if (!output_done_ && (writing_in_flight_ || !pending_.empty()))
      return;
    auto waiters = std::move(flush_waiters_);
    flush_waiters_.clear();
    for (auto& waiter : waiters)
      waiter();
  }

  // ---- ending ----

  void stop_input() {
    input_done_ = true;
    error_code ignored;
    input_.close(ignored);
  }

  void close_session() {
    if (auto session = std::move(session_)) {
      session_.reset();
      session->close();
    }
    session_closed_ = true;
  }

  // Input ended or failed (or output failed): stop reading, close the session unless it is
  // kept for draining, then on_end after the output is flushed.
  void end(const std::string& reason, bool keep_session = false) {
    if (ended_)
      return;
    ended_ = true;
    spdlog::debug("stdio: ending ({})", reason);
    stop_input();
    if (!keep_session)
      close_session();
    if (on_end_)
      when_flushed([self = shared_from_this()] {
        if (auto on_end = std::move(self->on_end_)) {
          self->on_end_ = nullptr;
          on_end();
        }
      });
  }

  asio::io_context& context_;
  server::Service& service_;
  StdioFrontOptions options_;
  asio::posix::stream_descriptor input_;
  asio::posix::stream_descriptor output_;
  std::optional<int> input_flags_;
  std::optional<int> output_flags_;
  mcp::NdjsonFramer framer_;
  std::vector<char> read_buffer_;

  std::shared_ptr<server::Session> session_;
  bool session_closed_ = false;
  std::optional<mcp::ProtocolVersion> negotiated_version_;
  std::size_t in_flight_ = 0;
  std::uint64_t refused_answered_ = 0;

  std::string pending_;
  std::string writing_;
  bool writing_in_flight_ = false;
  std::vector<std::function<void()>> flush_waiters_;

  std::function<void()> on_end_;
  bool started_ = false;
  bool reading_ = false;
  bool paused_ = false;
  bool input_done_ = false;
  bool output_done_ = false;
  bool ended_ = false;
  bool shut_down_ = false;
};

// Where a session's own messages go: stdout, like everything else.
class StdioChannel final : public server::ClientChannel {
 public:
  explicit StdioChannel(std::weak_ptr<FrontCore> core) : core_(std::move(core)) {}
  void send(mcp::Message message) override {
    if (auto core = core_.lock())
      core->write(message);
  }

 private:
  std::weak_ptr<FrontCore> core_;
};

class StdioStream final : public server::ResponseStream {
 public:
  StdioStream(std::weak_ptr<FrontCore> core, bool is_initialize, std::shared_ptr<BatchReply> batch)
      : core_(std::move(core)), is_initialize_(is_initialize), batch_(std::move(batch)) {}
  ~StdioStream() override {
    // A stream dropped without an answer counts as abandoned, so counts and batches settle.
    if (!ended_)
      end(std::nullopt);
  }

  void send(mcp::Message message) override {
    if (ended_)
      return;
    if (auto core = core_.lock())
      core->write(message);
  }
  void finish(mcp::Message response) override {
    if (ended_) {
      spdlog::warn("stdio: a second answer to one request was dropped");
      return;
    }
    end(std::move(response));
  }
  void abandon() override {
    if (!ended_)
      end(std::nullopt);
  }
  void disconnect() override {}

 private:
  void end(std::optional<mcp::Message> response) {
    ended_ = true;
    auto core = core_.lock();
    if (core && response && is_initialize_)
      core->note_initialize_response(*response);
    if (batch_) {
      batch_->add(std::move(response));
    } else if (core && response) {
      core->write(*response);
    }
    if (core)
      core->request_done();
  }

  std::weak_ptr<FrontCore> core_;
  bool is_initialize_;
  std::shared_ptr<BatchReply> batch_;
  bool ended_ = false;
};

void BatchReply::add(std::optional<mcp::Message> response) {
  if (response)
    responses_.push_back(std::move(*response));
  if (outstanding_ > 0)
    --outstanding_;
  flush_if_complete();
}

void BatchReply::flush_if_complete() {
  if (!sealed_ || outstanding_ > 0 || flushed_)
    return;
  flushed_ = true;
  if (responses_.empty())
    return;  // only notifications and responses, or every request abandoned
  if (auto core = core_.lock())
    core->write_batch(responses_);
  responses_.clear();
}

void FrontCore::dispatch(mcp::Message message, const std::shared_ptr<BatchReply>& batch) {
  if (!session_ && !session_closed_) {
    session_ = service_.open_session(std::make_shared<StdioChannel>(weak_from_this()),
                                     server::SessionOpening{"stdio", "", ""});
    if (!session_) {
      spdlog::error("stdio: the server refused the session");
      session_closed_ = true;
    }
  }
  const server::RequestContext context;
  switch (message.kind) {
    case mcp::MessageKind::request: {
      if (!session_) {
        auto refusal = mcp::make_error_response(message.id, mcp::error_code::internal_error,
                                                "Server unavailable");
        if (batch) {
          batch->expect();
          batch->add(std::move(refusal));
        } else {
          write(refusal);
        }
        return;
      }
      ++in_flight_;
      if (batch)
        batch->expect();
      auto stream =
          std::make_shared<StdioStream>(weak_from_this(), message.method == "initialize", batch);
      session_->handle_request(std::move(message), std::move(stream), context);
      return;
    }
    case mcp::MessageKind::notification:
      if (session_)
        session_->handle_notification(std::move(message), context);
      return;
    case mcp::MessageKind::success_response:
    case mcp::MessageKind::error_response:
      if (!message.id) {
        spdlog::warn("stdio: dropping an error response without an id from the client: {} {}",
                     message.error.code, message.error.message);
        return;
      }
      if (session_)
        session_->handle_response(std::move(message));
      return;
  }
}

class StdioFrontImpl final : public StdioFront {
 public:
  StdioFrontImpl(asio::io_context& context, server::Service& service, StdioFrontOptions options)
      : core_(std::make_shared<FrontCore>(context, service, options)) {}
  ~StdioFrontImpl() override { core_->destroy(); }

  void start(std::function<void()> on_end) override { core_->start(std::move(on_end)); }
  void shutdown(std::function<void()> done) override { core_->shutdown(std::move(done)); }
  std::size_t requests_in_flight() const override { return core_->requests_in_flight(); }

 private:
  std::shared_ptr<FrontCore> core_;
};

}  // namespace

std::unique_ptr<StdioFront> make_stdio_front(asio::io_context& context, server::Service& service,
                                             StdioFrontOptions options) {
  return std::make_unique<StdioFrontImpl>(context, service, options);
}

}  // namespace mcpgw::front
