// Child processes for the stdio transport: spawning with pipes (no shell, close-on-exec
// everywhere, own process group), signalling the group and reaping. POSIX only; no Asio here.
// Private to gateway/upstream.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mcp/expected.hpp"

namespace mcpgw::upstream::process {

// Owns one file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  // Gives up ownership (e.g. to an Asio descriptor).
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset() noexcept;

 private:
  int fd_ = -1;
};

struct SpawnRequest {
  std::vector<std::string> argv;  // argv[0] is looked up in the PATH of the child's environment
  std::map<std::string, std::string> env;  // added to (and overriding) the gateway's environment
  std::string cwd;                         // empty: the gateway's
};

struct SpawnedProcess {
  pid_t pid = -1;      // also the process group id
  UniqueFd stdin_fd;   // write end
  UniqueFd stdout_fd;  // read end
  UniqueFd stderr_fd;  // read end
};

// Starts the program with its stdin, stdout and stderr on pipes, as the leader of a new process
// group, with default signal dispositions and an empty signal mask, and with no other
// descriptor of the gateway open. The error is a one-line description with the errno text
// (program not found, not executable, bad cwd, ...); the failed child is already reaped.
mcp::Expected<SpawnedProcess, std::string> spawn(const SpawnRequest& request);

struct ExitStatus {
  bool signaled = false;         // killed by a signal (code is the signal number)
  int code = 0;                  // exit status or signal number
  bool unknown = false;          // somebody else reaped the child (waitpid gave ECHILD)
  std::string describe() const;  // "exited with status 3", "killed by signal 9 (Killed)"
};

// waitpid(pid, WNOHANG): the status once the child has ended (it is reaped then), else empty.
std::optional<ExitStatus> try_reap(pid_t pid);
// Blocks until the child has ended and reaps it. Used after SIGKILL only.
ExitStatus reap_blocking(pid_t pid);
// Sends `signal` to the child's process group (so helpers it started go too), falling back to
// the child alone. Only valid before the child is reaped, while its pid cannot be reused.
void signal_group(pid_t pid, int signal);
// A pidfd for the child (readable once it has exited), or an invalid fd where the kernel has
// no pidfd_open (before 5.3) or a sandbox forbids it.
UniqueFd open_pidfd(pid_t pid);
// Tests: makes open_pidfd() fail, to exercise the waitpid polling fallback.
void set_pidfd_disabled(bool disabled);
// Writing to a pipe whose reader is gone must be an EPIPE error, not a SIGPIPE that ends the
// gateway: sets SIGPIPE to ignored once per process (children get the default back).
void ignore_sigpipe();

}  // namespace mcpgw::upstream::process
