#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Man pages and bash completion (issue 15 item 12): `cmake --install` puts smartcfg(1), one page
# per subcommand and the completion script under the prefix; every page renders with man/groff
# without warnings and carries the options and examples of the --help it was made from; the
# completion offers the subcommands and each subcommand's options.
set -u
B=${SC_BUILD:?}
SC=$B/smartcfg
TMP=$(mktemp -d /tmp/sc_cli_man.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --build "$B" --target smartcfg_man >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; fail "man pages do not build"; }
cmake --install "$B" --prefix "$TMP/p" >"$TMP/inst.log" 2>&1 || { cat "$TMP/inst.log"; fail "cmake --install"; }
M=$TMP/p/share/man/man1
python3 "$(dirname "$0")/lib/cli_placeholders.py" list "$SC" >"$TMP/pairs" || fail "cli_placeholders.py list"
[ "$(wc -l <"$TMP/pairs")" -gt 100 ] || fail "too few option values found in the helps: $(wc -l <"$TMP/pairs")"
for sub in "" send device decode air cloud; do
    page=$M/smartcfg${sub:+-$sub}.1
    [ -s "$page" ] || fail "not installed: $page"
    groff -man -ww -z "$page" 2>"$TMP/warn" || fail "groff fails on $page"
    [ -s "$TMP/warn" ] && { cat "$TMP/warn"; fail "groff warns on $page"; }
    MANWIDTH=200 man -l "$page" 2>/dev/null | col -b >"$TMP/txt"
    grep -q '^NAME' "$TMP/txt" && grep -q '^SYNOPSIS' "$TMP/txt" && grep -q '^EXAMPLES' "$TMP/txt" || fail "$page: sections"
    # every option of the help is on the page, and the first example
    "$SC" $sub --help >"$TMP/help"
    for o in $(grep -oE -- '--[a-z][a-z0-9-]+' "$TMP/help" | sort -u); do
        grep -qF -- "$o" "$TMP/txt" || fail "$page lacks $o"
    done
    # every option's value as the help names it (docs/cli.md, Placeholders)
    if [ -n "$sub" ]; then
        grep "^$sub " "$TMP/pairs" | cut -d' ' -f2,4 | sort -u >"$TMP/want"
        grep -vxFf <(grep -oFf "$TMP/want" "$TMP/txt") "$TMP/want" >"$TMP/lacks"
        [ -s "$TMP/lacks" ] && fail "$page lacks its help's option values: $(tr '\n' ',' <"$TMP/lacks")"
    fi
    ex=$(sed -n '/^examples:/,$p' "$TMP/help" | grep -m1 '^  smartcfg' | sed 's/^ *//')
    grep -qF -- "$ex" "$TMP/txt" || fail "$page lacks the example '$ex'"
done
# man finds them by name through MANPATH
MANPATH=$TMP/p/share/man man -w smartcfg-send >/dev/null 2>&1 || fail "man -w smartcfg-send"

C=$TMP/p/share/bash-completion/completions/smartcfg
[ -s "$C" ] || fail "completion not installed"
complete_words() { # the line typed so far, as words; prints the candidates
    PATH="$B:$PATH" bash --norc --noprofile -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _smartcfg; printf "%s\n" "${COMPREPLY[@]}"' _ "$C" "$@"
}
out=$(complete_words smartcfg "")
for c in send device decode air cloud; do grep -qx "$c" <<<"$out" || fail "completion lacks subcommand $c: $out"; done
[ "$(complete_words smartcfg de | sort)" = "$(printf 'decode\ndevice')" ] || fail "completion of 'de'"
out=$(complete_words smartcfg send --)
for o in --ssid --password-file --count --cloud --json --help --version; do
    grep -qx -- "$o" <<<"$out" || fail "send completion lacks $o"
done
# --input-wait SECONDS (F122), an option of both commands that read files whole at start: on
# their pages with its value, completed, and nothing offered for its number
for sub in send device; do
    MANWIDTH=200 man -l "$M/smartcfg-$sub.1" 2>/dev/null | col -b | grep -q -- '--input-wait SECONDS' || fail "smartcfg-$sub.1 lacks --input-wait SECONDS"
    [ "$(complete_words smartcfg $sub --input-w)" = --input-wait ] || fail "$sub completion of --input-wait"
    [ -z "$(complete_words smartcfg $sub --input-wait 1)" ] || fail "$sub --input-wait value completion"
done
out=$(complete_words smartcfg device --lo)
grep -qx -- --log-level <<<"$out" || fail "device completion lacks --log-level: $out"
out=$(complete_words smartcfg device --log-level d)
[ "$out" = debug ] || fail "--log-level value completion: $out"
out=$(complete_words smartcfg cloud --to)
grep -qx -- --token-ttl <<<"$out" && grep -qx -- --token-rate <<<"$out" || fail "cloud completion: $out"
# the options whose value is a file complete file names (--ca-file, --at, --plot did not; the
# list named options no command has), and those with a fixed set of values complete those
printf x >"$TMP/ca-bundle.pem"
for o in "device --ca-file" "device --at" "decode --plot" "device --config" "send --password-file"; do
    # shellcheck disable=SC2086
    out=$(complete_words smartcfg $o "$TMP/ca-b")
    [ "$out" = "$TMP/ca-bundle.pem" ] || fail "completion of a file after $o: $out"
done
for w in --state --storage --pcap --log-file; do
    grep -qxF -- "$w" <(for c in send device decode air cloud; do "$SC" $c --help; done | grep -oE -- '--[a-z][a-z0-9-]+') \
        && fail "the completion's $w is an option after all: keep it"
    grep -qF -- "$w|" "$C" && fail "the completion names $w, which no command has"
done
[ "$(complete_words smartcfg send --protocol a)" = airkiss ] || fail "--protocol value completion"
# every option's value completes as its placeholder says (docs/cli.md, Placeholders): file names
# after FILE, DB, TTY, SCRIPT, SOCKET; directories after DIR; interfaces after IFACE; the words
# of a set; nothing after a number, an address or a name (file names were offered after
# --count, --http, --timeout ...). --radio, --join and --protocols complete their own words.
mkdir "$TMP/ca-bdir"
sort -u -k1,2 "$TMP/pairs" | grep -vE '^[a-z]+ --(radio|join|protocols) ' >"$TMP/pairs1" # their own words: below
# one bash for all of them (a bash and a pipeline per case took 46 s on a loaded machine):
# each line SUB OPTION KIND -> "SUB OPTION KIND;candidates" for what is typed after the option:
# "l" after IFACE, nothing after a set's words, else the start of our two names
PATH="$B:$PATH" bash --norc --noprofile -c '
    source "$1"
    while read -r sub o kind _; do
        case $kind in IFACE) cur=l ;; *"|"*) cur= ;; *) cur=$2/ca-b ;; esac
        COMP_WORDS=(smartcfg "$sub" "$o" "$cur"); COMP_CWORD=3; COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
        COMPREPLY=(); _smartcfg
        echo "$sub $o $kind;${COMPREPLY[*]}"
    done <"$3"' _ "$C" "$TMP" "$TMP/pairs1" >"$TMP/comp"
[ "$(wc -l <"$TMP/comp")" = "$(wc -l <"$TMP/pairs1")" ] || fail "completion runs: $(wc -l <"$TMP/comp")"
words() { tr ' |' '\n\n' <<<"$1" | grep -v '^$' | sort | tr '\n' ' '; }
while IFS=";" read -r head got; do
    read -r sub o kind <<<"$head"
    case $kind in
        *FILE*|DB|TTY|SCRIPT|SOCKET) want="$TMP/ca-bdir $TMP/ca-bundle.pem " ;;
        DIR) want="$TMP/ca-bdir " ;;
        IFACE) grep -qw lo <<<"$got" || fail "completion after $sub $o ($kind): no interface lo: '$got'"; continue ;;
        *\|*) want=$(words "$kind") ;;
        *) [ -z "$got" ] || fail "completion after $sub $o ($kind): '$got', want nothing"; continue ;;
    esac
    [ "$(words "$got")" = "$want" ] || fail "completion after $sub $o ($kind): '$got', want '$want'"
done <"$TMP/comp"
[ "$(complete_words smartcfg device --join e)" = exec: ] || fail "--join value completion"
[ "$(complete_words smartcfg decode --protocols a)" = airkiss ] || fail "--protocols value completion"
[ "$(complete_words smartcfg device --radio f)" = file: ] || fail "--radio value completion"
[ "$(complete_words smartcfg device --virtual-cipher g)" = gcmp ] || fail "--virtual-cipher value completion"
complete_words smartcfg device --iface l | grep -qx lo || fail "--iface value completion"
echo "cli_man_completion: ok"
