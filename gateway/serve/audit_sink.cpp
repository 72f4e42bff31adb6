// The [audit] sink: the event loop formats a record and queues the line; a writer thread of its
// own writes queued lines in batches. This is the one place of serve that runs off the loop, so
// the queue is shared under a mutex. Its bound counts every line not yet written (queued or in
// the writer's hands), so memory stays bounded however slow the disk or pipe is.
#include "gateway/serve/audit_sink.hpp"

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
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>

#include "gateway/runtime/write_all.hpp"

namespace mcpgw::serve {
namespace {

// A warning about lost records at most this often: a flood of drops must not flood the log too.
constexpr std::chrono::seconds kDropWarningInterval{10};
// Lines are joined into writes of about this size.
constexpr std::size_t kWriteChunk = 64 * 1024;

class ThreadedAuditSink final : public policy::AuditSink {
 public:
  ThreadedAuditSink(int fd, bool owns_fd, std::string name, std::size_t max_queued)
      : fd_(fd),
        owns_fd_(owns_fd),
        name_(std::move(name)),
        max_queued_(std::max<std::size_t>(max_queued, 1)),
        writer_([this] { write_loop(); }) {}

  ~ThreadedAuditSink() override {
    flush();
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    work_ready_.notify_one();
    writer_.join();
    if (owns_fd_)
      ::close(fd_);
    const std::uint64_t lost = dropped_.load(std::memory_order_relaxed);
    if (lost > 0)
      spdlog::warn("audit: {} record(s) were dropped in total (sink {})", lost, name_);
  }

  ThreadedAuditSink(const ThreadedAuditSink&) = delete;
  ThreadedAuditSink& operator=(const ThreadedAuditSink&) = delete;

  void record(const policy::AuditRecord& record) override {
    std::string line = policy::audit_json_line(record);
    line.push_back('\n');
    {
      std::lock_guard lock(mutex_);
      if (queued_ - written_ < max_queued_) {
        queue_.push_back(std::move(line));
        ++queued_;
        work_ready_.notify_one();
        return;
      }
    }
    const std::uint64_t lost = dropped_.fetch_add(1, std::memory_order_relaxed) + 1;
    warn_dropped(lost, "the queue is full; the sink is slower than the decisions");
  }

  std::uint64_t dropped() const noexcept override {
    return dropped_.load(std::memory_order_relaxed);
  }

  void flush() override {
    std::unique_lock lock(mutex_);
    const std::uint64_t target = queued_;
    written_or_failed_.wait(lock, [&] { return written_ >= target; });
  }

 private:
  void write_loop() {
    std::deque<std::string> batch;
    std::string chunk;
    while (true) {
      {
        std::unique_lock lock(mutex_);
        work_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty())
          return;  // stopping, and flush() has seen everything written
        batch.swap(queue_);
      }
      while (!batch.empty()) {
        chunk.clear();
        std::size_t lines = 0;
        while (!batch.empty() &&
               (lines == 0 || chunk.size() + batch.front().size() <= kWriteChunk)) {
          chunk += batch.front();
          batch.pop_front();
          ++lines;
        }
        if (!runtime::write_all(fd_, chunk)) {
          const int error = errno;
          // Counted before flush() can see these lines as done.
          dropped_.fetch_add(lines, std::memory_order_relaxed);
          warn_write_failed(error);
        }
        {
          std::lock_guard lock(mutex_);
          written_ += lines;
        }
        written_or_failed_.notify_all();
      }
      if (chunk.capacity() > 4 * kWriteChunk)
        std::string().swap(chunk);  // one huge line must not pin its memory
    }
  }

  void warn_dropped(std::uint64_t lost, const char* why) {
    if (!warning_due())
      return;
    spdlog::warn("audit: {} record(s) dropped so far (sink {}): {}", lost, name_, why);
  }

  void warn_write_failed(int error) {
    if (!warning_due())
      return;
    spdlog::warn("audit: writing to {} failed: {}; the records are lost", name_,
                 std::strerror(error));
  }

  // Both threads warn; the rate limit is shared.
  bool warning_due() {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(warning_mutex_);
    if (warned_once_ && now - last_warning_ < kDropWarningInterval)
      return false;
    warned_once_ = true;
    last_warning_ = now;
    return true;
  }

  const int fd_;
  const bool owns_fd_;
  const std::string name_;
  const std::size_t max_queued_;

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable written_or_failed_;
  std::deque<std::string> queue_;
  std::uint64_t queued_ = 0;   // lines accepted so far
  std::uint64_t written_ = 0;  // of those, lines the writer is done with (written or failed)
  bool stopping_ = false;

  std::atomic<std::uint64_t> dropped_{0};

  std::mutex warning_mutex_;
  bool warned_once_ = false;
  std::chrono::steady_clock::time_point last_warning_{};

  std::thread writer_;  // last: starts after everything it uses is constructed
};

// O_NONBLOCK for the open only, so a FIFO without a reader fails (ENXIO) instead of hanging
// serve at start; writes block again afterwards (in the writer thread, never in the loop).
int open_for_append(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK,
                        S_IRUSR | S_IWUSR);
  if (fd < 0) {
    error = "cannot open audit log '" + path + "': " + std::strerror(errno);
    return -1;
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
    error = "cannot configure audit log '" + path + "': " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  struct stat status {};
  if (::fstat(fd, &status) == 0 && S_ISREG(status.st_mode) &&
      (status.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    spdlog::warn(
        "audit log '{}' is accessible to other users (mode {:o}); it was created "
        "before, mcpgw creates it with 0600",
        path, status.st_mode & 0777);
  }
  return fd;
}

}  // namespace

std::unique_ptr<policy::AuditSink> make_audit_sink(const config::AuditConfig& audit,
                                                   std::string& error, std::size_t max_queued) {
  error.clear();
  if (audit.sink == "stderr")
    return std::make_unique<ThreadedAuditSink>(STDERR_FILENO, false, "stderr", max_queued);
  if (audit.sink == "stdout")
    return std::make_unique<ThreadedAuditSink>(STDOUT_FILENO, false, "stdout", max_queued);
  if (audit.sink.empty()) {
    error = "the audit sink is empty; use \"stderr\", \"stdout\" or a file path";
    return nullptr;
  }
  const int fd = open_for_append(audit.sink, error);
  if (fd < 0)
    return nullptr;
  return std::make_unique<ThreadedAuditSink>(fd, true, "'" + audit.sink + "'", max_queued);
}

}  // namespace mcpgw::serve
