#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Another local user on the same host (a shared box, a CI runner, a device whose other daemons
# are compromised) against the UDP ports of `smartcfg send` (acks on 18266, the token socket on
# <phone>:8266) and `smartcfg device --radio udp` (7001) and its 8266 service (docs/security.md
# F69-F71), against the files `smartcfg cloud` keeps beside its registry (F72), the device's
# --join exec: script (F73), its --config file (F90) and the files air and decode --plot write (F81). Run as root (CI): in a network namespace of its own, the other user is nobody
# (setpriv) and must not be able to bind beside them; a port it took first must be named in the
# error with its uid, and a provisioning beside it must work. Not root: the same checks with
# a second socket of this user that sets SO_REUSEADDR only (the option the attacker has).
set -u
. "$(dirname "$0")/lib/netns_self.bash"
SC=${SC_BUILD:?}/smartcfg
if [ "$(id -u)" = 0 ]; then
    netns_self SC_LOCALUSER_NS sclu "$0"
fi
TMP=$(mktemp -d /tmp/sc_localuser.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.out "$TMP"/*.err; do [ -s "$f" ] && { echo "--- $f"; grep -v progress "$f" | tail -n 15; }; done; exit 1; }

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3     # one nobody can run (not a shim under /root)
if [ "$(id -u)" = 0 ]; then
    OTHER=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    WHO="uid 65534, another user"
else
    OTHER=()
    WHO="another socket of this user"
fi
cat >"$TMP/grab.py" <<'PY'
# grab.py ADDR PORT OPTS SECS: bind UDP ADDR:PORT (OPTS: a = SO_REUSEADDR, p = SO_REUSEPORT),
# print BOUND or BINDFAIL errno, then count the datagrams that arrive for SECS seconds.
import select, socket, sys, time
addr, port, opts, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if "a" in opts:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if "p" in opts:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
try:
    s.bind((addr, port))
except OSError as e:
    print("BINDFAIL", e.errno, flush=True)
    sys.exit(1)
print("BOUND", flush=True)
end, n = time.time() + secs, 0
while time.time() < end:
    if select.select([s], [], [], 0.1)[0]:
        s.recv(4096)
        n += 1
print("GOT", n, flush=True)
PY
other() { exec "${OTHER[@]}" "$PY" "$TMP/grab.py" "$@"; }  # always in a subshell: $! is the process
# bound_wait PORT: until something listens on UDP PORT (5 s at most)
bound_wait() {
    for _ in $(seq 50); do ss -uln "sport = :$1" | grep -q ":$1 " && return 0; sleep 0.1; done
    fail "nothing bound UDP $1"
}

# F72. `smartcfg cloud` keeps the registry, its WAL files, the admin key and the TLS keys beside
# --db. In a directory others may write in (a 1777 one: `--db /tmp/cloud.db`), nobody made
# admin.key first and the cloud adopted it: nobody's key then created products through the
# admin API. Such a directory is refused now, and so is a key file another user owns.
read -r HP MP < <("$PY" "$SC_SRC/tests/integration/lib/free_port.py" $$ 2 | tr '\n' ' ')
cloud_refused() { # $1 = what, $2 = the error wanted, then the cloud's options
    local what=$1 want=$2
    shift 2
    timeout 15 "$SC" cloud --http "127.0.0.1:$HP" --mqtt "127.0.0.1:$MP" "$@" >"$TMP/cloud.out" 2>"$TMP/cloud.err"
    local rc=$?
    [ "$rc" = 1 ] || fail "cloud $what: exit $rc, want 1 (refused at start)"
    grep -qF -- "$want" "$TMP/cloud.err" || fail "cloud $what: no '$want'"
}
mkdir -m 1777 "$TMP/shared"
if [ "$(id -u)" = 0 ]; then
    "${OTHER[@]}" sh -c "echo attacker-chosen-admin-key-0123456789 >'$TMP/shared/admin.key'" || fail "nobody: no key"
fi
cloud_refused "in a 1777 dir" "directory $TMP/shared of the registry is writable by others (mode 1777)" \
    --db "$TMP/shared/c.db"
[ -e "$TMP/shared/c.db" ] && fail "a registry was made in the shared dir"
mkdir -m 0770 "$TMP/group"
cloud_refused "in a group-writable dir" "directory $TMP/group of the registry is writable by its group (mode 0770)" \
    --db "$TMP/group/c.db"
mkdir -m 0700 "$TMP/own"
cloud_refused "with the admin key in a 1777 dir" "directory $TMP/shared of the admin key is writable by others" \
    --db "$TMP/own/c.db" --admin-key-file "$TMP/shared/admin.key"
# F75: a --tls-dir named with a trailing slash was taken for its own parent: the 1777 directory
# it was then made in went unchecked (before: the cloud made it there and ran, exit 124)
cloud_refused "with --tls-dir DIR/ in a 1777 dir" "directory $TMP/shared of the TLS material is writable by others" \
    --db "$TMP/own/c.db" --tls --tls-dir "$TMP/shared/tls/"
[ -e "$TMP/shared/tls" ] && fail "a TLS directory was made in the shared dir"
if [ "$(id -u)" = 0 ]; then
    # a key file another user owns, in a directory of ours (say, left from when the service ran
    # as that user, or planted through a symlink): refused, not adopted
    echo attacker-chosen-admin-key-0123456789 >"$TMP/own/admin.key"
    chown 65534 "$TMP/own/admin.key"
    cloud_refused "with nobody's admin key" "admin key file $TMP/own/admin.key is owned by uid 65534" --db "$TMP/own/c.db"
    # F79: the key file is checked and read as one open file. Before, it was checked by path
    # (stat) and read by path again (fopen): a symlink whose target another user could change
    # (a link into a directory of theirs) was judged on our file and read from theirs. The
    # swap is put exactly between the two by a shim that re-points the link when the key file
    # is opened (a real attacker loops on rename; the shim makes the window certain).
    rm -f "$TMP/own/admin.key"
    echo our-own-admin-key-0123456789abcdef >"$TMP/own/mine.key"
    echo attacker-chosen-admin-key-0123456789 >"$TMP/own/theirs.key"
    chown 65534 "$TMP/own/theirs.key"
    ln -s mine.key "$TMP/own/admin.key"
    ln -s theirs.key "$TMP/own/admin.key.swap"
    cat >"$TMP/swap.c" <<'C'
/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
static void swap(const char *p)
{
    size_t n = strlen(p);
    char s[4096];
    if (n > 10 && n < sizeof s - 8 && strcmp(p + n - 10, "/admin.key") == 0) {
        snprintf(s, sizeof s, "%s.swap", p);
        rename(s, p);   /* once: the .swap link is gone after */
    }
}
FILE *fopen(const char *p, const char *m)
{
    swap(p);
    FILE *(*real)(const char *, const char *) = (FILE * (*)(const char *, const char *))dlsym(RTLD_NEXT, "fopen");
    return real(p, m);
}
int open(const char *p, int fl, ...)
{
    va_list ap;
    va_start(ap, fl);
    int mode = (fl & O_CREAT) ? va_arg(ap, int) : 0;
    va_end(ap);
    swap(p);
    int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    return real(p, fl, mode);
}
C
    cc -shared -fPIC -o "$TMP/swap.so" "$TMP/swap.c" -ldl || fail "the swap shim did not build"
    LD_PRELOAD="$TMP/swap.so" cloud_refused "with its key link swapped between check and read" \
        "admin key file $TMP/own/admin.key is owned by uid 65534" --db "$TMP/own/c.db"
    [ -e "$TMP/own/admin.key.swap" ] && fail "the shim never swapped the key link (the test tests nothing)"
    rm -f "$TMP/own/admin.key"
    # F86: a key file readable by others, reached through a symbolic link (one of ours, or one
    # in a directory it leads to, as in F79), is refused, not tightened: the link may name a
    # file every user reads, like /etc/machine-id (32 hex characters, root's, 0444). A cloud
    # run as root made that file 0600; one run as another user adopted it as its admin key.
    echo 0123456789abcdef0123456789abcdef >"$TMP/sysfile"
    chmod 0444 "$TMP/sysfile"
    ln -s "$TMP/sysfile" "$TMP/own/admin.key"
    cloud_refused "with its key a link to a file every user reads" \
        "admin key file $TMP/own/admin.key is readable by others (mode 0444) through a symbolic link" --db "$TMP/own/c.db"
    [ "$(stat -c %a "$TMP/sysfile")" = 444 ] || fail "the cloud changed the mode of the file its key link names"
    rm -f "$TMP/own/admin.key"
    mkdir -m 0700 "$TMP/nob"
    chown 65534:65534 "$TMP/nob"
    # nob_refused WHAT [WANT]: a cloud run as uid 65534 on $TMP/nob exits 1 at start (WANT on stderr)
    nob_refused() {
        local rc=0
        timeout 15 "${OTHER[@]}" "$SC" cloud --http "127.0.0.1:$HP" --mqtt "127.0.0.1:$MP" --db "$TMP/nob/c.db" \
            >"$TMP/cloud.out" 2>"$TMP/cloud.err" || rc=$?
        [ "$rc" = 1 ] || fail "a cloud run as uid 65534 $1: exit $rc, want 1"
        [ -z "${2:-}" ] || grep -qF -- "$2" "$TMP/cloud.err" || fail "a cloud run as uid 65534 $1: no '$2'"
    }
    # nob_start CMD...: the cloud's copy (NSC, below) run through CMD (a setpriv) on $TMP/nob, CP its
    # pid; true once it is ready (15 s at most), false when it is not or has exited
    nob_start() {
        : >"$TMP/cloud.out"
        "$@" "$NSC" cloud --http "127.0.0.1:$HP" --mqtt "127.0.0.1:$MP" --db "$TMP/nob/c.db" --json \
            >"$TMP/cloud.out" 2>"$TMP/cloud.err" &
        CP=$!
        for _ in $(seq 150); do
            grep -q '"event":"ready"' "$TMP/cloud.out" && return 0
            kill -0 "$CP" 2>/dev/null || return 1
            sleep 0.1
        done
        return 1
    }
    "${OTHER[@]}" ln -s "$TMP/sysfile" "$TMP/nob/admin.key"
    nob_refused "with its key a link to root's 0444 file" "admin key file $TMP/nob/admin.key is readable by others (mode 0444)"
    # Root's key handed to a service user through its group (root:GROUP 0640, as PostgreSQL
    # takes its server key and the device its config) is taken. Before, it was refused ("and
    # not ours") with advice, chmod 600, that would have locked the service out. Group-writable,
    # or in a group the user is not in, it is still refused, with advice that fits.
    # The clouds that must start run from a copy nobody can reach: the build tree may sit under
    # a directory of root's mode 0700 (a CI checkout in mktemp -d), where the cloud (its plugin
    # lookup) and mosquitto (loading the plugin) could not reach the build's smartcfg_auth.so.
    mkdir -m 0755 "$TMP/bin"
    cp "$SC" "$SC_BUILD/smartcfg_auth.so" "$TMP/bin/" || fail "could not copy the program and its plugin"
    NSC=$TMP/bin/smartcfg
    rm -f "$TMP/nob/admin.key"
    echo root-handed-admin-key-0123456789abcdef >"$TMP/nob/admin.key"
    chown 0:65534 "$TMP/nob/admin.key"
    chmod 0640 "$TMP/nob/admin.key"
    nob_start "${OTHER[@]}" && ! grep -q '"admin_key_new":true' "$TMP/cloud.out" \
        || { kill "$CP" 2>/dev/null; fail "a cloud run as uid 65534 with root:65534 0640 as its admin key did not start with it"; }
    rc=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer root-handed-admin-key-0123456789abcdef" \
        "http://127.0.0.1:$HP/v1/bindings")
    kill "$CP"
    wait "$CP" 2>/dev/null
    [ "$rc" = 200 ] || fail "the root-handed admin key was not the cloud's key: $rc"
    [ "$(stat -c %a:%u:%g "$TMP/nob/admin.key")" = 640:0:65534 ] || fail "the cloud changed root's key file"
    # F110: an access ACL names readers the mode does not show (the group bits are the ACL's
    # mask): root:65534 0640 plus "user:65533:r" passed as "only root and a group of this user
    # read it" while uid 65533 read the key. Set as the kernel stores it (no setfacl needed).
    python3 -c 'import os,struct,sys
e=[(1,6,0xffffffff),(2,4,65533),(4,4,0xffffffff),(0x10,4,0xffffffff),(0x20,0,0xffffffff)]
os.setxattr(sys.argv[1],"system.posix_acl_access",struct.pack("<I",2)+b"".join(struct.pack("<HHI",*x) for x in e))' \
        "$TMP/nob/admin.key" || fail "could not set an ACL on the key (the test tests nothing)"
    nob_refused "with root:65534 0640 as its key and an ACL naming uid 65533" \
        "admin key file $TMP/nob/admin.key has an access ACL"
    python3 -c 'import os,sys; os.removexattr(sys.argv[1],"system.posix_acl_access")' "$TMP/nob/admin.key"
    # F111: the group may be one of many supplementary ones: with more than 64, getgroups into a
    # fixed 64 failed and root's key handed through the group was refused.
    chgrp 65533 "$TMP/nob/admin.key"
    rc=0
    nob_start setpriv --reuid=65534 --regid=65534 --groups="$(seq -s, 1000 1079),65533" || rc=1
    kill "$CP" 2>/dev/null
    wait "$CP" 2>/dev/null
    [ "$rc" = 0 ] || fail "root:65533 0640 admin key for uid 65534 in 81 groups, 65533 among them: not taken: $(cat "$TMP/cloud.err")"
    chgrp 65534 "$TMP/nob/admin.key"
    # a key file written with Windows' Notepad: a byte order mark before the key was taken as part
    # of it, and no client sends it (the admin API refused the key the operator had written)
    printf '\xef\xbb\xbfnotepad-admin-key-0123456789abcdef\r\n' >"$TMP/nob/admin.key"
    nob_start "${OTHER[@]}" || { kill "$CP" 2>/dev/null; fail "a cloud with a Notepad key file did not start"; }
    rc=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer notepad-admin-key-0123456789abcdef" \
        "http://127.0.0.1:$HP/v1/bindings")
    kill "$CP"
    wait "$CP" 2>/dev/null
    [ "$rc" = 200 ] || fail "the admin key after a byte order mark was not the key: $rc"
    chmod 0660 "$TMP/nob/admin.key"
    nob_refused "with root:65534 0660 (group-writable) as its key"
    chmod 0644 "$TMP/nob/admin.key"
    chgrp 0 "$TMP/nob/admin.key"
    nob_refused "with root:root 0644 as its key (the refusal says what would do)" \
        "or root's with mode 0640 and a group of this user"
    grep -qF "chmod 600 it" "$TMP/cloud.err" && fail "root's key: the refusal still says chmod 600"
    chmod 0640 "$TMP/nob/admin.key"
    nob_refused "with root:root 0640 as its key (the reason given)" \
        "admin key file $TMP/nob/admin.key cannot be opened: Permission denied"
    # F89: what the key link names is opened only once it is a regular file: opening a device
    # node acts (a serial line's DTR resets what hangs on it, a watchdog starts). A FIFO stands
    # for one here: its writer waits in open() until something opens it for reading.
    mkfifo "$TMP/own/key.fifo"
    ln -s key.fifo "$TMP/own/admin.key"
    timeout 20 sh -c 'exec 3>"$1"; echo opened >"$2"' sh "$TMP/own/key.fifo" "$TMP/fifo.opened" &
    FW=$!   # (not in PIDS: later steps name those by index; timeout bounds it if a step fails)
    cloud_refused "with its key a link to a FIFO" "admin key file $TMP/own/admin.key is not a regular file" \
        --db "$TMP/own/c.db"
    sleep 0.3
    [ -e "$TMP/fifo.opened" ] && fail "the cloud opened the FIFO its key link names (a device node would be opened too)"
    kill "$FW" 2>/dev/null
    rm -f "$TMP/own/admin.key"
fi

# F73. A --join exec: script gets the Wi-Fi password in its environment and runs as the device's
# user: one that another user owns or may write in (or replace, through its directory) is
# refused at start. Before, the device started with it (and would have run it at the join).
ID=(--product-id ABCDEFGHIJ --device-name d1 --no-cloud)
# start_refused WHAT WANTED ARGS...: `smartcfg device ARGS` exits 1 at start, WANTED on stderr
start_refused() {
    local what=$1 want=$2
    shift 2
    timeout 10 "$SC" device "$@" --timeout 3 --state-dir "$TMP/st-exec" >"$TMP/refused.out" 2>"$TMP/refused.err"
    local rc=$?
    [ "$rc" = 1 ] || fail "$what: exit $rc, want 1 (refused at start)"
    grep -qF -- "$want" "$TMP/refused.err" || fail "$what: no '$want'"
}
exec_refused() { start_refused "exec script $1" "$2" --radio udp:1 --join "exec:$1" --iface lo "${ID[@]}"; }
mkdir -m 0700 "$TMP/scripts"
printf '#!/bin/sh\nexit 1\n' >"$TMP/scripts/join.sh"
chmod 0757 "$TMP/scripts/join.sh"
exec_refused "$TMP/scripts/join.sh" "is writable by others (mode 0757): another user could change what runs"
chmod 0775 "$TMP/scripts/join.sh"
exec_refused "$TMP/scripts/join.sh" "is writable by its group (mode 0775)"
chmod 0755 "$TMP/scripts/join.sh"
chmod 0777 "$TMP/scripts"
exec_refused "$TMP/scripts/join.sh" "is in a directory writable by others (mode 0777)"
chmod 0700 "$TMP/scripts"
if [ "$(id -u)" = 0 ]; then
    chown 65534 "$TMP/scripts/join.sh"
    exec_refused "$TMP/scripts/join.sh" "is owned by uid 65534"
    chown 0 "$TMP/scripts/join.sh"
fi
# F74: the directories above the script's, and the ones a symlink leads through, count too: in
# a 0777 one another user renames the script (or the directory holding it) away after the
# start and puts theirs there before the join. Before, both started (exit 3 at --timeout 3).
mkdir -m 0777 "$TMP/open"
mkdir -m 0700 "$TMP/open/mine"
cp "$TMP/scripts/join.sh" "$TMP/open/mine/join.sh"
exec_refused "$TMP/open/mine/join.sh" "is in a directory writable by others (mode 0777), $TMP/open:"
ln -s "$TMP/open/mine/join.sh" "$TMP/scripts/link.sh"
exec_refused "$TMP/scripts/link.sh" "is in a directory writable by others (mode 0777), $TMP/open:"

# A --config file decides which script gets the Wi-Fi password (`join = exec:/usr/bin/env`
# prints it to the log) and where the MQTT login goes: one that another user owns or may write
# in (or replace, through a directory up to /) is refused at start, as the script is (F73, F74),
# nothing of it read. Before, the device started with it (exit 3 at --timeout 3).
conf_refused() { start_refused "config $1" "$2" --config "$1"; }
mkdir -m 0700 "$TMP/etc"
printf 'radio = udp:1\njoin = sim:A:b:127.0.0.2\nproduct-id = ABCDEFGHIJ\ndevice-name = d1\nno-cloud = true\n' >"$TMP/etc/device.conf"
chmod 0666 "$TMP/etc/device.conf"
conf_refused "$TMP/etc/device.conf" "--config: '$TMP/etc/device.conf' is writable by others (mode 0666): another user could change the device's settings"
chmod 0620 "$TMP/etc/device.conf"
conf_refused "$TMP/etc/device.conf" "is writable by its group (mode 0620)"
chmod 0600 "$TMP/etc/device.conf"
cp -p "$TMP/etc/device.conf" "$TMP/open/mine/device.conf"
conf_refused "$TMP/open/mine/device.conf" "is in a directory writable by others (mode 0777), $TMP/open:"
ln -s "$TMP/open/mine/device.conf" "$TMP/etc/link.conf"
conf_refused "$TMP/etc/link.conf" "is in a directory writable by others (mode 0777), $TMP/open:"
if [ "$(id -u)" = 0 ]; then
    chown 65534 "$TMP/etc/device.conf"
    conf_refused "$TMP/etc/device.conf" "is owned by uid 65534"
    chown 0 "$TMP/etc/device.conf"
fi
timeout 10 "$SC" device --config "$TMP/etc/device.conf" --timeout 1 --state-dir "$TMP/st-exec" >"$TMP/conf.out" 2>"$TMP/conf.err"
rc=$?
[ "$rc" = 3 ] || fail "a private config file: exit $rc, want 3 (ran to its --timeout)"
echo "ok - a --config file another user owns or may change (itself, a directory up to /, through a symlink) is refused at start, exit 1; a private one runs"

# F81. The files the commands write (air's capture, decode --plot's picture) in a directory
# another user may write in (not sticky, so the kernel's protected_symlinks does not step in):
# a symbolic link planted at the name is not followed (air overwrote its target, ~/.bashrc or
# any file of ours), and a file another user made there is neither written (they would read the
# capture's password) nor emptied. "-", FIFOs and devices are written as before.
mkdir -m 0777 "$TMP/outdir"
printf 'precious\n' >"$TMP/precious"
as_other() { if [ ${#OTHER[@]} -gt 0 ]; then "${OTHER[@]}" "$@"; else "$@"; fi; }
as_other ln -s "$TMP/precious" "$TMP/outdir/out.pcap" || fail "plant a symlink"
as_other ln -s "$TMP/precious" "$TMP/outdir/plot.svg" || fail "plant a symlink"
"$SC" air --password 'air-secret-1' "$TMP/outdir/out.pcap" >"$TMP/air.out" 2>"$TMP/air.err"; rc=$?
[ "$rc" = 1 ] && grep -qF "smartcfg air: $TMP/outdir/out.pcap: is a symbolic link, not followed" "$TMP/air.err" \
    || fail "air through a planted symlink: exit $rc"
"$SC" air "$TMP/s.pcap" >/dev/null 2>&1 || fail "air: a capture to decode"
"$SC" decode --plot "$TMP/outdir/plot.svg" "$TMP/s.pcap" >"$TMP/plot.out" 2>"$TMP/plot.err"; rc=$?
[ "$rc" = 1 ] && grep -qF "smartcfg decode: --plot $TMP/outdir/plot.svg: is a symbolic link, not followed" "$TMP/plot.err" \
    || fail "decode --plot through a planted symlink: exit $rc"
[ "$(cat "$TMP/precious")" = precious ] || fail "the symlink's target was written"
if [ "$(id -u)" = 0 ]; then
    as_other sh -c "umask 0; printf 'theirs' >'$TMP/outdir/theirs.pcap'" || fail "plant a file"
    "$SC" air --password 'air-secret-2' "$TMP/outdir/theirs.pcap" >"$TMP/air.out" 2>"$TMP/air.err"; rc=$?
    [ "$rc" = 1 ] && grep -qF "smartcfg air: $TMP/outdir/theirs.pcap: belongs to uid 65534, not to this user" "$TMP/air.err" \
        || fail "air into another user's file: exit $rc"
    [ "$(cat "$TMP/outdir/theirs.pcap")" = theirs ] || fail "another user's file was written or emptied"
    # F83: a FIFO of theirs there is theirs to read as their file was: air wrote the capture,
    # the password in it, to their reader (exit 0)
    as_other mkfifo -m 0666 "$TMP/outdir/theirs.fifo" || fail "plant a FIFO"
    as_other sh -c "cat '$TMP/outdir/theirs.fifo' > '$TMP/outdir/read.out'" & rpid=$!
    timeout 20 "$SC" air --password 'air-secret-3' "$TMP/outdir/theirs.fifo" >"$TMP/air.out" 2>"$TMP/air.err"; rc=$?
    [ "$rc" = 1 ] && grep -qF "smartcfg air: $TMP/outdir/theirs.fifo: belongs to uid 65534, not to this user" "$TMP/air.err" \
        || fail "air into another user's FIFO: exit $rc"
    wait "$rpid"
    [ -s "$TMP/outdir/read.out" ] && fail "another user's FIFO got the capture ($(wc -c <"$TMP/outdir/read.out") bytes)"
fi
# F83: a link no one else could have made is followed: /dev/stdout (it was refused: "is a
# symbolic link"), one of ours in a directory of ours; one of ours leading to a name in the
# shared directory still meets the rule there (theirs, planted: not followed)
"$SC" decode --plot /dev/stdout "$TMP/s.pcap" >"$TMP/stdout.svg" 2>"$TMP/plot.err" && grep -q '<svg' "$TMP/stdout.svg" \
    || fail "decode --plot /dev/stdout: $(cat "$TMP/plot.err")"
ln -s "$TMP/own.svg" "$TMP/own-link.svg"
"$SC" decode --plot "$TMP/own-link.svg" "$TMP/s.pcap" >/dev/null 2>&1 && grep -q '<svg' "$TMP/own.svg" \
    || fail "decode --plot through a link of our own"
ln -s "$TMP/outdir/plot.svg" "$TMP/chain.svg"
"$SC" decode --plot "$TMP/chain.svg" "$TMP/s.pcap" >/dev/null 2>"$TMP/plot.err"; rc=$?
[ "$rc" = 1 ] && grep -qF "is a symbolic link, not followed" "$TMP/plot.err" && [ "$(cat "$TMP/precious")" = precious ] \
    || fail "a link of ours to the planted one: exit $rc"
# what still works: a new file there, our own file again, -, a FIFO, a device
"$SC" air "$TMP/outdir/new.pcap" >/dev/null 2>&1 && "$SC" air --seed 2 "$TMP/outdir/new.pcap" >/dev/null 2>&1 \
    && "$SC" decode "$TMP/outdir/new.pcap" | grep -q TP-LINK || fail "air to a new file, then over it"
"$SC" air - 2>"$TMP/dash.err" | "$SC" decode - | grep -q TP-LINK || fail "air - | decode -"
grep -q '^-: .* frames' "$TMP/dash.err" || fail "air -: the summary is not on stderr"
mkfifo "$TMP/fifo"
"$SC" decode "$TMP/fifo" >"$TMP/fifo.out" 2>&1 & fpid=$!
"$SC" air "$TMP/fifo" >/dev/null 2>&1 || fail "air to a FIFO"
wait "$fpid"; grep -q TP-LINK "$TMP/fifo.out" || fail "decode of the FIFO air wrote"
"$SC" air /dev/null >/dev/null 2>&1 || fail "air /dev/null"

if [ "$(id -u)" != 0 ]; then
    # Not root: no namespace, no second user. A virtual radio on a free port, then a socket of
    # ours with SO_REUSEADDR only beside it (before F70 it bound and took unicast datagrams).
    PORT=$("$PY" -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$SC" device --radio "udp:$PORT" --join sim:A:b:127.0.0.2 --product-id ABCDEFGHIJ --device-name d1 --no-cloud \
        --timeout 5 --state-dir "$TMP/st0" >"$TMP/dev0.out" 2>"$TMP/dev0.err" &
    PIDS+=($!)
    bound_wait "$PORT"
    r=$(other 127.0.0.1 "$PORT" a 0.1 2>/dev/null | head -n1)
    case $r in BINDFAIL*) ;; *) fail "a SO_REUSEADDR socket bound the virtual radio's port beside it ($r)" ;; esac
    kill "${PIDS[0]}"
    # the port taken first: the error names the holder
    other 127.0.0.1 "$PORT" "" 5 >"$TMP/hold.out" & PIDS+=($!)
    sleep 0.3
    "$SC" device --radio "udp:$PORT" --join sim:A:b:127.0.0.2 --product-id ABCDEFGHIJ --device-name d1 --no-cloud \
        --timeout 2 --state-dir "$TMP/st1" >"$TMP/dev1.out" 2>"$TMP/dev1.err"
    rc=$?
    [ "$rc" = 1 ] || fail "device on a taken radio port: exit $rc, want 1"
    grep -q "cannot bind port $PORT: Address already in use (held by $WHO)" "$TMP/dev1.err" || fail "no holder in the error"
    echo "PASS (not root: same-user checks only)"
    exit 0
fi

PASSWORD='l0cal-user-pass'
TOKEN='00112233445566778899aabbccddeeff'
SEND=(--ssid HomeNet --ip 127.0.0.1 --bssid 02:5c:00:00:00:01 --dest 127.255.255.255)
printf '%s' "$PASSWORD" >"$TMP/pw"
DEV=(device --radio udp --join "sim:HomeNet:$PASSWORD:127.0.0.2" --product-id ABCDEFGHIJ --device-name d1 --no-cloud)

# 1. Beside a running send and device: nobody binds the phone's 127.0.0.1:8266 (the device's
# token replies: before F69 it took them all and send failed with "device did not answer the
# token request", exit 4), 18266 (the unicast acks) and the radio's 7001, with SO_REUSEADDR,
# SO_REUSEPORT or both. Every bind must fail, and the provisioning must end well.
"$SC" "${DEV[@]}" --token-linger 2 --json --timeout 60 --state-dir "$TMP/st1" >"$TMP/dev1.out" 2>"$TMP/dev1.err" &
DP=$!
"$SC" send "${SEND[@]}" --password-file "$TMP/pw" --token "$TOKEN" --count 1 --timeout 40 --json \
    >"$TMP/send1.out" 2>"$TMP/send1.err" &
SP=$!
bound_wait 18266
bound_wait 8266
for spec in "127.0.0.1 8266 a" "127.0.0.1 8266 p" "127.0.0.1 8266 ap" "0.0.0.0 18266 a" "127.0.0.1 18266 a" \
    "127.0.0.1 18266 ap" "0.0.0.0 7001 a" "127.0.0.1 7001 ap"; do
    # shellcheck disable=SC2086
    r=$(other $spec 0.1 2>/dev/null | head -n1)
    case $r in BINDFAIL\ 98) ;; *) fail "another user bound $spec beside send/device: $r" ;; esac
done
wait "$SP"; SRC=$?
wait "$DP"; DRC=$?
[ "$SRC" = 0 ] || fail "send exit $SRC"
[ "$DRC" = 0 ] || fail "device exit $DRC"
grep -q '"event":"token"' "$TMP/dev1.out" || fail "the device got no token"

# 2. Ports nobody took first: each error says so and names the holder.
other 0.0.0.0 18266 ap 30 >"$TMP/h18266.out" & PIDS+=($!)
other 0.0.0.0 7001 ap 30 >"$TMP/h7001.out" & PIDS+=($!)
other 127.0.0.2 8266 "" 30 >"$TMP/h8266.out" & PIDS+=($!)
bound_wait 18266; bound_wait 7001; bound_wait 8266
"$SC" send "${SEND[@]}" --password-file "$TMP/pw" --timeout 2 >"$TMP/send2.out" 2>"$TMP/send2.err"
rc=$?
[ "$rc" = 1 ] || fail "send with 18266 taken: exit $rc, want 1"
grep -q "cannot listen for acks on UDP 18266: Address already in use (held by $WHO)" "$TMP/send2.err" ||
    fail "send: no holder in the error"
"$SC" "${DEV[@]}" --timeout 2 --state-dir "$TMP/st2" >"$TMP/dev2.out" 2>"$TMP/dev2.err"
rc=$?
[ "$rc" = 1 ] || fail "device with 7001 taken: exit $rc, want 1"
grep -q "cannot bind port 7001: Address already in use (held by $WHO)" "$TMP/dev2.err" || fail "device: no holder in the radio's error"
kill "${PIDS[0]}" "${PIDS[1]}"   # 18266 and 7001 free again; 8266 on 127.0.0.2 stays taken
# the device's own 8266 (on its address 127.0.0.2) held by nobody: the join's service cannot
# open, and the log says who holds it
"$SC" "${DEV[@]}" --timeout 40 --state-dir "$TMP/st3" >"$TMP/dev3.out" 2>"$TMP/dev3.err" &
DP=$!
bound_wait 7001
"$SC" send "${SEND[@]}" --password-file "$TMP/pw" --timeout 15 --count 1 >"$TMP/send3.out" 2>"$TMP/send3.err" &
SP=$!
wait "$DP"; DRC=$?
kill "$SP" 2>/dev/null; wait "$SP" 2>/dev/null
[ "$DRC" = 4 ] || fail "device with its 8266 taken: exit $DRC, want 4"
grep -q "udp: port 8266 is taken (held by $WHO)" "$TMP/dev3.err" || fail "device: no holder for 8266"
grep -q "the UDP 8266 service could not be opened" "$TMP/dev3.err" || fail "device: no service error"
grep -qF -- "$PASSWORD" "$TMP"/*.out "$TMP"/*.err && fail "the password is in an output"
echo "PASS"
