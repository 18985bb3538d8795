# SPDX-License-Identifier: Apache-2.0
# bash completion for smartcfg. The subcommands and their options come from the program's own
# --help (the same source as the man pages), so they never drift from what the program takes.
_smartcfg()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}
        words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
    fi
    local prog=${words[0]}
    if [ "$cword" -eq 1 ]; then
        local cmds
        cmds=$("$prog" --help 2>/dev/null | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p')
        COMPREPLY=($(compgen -W "$cmds help --help --version" -- "$cur"))
        return
    fi
    local sub=${words[1]}
    if [ "$sub" = help ]; then
        COMPREPLY=($(compgen -W "$("$prog" --help 2>/dev/null | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p')" -- "$cur"))
        return
    fi
    # values that are files
    case $prev in
        --password-file|--db|--plugin|--mosquitto|--admin-key-file|--config|--ca-file|--at|--plot)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --tls-dir|--state-dir)
            COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --radio)
            compopt -o nospace 2>/dev/null; COMPREPLY=($(compgen -W "udp udp: pcap: file:" -- "$cur")); return ;;
        --log-level)
            COMPREPLY=($(compgen -W "error warn info debug" -- "$cur")); return ;;
        --protocol|--second-protocol)
            COMPREPLY=($(compgen -W "v1 v2 airkiss" -- "$cur")); return ;;
        --protocols)
            COMPREPLY=($(compgen -W "v1,v2,airkiss v1 v2 airkiss" -- "$cur")); return ;;
        --virtual-cipher|--cipher|--group-cipher)
            COMPREPLY=($(compgen -W "open wep tkip ccmp gcmp" -- "$cur")); return ;;
        --iface|--interface|-i)
            COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")); return ;;
    esac
    if [[ $cur == -* ]]; then
        local opts
        opts=$("$prog" "$sub" --help 2>/dev/null | grep -oE '(^|[ ,|])--[a-z0-9][a-z0-9-]*' | sed 's/^[ ,|]//' | sort -u)
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _smartcfg smartcfg
