// The immutable gateway configuration and the one loader that serve and lint share.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/config/diagnostic.hpp"
#include "gateway/policy/policy.hpp"
#include "gateway/policy/rate_limit.hpp"
#include "gateway/policy/spec.hpp"
#include "gateway/policy/testing.hpp"

namespace mcpgw::config {

enum class PrefixMode { automatic, always, never };

struct TlsListenerConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // set: client certificates are verified (mTLS)
  bool require_client_cert = false;
  std::string min_version = "1.2";
};

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  std::string host;  // parsed from listen
  std::uint16_t port = 8080;
  std::string path = "/mcp";
  std::string sse_path = "/sse";          // legacy HTTP+SSE front end: the GET stream
  std::string message_path = "/message";  // legacy HTTP+SSE front end: where clients POST
  std::string separator = "__";
  PrefixMode prefix = PrefixMode::automatic;
  std::vector<std::string> allowed_hosts;    // empty: defaults derived from listen
  std::vector<std::string> allowed_origins;  // empty: only same-origin loopback
  std::uint64_t max_body_bytes = 4u << 20;
  std::uint64_t max_sse_event_bytes = 16u << 20;
  std::uint64_t max_line_bytes = 16u << 20;
  std::uint32_t max_sessions = 10000;
  std::chrono::milliseconds session_idle_timeout{30 * 60 * 1000};
  std::chrono::milliseconds request_timeout{60 * 1000};
  std::uint32_t max_requests_per_session = 64;  // client requests in flight per session
  std::uint32_t stream_replay_events = 256;     // SSE events kept per stream for Last-Event-ID
  std::chrono::milliseconds drain_timeout{10 * 1000};  // on SIGTERM/SIGINT
  // Hard limits of the HTTP front ends (issue 4); each refusal has its own status code.
  std::uint64_t max_header_bytes = 64u << 10;           // request line + headers: 431 beyond
  std::uint32_t max_connections = 4096;                 // open at once: 503 beyond
  std::uint32_t max_sessions_per_principal = 100;       // 0: no per-principal bound; 429 beyond
  std::chrono::milliseconds header_timeout{10 * 1000};  // whole head must arrive (slowloris)
  std::chrono::milliseconds body_timeout{30 * 1000};    // whole body must arrive after the head
  std::chrono::milliseconds idle_timeout{60 * 1000};    // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30 * 1000};   // one write to a client
  std::uint64_t max_rate_limit_buckets = 100000;        // limiter state entries (memory bound)
  std::optional<TlsListenerConfig> tls;
  SourceLocation where;
};

enum class BackendTransport { stdio, streamable_http, sse };

// per_session: every client session gets its own upstream session (a process for stdio), so
// server-to-client requests have exactly one owner. shared: one upstream session serves every
// client; ids are rewritten, and a backend request is routed to the one client session with a
// request in flight to it, or refused when that is ambiguous.
enum class SessionMode { per_session, shared };

struct BackendConfig {
  std::string name;
  BackendTransport transport = BackendTransport::stdio;
  // stdio
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  std::string cwd;
  // HTTP
  std::string url;
  std::map<std::string, std::string> headers;
  std::vector<std::string> forward_headers;  // client headers allowed to go upstream
  bool tls_verify = true;
  std::string ca_file;
  std::chrono::milliseconds timeout{60 * 1000};
  SessionMode session_mode = SessionMode::per_session;
  bool fail_closed =
      false;  // true: while this backend is down, lists fail instead of being partial
  std::chrono::milliseconds restart_backoff{250};  // first restart delay, doubled each time
  std::chrono::milliseconds restart_backoff_max{30 * 1000};
  std::chrono::milliseconds connect_timeout{10 * 1000};  // HTTP connect + TLS handshake
  std::chrono::milliseconds shutdown_grace{5 * 1000};    // stdio: after closing stdin, after TERM
  SourceLocation where;
  SourceLocation name_where;
};

struct JwtSourceConfig {
  std::string issuer;
  std::vector<std::string> audiences;
  std::string jwks_file;
  std::string jwks_url;
  std::vector<std::string> algorithms;  // empty: every asymmetric algorithm
  std::string hs256_secret;             // only when explicitly configured
  std::chrono::seconds leeway{60};
  // jwks_url: how often the key set is fetched again, and the least time between two fetches
  // caused by tokens with an unknown `kid` (key rotation) so such tokens cannot flood the IdP.
  std::chrono::milliseconds jwks_refresh{10 * 60 * 1000};
  std::chrono::milliseconds jwks_min_refresh{30 * 1000};
  std::string jwks_ca_file;  // jwks_url: CA bundle instead of the system one
  SourceLocation where;
};

struct ApiKeyConfig {
  std::string name;
  std::string sha256_hex;  // lower-case hex of SHA-256(key)
  SourceLocation where;
};

struct AuthConfig {
  bool allow_anonymous = false;
  std::string api_key_header = "X-API-Key";
  std::vector<JwtSourceConfig> jwt;
  std::vector<ApiKeyConfig> api_keys;
  // Scopes every bearer token must carry; a token without them gets 403 insufficient_scope.
  std::vector<std::string> required_scopes;
  // RFC 9728 Protected Resource Metadata. `resource` is the canonical URI of the MCP endpoint
  // (empty: derived from the request's validated Host and the listener's scheme and path).
  std::string resource;
  std::vector<std::string> authorization_servers;
  std::vector<std::string> scopes_supported;  // empty: required_scopes
  SourceLocation where;
};

// [audit]: one JSON line per authorization decision (principal, method, target, decision, rule).
struct AuditConfig {
  bool enabled = false;         // true when [audit] is present
  std::string sink = "stderr";  // "stderr", "stdout" or a file path (appended to)
  bool include_allowed = true;  // false: only denials and rate-limit refusals
  SourceLocation where;
};

// [capture] (or serve --capture PATH): every JSON-RPC message on every leg as capture JSONL
// (mcp/capture.hpp, docs/capture-format.md).
struct CaptureConfig {
  bool enabled = false;  // true when [capture] is present or --capture is given
  std::string path;
  std::uint64_t max_file_bytes = 256u << 20;  // rotate beyond this size; 0: never rotate
  std::uint32_t max_files = 8;                // rotated files kept (PATH.1 .. PATH.N)
  std::uint32_t queue_records = 65536;        // bound of the writer queue; beyond: dropped
  // Header names (case-insensitive) written as "[redacted]", on top of the built-in list
  // (authorization, proxy-authorization, cookie, set-cookie, x-api-key, and the header of
  // [auth].api_key_header).
  std::vector<std::string> redact_headers;
  // JSON paths inside the message whose values are replaced by "[redacted]": dot-separated
  // member names from the message root, `*` for any member or array element, e.g.
  // "params.arguments.password" or "result.content.*.text".
  std::vector<std::string> redact_paths;
  SourceLocation where;
};

struct Config {
  std::vector<std::string> files;  // root first, then includes in load order
  ServerConfig server;
  std::vector<BackendConfig> backends;
  AuthConfig auth;
  AuditConfig audit;
  CaptureConfig capture;
  policy::PolicySpec policy_spec;
  std::shared_ptr<const policy::CompiledPolicy> policy;
  std::shared_ptr<const policy::RateLimits> rate_limits;  // compiled with `policy`
  bool is_fragment = false;  // a policy-only file: no [server] and no [[backend]]
};

// Every file the loader read, kept so diagnostics can quote the offending line.
struct SourceFiles {
  std::map<std::string, std::string> contents;
  const std::string* find(const std::string& file) const;
};

// Environment lookup; tests inject their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_environment();

struct LoadOptions {
  EnvLookup env = process_environment();
  bool check_files_exist = true;  // TLS and JWKS files
};

struct LoadResult {
  std::shared_ptr<const Config> config;  // null when any error was found
  Diagnostics diagnostics;
  SourceFiles sources;
};

// Reads, expands ${VAR}, follows includes, validates and compiles the policy. Never throws.
LoadResult load_config(const std::string& path, const LoadOptions& options = {});

// The same for a root file whose text is already in memory (stdin, fuzzing): `path` names it in
// diagnostics and anchors its relative includes and files. Without `text`, reads `path`.
LoadResult load_config_text(const std::string& path, std::optional<std::string> text,
                            const LoadOptions& options = {});

struct TestFileResult {
  std::vector<policy::TestCase> cases;
  Diagnostics diagnostics;
  SourceFiles sources;
};

// Reads a policy decision test file ([[case]] tables). Never throws.
TestFileResult load_policy_tests(const std::string& path, const LoadOptions& options = {});

// The same for text already in memory; `path` names it in diagnostics.
TestFileResult load_policy_tests_text(const std::string& path, std::optional<std::string> text,
                                      const LoadOptions& options = {});

// What a file holds: a configuration (or policy fragment), or policy decision test cases.
enum class FileKind { configuration, policy_tests };

struct ConfigOrTestsResult {
  FileKind kind = FileKind::configuration;
  LoadResult config;     // kind == configuration
  TestFileResult tests;  // kind == policy_tests
};

// For lint, which is given both kinds of file: reads and parses `path` once and loads it as
// policy tests when its top level has `case` and none of the configuration's keys, otherwise as
// a configuration, exactly as load_config would (a file that cannot be read or parsed, too).
// serve only takes configurations and uses load_config. Never throws.
ConfigOrTestsResult load_config_or_policy_tests(const std::string& path,
                                                const LoadOptions& options = {});

// The same for text already in memory; `path` names it in diagnostics.
ConfigOrTestsResult load_config_or_policy_tests_text(const std::string& path,
                                                     std::optional<std::string> text,
                                                     const LoadOptions& options = {});

}  // namespace mcpgw::config
