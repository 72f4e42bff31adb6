# fish completion for mcpgw(1). Install as ~/.config/fish/completions/mcpgw.fish.
# Kept in step with the CLI by tests/unit/cli/docs_drift_test.cpp.

set -l subcommands serve lint inspect replay

complete -c mcpgw -f

# Before the subcommand.
complete -c mcpgw -n "not __fish_seen_subcommand_from $subcommands" -s h -l help -d 'Print help and exit'
complete -c mcpgw -n "not __fish_seen_subcommand_from $subcommands" -l version -d 'Print the version and exit'
complete -c mcpgw -n "not __fish_seen_subcommand_from $subcommands" -a serve -d 'Run the MCP gateway'
complete -c mcpgw -n "not __fish_seen_subcommand_from $subcommands" -a lint -d 'Validate config and policy files, run policy tests'
complete -c mcpgw -n "not __fish_seen_subcommand_from $subcommands" -a inspect -d 'Decode captured MCP traffic (not built yet)'
complete -c mcpgw -n "not __fish_seen_subcommand_from $subcommands" -a replay -d 'Re-send recorded sessions against a backend (not built yet)'

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

# Subcommands that are not built yet.
complete -c mcpgw -n "__fish_seen_subcommand_from inspect" -s h -l help -d 'Print help and exit'
complete -c mcpgw -n "__fish_seen_subcommand_from replay" -s h -l help -d 'Print help and exit'
