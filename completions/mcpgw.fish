# fish completion for mcpgw(1). Install as ~/.config/fish/completions/mcpgw.fish.
# Kept in step with the CLI by tests/unit/cli/docs_drift_test.cpp.

set -l subcommands serve lint inspect replay

complete -c mcpgw -f

# Before the subcommand.
complete -c mcpgw -n "not __fish_seen_subcommand_from $subcommands" -s h -l help -d 'Print help and exit'
complete -c mcpgw -n "not __fish_seen_subcommand_from $subcommands" -l version -d 'Print the version and exit'
complete -c mcpgw -n "not __fish_seen_subcommand_from $subcommands" -a serve -d 'Run the MCP gateway'
complete -c mcpgw -n "not __fish_seen_subcommand_from $subcommands" -a lint -d 'Validate config and policy files, run policy tests'
complete -c mcpgw -n "not __fish_seen_subcommand_from $subcommands" -a inspect -d 'Decode captured MCP traffic'
complete -c mcpgw -n "not __fish_seen_subcommand_from $subcommands" -a replay -d 'Re-send recorded sessions to a server and report what changed'

# mcpgw serve
complete -c mcpgw -n "__fish_seen_subcommand_from serve" -s h -l help -d 'Print help and exit'
complete -c mcpgw -n "__fish_seen_subcommand_from serve" -s c -l config -r -F -d 'Gateway configuration (TOML); default: the built-in demo'
complete -c mcpgw -n "__fish_seen_subcommand_from serve" -l stdio -d 'Serve one client on stdin/stdout instead of HTTP'
complete -c mcpgw -n "__fish_seen_subcommand_from serve" -l capture -r -F -d 'Record every JSON-RPC message to this JSON Lines file'
complete -c mcpgw -n "__fish_seen_subcommand_from serve" -l listen -x -d 'Override [server] listen: HOST:PORT'
complete -c mcpgw -n "__fish_seen_subcommand_from serve" -l log-level -x -a 'info trace debug warn error off' -d 'Least severe log messages shown'
complete -c mcpgw -n "__fish_seen_subcommand_from serve" -l log-format -x -a 'text json' -d 'Log lines as text or JSON'
complete -c mcpgw -n "__fish_seen_subcommand_from serve" -l print-demo-config -d 'Print the built-in demo configuration and exit'

# mcpgw lint
complete -c mcpgw -n "__fish_seen_subcommand_from lint" -s h -l help -d 'Print help and exit'
complete -c mcpgw -n "__fish_seen_subcommand_from lint" -l format -x -a 'text json sarif' -d 'Output format'
complete -c mcpgw -n "__fish_seen_subcommand_from lint" -l strict -d 'Exit with status 1 on warnings too'
complete -c mcpgw -n "__fish_seen_subcommand_from lint" -l test -r -F -d 'Run the policy decision tests in this TOML file'
complete -c mcpgw -n "__fish_seen_subcommand_from lint" -l color -x -a 'auto always never' -d 'When to colour the text output'
complete -c mcpgw -n "__fish_seen_subcommand_from lint" -F

# mcpgw inspect
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -s h -l help -d 'Print help and exit'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -l input-format -x -a 'auto capture har http pcap stdio' -d 'Input format'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -l stdio-direction -x -a 'auto c2s s2c' -d 'Direction of a one-way stdio transcript'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -l format -x -a 'timeline jsonl json' -d 'Output format'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -l stats -d 'Statistics instead of exchanges'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -l full -d 'Show payloads whole'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -l strict -d 'Stop with status 1 at the first malformed record'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -l follow -d 'Keep reading a growing capture'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -l html -r -F -d 'Write a self-contained HTML waterfall'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -l color -x -a 'auto always never' -d 'When to colour the timeline'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -l session -x -d 'Only sessions starting with this id'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -l method -x -d 'Only this method (glob)'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -l tool -x -d 'Only calls of this tool (glob)'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -l backend -x -d 'Only this backend'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -l errors -d 'Only errors and tool errors'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -l since -x -d 'Only exchanges started at or after TIME'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -l until -x -d 'Only exchanges started at or before TIME'
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -F

# mcpgw replay
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -s h -l help -d 'Print help and exit'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l input-format -x -a 'auto capture har http pcap stdio' -d 'Input format'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l stdio-direction -x -a 'auto c2s s2c' -d 'Direction of a one-way stdio transcript'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l session -x -d 'Only sessions starting with this id'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l leg -x -a 'auto client backend' -d 'Which side of a gateway capture to replay'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l from-backend -x -d 'With --leg backend: only this backend'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l strict -d 'Stop with status 2 at the first malformed record'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l target-command -x -a '(__fish_complete_command)' -d 'Start this MCP server and speak stdio'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l target-url -x -d 'Replay against this MCP endpoint'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l transport -x -a 'streamable_http sse' -d 'Transport of --target-url'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l header -x -d 'Send this header to --target-url'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l target-env -x -d 'Environment of --target-command (NAME=VALUE)'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l target-cwd -x -a '(__fish_complete_directories)' -d 'Working directory of --target-command'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l insecure -d 'Do not verify the TLS certificate of --target-url'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l ca-file -r -F -d 'CA bundle for --target-url'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -s c -l config -r -F -d 'Gateway configuration whose --backend is the target'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l backend -x -d 'The backend of --config to replay against'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l protocol-version -x -a '2024-11-05 2025-03-26 2025-06-18 2025-11-25 2026-07-28' -d 'Negotiate this protocol version'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -s j -l jobs -x -d 'Replay this many sessions at a time'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l preserve-timing -x -d 'Keep the recorded gaps, times FACTOR'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l timeout -x -d 'Per-request timeout in milliseconds'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l reply -x -d 'Answer unmatched server requests: METHOD=JSON'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l ignore -x -d 'Ignore differences at this path'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l no-default-ignores -d 'Compare the default volatile fields too'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l unordered -x -d 'Compare these arrays as sets or by key: PATH[=KEY]'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l latency-threshold -x -d 'Flag exchanges slower than RATIO times the recording'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l fail-on -x -a 'breaking any never' -d 'Level that makes the exit status 1'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l format -x -a 'text json' -d 'Report format'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l junit -r -F -d 'Also write a JUnit XML report'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l record -r -F -d 'Record the new run as a capture'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -s v -l verbose -d 'List identical exchanges too'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l color -x -a 'auto always never' -d 'When to colour the report'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -l log-level -x -a 'info trace debug warn error off' -d 'Least severe log messages shown'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -F
