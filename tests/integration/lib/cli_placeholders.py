#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The placeholder convention of the command line (docs/cli.md, *Placeholders*), checked.

    cli_placeholders.py check SMARTCFG [SMARTCFG_LWIP] REPO
        every option value in every --help (smartcfg, its subcommands, smartcfg-lwip) is named
        with the words of docs/cli.md's table or as a choice (v1|v2|airkiss); an option two
        programs share is named alike in both; the README and docs/ name each option's value as
        the helps do (outside ```sh blocks, which hold real commands). Prints each mismatch,
        exit 1 if any.
    cli_placeholders.py list SMARTCFG
        one line per option value of each subcommand's help: SUBCOMMAND OPTION KIND TOKEN
        (KIND: the first placeholder word, or the choice as written), for the man page and
        completion checks of cli_man_completion.sh.
"""
import glob
import os
import re
import subprocess
import sys

SUBS = ("send", "device", "decode", "air", "cloud")
# an option, then its value: a token with a placeholder word in it (FILE, HOST:PORT,
# pcap:IFACE, HOST[:PORT][,HOST[:PORT]...]) or a choice of lowercase words (v1|v2|airkiss)
OPT_VALUE = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)[ =]([^\s,;()]*[A-Z][^\s,;()]*|[a-z0-9]+(?:\|[a-z0-9]+)+)")
# a placeholder word: upper case throughout (not the start of "HomeNet" or the end of "MyAP")
WORD = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9_]*(?![A-Za-z0-9])")
CHOICE = re.compile(r"[a-z0-9]+(?:\|[a-z0-9]+)+")


def vocabulary(repo):
    """The words of docs/cli.md's *Placeholders* table: rows that start "| `WORD`"."""
    text = open(os.path.join(repo, "docs", "cli.md"), encoding="utf-8").read()
    sec = text.split("\n## Placeholders", 1)[1].split("\n## ", 1)[0]
    words = set()
    for row in re.findall(r"^\| (.+?) \|", sec, re.M):
        words.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", row))
    return words


def kind(token):
    if CHOICE.fullmatch(token):
        return token
    m = WORD.search(token)
    return m.group(0) if m else None


def balanced(token):
    """A token cut out of a synopsis ("[--db DB]") without the bracket that closes around it."""
    while token.endswith("]") and token.count("]") > token.count("["):
        token = token[:-1]
    return token


def help_pairs(text):
    """(option, token) of one help, its examples left out (they hold real values)."""
    text = text.split("\nexamples:", 1)[0]
    pairs = [(m.group(1), balanced(m.group(2).rstrip(".:"))) for m in OPT_VALUE.finditer(text)]
    return [(o, t) for o, t in pairs if kind(t)]


def helps(sc, lwip):
    out = {"smartcfg": subprocess.run([sc, "--help"], capture_output=True, text=True, check=True).stdout}
    for s in SUBS:
        out[s] = subprocess.run([sc, s, "--help"], capture_output=True, text=True, check=True).stdout
    if lwip:
        out["smartcfg-lwip"] = subprocess.run([lwip, "--help"], capture_output=True, text=True, check=True).stdout
    return out


def check(sc, lwip, repo):
    bad = []
    vocab = vocabulary(repo)
    if len(vocab) < 10:
        bad.append("docs/cli.md: the Placeholders table has only %d words" % len(vocab))
    kinds = {}  # option -> {program: set of kinds}
    for prog, text in helps(sc, lwip).items():
        for opt, token in help_pairs(text):
            for w in WORD.findall(token):
                if w not in vocab:
                    bad.append("%s --help: %s %s: '%s' is not a placeholder of docs/cli.md" % (prog, opt, token, w))
            kinds.setdefault(opt, {}).setdefault(prog, set()).add(kind(token))
    for opt, progs in sorted(kinds.items()):
        seen = {frozenset(k) for k in progs.values()}
        if len(seen) > 1:
            bad.append("%s names its value differently: %s" % (
                opt, "; ".join("%s %s" % (p, "/".join(sorted(k))) for p, k in sorted(progs.items()))))
    all_kinds = {opt: set().union(*progs.values()) for opt, progs in kinds.items()}
    docs = [os.path.join(repo, "README.md")] + sorted(glob.glob(os.path.join(repo, "docs", "**", "*.md"), recursive=True))
    for path in docs:
        in_sh = False
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            if line.startswith("```"):
                in_sh = line.strip() == "```sh" if not in_sh else False
                continue
            if in_sh:
                continue
            for m in OPT_VALUE.finditer(line):
                opt, token = m.group(1), m.group(2).rstrip(".:`")
                k = kind(token)
                if opt in all_kinds and k and k not in all_kinds[opt]:
                    bad.append("%s:%d: %s %s, the help says %s %s" % (
                        os.path.relpath(path, repo), n, opt, token, opt, "/".join(sorted(all_kinds[opt]))))
    for b in bad:
        print("placeholder: " + b)
    return 1 if bad else 0


def main():
    if sys.argv[1] == "list":
        for prog, text in helps(sys.argv[2], None).items():
            if prog != "smartcfg":
                for opt, token in help_pairs(text):
                    print(prog, opt, kind(token), token)
        return 0
    args = sys.argv[2:]
    return check(args[0], args[1] if len(args) == 3 else None, args[-1])


if __name__ == "__main__":
    sys.exit(main())
