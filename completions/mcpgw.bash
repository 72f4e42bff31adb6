# bash completion for mcpgw(1).
# Install as /usr/share/bash-completion/completions/mcpgw, or source this file.

# Options per subcommand ("global" is before the subcommand). Kept in step with the CLI by
# tests/unit/cli/docs_drift_test.cpp.
_mcpgw_subcommands="serve lint inspect replay"
_mcpgw_global_options="-h --help --version"
_mcpgw_lint_options="-h --help --format --strict --test --color"
_mcpgw_serve_options="-h --help -c --config --stdio --capture --listen --log-level --log-format --print-demo-config"
_mcpgw_inspect_options="-h --help --input-format --stdio-direction --format --stats --full --strict --follow --html --color --session --method --tool --backend --errors --since --until"
_mcpgw_replay_options="-h --help --input-format --stdio-direction --session --leg --from-backend --strict --target-command --target-url --transport --header --target-env --target-cwd --insecure --ca-file -c --config --backend --protocol-version -j --jobs --preserve-timing --timeout --reply --ignore --no-default-ignores --unordered --latency-threshold --fail-on --format --junit --record -v --verbose --color --log-level"

_mcpgw_files() {
    if declare -F _filedir >/dev/null; then
        _filedir
    else
        local IFS=$'\n'
        COMPREPLY=($(compgen -f -- "$1"))
    fi
}

_mcpgw() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion -s || return
    else
        # Without bash-completion.
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=""
        ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
        # "--format=js" arrives as "--format" "=" "js" ('=' is in COMP_WORDBREAKS).
        if [[ $prev == "=" ]] && ((COMP_CWORD > 1)); then
            prev=${COMP_WORDS[COMP_CWORD - 2]}
        elif [[ $cur == "=" ]]; then
            prev=${COMP_WORDS[COMP_CWORD - 1]}
            cur=""
        fi
    fi

    local subcommand="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            serve | lint | inspect | replay)
                subcommand=${words[i]}
                break
                ;;
        esac
    done

    case $subcommand in
        "")
            COMPREPLY=($(compgen -W "$_mcpgw_global_options $_mcpgw_subcommands" -- "$cur"))
            ;;
        lint)
            case $prev in
                --format)
                    COMPREPLY=($(compgen -W "text json sarif" -- "$cur"))
                    return
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
                    return
                    ;;
                --test)
                    _mcpgw_files "$cur"
                    return
                    ;;
            esac
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$_mcpgw_lint_options" -- "$cur"))
            else
                _mcpgw_files "$cur"
            fi
            ;;
        serve)
            case $prev in
                -c | --config | --capture)
                    _mcpgw_files "$cur"
                    return
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -W "info trace debug warn error off" -- "$cur"))
                    return
                    ;;
                --log-format)
                    COMPREPLY=($(compgen -W "text json" -- "$cur"))
                    return
                    ;;
                --listen)
                    # HOST:PORT: nothing sensible to offer.
                    COMPREPLY=()
                    return
                    ;;
            esac
            COMPREPLY=($(compgen -W "$_mcpgw_serve_options" -- "$cur"))
            ;;
        inspect)
            case $prev in
                --input-format)
                    COMPREPLY=($(compgen -W "auto capture har http pcap stdio" -- "$cur"))
                    return
                    ;;
                --stdio-direction)
                    COMPREPLY=($(compgen -W "auto c2s s2c" -- "$cur"))
                    return
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "timeline jsonl json" -- "$cur"))
                    return
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
                    return
                    ;;
                --html)
                    _mcpgw_files "$cur"
                    return
                    ;;
                --session | --method | --tool | --backend | --since | --until)
                    # Free text: nothing sensible to offer.
                    COMPREPLY=()
                    return
                    ;;
            esac
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$_mcpgw_inspect_options" -- "$cur"))
            else
                _mcpgw_files "$cur"
            fi
            ;;
        replay)
            case $prev in
                --input-format)
                    COMPREPLY=($(compgen -W "auto capture har http pcap stdio" -- "$cur"))
                    return
                    ;;
                --stdio-direction)
                    COMPREPLY=($(compgen -W "auto c2s s2c" -- "$cur"))
                    return
                    ;;
                --leg)
                    COMPREPLY=($(compgen -W "auto client backend" -- "$cur"))
                    return
                    ;;
                --transport)
                    COMPREPLY=($(compgen -W "streamable_http sse" -- "$cur"))
                    return
                    ;;
                --fail-on)
                    COMPREPLY=($(compgen -W "breaking any never" -- "$cur"))
                    return
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "text json" -- "$cur"))
                    return
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
                    return
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -W "info trace debug warn error off" -- "$cur"))
                    return
                    ;;
                -c | --config | --ca-file | --junit | --record)
                    _mcpgw_files "$cur"
                    return
                    ;;
                --target-cwd)
                    COMPREPLY=($(compgen -d -- "$cur"))
                    return
                    ;;
                --target-command)
                    COMPREPLY=($(compgen -c -- "$cur"))
                    return
                    ;;
                --session | --from-backend | --target-url | --header | --target-env | --backend | --protocol-version | -j | --jobs | --preserve-timing | --timeout | --reply | --ignore | --unordered | --latency-threshold)
                    # Free text: nothing sensible to offer.
                    COMPREPLY=()
                    return
                    ;;
            esac
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$_mcpgw_replay_options" -- "$cur"))
            else
                _mcpgw_files "$cur"
            fi
            ;;
    esac
}

complete -F _mcpgw mcpgw
