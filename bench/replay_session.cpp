// The baseline of the replay benchmark (bench/replay.sh): a minimal stdio MCP client that
// starts `mcpgw-fixture stdio`, initializes and makes N echo calls one after another, and
// writes the conversation as a labelled stdio transcript ("TIME > msg" / "TIME < msg"), which
// is the recording `mcpgw replay` then re-sends. The wall time of this run, from spawning the
// fixture to its exit, is the backend's own time plus the least a client can add; replay's
// overhead is what it needs beyond that.
// It waits for answers with poll(2), or with --epoll with epoll_wait(2) as event loops (Asio,
// libuv) do. Wake-up costs of the two can differ between kernels and machines, so the
// benchmark measures both and reports replay's overhead against each.
//   replay_session [--epoll] FIXTURE_BINARY TRANSCRIPT [EXCHANGES] [TEXT_BYTES]
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

std::string now_rfc3339() {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(micros % 1'000'000));
  return text;
}

class Fixture {
 public:
  Fixture(const std::string& binary, bool use_epoll) {
    int in[2];
    int out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
      std::perror("pipe2");
      std::exit(2);
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::string program = binary;
    std::string mode = "stdio";
    char* argv[] = {program.data(), mode.data(), nullptr};
    const int spawned = ::posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      std::fprintf(stderr, "cannot start %s: %s\n", program.c_str(), std::strerror(spawned));
      std::exit(2);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_child_ = in[1];
    from_child_ = out[0];
    if (use_epoll) {
      epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
      epoll_event interest{};
      interest.events = EPOLLIN;
      interest.data.fd = from_child_;
      if (epoll_ < 0 || ::epoll_ctl(epoll_, EPOLL_CTL_ADD, from_child_, &interest) != 0) {
        std::perror("epoll");
        std::exit(2);
      }
    }
  }
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;

  void write_line(const std::string& line) {
    const std::string text = line + "\n";
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(to_child_, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        std::perror("write to the fixture");
        std::exit(2);
      }
      done += static_cast<std::size_t>(n);
    }
  }

  std::string read_line() {
    for (;;) {
      if (const auto newline = buffer_.find('\n', scanned_); newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        scanned_ = 0;
        return line;
      }
      scanned_ = buffer_.size();
      if (wait_readable() <= 0) {
        std::fprintf(stderr, "the fixture did not answer within 20 s\n");
        std::exit(2);
      }
      char chunk[65536];
      const ssize_t n = ::read(from_child_, chunk, sizeof chunk);
      if (n <= 0) {
        std::fprintf(stderr, "the fixture closed its output\n");
        std::exit(2);
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  int finish() {
    if (epoll_ >= 0)
      ::close(epoll_);
    ::close(to_child_);
    ::close(from_child_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  int wait_readable() {
    if (epoll_ >= 0) {
      epoll_event ready{};
      return ::epoll_wait(epoll_, &ready, 1, 20'000);
    }
    pollfd ready{from_child_, POLLIN, 0};
    return ::poll(&ready, 1, 20'000);
  }

  pid_t pid_ = -1;
  int epoll_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string buffer_;
  std::size_t scanned_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const bool use_epoll = argc > 1 && std::strcmp(argv[1], "--epoll") == 0;
  if (use_epoll) {
    --argc;
    ++argv;
  }
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s [--epoll] FIXTURE_BINARY TRANSCRIPT [EXCHANGES] [TEXT_BYTES]\n",
                 argv[0]);
    return 2;
  }
  const std::string transcript_path = argv[2];
  const long exchanges = argc > 3 ? std::strtol(argv[3], nullptr, 10) : 10'000;
  const long text_bytes = argc > 4 ? std::strtol(argv[4], nullptr, 10) : 64;
  if (exchanges < 1 || exchanges > 10'000'000 || text_bytes < 1 || text_bytes > (1 << 20)) {
    std::fprintf(stderr, "EXCHANGES must be 1..10000000 and TEXT_BYTES 1..1048576\n");
    return 2;
  }
  std::string transcript;
  transcript.reserve(static_cast<std::size_t>(exchanges) * static_cast<std::size_t>(text_bytes) *
                     3);
  const auto started = std::chrono::steady_clock::now();
  Fixture fixture(argv[1], use_epoll);
  auto exchange = [&](const std::string& request, bool answered) {
    transcript += now_rfc3339() + " > " + request + "\n";
    fixture.write_line(request);
    if (answered)
      transcript += now_rfc3339() + " < " + fixture.read_line() + "\n";
  };
  exchange(
      R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"replay-bench","version":"1"}}})",
      true);
  exchange(R"({"jsonrpc":"2.0","method":"notifications/initialized"})", false);
  const std::string filler(static_cast<std::size_t>(text_bytes), 'x');
  for (long i = 1; i <= exchanges; ++i) {
    exchange(R"({"jsonrpc":"2.0","id":)" + std::to_string(i) +
                 R"(,"method":"tools/call","params":{"name":"echo","arguments":{"text":")" +
                 std::to_string(i) + filler + R"("}}})",
             true);
  }
  const int status = fixture.finish();
  const auto elapsed = std::chrono::steady_clock::now() - started;
  const double micros = std::chrono::duration<double, std::micro>(elapsed).count();
  std::ofstream(transcript_path, std::ios::binary) << transcript;
  std::printf("raw client: %ld exchanges in %.1f ms (%.2f us per exchange), fixture exit %d\n",
              exchanges, micros / 1000.0, micros / static_cast<double>(exchanges), status);
  return status == 0 ? 0 : 1;
}
