#include "gateway/upstream/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace mcpgw::upstream::process {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void UniqueFd::reset() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

namespace {

std::string errno_text(int error) {
  return std::strerror(error);
}

// The child's dup2 onto 0/1/2 must never overwrite one of its own pipe ends, so every pipe end
// lives at 3 or above (the gateway's own stdin/stdout may be closed, making pipe() return 0..2).
bool move_above_stdio(UniqueFd& fd) {
  if (fd.get() > 2)
    return true;
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0)
    return false;
  fd = UniqueFd(moved);
  return true;
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

mcp::Expected<Pipe, int> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return mcp::unexpected(errno);
  Pipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  if (!move_above_stdio(pipe.read) || !move_above_stdio(pipe.write))
    return mcp::unexpected(errno);
  return pipe;
}

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> entries;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::string name(text.substr(0, text.find('=')));
    if (extra.find(name) == extra.end())
      entries.emplace_back(text);
  }
  for (const auto& [name, value] : extra)
    entries.push_back(name + "=" + value);
  return entries;
}

std::string environment_value(const std::vector<std::string>& environment, std::string_view name) {
  for (const auto& entry : environment) {
    if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
        entry[name.size()] == '=')
      return entry.substr(name.size() + 1);
  }
  return {};
}

bool is_executable_file(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

// execvp's lookup, but with the PATH the child will have (the backend may set its own), and
// with relative PATH entries taken from the child's working directory.
mcp::Expected<std::string, std::string> resolve_program(const std::string& program,
                                                        const std::vector<std::string>& environment,
                                                        const std::string& cwd) {
  if (program.find('/') != std::string::npos)
    return program;  // relative paths resolve against cwd: the child changes directory first
  std::string path = environment_value(environment, "PATH");
  if (path.empty())
    path = "/usr/local/bin:/usr/bin:/bin";
  std::size_t begin = 0;
  while (begin <= path.size()) {
    std::size_t end = path.find(':', begin);
    if (end == std::string::npos)
      end = path.size();
    std::string directory = path.substr(begin, end - begin);
    if (directory.empty())
      directory = ".";
    std::string candidate = directory + "/" + program;
    if (candidate.front() != '/' && !cwd.empty())
      candidate = cwd + "/" + candidate;
    if (is_executable_file(candidate))
      return candidate;
    begin = end + 1;
  }
  return mcp::unexpected("cannot start '" + program + "': not found in PATH (" +
                         errno_text(ENOENT) + ")");
}

class FileActions {
 public:
  FileActions() { ::posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { ::posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

class SpawnAttributes {
 public:
  SpawnAttributes() { ::posix_spawnattr_init(&attributes_); }
  ~SpawnAttributes() { ::posix_spawnattr_destroy(&attributes_); }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
  posix_spawnattr_t* get() { return &attributes_; }

 private:
  posix_spawnattr_t attributes_;
};

}  // namespace

mcp::Expected<SpawnedProcess, std::string> spawn(const SpawnRequest& request) {
  if (request.argv.empty() || request.argv.front().empty())
    return mcp::unexpected(std::string("no command configured"));
  const std::string& program = request.argv.front();
  if (!request.cwd.empty()) {
    struct stat info {};
    if (::stat(request.cwd.c_str(), &info) != 0)
      return mcp::unexpected("working directory '" + request.cwd + "': " + errno_text(errno));
    if (!S_ISDIR(info.st_mode))
      return mcp::unexpected("working directory '" + request.cwd + "': " + errno_text(ENOTDIR));
  }

  std::vector<std::string> environment = merged_environment(request.env);
  auto path = resolve_program(program, environment, request.cwd);
  if (!path)
    return mcp::unexpected(path.error());

  auto child_stdin = make_pipe();
  auto child_stdout = make_pipe();
  auto child_stderr = make_pipe();
  for (const auto* pipe : {&child_stdin, &child_stdout, &child_stderr}) {
    if (!*pipe)
      return mcp::unexpected("cannot create pipes: " + errno_text(pipe->error()));
  }

  FileActions actions;
  int failed = ::posix_spawn_file_actions_adddup2(actions.get(), child_stdin->read.get(), 0);
  if (failed == 0)
    failed = ::posix_spawn_file_actions_adddup2(actions.get(), child_stdout->write.get(), 1);
  if (failed == 0)
    failed = ::posix_spawn_file_actions_adddup2(actions.get(), child_stderr->write.get(), 2);
  if (failed == 0 && !request.cwd.empty())
    failed = ::posix_spawn_file_actions_addchdir_np(actions.get(), request.cwd.c_str());
  // Whatever the gateway has open without O_CLOEXEC (sockets from libraries) stays behind.
  if (failed == 0)
    failed = ::posix_spawn_file_actions_addclosefrom_np(actions.get(), 3);

  SpawnAttributes attributes;
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  sigset_t all_signals;
  sigfillset(&all_signals);
  if (failed == 0)
    failed = ::posix_spawnattr_setflags(
        attributes.get(),
        static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
  if (failed == 0)
    failed = ::posix_spawnattr_setpgroup(attributes.get(), 0);
  if (failed == 0)
    failed = ::posix_spawnattr_setsigmask(attributes.get(), &empty_mask);
  // The gateway ignores SIGPIPE; the child must not inherit that.
  if (failed == 0)
    failed = ::posix_spawnattr_setsigdefault(attributes.get(), &all_signals);
  if (failed != 0)
    return mcp::unexpected("cannot prepare to start '" + program + "': " + errno_text(failed));

  std::vector<std::string> arguments = request.argv;
  std::vector<char*> argv;
  argv.reserve(arguments.size() + 1);
  for (auto& argument : arguments)
    argv.push_back(argument.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(environment.size() + 1);
  for (auto& entry : environment)
    envp.push_back(entry.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  // glibc reports exec failures (ENOENT, EACCES, ENOEXEC, a bad cwd) as the return value and
  // has already reaped the failed child then.
  failed =
      ::posix_spawn(&pid, path->c_str(), actions.get(), attributes.get(), argv.data(), envp.data());
  if (failed != 0)
    return mcp::unexpected("cannot start '" + program + "': " + errno_text(failed));

  SpawnedProcess spawned;
  spawned.pid = pid;
  spawned.stdin_fd = std::move(child_stdin->write);
  spawned.stdout_fd = std::move(child_stdout->read);
  spawned.stderr_fd = std::move(child_stderr->read);
  return spawned;
}

std::string ExitStatus::describe() const {
  if (unknown)
    return "exited (status unknown)";
  if (signaled) {
    const char* name = ::strsignal(code);
    return "killed by signal " + std::to_string(code) +
           (name != nullptr ? std::string(" (") + name + ")" : std::string());
  }
  return "exited with status " + std::to_string(code);
}

namespace {

ExitStatus from_wait_status(int status) {
  ExitStatus exit;
  if (WIFSIGNALED(status)) {
    exit.signaled = true;
    exit.code = WTERMSIG(status);
  } else {
    exit.code = WEXITSTATUS(status);
  }
  return exit;
}

}  // namespace

std::optional<ExitStatus> try_reap(pid_t pid) {
  for (;;) {
    int status = 0;
    const pid_t result = ::waitpid(pid, &status, WNOHANG);
    if (result == pid)
      return from_wait_status(status);
    if (result == 0)
      return std::nullopt;
    if (errno == EINTR)
      continue;
    ExitStatus unknown;
    unknown.unknown = true;
    return unknown;
  }
}

ExitStatus reap_blocking(pid_t pid) {
  for (;;) {
    int status = 0;
    const pid_t result = ::waitpid(pid, &status, 0);
    if (result == pid)
      return from_wait_status(status);
    if (result < 0 && errno == EINTR)
      continue;
    ExitStatus unknown;
    unknown.unknown = true;
    return unknown;
  }
}

void signal_group(pid_t pid, int signal) {
  if (pid <= 0)
    return;
  if (::kill(-pid, signal) != 0)
    ::kill(pid, signal);
}

namespace {
bool pidfd_disabled = false;
}  // namespace

void set_pidfd_disabled(bool disabled) {
  pidfd_disabled = disabled;
}

UniqueFd open_pidfd(pid_t pid) {
  if (pidfd_disabled)
    return UniqueFd();
#ifdef SYS_pidfd_open
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0)
    return UniqueFd(static_cast<int>(fd));  // pidfds are close-on-exec by definition
#else
  (void)pid;
#endif
  return UniqueFd();
}

void ignore_sigpipe() {
  static const bool done = [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) != 0 || current.sa_handler != SIG_DFL)
      return false;  // somebody installed a handler of their own: leave it
    struct sigaction action {};
    action.sa_handler = SIG_IGN;
    sigemptyset(&action.sa_mask);
    return ::sigaction(SIGPIPE, &action, nullptr) == 0;
  }();
  (void)done;
}

}  // namespace mcpgw::upstream::process
