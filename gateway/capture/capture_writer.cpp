// The capture writer: the event loop moves records into a bounded queue under a mutex (held for
// the push only); a thread of its own redacts, encodes and writes them in batches of whole
// lines, rotating by size. A gap left by dropped records is marked in the file by a `dropped`
// line at the place where the records are missing.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <new>
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>

#include "gateway/capture/capture_writer_testing.hpp"
#include "gateway/capture/recorder.hpp"
#include "gateway/capture/redact.hpp"
#include "gateway/runtime/write_all.hpp"

namespace mcpgw::capture {
namespace {

// Lines are joined into writes of about this size.
constexpr std::size_t kWriteChunk = 256 * 1024;
// Message bytes waiting in the queue; a record beyond is dropped (unless nothing waits), so a
// burst of large messages cannot take the memory `queue_records` alone would allow.
constexpr std::size_t kMaxQueuedBytes = 64u << 20;
constexpr std::chrono::seconds kDropWarningInterval{1};

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Entry {
  mcp::capture::Record record;
  std::uint64_t dropped_before = 0;  // records dropped just before this one
  std::int64_t first_drop_us = 0;
};

}  // namespace

struct CaptureWriter::State {
  config::CaptureConfig config;
  std::string gateway_version;
  Redactor redactor;

  // The writer thread's own: the open file and its size.
  int fd = -1;
  std::uint64_t file_bytes = 0;
  std::uint32_t file_index = 0;

  std::mutex mutex;
  std::condition_variable work_ready;
  std::deque<Entry> queue;
  std::size_t in_flight = 0;        // records queued (the writer's batch aside)
  std::size_t in_flight_bytes = 0;  // their message bytes
  std::uint64_t gap = 0;            // dropped since the last accepted record
  std::int64_t gap_first_us = 0;
  bool stopping = false;
  bool closed = false;
  bool paused = false;  // tests only (CaptureWriterTestAccess): the writer leaves the queue be

  std::atomic<std::uint64_t> written{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> rotated{0};
  std::atomic<std::uint64_t> write_errors{0};
  std::atomic<std::uint64_t> unredactable{0};
  std::atomic<std::int64_t> last_drop_warning_ns{0};

  std::thread thread;

  State(const config::CaptureConfig& capture_config, std::string_view version,
        std::vector<RedactPath> paths)
      : config(capture_config),
        gateway_version(version),
        redactor(capture_config.redact_headers, std::move(paths)) {}

  // Opens PATH for appending (0600) and writes the file's header line; on an existing file
  // whose last line was cut (a SIGKILL), the header starts on a line of its own.
  bool open_file(std::string& error) {
    // O_NONBLOCK so that a FIFO without a reader fails at once instead of hanging serve.
    fd = ::open(config.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK,
                S_IRUSR | S_IWUSR);
    if (fd < 0) {
      error = "cannot open capture file '" + config.path + "': " + std::strerror(errno);
      return false;
    }
    struct stat status {};
    if (::fstat(fd, &status) != 0) {
      error = "cannot stat capture file '" + config.path + "': " + std::strerror(errno);
      return false;
    }
    if (!S_ISREG(status.st_mode)) {
      error = "capture file '" + config.path + "' is not a regular file";
      return false;
    }
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
      error = "cannot configure capture file '" + config.path + "': " + std::strerror(errno);
      return false;
    }
    if ((status.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
      spdlog::warn(
          "capture file '{}' is accessible to other users (mode {:o}); it was created before, "
          "mcpgw creates it with 0600",
          config.path, status.st_mode & 0777);
    }
    file_bytes = static_cast<std::uint64_t>(status.st_size);
    std::string start;
    if (file_bytes > 0) {
      char last = '\n';
      const int reader = ::open(config.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (reader >= 0) {
        if (::pread(reader, &last, 1, status.st_size - 1) != 1)
          last = '\n';
        ::close(reader);
      }
      if (last != '\n')
        start.push_back('\n');
    }
    start += mcp::capture::encode_header(now_us(), gateway_version, file_index);
    start.push_back('\n');
    if (!runtime::write_all(fd, start)) {
      error = "cannot write capture file '" + config.path + "': " + std::strerror(errno);
      return false;
    }
    file_bytes += start.size();
    return true;
  }

  std::string rotated_name(std::uint32_t index) const {
    return config.path + "." + std::to_string(index);
  }

  // PATH.(n-1) -> PATH.n ... PATH -> PATH.1, then a new PATH with its header.
  void rotate() {
    ::fsync(fd);
    ::close(fd);
    fd = -1;
    if (config.max_files == 0) {
      ::unlink(config.path.c_str());
    } else {
      for (std::uint32_t index = config.max_files; index > 1; --index)
        ::rename(rotated_name(index - 1).c_str(), rotated_name(index).c_str());
      if (::rename(config.path.c_str(), rotated_name(1).c_str()) != 0)
        spdlog::warn("capture: cannot rename '{}': {}", config.path, std::strerror(errno));
    }
    rotated.fetch_add(1, std::memory_order_relaxed);
    ++file_index;
    file_bytes = 0;
    std::string error;
    if (!open_file(error)) {
      write_errors.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("capture: {}; capture stops", error);
      if (fd >= 0)
        ::close(fd);
      fd = -1;
    }
  }

  // Writes `chunk` (whole lines) and counts its `messages` as written or lost.
  void write_chunk(std::string& chunk, std::uint64_t& messages) {
    if (chunk.empty())
      return;
    if (fd >= 0 && runtime::write_all(fd, chunk)) {
      file_bytes += chunk.size();
      written.fetch_add(messages, std::memory_order_relaxed);
    } else {
      if (write_errors.fetch_add(1, std::memory_order_relaxed) == 0)
        spdlog::error("capture: writing '{}' failed: {}; the records are lost", config.path,
                      fd >= 0 ? std::strerror(errno) : "the file is not open");
    }
    chunk.clear();
    messages = 0;
  }

  // Adds one line, rotating first when it would take the file beyond max_file_bytes (a file
  // always keeps at least one line after its header, however large).
  void add_line(std::string& chunk, std::uint64_t& messages, std::string_view line, bool is_message,
                std::uint64_t& header_bytes) {
    const std::uint64_t line_bytes = line.size() + 1;
    if (config.max_file_bytes > 0 &&
        file_bytes + chunk.size() + line_bytes > config.max_file_bytes &&
        file_bytes + chunk.size() > header_bytes) {
      write_chunk(chunk, messages);
      rotate();
      header_bytes = file_bytes;
    }
    chunk.append(line);
    chunk.push_back('\n');
    if (is_message)
      ++messages;
    if (chunk.size() >= kWriteChunk)
      write_chunk(chunk, messages);
  }

  void run() {
    std::deque<Entry> batch;
    std::string chunk;
    std::string line;
    std::uint64_t messages = 0;
    std::uint64_t header_bytes = file_bytes;  // bytes of the current file up to its header
    while (true) {
      std::uint64_t tail_gap = 0;
      std::int64_t tail_gap_us = 0;
      {
        std::unique_lock lock(mutex);
        work_ready.wait(lock, [&] { return stopping || (!paused && (!queue.empty() || gap > 0)); });
        if (queue.empty() && gap == 0 && stopping)
          break;
        batch.swap(queue);
        // The bound counts waiting records; the writer holds at most one batch besides.
        in_flight = 0;
        in_flight_bytes = 0;
        // Drops after the last queued record: their gap is marked after the batch.
        tail_gap = std::exchange(gap, 0);
        tail_gap_us = gap_first_us;
      }
      for (auto& entry : batch) {
        if (entry.dropped_before > 0) {
          add_line(chunk, messages,
                   mcp::capture::encode_dropped(entry.first_drop_us, entry.dropped_before), false,
                   header_bytes);
        }
        if (redactor.apply(entry.record) == Redactor::Outcome::unparseable)
          unredactable.fetch_add(1, std::memory_order_relaxed);
        line.clear();
        mcp::capture::encode_record(entry.record, line);
        add_line(chunk, messages, line, true, header_bytes);
      }
      if (tail_gap > 0) {
        add_line(chunk, messages, mcp::capture::encode_dropped(tail_gap_us, tail_gap), false,
                 header_bytes);
      }
      write_chunk(chunk, messages);
      batch.clear();
      if (chunk.capacity() > 4 * kWriteChunk)
        std::string().swap(chunk);  // one huge message must not pin its memory
    }
    if (fd >= 0)
      ::fsync(fd);
  }

  // Under `mutex`. False when memory ran out: the record is dropped like one that did not fit.
  bool push(mcp::capture::Record&& record) noexcept {
    try {
      queue.push_back(Entry{std::move(record), gap, gap_first_us});
    } catch (const std::bad_alloc&) {
      return false;
    }
    gap = 0;
    return true;
  }

  void warn_dropped(std::uint64_t total) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
    auto last = last_drop_warning_ns.load(std::memory_order_relaxed);
    if (last != 0 && now_ns - last < std::chrono::nanoseconds(kDropWarningInterval).count())
      return;
    if (!last_drop_warning_ns.compare_exchange_strong(last, now_ns, std::memory_order_relaxed))
      return;
    spdlog::warn(
        "capture: {} record(s) dropped so far; the writer is behind (queue of {} records full)",
        total, config.queue_records);
  }
};

std::unique_ptr<CaptureWriter> CaptureWriter::open(const config::CaptureConfig& config,
                                                   std::string_view gateway_version,
                                                   std::string& error) {
  error.clear();
  if (config.path.empty()) {
    error = "the capture path is empty";
    return nullptr;
  }
  std::vector<RedactPath> paths;
  for (const auto& text : config.redact_paths) {
    std::string why;
    auto path = parse_redact_path(text, why);
    if (!path) {
      error = "capture redact path '" + text + "': " + why;
      return nullptr;
    }
    paths.push_back(std::move(*path));
  }
  std::unique_ptr<CaptureWriter> writer(new CaptureWriter());
  writer->state_ = std::make_unique<State>(config, gateway_version, std::move(paths));
  State& state = *writer->state_;
  if (state.config.queue_records == 0)
    state.config.queue_records = 1;
  if (!state.open_file(error)) {
    if (state.fd >= 0)
      ::close(state.fd);
    state.fd = -1;
    state.closed = true;
    return nullptr;
  }
  state.thread = std::thread([&state] { state.run(); });
  return writer;
}

CaptureWriter::~CaptureWriter() {
  flush_and_close();
}

bool CaptureWriter::wants_header(std::string_view lower_name) const noexcept {
  return Recorder::wants_header(lower_name) ||
         (state_ != nullptr && state_->redactor.redacts_header(lower_name));
}

void CaptureWriter::record(mcp::capture::Record&& record) noexcept {
  State& state = *state_;
  std::uint64_t total = 0;
  {
    std::lock_guard lock(state.mutex);
    const std::size_t bytes = record.message.size();
    const bool fits = !state.closed && state.in_flight < state.config.queue_records &&
                      (state.in_flight == 0 || state.in_flight_bytes + bytes <= kMaxQueuedBytes);
    if (fits && state.push(std::move(record))) {
      ++state.in_flight;
      state.in_flight_bytes += bytes;
      state.work_ready.notify_one();
      return;
    }
    total = state.dropped.fetch_add(1, std::memory_order_relaxed) + 1;
    if (!state.closed && state.gap++ == 0)
      state.gap_first_us = now_us();
  }
  state.warn_dropped(total);
}

void CaptureWriter::flush_and_close() noexcept {
  if (state_ == nullptr)
    return;
  State& state = *state_;
  {
    std::lock_guard lock(state.mutex);
    if (state.closed)
      return;
    state.closed = true;
    state.stopping = true;
    state.paused = false;
  }
  state.work_ready.notify_one();
  if (state.thread.joinable())
    state.thread.join();
  if (state.fd >= 0) {
    ::fsync(state.fd);
    ::close(state.fd);
    state.fd = -1;
  }
}

CaptureCounters CaptureWriter::counters() const noexcept {
  CaptureCounters counters;
  counters.written = state_->written.load(std::memory_order_relaxed);
  counters.dropped = state_->dropped.load(std::memory_order_relaxed);
  counters.rotated = state_->rotated.load(std::memory_order_relaxed);
  counters.write_errors = state_->write_errors.load(std::memory_order_relaxed);
  counters.unredactable = state_->unredactable.load(std::memory_order_relaxed);
  return counters;
}

void CaptureWriterTestAccess::set_paused(CaptureWriter& writer, bool paused) {
  {
    std::lock_guard lock(writer.state_->mutex);
    writer.state_->paused = paused;
  }
  writer.state_->work_ready.notify_one();
}

}  // namespace mcpgw::capture
