#include "cli/app.hpp"

#include <algorithm>
#include <cctype>
#include <iostream>
#include <map>
#include <string_view>

#include <CLI/CLI.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "gateway/lint/lint.hpp"
#include "gateway/serve/logging.hpp"
#include "gateway/serve/serve.hpp"
#include "inspect/filter.hpp"
#include "inspect/inspect.hpp"
#include "replay/replay.hpp"

namespace mcpgw::cli {
namespace {

template <class Value>
struct Choice {
  const char* name;
  Value value;
};

constexpr Choice<lint::OutputFormat> kFormats[] = {{"text", lint::OutputFormat::text},
                                                   {"json", lint::OutputFormat::json},
                                                   {"sarif", lint::OutputFormat::sarif}};
constexpr Choice<serve::LogFormat> kLogFormats[] = {{"text", serve::LogFormat::text},
                                                    {"json", serve::LogFormat::json}};
constexpr Choice<const char*> kLogLevels[] = {{"info", "info"},   {"trace", "trace"},
                                              {"debug", "debug"}, {"warn", "warn"},
                                              {"error", "error"}, {"off", "off"}};
// inspect: "auto" detects the input format (and the direction of a one-way stdio file).
constexpr Choice<int> kInputFormats[] = {
    {"auto", -1},
    {"capture", static_cast<int>(mcp::traffic::Format::capture)},
    {"har", static_cast<int>(mcp::traffic::Format::har)},
    {"http", static_cast<int>(mcp::traffic::Format::http_transcript)},
    {"pcap", static_cast<int>(mcp::traffic::Format::pcap)},
    {"stdio", static_cast<int>(mcp::traffic::Format::stdio)}};
constexpr Choice<int> kStdioDirections[] = {
    {"auto", -1},
    {"c2s", static_cast<int>(mcp::traffic::Direction::client_to_server)},
    {"s2c", static_cast<int>(mcp::traffic::Direction::server_to_client)}};
constexpr Choice<inspect::OutputFormat> kInspectFormats[] = {
    {"timeline", inspect::OutputFormat::timeline},
    {"jsonl", inspect::OutputFormat::jsonl},
    {"json", inspect::OutputFormat::json}};
constexpr Choice<replay::OutputFormat> kReplayFormats[] = {{"text", replay::OutputFormat::text},
                                                           {"json", replay::OutputFormat::json}};
constexpr Choice<replay::FailOn> kFailOn[] = {{"breaking", replay::FailOn::breaking},
                                              {"any", replay::FailOn::any},
                                              {"never", replay::FailOn::never}};
constexpr Choice<replay::LegChoice> kLegs[] = {{"auto", replay::LegChoice::automatic},
                                               {"client", replay::LegChoice::client},
                                               {"backend", replay::LegChoice::backend}};
constexpr Choice<config::BackendTransport> kTargetTransports[] = {
    {"streamable_http", config::BackendTransport::streamable_http},
    {"sse", config::BackendTransport::sse}};
constexpr Choice<lint::ColorMode> kColors[] = {{"auto", lint::ColorMode::automatic},
                                               {"always", lint::ColorMode::always},
                                               {"never", lint::ColorMode::never}};

template <class Value, std::size_t N>
std::vector<std::string> names_of(const Choice<Value> (&choices)[N]) {
  std::vector<std::string> names;
  for (const auto& choice : choices)
    names.emplace_back(choice.name);
  return names;
}

template <class Value, std::size_t N>
std::string joined(const Choice<Value> (&choices)[N]) {
  std::string text;
  for (const auto& choice : choices) {
    if (!text.empty())
      text += '|';
    text += choice.name;
  }
  return text;
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// The accepted value was checked by CLI11 already; this maps it to the enum.
template <class Value, std::size_t N>
Value choice_value(const Choice<Value> (&choices)[N], const std::string& text) {
  for (const auto& choice : choices) {
    if (same_ignoring_case(choice.name, text))
      return choice.value;
  }
  return choices[0].value;
}

// What parsing fills in; enums are parsed as checked strings so --help shows plain choices.
struct Parsed {
  lint::Options lint;
  std::string lint_format = "text";
  std::string lint_color = "auto";
  serve::ServeOptions serve;
  std::string serve_listen;
  std::string serve_capture;
  std::string serve_log_format = "text";
  bool print_demo_config = false;
  inspect::InspectOptions inspect;
  std::string inspect_input_format = "auto";
  std::string inspect_stdio_direction = "auto";
  std::string inspect_format = "timeline";
  std::string inspect_color = "auto";
  std::string inspect_since;
  std::string inspect_until;
  replay::ReplayOptions replay;
  std::string replay_input_format = "auto";
  std::string replay_stdio_direction = "auto";
  std::string replay_leg = "auto";
  std::string replay_transport = "streamable_http";
  std::string replay_format = "text";
  std::string replay_fail_on = "breaking";
  std::string replay_color = "auto";
  std::string replay_log_level = "warn";
  std::optional<double> replay_preserve_timing;
  CLI::Option* replay_preserve_timing_option = nullptr;  // given without a value: factor 1
  std::optional<double> replay_latency_threshold;
  std::uint64_t replay_timeout_ms = 30000;
  bool replay_no_default_ignores = false;
  bool replay_insecure = false;
  std::vector<std::string> replay_env;
};

// Option name -> the fixed set of values it accepts, for describe_cli().
using ChoiceTable = std::map<std::string, std::vector<std::string>>;

template <class Value, std::size_t N>
CLI::Option* add_choice_option(CLI::App& command, const std::string& name, std::string& target,
                               const Choice<Value> (&choices)[N], const std::string& help,
                               ChoiceTable& table) {
  table[command.get_name() + ' ' + name] = names_of(choices);
  return command.add_option(name, target, help)
      ->check(CLI::IsMember(names_of(choices), CLI::ignore_case).description(""))
      ->type_name(joined(choices))
      ->default_str(choices[0].name);
}

void add_lint(CLI::App& app, Parsed& parsed, ChoiceTable& choices) {
  auto* lint = app.add_subcommand("lint", "Validate config and policy files, run policy tests");
  lint->add_option("files", parsed.lint.files,
                   "Config, policy or policy test files (with --test: the one policy file)")
      ->type_name("FILE")
      ->required();
  add_choice_option(*lint, "--format", parsed.lint_format, kFormats,
                    "Output format: text, JSON or SARIF 2.1.0", choices);
  lint->add_flag("--strict", parsed.lint.strict, "Exit with status 1 on warnings too");
  lint->add_option("--test", parsed.lint.test_file, "Run the policy decision tests in CASES (TOML)")
      ->type_name("CASES");
  add_choice_option(*lint, "--color", parsed.lint_color, kColors,
                    "Colour the text output (auto: on a terminal, unless NO_COLOR is set)",
                    choices);
  lint->footer(
      "Exit status: 0 clean (warnings allowed unless --strict), 1 findings or failed tests,\n"
      "2 usage or I/O error. See mcpgw-lint(1).");
}

void add_serve(CLI::App& app, Parsed& parsed, ChoiceTable& choices) {
  auto* serve = app.add_subcommand("serve", "Run the MCP gateway");
  serve
      ->add_option("--config,-c", parsed.serve.config_path,
                   "Gateway configuration (TOML); without it, the built-in demo configuration")
      ->type_name("FILE");
  serve->add_flag("--stdio", parsed.serve.stdio,
                  "Serve one client on stdin/stdout (for desktop clients) instead of HTTP");
  serve
      ->add_option("--capture", parsed.serve_capture,
                   "Record every JSON-RPC message on both legs to PATH (JSON Lines); "
                   "overrides [capture] path")
      ->type_name("PATH");
  serve->add_option("--listen", parsed.serve_listen, "Override [server] listen: HOST:PORT")
      ->type_name("HOST:PORT");
  add_choice_option(*serve, "--log-level", parsed.serve.log_level, kLogLevels,
                    "Least severe log messages shown (logs go to stderr)", choices);
  add_choice_option(*serve, "--log-format", parsed.serve_log_format, kLogFormats,
                    "Log lines as text or as one JSON object per line", choices);
  serve->add_flag("--print-demo-config", parsed.print_demo_config,
                  "Print the built-in demo configuration and exit");
  serve->footer(
      "Runs until SIGTERM or SIGINT (with --stdio: until stdin closes), then drains.\n"
      "Exit status: 0 after a clean stop, 1 configuration errors or the address is in use,\n"
      "2 usage error. See mcpgw-serve(1).");
}

void add_inspect(CLI::App& app, Parsed& parsed, ChoiceTable& choices) {
  auto* inspect = app.add_subcommand("inspect", "Decode captured MCP traffic");
  auto& options = parsed.inspect;
  inspect
      ->add_option("inputs", options.inputs,
                   "Captures to read, one after another; - or none: standard input")
      ->type_name("FILE");
  add_choice_option(*inspect, "--input-format", parsed.inspect_input_format, kInputFormats,
                    "Input format (auto: detected from the first bytes)", choices);
  add_choice_option(*inspect, "--stdio-direction", parsed.inspect_stdio_direction, kStdioDirections,
                    "Direction of a one-way stdio transcript (auto: judged from its first message)",
                    choices);
  add_choice_option(*inspect, "--format", parsed.inspect_format, kInspectFormats,
                    "Output: a timeline, one JSON object per exchange, or one JSON array", choices);
  inspect->add_flag("--stats", options.stats,
                    "Statistics instead of exchanges: counts, error rates, latency, sessions");
  inspect->add_flag("--full", options.full, "Show payloads whole (pretty-printed in the timeline)");
  inspect->add_flag("--strict", options.strict, "Stop with status 1 at the first malformed record");
  inspect->add_flag("--follow", options.follow,
                    "Keep reading a growing capture until SIGINT or SIGTERM");
  inspect->add_option("--html", options.html_path, "Write a self-contained HTML waterfall to FILE")
      ->type_name("FILE");
  add_choice_option(*inspect, "--color", parsed.inspect_color, kColors,
                    "Colour the timeline (auto: on a terminal, unless NO_COLOR is set)", choices);
  inspect->add_option("--session", options.sessions, "Only sessions starting with ID (or a glob)")
      ->type_name("ID");
  inspect->add_option("--method", options.methods, "Only this method (glob with *)")
      ->type_name("GLOB");
  inspect->add_option("--tool", options.tools, "Only calls of this tool (glob with *)")
      ->type_name("GLOB");
  inspect->add_option("--backend", options.backends, "Only this backend (gateway captures)")
      ->type_name("NAME");
  inspect->add_flag("--errors", options.errors_only, "Only JSON-RPC errors and tool errors");
  inspect
      ->add_option("--since", parsed.inspect_since,
                   "Only exchanges started at or after TIME (RFC 3339 or epoch microseconds)")
      ->type_name("TIME");
  inspect
      ->add_option("--until", parsed.inspect_until,
                   "Only exchanges started at or before TIME (RFC 3339 or epoch microseconds)")
      ->type_name("TIME");
  inspect->footer(
      "Exit status: 0 ok (malformed records are reported and skipped), 1 an input that cannot\n"
      "be read or a malformed record under --strict, 2 usage error. See mcpgw-inspect(1).");
}

void add_replay(CLI::App& app, Parsed& parsed, ChoiceTable& choices) {
  auto* replay =
      app.add_subcommand("replay", "Re-send recorded sessions to a server and report what changed");
  auto& options = parsed.replay;
  replay
      ->add_option("inputs", options.load.inputs,
                   "Recordings (any format inspect reads); - or none: standard input")
      ->type_name("FILE");
  add_choice_option(*replay, "--input-format", parsed.replay_input_format, kInputFormats,
                    "Input format (auto: detected from the first bytes)", choices);
  add_choice_option(*replay, "--stdio-direction", parsed.replay_stdio_direction, kStdioDirections,
                    "Direction of a one-way stdio transcript (auto: judged from its first message)",
                    choices);
  replay
      ->add_option("--session", options.load.sessions, "Only sessions starting with ID (or a glob)")
      ->type_name("ID");
  add_choice_option(*replay, "--leg", parsed.replay_leg, kLegs,
                    "Gateway captures: replay what clients sent (client) or what the gateway sent "
                    "to backends (backend); auto: client when present",
                    choices);
  replay
      ->add_option("--from-backend", options.load.backend,
                   "With --leg backend: only the sessions of this backend")
      ->type_name("NAME");
  replay->add_flag("--strict", options.load.strict,
                   "Stop with status 2 at the first malformed record");
  replay
      ->add_option("--target-command", options.target.command,
                   "Start this MCP server and speak stdio to it (words split like a shell, no "
                   "expansion)")
      ->type_name("COMMAND");
  replay->add_option("--target-url", options.target.url, "Replay against this MCP endpoint")
      ->type_name("URL");
  add_choice_option(*replay, "--transport", parsed.replay_transport, kTargetTransports,
                    "Transport of --target-url: Streamable HTTP or the legacy HTTP+SSE", choices);
  replay->add_option("--header", options.target.headers, "Send this header to --target-url")
      ->type_name("'NAME: VALUE'");
  replay->add_option("--target-env", parsed.replay_env, "Environment of --target-command")
      ->type_name("NAME=VALUE");
  replay->add_option("--target-cwd", options.target.cwd, "Working directory of --target-command")
      ->type_name("DIR");
  replay->add_flag("--insecure", parsed.replay_insecure,
                   "Do not verify the TLS certificate of --target-url");
  replay->add_option("--ca-file", options.target.ca_file, "CA bundle for --target-url")
      ->type_name("FILE");
  replay
      ->add_option("--config,-c", options.target.config_path,
                   "Gateway configuration whose --backend is the target (command or URL, "
                   "headers, credentials)")
      ->type_name("FILE");
  replay
      ->add_option("--backend", options.target.backend, "The backend of --config to replay against")
      ->type_name("NAME");
  replay
      ->add_option("--protocol-version", options.driver.protocol_version,
                   "Negotiate this protocol version instead of the recorded one")
      ->type_name("VERSION");
  replay->add_option("--jobs,-j", options.driver.jobs, "Replay this many sessions at a time")
      ->type_name("N")
      ->default_str("1");
  parsed.replay_preserve_timing_option =
      replay
          ->add_option("--preserve-timing", parsed.replay_preserve_timing,
                       "Keep the recorded gaps between messages, times FACTOR (default 1; without "
                       "this option: as fast as possible)")
          ->type_name("FACTOR")
          ->expected(0, 1);
  replay
      ->add_option("--timeout", parsed.replay_timeout_ms,
                   "Per-request timeout in milliseconds (the handshake too)")
      ->type_name("MS")
      ->default_str("30000");
  replay
      ->add_option("--reply", options.reply_specs,
                   "Answer a server->client request nothing recorded matches with this result")
      ->type_name("METHOD=JSON");
  replay
      ->add_option("--ignore", options.ignore_specs,
                   "Ignore differences at this path (JSON pointer, * and ** segments), or only "
                   "values matching a regex with PATH=~REGEX")
      ->type_name("PATH");
  replay->add_flag("--no-default-ignores", parsed.replay_no_default_ignores,
                   "Compare the default volatile fields too (_meta, timestamps, ids)");
  replay
      ->add_option("--unordered", options.unordered_specs,
                   "Compare the arrays at PATH as sets, or matched by member KEY")
      ->type_name("PATH[=KEY]");
  replay
      ->add_option("--latency-threshold", parsed.replay_latency_threshold,
                   "Flag exchanges slower than RATIO times their recorded latency")
      ->type_name("RATIO");
  add_choice_option(*replay, "--fail-on", parsed.replay_fail_on, kFailOn,
                    "Exit with status 1 on breaking differences, on any difference, or never",
                    choices);
  add_choice_option(*replay, "--format", parsed.replay_format, kReplayFormats,
                    "Report as text or as JSON (schema in docs/replay.md)", choices);
  replay->add_option("--junit", options.junit_path, "Also write a JUnit XML report to FILE")
      ->type_name("FILE");
  replay
      ->add_option("--record", options.record_path,
                   "Record the new run as a capture in FILE (the next baseline)")
      ->type_name("FILE");
  replay->add_flag("--verbose,-v", options.verbose, "List identical exchanges too");
  add_choice_option(*replay, "--color", parsed.replay_color, kColors,
                    "Colour the report (auto: on a terminal, unless NO_COLOR is set)", choices);
  add_choice_option(*replay, "--log-level", parsed.replay_log_level, kLogLevels,
                    "Least severe log messages shown on stderr (the target's stderr is info)",
                    choices)
      ->default_str("warn");
  replay->footer(
      "Exit status: 0 nothing at or over the --fail-on level, 1 differences at or over it,\n"
      "2 usage, input or target error. See mcpgw-replay(1).");
}

// SIGINT/SIGTERM end `inspect --follow`; the handlers live only as long as the run.
std::atomic<bool> g_inspect_stop{false};

extern "C" void on_inspect_signal(int) {
  g_inspect_stop.store(true);
}

class InspectSignals {
 public:
  InspectSignals() {
    g_inspect_stop.store(false);
    struct sigaction action {};
    action.sa_handler = on_inspect_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &previous_int_);
    ::sigaction(SIGTERM, &action, &previous_term_);
  }
  ~InspectSignals() {
    ::sigaction(SIGINT, &previous_int_, nullptr);
    ::sigaction(SIGTERM, &previous_term_, nullptr);
  }
  InspectSignals(const InspectSignals&) = delete;
  InspectSignals& operator=(const InspectSignals&) = delete;

 private:
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
};

bool inspect_color(lint::ColorMode mode, const std::ostream& out) {
  if (mode != lint::ColorMode::automatic)
    return mode == lint::ColorMode::always;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0')
    return false;
  return &out == &std::cout && ::isatty(STDOUT_FILENO) == 1;
}

int run_inspect_command(Parsed& parsed, std::ostream& out, std::ostream& err) {
  auto& options = parsed.inspect;
  if (options.inputs.empty())
    options.inputs.push_back("-");
  const int input_format = choice_value(kInputFormats, parsed.inspect_input_format);
  if (input_format >= 0)
    options.input_format = static_cast<mcp::traffic::Format>(input_format);
  const int direction = choice_value(kStdioDirections, parsed.inspect_stdio_direction);
  if (direction >= 0)
    options.stdio_direction = static_cast<mcp::traffic::Direction>(direction);
  options.format = choice_value(kInspectFormats, parsed.inspect_format);
  options.stats_json = options.stats && options.format != inspect::OutputFormat::timeline;
  options.color = inspect_color(choice_value(kColors, parsed.inspect_color), out);
  for (auto [text, target] : {std::pair{&parsed.inspect_since, &options.since_us},
                              std::pair{&parsed.inspect_until, &options.until_us}}) {
    if (text->empty())
      continue;
    *target = inspect::parse_time_us(*text);
    if (!*target) {
      err << "mcpgw inspect: '" << *text
          << "' is not a time: use RFC 3339 (2026-11-22T04:11:02Z) or microseconds since the "
             "epoch\n";
      return kExitUsage;
    }
  }
  if (!options.follow)
    return inspect::run_inspect(options, out, err);
  InspectSignals signals;
  options.stop = [] { return g_inspect_stop.load(); };
  return inspect::run_inspect(options, out, err);
}

int run_replay_command(Parsed& parsed, std::ostream& out, std::ostream& err) {
  auto& options = parsed.replay;
  if (options.load.inputs.empty())
    options.load.inputs.push_back("-");
  const int input_format = choice_value(kInputFormats, parsed.replay_input_format);
  if (input_format >= 0)
    options.load.input_format = static_cast<mcp::traffic::Format>(input_format);
  const int direction = choice_value(kStdioDirections, parsed.replay_stdio_direction);
  if (direction >= 0)
    options.load.stdio_direction = static_cast<mcp::traffic::Direction>(direction);
  options.load.leg = choice_value(kLegs, parsed.replay_leg);
  options.target.transport = choice_value(kTargetTransports, parsed.replay_transport);
  options.target.tls_verify = !parsed.replay_insecure;
  for (const auto& assignment : parsed.replay_env) {
    const auto equals = assignment.find('=');
    if (equals == std::string::npos || equals == 0) {
      err << "mcpgw replay: --target-env \"" << assignment << "\": expected NAME=VALUE\n";
      return kExitUsage;
    }
    options.target.env[assignment.substr(0, equals)] = assignment.substr(equals + 1);
  }
  if (parsed.replay_preserve_timing_option != nullptr &&
      parsed.replay_preserve_timing_option->count() > 0)
    options.driver.preserve_timing = parsed.replay_preserve_timing.value_or(1.0);
  if (parsed.replay_timeout_ms == 0 || parsed.replay_timeout_ms > 24ull * 3600 * 1000) {
    err << "mcpgw replay: --timeout must be between 1 ms and 24 hours\n";
    return kExitUsage;
  }
  options.driver.request_timeout = std::chrono::milliseconds(parsed.replay_timeout_ms);
  options.latency_threshold = parsed.replay_latency_threshold;
  options.default_ignores = !parsed.replay_no_default_ignores;
  options.fail_on = choice_value(kFailOn, parsed.replay_fail_on);
  options.format = choice_value(kReplayFormats, parsed.replay_format);
  options.color = inspect_color(choice_value(kColors, parsed.replay_color), out);
  options.progress = ::isatty(STDERR_FILENO) == 1 && &err == &std::cerr;
  options.handle_signals = true;
  options.tool_version = std::string("mcpgw ") + MCPGW_VERSION;
  std::string level = parsed.replay_log_level;
  for (char& c : level)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto logging = serve::configure_logging(level, serve::LogFormat::text); !logging) {
    err << "mcpgw replay: " << logging.error() << "\n";
    return kExitUsage;
  }
  return replay::run_replay(options, out, err);
}

void build_cli(CLI::App& app, Parsed& parsed, ChoiceTable& choices) {
  app.set_version_flag("--version", std::string("mcpgw ") + MCPGW_VERSION,
                       "Print the version and exit");
  app.require_subcommand(1);
  app.footer("Exit codes: 0 ok, 1 findings or failure, 2 usage or I/O error.\nSee mcpgw(1).");
  add_serve(app, parsed, choices);
  add_lint(app, parsed, choices);
  add_inspect(app, parsed, choices);
  add_replay(app, parsed, choices);
}

const char* kAppDescription = "mcpgw: a gateway and toolkit for the Model Context Protocol";

OptionDescription describe_option(const CLI::App& command, const CLI::Option& option,
                                  const ChoiceTable& choices) {
  OptionDescription description;
  for (const auto& name : option.get_snames())
    description.names.push_back("-" + name);
  for (const auto& name : option.get_lnames())
    description.names.push_back("--" + name);
  description.positional = description.names.empty();
  if (description.positional)
    description.names.push_back(option.get_name(true, false));
  description.takes_value = option.get_expected_max() != 0;  // flags expect 0 values
  if (description.takes_value)
    description.value_name = option.get_type_name();
  description.help = option.get_description();
  const auto found = choices.find(command.get_name() + ' ' + description.names.back());
  if (found != choices.end())
    description.values = found->second;
  return description;
}

std::vector<OptionDescription> describe_options(const CLI::App& command,
                                                const ChoiceTable& choices) {
  std::vector<OptionDescription> options;
  for (const CLI::Option* option : command.get_options()) {
    options.push_back(describe_option(command, *option, choices));
  }
  return options;
}

}  // namespace

std::vector<CommandDescription> describe_cli() {
  CLI::App app{kAppDescription, "mcpgw"};
  Parsed parsed;
  ChoiceTable choices;
  build_cli(app, parsed, choices);

  std::vector<CommandDescription> commands;
  commands.push_back({"", app.get_description(), describe_options(app, choices)});
  const CLI::App& walked = app;
  for (const CLI::App* sub : walked.get_subcommands([](const CLI::App*) { return true; })) {
    commands.push_back({sub->get_name(), sub->get_description(), describe_options(*sub, choices)});
  }
  return commands;
}

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{kAppDescription, "mcpgw"};
  Parsed parsed;
  ChoiceTable choices;
  build_cli(app, parsed, choices);

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error, out, err);
    return code == 0 ? kExitOk : kExitUsage;
  }

  if (app.got_subcommand("inspect"))
    return run_inspect_command(parsed, out, err);
  if (app.got_subcommand("replay"))
    return run_replay_command(parsed, out, err);
  if (app.got_subcommand("serve")) {
    if (parsed.print_demo_config) {
      out << serve::embedded_config();
      return kExitOk;
    }
    if (!parsed.serve_listen.empty())
      parsed.serve.listen = parsed.serve_listen;
    if (!parsed.serve_capture.empty())
      parsed.serve.capture_path = parsed.serve_capture;
    parsed.serve.version = MCPGW_VERSION;
    parsed.serve.log_format = choice_value(kLogFormats, parsed.serve_log_format);
    for (char& c : parsed.serve.log_level)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return serve::run(parsed.serve, out, err);
  }
  parsed.lint.format = choice_value(kFormats, parsed.lint_format);
  parsed.lint.color = choice_value(kColors, parsed.lint_color);
  parsed.lint.tool_version = MCPGW_VERSION;
  return lint::run(parsed.lint, out, err);
}

int run(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i)
    args.emplace_back(argv[i]);
  try {
    return run(args, std::cout, std::cerr);
  } catch (const std::exception& error) {
    std::cerr << "mcpgw: internal error: " << error.what() << "\n";
    return kExitUsage;
  }
}

}  // namespace mcpgw::cli
