# SPDX-License-Identifier: Apache-2.0
# bash completion for smartcfg. The subcommands, their options and what each option's value is
# (FILE, DIR, IFACE, v1|v2|airkiss: the placeholders of docs/cli.md) come from the program's
# own --help (the same source as the man pages), so they never drift from what it takes.
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
    # values with their own words
    case $prev in
        --radio)
            compopt -o nospace 2>/dev/null; COMPREPLY=($(compgen -W "udp udp: pcap: file:" -- "$cur")); return ;;
        --join)
            compopt -o nospace 2>/dev/null; COMPREPLY=($(compgen -W "sim: exec: wpa:" -- "$cur")); return ;;
        --protocols)
            COMPREPLY=($(compgen -W "v1,v2,airkiss v1 v2 airkiss" -- "$cur")); return ;;
        --interface|-i)
            COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")); return ;;
    esac
    # any other value: what its placeholder in the help says it is (docs/cli.md, Placeholders)
    if [[ $prev == --[a-z]* ]]; then
        local val
        val=$("$prog" "$sub" --help 2>/dev/null | grep -oE -- "(^|[^a-z0-9-])$prev[ =]([^ ,;()]*[A-Z][^ ,;()]*|[a-z0-9]+(\|[a-z0-9]+)+)" | head -n 1)
        val=${val#*"$prev"?}
        val=${val%%]*}
        case $val in
            '') ;;   # a flag: what follows is an option or an argument
            *FILE*|DB|TTY|SCRIPT|SOCKET)
                COMPREPLY=($(compgen -f -- "$cur")); return ;;
            DIR)
                COMPREPLY=($(compgen -d -- "$cur")); return ;;
            IFACE)
                COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")); return ;;
            *[a-z0-9]\|[a-z0-9]*)
                COMPREPLY=($(compgen -W "${val//|/ }" -- "$cur")); return ;;
            *)
                COMPREPLY=(); return ;;   # a number, an address, a name: nothing to offer
        esac
    fi
    if [[ $cur == -* ]]; then
        local opts
        opts=$("$prog" "$sub" --help 2>/dev/null | grep -oE '(^|[ ,|])--[a-z0-9][a-z0-9-]*' | sed 's/^[ ,|]//' | sort -u)
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _smartcfg smartcfg
